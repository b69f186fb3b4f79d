"""Chorus dashboard: the Streamlit app for the board (built in a later issue)."""
