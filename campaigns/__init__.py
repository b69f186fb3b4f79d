"""Chorus campaigns: the domain and its storage, in layers (import-linter checks them):
`core` (pure rules), `config` (settings, secret key), `formats` (files in and out), `analysis`
(statistics), `storage` (the database) and `cli` (the `chorus` command, which composes them
with `scheduler` and `dashboard`)."""
