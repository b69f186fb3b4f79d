"""An emulator of the parts of the X API v2, a Mastodon instance and a Bluesky PDS that Chorus
uses, for tests and demonstrations (`chorus sandbox`).

Everything it produces is sandbox data. See docs/sandbox.md for the contract.
"""
