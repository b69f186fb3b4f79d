"""The signed value a browser's session cookie carries (campaigns.core.session_tokens)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.core.session_tokens import HANDOFF, PURPOSES, SESSION, issue, parse, verify

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SECRET = "the user's session secret, 256 random bits in real life"
KEY = "the server's cookie secret"


def token(*, user_id: int = 7, secret: str = SECRET, key: str = KEY, purpose: str = SESSION,
          hours: float = 8) -> str:
    return issue(user_id, secret, server_key=key, purpose=purpose,
                 expires=NOW + timedelta(hours=hours))


def accepted(value: str, *, secret: str = SECRET, key: str = KEY, purpose: str = SESSION,
             now: datetime = NOW) -> bool:
    claims = parse(value)
    return claims is not None and verify(claims, secret, server_key=key, purpose=purpose,
                                         now=now)


def test_a_token_names_its_user_and_expiry_and_is_accepted_until_then() -> None:
    value = token()
    claims = parse(value)
    assert claims is not None and claims.user_id == 7
    assert claims.expires == NOW + timedelta(hours=8)
    assert accepted(value, now=NOW + timedelta(hours=8) - timedelta(seconds=1))


@pytest.mark.parametrize("later", [timedelta(hours=8), timedelta(days=30)])
def test_an_expired_token_is_refused(later: timedelta) -> None:
    assert not accepted(token(), now=NOW + later)


def test_a_new_session_secret_ends_every_token_made_with_the_old_one() -> None:
    assert not accepted(token(), secret="the secret that replaced it when they signed out")


def test_another_server_key_refuses_the_token() -> None:
    assert not accepted(token(), key="another deployment's cookie secret")


def test_a_token_for_one_purpose_is_refused_for_the_other() -> None:
    assert not accepted(token(purpose=HANDOFF), purpose=SESSION)
    assert not accepted(token(purpose=SESSION), purpose=HANDOFF)
    assert accepted(token(purpose=HANDOFF), purpose=HANDOFF)


def _replace(value: str, index: int, new: str) -> str:
    parts = value.split(".")
    parts[index] = new
    return ".".join(parts)


@pytest.mark.parametrize(("index", "new"), [
    (1, HANDOFF),  # purpose
    (2, "8"),  # another user's id
    (3, str(int((NOW + timedelta(days=365)).timestamp()))),  # a later expiry
    (4, "AAAAAAAAAAAAAAAAAAAAAA"),  # the nonce
    (5, "A" * 43),  # the MAC itself
])
def test_any_change_to_a_token_is_refused(index: int, new: str) -> None:
    changed = _replace(token(), index, new)
    assert not any(accepted(changed, purpose=purpose) for purpose in PURPOSES)


def test_a_user_added_later_never_accepts_an_earlier_users_token() -> None:
    """Even if they were given the same id, they hold a different session secret."""
    assert not accepted(token(user_id=7), secret="the new user's own random secret")


@pytest.mark.parametrize("value", [
    None, 7, "", "c1", "c1.session.7.1796115600.nonce.mac",
    "c1.session.0.1.AAAAAAAAAAAAAAAA." + "A" * 43,
    "c1.admin.7.1796115600.AAAAAAAAAAAAAAAA." + "A" * 43, "x" * 1000,
    "c1.session.7.1796115600.AAAAAAAAAAAAAAAA." + "A" * 43 + "\n",
])
def test_anything_not_shaped_like_a_token_is_not_parsed(value: object) -> None:
    assert parse(value) is None


def test_two_tokens_for_the_same_session_differ() -> None:
    """Each carries its own nonce, so a hand-off token can be spent once."""
    assert token() != token()
