"""How the dashboard is served: the `streamlit run` command line for its server module."""

from __future__ import annotations

import sys
from pathlib import Path

import dashboard

#: The app's entry point, found through the installed package rather than the working directory.
APP = Path(dashboard.__file__).resolve().parent / "app.py"
#: What `streamlit run` is given: the app as an st.App with the session cookie's route.
SERVER = APP.with_name("server.py")


def streamlit_command(*, port: int, address: str) -> list[str]:
    """`streamlit run` for the dashboard. XSRF protection is stated so no config can drop it."""
    return [
        sys.executable, "-m", "streamlit", "run", str(SERVER),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true",
        "--server.enableXsrfProtection", "true",
        "--browser.gatherUsageStats", "false",
    ]
