"""Chorus dashboard: the Streamlit app for officers, partners and the board (`chorus dashboard`)."""
