"""Chorus scheduler: the worker that publishes deliveries (built in a later issue)."""
