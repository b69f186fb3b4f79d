"""Publishers: one small protocol, one module per network (tweepy lives only in x.py, Mastodon.py
only in mastodon.py, atproto only in bluesky.py; import-linter checks it)."""
