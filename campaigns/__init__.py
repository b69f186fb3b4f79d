"""Chorus campaigns: the domain and its storage."""
