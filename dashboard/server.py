"""The dashboard as served: Streamlit's app (dashboard/app.py) plus the one route of Chorus's
own, which sets and removes the signed session cookie (dashboard.session_cookie).

`chorus dashboard` runs `streamlit run dashboard/server.py`; Streamlit imports this module
(uvicorn's "server:app") in the server process before it serves anyone, finds `app` below and
serves it with uvicorn. `streamlit run dashboard/app.py` still works, without the cookie: each
browser tab then signs in on its own.

The app's modules (and pandas, Altair, SQLAlchemy, pydantic with them) are imported here, at
start-up: the page scripts then find them in sys.modules, so the first visitor does not wait
for them (dashboard.startup.import_app_modules; no database is touched).
"""

from pathlib import Path

import streamlit as st

from dashboard import session_cookie, startup

startup.import_app_modules()

app = st.App(Path(__file__).resolve().parent / "app.py", routes=session_cookie.routes())
