"""Who is signed in, which pages their role opens, and the sign-in and sign-out steps.

With an `[auth]` section in Streamlit's secrets, people sign in through that OpenID Connect
provider (`st.login`) and their e-mail address is looked up in the users table. Without it,
local accounts sign in with a password (argon2, `chorus users add`). Either way the users
table decides the role on every run: the session keeps only the user's id, as a marker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from campaigns.storage import db
from campaigns.storage.users import (
    BOARD,
    OFFICER,
    PARTNER,
    ROLES,
    SignInRefused,
    Viewer,
    active_viewer,
    authenticate,
    viewer_for_email,
)
from dashboard import data

HERE = Path(__file__).resolve().parent
#: The signed-in local user's id: a marker only, looked up in the database on every run.
USER_KEY = "chorus_user_id"


@dataclass(frozen=True)
class PageDef:
    path: str
    url: str
    title: str
    icon: str
    roles: frozenset[str]


PAGES: Mapping[str, PageDef] = {
    "board": PageDef("app_pages/board_overview.py", "board", "Board overview",
                     ":material/insights:", frozenset({OFFICER, BOARD})),
    "campaigns": PageDef("app_pages/calendar_and_campaigns.py", "campaigns",
                         "Calendar and campaigns", ":material/calendar_month:", frozenset(ROLES)),
    "compose": PageDef("app_pages/compose.py", "compose", "Compose", ":material/edit_note:",
                       frozenset({OFFICER})),
    "deliveries": PageDef("app_pages/deliveries.py", "deliveries", "Deliveries",
                          ":material/send:", frozenset(ROLES)),
    "partners": PageDef("app_pages/partners.py", "partners", "Partners", ":material/handshake:",
                        frozenset(ROLES)),
    "data": PageDef("app_pages/reporting_data.py", "data", "Data", ":material/table_chart:",
                    frozenset({OFFICER, BOARD})),
}


def pages_for(viewer: Viewer) -> list[st.Page]:
    return [st.Page(HERE / page.path, title=page.title, icon=page.icon, url_path=page.url)
            for page in PAGES.values() if viewer.role in page.roles]


def signed_out_pages() -> list[st.Page]:
    """The sign-in form at every page's address, so a link to a page asks the visitor to sign
    in (and, once signed in, opens that page) instead of saying the page does not exist."""
    return [st.Page(sign_in_page, title="Sign in", default=True),
            *(st.Page(sign_in_page, title="Sign in", url_path=page.url)
              for page in PAGES.values())]


def page_viewer(name: str) -> Viewer:
    """The viewer, for the top of page `name`; stops the page for anyone its role excludes.

    Navigation already offers each role only its pages; this holds if a page is reached
    some other way.
    """
    viewer = current_viewer()
    if viewer is None or viewer.role not in PAGES[name].roles:
        st.error("This page is not available to you.")
        st.stop()
    return viewer


# ---- who is signed in -------------------------------------------------------------------------


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return False


def _verified_email() -> str | None:
    if not st.user.is_logged_in or st.user.get("email_verified") is False:
        return None
    email = st.user.get("email")
    return email if isinstance(email, str) and email else None


def current_viewer() -> Viewer | None:
    if oidc_configured():
        email = _verified_email()
        if email is None:
            return None
        with data.reading() as session:
            return viewer_for_email(email, session=session)
    user_id = st.session_state.get(USER_KEY)
    if not isinstance(user_id, int):
        return None
    with data.reading() as session:
        viewer = active_viewer(user_id, session=session)
    if viewer is None:  # disabled or removed since signing in
        del st.session_state[USER_KEY]
    return viewer


# ---- signing in and out -----------------------------------------------------------------------


def sign_in_page() -> None:
    st.title("Chorus")
    st.write("Awareness campaigns of the partnership against hate crime.")
    if oidc_configured():
        _oidc_sign_in()
    else:
        _password_sign_in()


def _oidc_sign_in() -> None:
    if st.user.is_logged_in:
        shown = _verified_email() or "an address your provider has not verified"
        st.warning(f"You are signed in as {shown}, but that address does not have access to "
                   "Chorus. Ask a communications officer to add you.", icon=":material/block:")
        if st.button("Sign out"):
            st.logout()
        return
    providers = _providers()
    if not providers and st.button("Sign in", type="primary"):
        st.login()
    for provider in providers:
        if st.button(f"Sign in with {provider}", type="primary", key=f"login-{provider}"):
            st.login(provider)


def _providers() -> list[str]:
    """Named providers in `[auth.NAME]` sections; none when `[auth]` itself names one."""
    section = st.secrets["auth"]
    if "client_id" in section:
        return []
    return [name for name, value in section.items() if isinstance(value, Mapping)]


def _password_sign_in() -> None:
    with st.form("sign-in"):
        st.header("Sign in")
        email = st.text_input("E-mail address", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    try:
        with db.transaction(data.sessions()) as session:  # a rehash may write
            viewer = authenticate(email, password, session=session)
    except SignInRefused as refused:
        st.error(str(refused))
        return
    st.session_state[USER_KEY] = viewer.id
    st.rerun()


def sidebar(viewer: Viewer) -> None:
    with st.sidebar:
        where = f", {viewer.organisation_key}" if viewer.role == PARTNER else ""
        st.caption(f"Signed in as **{viewer.name}** ({viewer.role}{where})")
        if st.button("Sign out", key="sign-out"):
            sign_out()


def sign_out() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if oidc_configured():
        st.logout()
    st.rerun()
