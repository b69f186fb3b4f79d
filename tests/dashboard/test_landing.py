"""Where each role lands after signing in: the page of their day's work."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.auth import PAGES
from tests.dashboard.conftest import APPROVER, BOARD, COUNCIL, OFFICER, Person


@pytest.mark.parametrize(("person", "home"), [
    (OFFICER, "campaigns"), (APPROVER, "campaigns"), (COUNCIL, "campaigns"), (BOARD, "board"),
], ids=["officer", "approver", "partner", "board"])
def test_each_role_lands_on_the_page_of_its_work_after_signing_in(
    signed_in: Callable[[Person], AppTest], person: Person, home: str
) -> None:
    at = signed_in(person)
    assert at.title[0].value == PAGES[home].title
