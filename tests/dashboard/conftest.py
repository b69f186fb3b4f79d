"""A database with content loaded, campaigns planned and approved, posts in every state that
needs attention, an account holding an encrypted token, and a user for each role.

It is built once per test session and copied for each test, so tests may change it freely.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Button, Dataframe

from campaigns.config.secrets import Credentials, Vault
from campaigns.core.planning import Rules
from campaigns.formats.content import read_library
from campaigns.storage import db
from campaigns.storage.accounts import store_connection
from campaigns.storage.approval import approve_campaign
from campaigns.storage.deliveries import change_status
from campaigns.storage.loader import load_library
from campaigns.storage.models import Account, Campaign, Delivery, DeliveryStatus
from campaigns.storage.plans import plan_and_store
from campaigns.storage.users import add_user, set_disabled
from tests.conftest import CONTENT, NOW, ROOT

S = DeliveryStatus
APP = ROOT / "dashboard" / "app.py"
PASSWORD = "a long enough pass phrase"
#: Must never appear on any page, nor must its encrypted form.
TOKEN = "tok-plaintext-MUST-NOT-RENDER-5f1c"
FERNET_KEY = "t0rKkB7r9XHyiVvqgNTJ0c1pDbDc1S0sUE5wB2sp2Ws="
APPROVED_CAMPAIGN = "nhcaw-2026"
DRAFT_CAMPAIGN = "disability-history-month-2026"
FAILED_REASON = "X refused the post: 403 duplicate content"


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    role: str
    organisation: str | None = None


OFFICER = Person("olu@chorus.example", "Olu Officer", "officer")
BOARD = Person("bea@chorus.example", "Bea Board", "board")
COUNCIL = Person("cat@york.example", "Cat Council", "partner", "city-of-york-council")
POLICE = Person("pat@police.example", "Pat Police", "partner", "north-yorkshire-police")
SHARE_KIT_PARTNER = Person("cal@advice.example", "Cal Advice", "partner", "citizens-advice-york")
DISABLED = Person("dee@chorus.example", "Dee Disabled", "officer")
APPROVER = Person("ama@chorus.example", "Ama Approver", "approver")
PEOPLE = (OFFICER, BOARD, COUNCIL, POLICE, SHARE_KIT_PARTNER, DISABLED, APPROVER)


@dataclass(frozen=True)
class Seeded:
    url: str
    sealed_token: str
    unconfirmed_id: int
    failed_id: int


def _build(path: Path) -> Seeded:
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    sessions = db.session_factory(engine)
    with db.transaction(sessions) as session:
        load_library(read_library(CONTENT), session=session, default_timezone="Europe/London")
    with db.transaction(sessions) as session:
        for key in (APPROVED_CAMPAIGN, DRAFT_CAMPAIGN):
            campaign = session.scalars(select(Campaign).where(Campaign.key == key)).one()
            assert plan_and_store(campaign, Rules(), session=session, now=NOW).ok
        approve_campaign(APPROVED_CAMPAIGN, "Sam Approver", session=session, now=NOW)
        for person in PEOPLE:
            add_user(session=session, email=person.email, name=person.name, role=person.role,
                     organisation_key=person.organisation, password=PASSWORD, now=NOW)
        set_disabled(DISABLED.email, True, session=session)
        sealed = _connect(session, "council-x")
        unconfirmed = _advance(session, "council-x", [S.SCHEDULED, S.SENDING, S.UNCONFIRMED],
                               "timed out; not on the timeline yet")
        failed = _advance(session, "police-x", [S.SCHEDULED, S.SENDING, S.FAILED],
                          FAILED_REASON)
        _advance(session, "lead-x", [S.SCHEDULED, S.SENDING, S.POSTED], "posted")
    engine.dispose()
    return Seeded(f"sqlite:///{path}", sealed, unconfirmed, failed)


def _connect(session: Session, account_key: str) -> str:
    account = session.scalars(select(Account).where(Account.key == account_key)).one()
    store_connection(account, Credentials("oauth2", {"access_token": TOKEN}),
                     vault=Vault(FERNET_KEY), remote_user_id="42", sandbox=True, session=session)
    account.last_error = "429: rate limited until the window resets"
    assert account.token_encrypted is not None
    return account.token_encrypted.decode()


def _advance(session: Session, account_key: str, path: list[S], reason: str) -> int:
    delivery = session.scalars(
        select(Delivery).join(Delivery.account).join(Delivery.campaign)
        .where(Account.key == account_key, Campaign.key == APPROVED_CAMPAIGN)
        .order_by(Delivery.send_at)).first()
    assert delivery is not None
    for status in path:
        change_status(delivery, status, session=session, actor="test", reason=reason, now=NOW)
    return delivery.id


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seeded]:
    path = tmp_path_factory.mktemp("template") / "chorus.db"
    return path, _build(path)


@pytest.fixture
def seeded(
    template: tuple[Path, Seeded], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Seeded]:
    """This test's own copy of the seeded database, and the dashboard pointed at it."""
    source, seeded = template
    target = tmp_path / "chorus.db"
    shutil.copyfile(source, target)
    url = f"sqlite:///{target}"
    monkeypatch.setenv("CHORUS_DATABASE_URL", url)
    monkeypatch.setenv("CHORUS_CONTENT_DIR", str(CONTENT))
    monkeypatch.chdir(tmp_path)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield Seeded(url, seeded.sealed_token, seeded.unconfirmed_id, seeded.failed_id)
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def seeded_sessions(seeded: Seeded) -> Iterator[sessionmaker[Session]]:
    engine = db.make_engine(seeded.url)
    yield db.session_factory(engine)
    engine.dispose()


def open_app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=30)


def sign_in(person: Person, password: str = PASSWORD) -> AppTest:
    """Sign in through the form, as a person would."""
    at = open_app().run()
    at.text_input[0].input(person.email)
    at.text_input[1].input(password)
    button(at, "Sign in").click().run()
    return at


def button(at: AppTest, label: str) -> Button:
    found = [b for b in at.button if b.label == label]
    assert len(found) == 1, f"no single {label!r} button among {[b.label for b in at.button]}"
    return found[0]


def rendered_text(at: AppTest) -> str:
    """Everything on the page as text: every element's message, every table's cells."""
    parts: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, Dataframe):
            parts.append(node.value.to_csv())
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def frames(at: AppTest) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


@pytest.fixture
def signed_in(seeded: Seeded) -> Callable[[Person], AppTest]:
    def open_as(person: Person) -> AppTest:
        at = sign_in(person)
        assert not at.exception, at.exception
        return at

    return open_as
