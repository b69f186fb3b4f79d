"""Publishers: one small protocol, one module per network (tweepy lives only in x.py)."""
