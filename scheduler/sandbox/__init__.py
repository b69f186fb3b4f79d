"""An emulator of the part of the X API v2 that Chorus uses, for tests and demonstrations.

Everything it produces is sandbox data. See docs/sandbox.md for the contract.
"""
