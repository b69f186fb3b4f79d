"""The dashboard as served: Streamlit's app (dashboard/app.py) plus the one route of Chorus's
own, which sets and removes the signed session cookie (dashboard.session_cookie).

`chorus dashboard` runs `streamlit run dashboard/server.py`; Streamlit finds `app` below and
serves it with uvicorn. `streamlit run dashboard/app.py` still works, without the cookie: each
browser tab then signs in on its own.
"""

from pathlib import Path

import streamlit as st

from dashboard import session_cookie

app = st.App(Path(__file__).resolve().parent / "app.py", routes=session_cookie.routes())
