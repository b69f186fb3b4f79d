"""The dashboard's side of the session cookie: the hand-off after signing in, the route's
checks, a tab's own time limit, and removing the cookie on signing out (the browser itself is
driven in tests/browser/test_sessions_browser.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from campaigns.core.clock import utcnow
from campaigns.core.session_tokens import HANDOFF, SESSION
from campaigns.storage.models import User
from campaigns.storage.users import check_token, session_key, session_token
from dashboard import session_cookie
from dashboard.auth import UNTIL_KEY, USER_KEY
from tests.dashboard.conftest import OFFICER, Seeded, button, sign_in

TOKEN = re.compile(r"c1\.handoff\.[0-9A-Za-z._-]+")


def scripts(at: AppTest) -> list[str]:
    return [element.proto.body for element in at.get("html")]


def test_signing_in_hands_the_browser_a_one_time_token_once(
    seeded: Seeded, seeded_sessions: sessionmaker[Session]
) -> None:
    at = sign_in(OFFICER)
    [script] = scripts(at)
    assert 'data-chorus-session="post"' in script and '"/chorus/session"' in script
    match = TOKEN.search(script)
    assert match is not None
    with seeded_sessions() as session:
        found = check_token(match.group(), session=session, server_key=session_cookie.server_key(),
                            purpose=HANDOFF, now=utcnow())
        assert found is not None and found.key.user_id == at.session_state[USER_KEY][0]
    at.run()
    assert scripts(at) == []


def test_a_hand_off_is_exchanged_for_a_session_cookie_once(
    seeded: Seeded, seeded_sessions: sessionmaker[Session]
) -> None:
    now = utcnow()
    with seeded_sessions() as session:
        key = session_key(session.scalars(select(User).where(User.email == OFFICER.email)).one())
    handoff = session_token(key, server_key=session_cookie.server_key(), purpose=HANDOFF,
                            expires=now + timedelta(minutes=1))
    exchanged = session_cookie.exchange(handoff, now=now)
    assert exchanged is not None
    value, expires = exchanged
    assert expires == now + timedelta(hours=8)
    with seeded_sessions() as session:
        found = check_token(value, session=session, server_key=session_cookie.server_key(),
                            purpose=SESSION, now=now)
        assert found is not None and found.key == key
    assert session_cookie.exchange(handoff, now=now) is None, "a hand-off is spent once"
    assert session_cookie.exchange(value, now=now) is None, "a cookie is not a hand-off"


def test_a_cookie_signs_a_new_tab_in(seeded: Seeded,
                                     seeded_sessions: sessionmaker[Session]) -> None:
    """A reload or new tab: no session state, only the cookie the browser sends."""
    now = utcnow()
    with seeded_sessions() as session:
        key = session_key(session.scalars(select(User).where(User.email == OFFICER.email)).one())
    value = session_token(key, server_key=session_cookie.server_key(), purpose=SESSION,
                          expires=now + timedelta(hours=1))
    restored = session_cookie.restore({session_cookie.COOKIE: value}, now=now)
    assert restored is not None and restored.key == key
    assert session_cookie.restore({session_cookie.COOKIE: value + "x"}, now=now) is None
    assert session_cookie.restore({}, now=now) is None


def test_a_tab_signs_out_when_its_time_is_up_without_ending_other_sessions(
    seeded: Seeded, seeded_sessions: sessionmaker[Session]
) -> None:
    at = sign_in(OFFICER)
    key = at.session_state[USER_KEY]
    at.session_state[UNTIL_KEY] = utcnow() - timedelta(seconds=1)
    at.run()
    assert [t.label for t in at.text_input] == ["E-mail address", "Password"]
    with seeded_sessions() as session:
        user = session.scalars(select(User).where(User.email == OFFICER.email)).one()
        assert user.session_secret == key[1]


def test_signing_out_removes_the_browsers_cookie(seeded: Seeded) -> None:
    at = sign_in(OFFICER)
    at.run()
    button(at, "Sign out").click().run()
    [script] = scripts(at)
    assert 'data-chorus-session="delete"' in script and '"DELETE"' in script


@pytest.mark.parametrize(("headers", "allowed"), [
    ({"sec-fetch-site": "same-origin"}, True),
    ({"sec-fetch-site": "same-site"}, False),
    ({"sec-fetch-site": "cross-site", "origin": "http://dash.example", "host": "dash.example"},
     False),
    ({"origin": "http://dash.example", "host": "dash.example"}, True),
    ({"origin": "http://evil.example", "host": "dash.example"}, False),
    ({"host": "dash.example"}, False),
    ({}, False),
])
def test_the_cookie_route_takes_requests_from_this_site_only(
    headers: dict[str, str], allowed: bool
) -> None:
    assert session_cookie.same_origin(headers) is allowed
