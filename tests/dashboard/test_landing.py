"""Where each role lands after signing in: the page of their day's work."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from campaigns.storage.users import NOT_RECOGNISED
from dashboard.auth import EMAIL_FIELD, PAGES, PASSWORD_FIELD
from tests.dashboard.conftest import (
    APPROVER,
    BOARD,
    COUNCIL,
    OFFICER,
    Person,
    Seeded,
    sign_in,
)


@pytest.mark.parametrize(("person", "home"), [
    (OFFICER, "campaigns"), (APPROVER, "campaigns"), (COUNCIL, "campaigns"), (BOARD, "board"),
], ids=["officer", "approver", "partner", "board"])
def test_each_role_lands_on_the_page_of_its_work_after_signing_in(
    signed_in: Callable[[Person], AppTest], person: Person, home: str
) -> None:
    at = signed_in(person)
    assert at.title[0].value == PAGES[home].title


def test_the_password_is_not_kept_in_the_session_whether_or_not_it_was_right(
    seeded: Seeded,
) -> None:
    wrong = sign_in(OFFICER, "not the password at all")
    assert [e.value for e in wrong.error] == [NOT_RECOGNISED]
    # the form is shown again, its password field empty
    assert PASSWORD_FIELD not in wrong.session_state or wrong.session_state[PASSWORD_FIELD] == ""
    right = sign_in(OFFICER)
    assert right.title[0].value == PAGES["campaigns"].title
    assert PASSWORD_FIELD not in right.session_state
    assert EMAIL_FIELD not in right.session_state
