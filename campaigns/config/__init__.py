"""Settings (one typed object, read once) and the secret key that encrypts stored tokens."""
