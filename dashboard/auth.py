"""Who is signed in, which pages their role opens, and the sign-in and sign-out steps.

With an `[auth]` section in Streamlit's secrets, people sign in through that OpenID Connect
provider (`st.login`) and their e-mail address is looked up in the users table. Without it,
local accounts sign in with a password (argon2, `chorus users add`), throttled after repeated
failures. Either way the users table decides the role on every run. A local session keeps only
a SessionKey: the user's id and their session secret, both checked on every run, so that the
session ends when the user is disabled, removed or signs out anywhere, and can never become
another user's. The browser keeps a signed, HttpOnly cookie bound to the same secret, so a
reload or a new tab stays signed in until CHORUS_SESSION_HOURS pass (dashboard.session_cookie).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from campaigns.core.clock import utcnow
from campaigns.storage import db
from campaigns.storage.users import (
    APPROVER,
    BOARD,
    OFFICER,
    PARTNER,
    ROLES,
    Refused,
    SessionKey,
    Viewer,
    active_viewer,
    authenticate,
    end_sessions_of,
    viewer_for_email,
)
from dashboard import data, session_cookie
from dashboard.components import plain

HERE = Path(__file__).resolve().parent
#: The signed-in local user's SessionKey (as `SessionKey.stored` gives it), checked against the
#: database on every run.
USER_KEY = "chorus_session"
#: When this tab's session ends (an aware datetime): CHORUS_SESSION_HOURS after signing in.
UNTIL_KEY = "chorus_session_until"
#: Set on signing in: the next run hands the browser its session cookie.
HANDOFF_KEY = "chorus_session_handoff"
#: Set on signing out: the sign-in page removes the browser's (already dead) cookie.
FORGET_KEY = "chorus_session_forget"


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
    "sign-off": PageDef("app_pages/sign_off.py", "sign-off", "Sign-off", ":material/approval:",
                        frozenset({OFFICER, APPROVER})),
    "schedule": PageDef("app_pages/schedule.py", "schedule", "Schedule",
                        ":material/event_note:", frozenset(ROLES)),
    "deliveries": PageDef("app_pages/deliveries.py", "deliveries", "Deliveries",
                          ":material/send:", frozenset(ROLES)),
    "partners": PageDef("app_pages/partners.py", "partners", "Partners", ":material/handshake:",
                        frozenset(ROLES)),
    "data": PageDef("app_pages/reporting_data.py", "data", "Data", ":material/table_chart:",
                    frozenset({OFFICER, BOARD})),
}


#: The page each role lands on after signing in: the board reads the overview; officers,
#: approvers and partners start from the campaigns they work on (and are spared the board
#: page's charts on every sign-in).
HOME = {BOARD: "board"}
HOME_DEFAULT = "campaigns"


def pages_for(viewer: Viewer) -> list[st.Page]:
    home = HOME.get(viewer.role, HOME_DEFAULT)
    return [st.Page(HERE / page.path, title=page.title, icon=page.icon, url_path=page.url,
                    default=name == home)
            for name, page in PAGES.items() if viewer.role in page.roles]


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
    now = utcnow()
    key = _tab_session(now)
    if key is None:
        return None
    with data.reading() as session:
        viewer = active_viewer(key, session=session)
    if viewer is None:  # disabled, removed or signed out elsewhere since signing in
        _end_tab_session()
    return viewer


def _tab_session(now: datetime) -> SessionKey | None:
    """This tab's session key: kept from an earlier run, or restored from the browser's cookie
    (a reload, a new tab); None when there is neither, or the session has run its time."""
    key = SessionKey.from_stored(st.session_state.get(USER_KEY))
    if key is not None:
        until = st.session_state.setdefault(UNTIL_KEY, session_cookie.session_ends(now))
        if isinstance(until, datetime) and now < until:
            return key
    _end_tab_session()
    restored = session_cookie.restore(st.context.cookies, now=now)
    if restored is None:
        return None
    st.session_state[USER_KEY] = restored.key.stored()
    st.session_state[UNTIL_KEY] = restored.expires
    return restored.key


def _end_tab_session() -> None:
    for name in (USER_KEY, UNTIL_KEY):
        st.session_state.pop(name, None)


def client_address() -> str | None:
    """The network address a visitor connects from, for throttling sign-in.

    Streamlit gives the connection's address, or none for localhost, which is what it sees
    behind a reverse proxy on the same machine: then the address the proxy appended last to
    X-Forwarded-For (the one a client cannot forge past one proxy). With neither, None: sign-in
    is then throttled per e-mail address only.
    """
    address = st.context.ip_address
    if address:
        return address
    forwarded = st.context.headers.get("X-Forwarded-For", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    return hops[-1] if hops else None


# ---- signing in and out -----------------------------------------------------------------------


def sign_in_page() -> None:
    st.title("Chorus")
    st.write("Awareness campaigns of the partnership against hate crime.")
    if oidc_configured():
        _oidc_sign_in()
    else:
        _password_sign_in()
    if st.session_state.pop(FORGET_KEY, False):
        st.html(session_cookie.forget_script(), width="content", unsafe_allow_javascript=True)


def _oidc_sign_in() -> None:
    if st.user.is_logged_in:
        shown = plain(_verified_email() or "an address your provider has not verified")
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


#: The sign-in form's fields, and why the last attempt was refused.
EMAIL_FIELD, PASSWORD_FIELD, REFUSED_KEY = "sign-in-email", "sign-in-password", "sign-in-refused"


def _password_sign_in() -> None:
    with st.form("sign-in"):
        st.header("Sign in")
        st.text_input("E-mail address", autocomplete="username", key=EMAIL_FIELD)
        st.text_input("Password", type="password", autocomplete="current-password",
                      key=PASSWORD_FIELD)
        st.form_submit_button("Sign in", type="primary", on_click=_signing_in)
    refused = st.session_state.pop(REFUSED_KEY, None)
    if refused:
        st.error(plain(refused))


def _signing_in() -> None:
    """The form's callback: it runs before the page does, so a successful sign-in opens the
    signed-in page in this same run (no second run of the whole app), and the password is
    dropped from the session at once, whatever the outcome."""
    email = str(st.session_state.get(EMAIL_FIELD, ""))
    password = str(st.session_state.pop(PASSWORD_FIELD, ""))
    with db.transaction(data.sessions()) as session:  # a failure or a rehash writes
        outcome = authenticate(email, password, session=session, now=utcnow(),
                               client=client_address())
    if isinstance(outcome, Refused):
        st.session_state[REFUSED_KEY] = outcome.message
        return
    st.session_state.pop(EMAIL_FIELD, None)
    st.session_state[USER_KEY] = outcome.key.stored()
    st.session_state[UNTIL_KEY] = session_cookie.session_ends(utcnow())
    st.session_state[HANDOFF_KEY] = True


def sidebar(viewer: Viewer) -> None:
    with st.sidebar:
        where = f", {viewer.organisation_key}" if viewer.role == PARTNER else ""
        st.caption(f"Signed in as **{plain(viewer.name)}** ({viewer.role}{plain(where)})")
        if st.button("Sign out", key="sign-out",
                     help="Signs you out here and in every other browser tab or device."):
            sign_out()
        key = SessionKey.from_stored(st.session_state.get(USER_KEY))
        if st.session_state.pop(HANDOFF_KEY, False) and key is not None:
            st.html(session_cookie.handoff_script(key, now=utcnow()), width="content",
                    unsafe_allow_javascript=True)


def sign_out() -> None:
    """Sign out everywhere: every session of this user ends, not only this one."""
    key = SessionKey.from_stored(st.session_state.get(USER_KEY))
    if key is not None:
        with db.transaction(data.sessions()) as session:
            end_sessions_of(key, session=session)
    for name in list(st.session_state.keys()):
        del st.session_state[name]
    if oidc_configured():
        st.logout()
    st.session_state[FORGET_KEY] = True
    st.rerun()
