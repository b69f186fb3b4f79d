"""Importing one-off posts from a CSV file, against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload, sessionmaker
from typer.testing import CliRunner

from campaigns.cli import app
from campaigns.core.planning import PlannedDelivery
from campaigns.formats.bulk import MAX_ROWS, BulkImportInvalid, RowProblem
from campaigns.storage import db
from campaigns.storage.bulk import ImportResult, import_csv
from campaigns.storage.models import (
    Account,
    AuditEntry,
    Campaign,
    Delivery,
    DeliveryStatus,
    Organisation,
    Post,
    ReportingChannel,
    Variant,
)
from tests.conftest import NOW
from tests.integration.test_load_and_plan import load

ZONE = "Europe/London"
HEADER = ("account", "send_at", "text", "link", "image", "alt_text")
REPORT = "Report hate crime online at https://www.report-it.org.uk"
GOOD = (
    ("lead-x", "2026-12-03 09:30", f"Hate crime hurts us all. {REPORT}", "", "", ""),
    ("lead-mastodon", "2026-10-10T09:00:00+01:00", "Stand together this week.",
     "https://www.report-it.org.uk", "", ""),
    ("police-x", "2026-12-04 18:00", "Seen or suffered abuse because of who you are? Call 101.",
     "", "", ""),
)

Row = tuple[str, ...]


def write_csv(folder: Path, rows: list[Row] | tuple[Row, ...], header: Row = HEADER,
              name: str = "posts.csv", encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path = folder / name
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run(sessions: sessionmaker[Session], path: Path, approver: str = "Sam Patel") -> ImportResult:
    with db.transaction(sessions) as session:
        return import_csv(path, session=session, content_dir=path.parent / "library",
                          approver=approver, timezone=ZONE,
                          near_duplicate_threshold=0.7, now=NOW)


def problems(sessions: sessionmaker[Session], path: Path) -> list[RowProblem]:
    with pytest.raises(BulkImportInvalid) as raised:
        run(sessions, path)
    return raised.value.problems


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def with_cell(column: str, value: str, row: Row = GOOD[0]) -> Row:
    cells = list(row)
    cells[HEADER.index(column)] = value
    return tuple(cells)


@pytest.fixture
def loaded(
    sessions: sessionmaker[Session], content_dir: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> sessionmaker[Session]:
    """The shipped content in the database; files named as from the CSV's folder."""
    load(sessions, content_dir)
    monkeypatch.chdir(tmp_path)
    return sessions


def test_a_valid_file_imports_as_approved_deliveries_in_utc(
    loaded: sessionmaker[Session], tmp_path: Path
) -> None:
    result = run(loaded, write_csv(tmp_path, GOOD))
    assert not result.already_imported
    assert result.per_account == {"lead-x": 1, "lead-mastodon": 1, "police-x": 1}
    with loaded() as session:
        found = {d.account.key: d for d in session.scalars(
            select(Delivery).options(joinedload(Delivery.account), joinedload(Delivery.post),
                                     joinedload(Delivery.campaign)))}
        assert {d.status for d in found.values()} == {DeliveryStatus.APPROVED}
        assert {d.approved_by for d in found.values()} == {"Sam Patel"}
        winter = found["lead-x"]
        assert winter.send_at.isoformat() == "2026-12-03T09:30:00+00:00"
        assert winter.local_time == "2026-12-03 09:30 GMT"
        summer = found["lead-mastodon"]
        assert summer.send_at.utcoffset() == timedelta(0)
        assert summer.send_at.isoformat() == "2026-10-10T08:00:00+00:00"
        assert summer.local_time == "2026-10-10 09:00 BST"
        assert summer.text == "Stand together this week.\n\nhttps://www.report-it.org.uk"
        assert summer.post.link == "https://www.report-it.org.uk"
        planned = PlannedDelivery(summer.post.key, "lead-mastodon", "mastodon", summer.text,
                                  summer.send_at, summer.local_time)
        assert summer.content_hash == planned.content_hash
        campaign = winter.campaign
        assert campaign.event_key is None and campaign.name == "Bulk import posts.csv"
        assert (campaign.author, campaign.timezone) == ("Sam Patel", ZONE)
        assert {d.post.key for d in found.values()} == {"row-2", "row-3", "row-4"}
        audit = session.scalars(select(AuditEntry).where(AuditEntry.delivery_id == winter.id))
        assert [(a.old_status, a.new_status, a.actor) for a in audit] == [
            ("draft", "approved", "Sam Patel")]


def test_importing_the_same_file_twice_changes_nothing(
    loaded: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_csv(tmp_path, GOOD)
    first = run(loaded, path)
    tables = (Campaign, Post, Variant, Delivery, AuditEntry)
    before = {m: count(loaded, m) for m in tables}
    again = run(loaded, path, approver="Someone Else")
    assert again.already_imported and again.campaign_key == first.campaign_key
    assert again.per_account == first.per_account
    assert {m: count(loaded, m) for m in tables} == before


@pytest.mark.parametrize(("row", "column", "message"), [
    (with_cell("account", "lead-xx"), "account",
     "unknown account 'lead-xx' (did you mean 'lead-x'?)"),
    (with_cell("account", ""), "account", "no account given"),
    (with_cell("send_at", "03/12/2026 09:30"), "send_at", "is not a date and time"),
    (with_cell("send_at", "2026-08-01 09:00"), "send_at", "is in the past"),
    (with_cell("send_at", "2027-03-28 01:30"), "send_at",
     "Sunday 28 March 2027 01:30 in Europe/London does not exist"),
    (with_cell("send_at", "2026-10-25 01:30"), "send_at", "happens twice"),
    (with_cell("text", "Report it. " * 30), "text", "too long or invalid for x: 329 of 280"),
    (with_cell("text", ""), "text", "no text given"),
    (with_cell("link", "not a link"), "link", "is not a web address"),
    (with_cell("image", "poster.png"), "alt_text", "needs alt text"),
    (with_cell("alt_text", "A poster", with_cell("image", "missing.png")), "image", "not found"),
    (with_cell("alt_text", "A poster"), "alt_text", "alt text without an image"),
])
def test_a_bad_row_is_named_by_row_and_column(
    loaded: sessionmaker[Session], tmp_path: Path, row: Row, column: str, message: str
) -> None:
    (tmp_path / "poster.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    found = problems(loaded, write_csv(tmp_path, [GOOD[1], row]))
    assert [(p.file, p.row, p.column) for p in found] == [("posts.csv", 3, column)]
    assert message in found[0].message
    assert str(found[0]).startswith(f"posts.csv: row 3, column {column}: ")


def test_an_image_with_alt_text_is_kept_with_the_post(
    loaded: sessionmaker[Session], tmp_path: Path
) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "poster.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    row = with_cell("alt_text", "A poster: hate crime, report it",
                    with_cell("image", "images/poster.png"))
    run(loaded, write_csv(tmp_path, [row]))
    with loaded() as session:
        post = session.scalars(select(Post).where(Post.key == "row-2")).one()
    [image] = post.images
    assert image["alt"] == "A poster: hate crime, report it"
    assert image["file"].startswith("images/poster-") and image["file"].endswith(".png")
    # Kept in the content directory, where the worker reads images from, not the CSV's folder.
    kept = tmp_path / "library" / image["file"]
    assert kept.read_bytes() == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("image", [
    "../secret.key.png", "/etc/passwd", "sub/../../secret.key.png", "link.png", "key.png",
    "x" * 300,  # longer than a file name may be (found by tests/hostile)
])
def test_an_image_outside_the_csv_folder_or_not_an_image_is_refused(
    loaded: sessionmaker[Session], tmp_path: Path, image: str
) -> None:
    folder = tmp_path / "upload"
    (folder / "sub").mkdir(parents=True)
    secret = tmp_path / "secret.key.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n but really a secret")  # looks like a PNG
    (folder / "link.png").symlink_to(secret)
    (folder / "key.png").write_bytes(b"gAAAAABm-a-fernet-key-not-an-image")
    row = with_cell("alt_text", "A poster", with_cell("image", image))
    found = problems(loaded, write_csv(folder, [row]))
    assert [(p.row, p.column) for p in found] == [(2, "image")]
    assert ("outside" in found[0].message or "relative" in found[0].message
            or "not a PNG image" in found[0].message or "file name" in found[0].message)
    assert count(loaded, Post) == count_before_import(loaded)
    assert not (folder / "library").exists()


def count_before_import(sessions: sessionmaker[Session]) -> int:
    """Posts from the content files alone (no bulk campaign)."""
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Post).join(Campaign)
                              .where(~Campaign.key.startswith("bulk-"))) or 0


def test_reimporting_with_other_line_endings_or_blank_rows_changes_nothing(
    loaded: sessionmaker[Session], tmp_path: Path
) -> None:
    first = write_csv(tmp_path, GOOD, name="first.csv")
    run(loaded, first)
    before = count(loaded, Delivery)
    text = first.read_text(encoding="utf-8").replace("\r\n", "\n")
    again = tmp_path / "again.csv"
    again.write_text(text.replace("\n", "\r\n", 2) + "\n,,,,,\n\n", encoding="utf-8")
    result = run(loaded, again)
    assert result.already_imported
    assert count(loaded, Delivery) == before


def test_an_unclosed_quote_is_refused_not_read_into_the_next_rows(
    loaded: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(",".join(HEADER) + "\n"
                    'lead-x,2026-12-03 09:30,"Hate crime hurts us all. Call 101,,,\n'
                    "police-x,2026-12-04 18:00,Seen or suffered abuse? Call 101.,,,\n"
                    "lead-mastodon,2026-12-05 10:00,Stand together.,,,\n", encoding="utf-8")
    found = problems(loaded, path)
    assert [(p.row, p.column) for p in found] == [(2, "")]
    assert "quote" in found[0].message
    with loaded() as session:
        assert session.scalars(select(Campaign).where(Campaign.key.startswith("bulk-"))).all() == []


def test_a_control_character_in_text_is_refused(
    loaded: sessionmaker[Session], tmp_path: Path
) -> None:
    row = with_cell("text", f"Hate crime hurts\x00 us all. {REPORT}")
    found = problems(loaded, write_csv(tmp_path, [row]))
    assert [(p.row, p.column) for p in found] == [(2, "text")]
    assert "U+0000" in found[0].message


def test_a_withdrawn_account_is_refused(loaded: sessionmaker[Session], tmp_path: Path) -> None:
    with db.transaction(loaded) as session:
        session.execute(update(Account).where(Account.key == "police-x").values(withdrawn=True))
    found = problems(loaded, write_csv(tmp_path, [GOOD[2]]))
    assert [(p.row, p.column) for p in found] == [(2, "account")]
    assert "withdrawn" in found[0].message


@pytest.mark.parametrize(("header", "column", "message"), [
    (("account", "text"), "send_at", "required column missing"),
    (("account", "send_at", "txet"), "txet", "unknown column (did you mean 'text'?)"),
    (("account", "send_at", "text", "text"), "text", "column appears twice"),
])
def test_a_bad_header_is_named_by_column_in_row_1(
    loaded: sessionmaker[Session], tmp_path: Path, header: Row, column: str, message: str
) -> None:
    rows = [tuple(GOOD[0][HEADER.index(c)] if c in HEADER else "x" for c in header)]
    found = problems(loaded, write_csv(tmp_path, rows, header=header))
    assert (1, column) in [(p.row, p.column) for p in found]
    assert any(message in p.message for p in found if p.column == column)


def test_headers_are_read_whatever_their_case_and_spacing(
    loaded: sessionmaker[Session], tmp_path: Path
) -> None:
    header = ("Account", " Send at ", "TEXT", "Link", "Image", "Alt text")
    assert run(loaded, write_csv(tmp_path, GOOD, header=header)).total == 3


def test_near_duplicate_x_text_on_two_accounts_is_refused_naming_both_rows(
    loaded: sessionmaker[Session], tmp_path: Path
) -> None:
    first = with_cell("text", f"Hate crime hurts us all. Please report it. {REPORT}")
    second = with_cell("text", f"Hate crime hurts us all! Please do report it. {REPORT}",
                       with_cell("account", "police-x"))
    found = problems(loaded, write_csv(tmp_path, [first, GOOD[1], second]))
    assert [(p.row, p.column) for p in found] == [(4, "text")]
    assert "row 2" in found[0].message and "near-identical" in found[0].message
    assert "lead-x and police-x" in found[0].message


def test_the_same_text_on_mastodon_and_x_is_allowed(
    loaded: sessionmaker[Session], tmp_path: Path
) -> None:
    twin = with_cell("account", "lead-mastodon")
    assert run(loaded, write_csv(tmp_path, [GOOD[0], twin])).total == 2


def test_a_repeated_row_is_refused(loaded: sessionmaker[Session], tmp_path: Path) -> None:
    found = problems(loaded, write_csv(tmp_path, [GOOD[0], GOOD[1], GOOD[0]]))
    assert [(p.row, p.column) for p in found] == [(4, "text")]
    assert "repeats row 2" in found[0].message


def test_every_error_is_reported_in_one_run_and_nothing_is_written(
    loaded: sessionmaker[Session], tmp_path: Path
) -> None:
    rows = [
        GOOD[0],
        with_cell("account", "nobody"),
        GOOD[1],
        with_cell("send_at", "tomorrow", with_cell("text", "x" * 300)),
        (),  # a blank row still counts, as in the spreadsheet
        with_cell("send_at", "2027-03-28 01:30"),
    ]
    tables = (Campaign, Post, Variant, Delivery, AuditEntry)
    before = {m: count(loaded, m) for m in tables}
    found = problems(loaded, write_csv(tmp_path, rows))
    assert [(p.row, p.column) for p in found] == [
        (3, "account"), (5, "send_at"), (5, "text"), (7, "send_at")]
    assert {m: count(loaded, m) for m in tables} == before
    assert before[Delivery] == 0


def test_a_file_with_a_byte_order_mark_imports(
    loaded: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_csv(tmp_path, GOOD, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert run(loaded, path).total == 3


def test_a_file_that_is_not_utf8_is_refused(
    loaded: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_csv(tmp_path, [with_cell("text", f"Café meeting. {REPORT}")], encoding="latin-1")
    found = problems(loaded, path)
    assert len(found) == 1 and "not UTF-8" in found[0].message


def test_without_reporting_channels_the_import_asks_to_load_content_first(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with db.transaction(sessions) as session:
        organisation = Organisation(key="lead", name="Lead", kind="partnership", is_lead=True)
        session.add(Account(key="lead-x", organisation=organisation, network="x",
                            handle="@Lead"))
    assert count(sessions, ReportingChannel) == 0
    found = problems(sessions, write_csv(tmp_path, [GOOD[0]]))
    assert [p.row for p in found] == [0]
    assert "load the content first" in found[0].message


# ---- the command line ---------------------------------------------------------------------

runner = CliRunner()
FUTURE = (
    ("lead-x", "2031-12-03 09:30", f"Hate crime hurts us all. {REPORT}", "", "", ""),
    ("lead-mastodon", "2031-12-03T09:30:00+00:00", "Stand together.", "", "", ""),
    ("lead-mastodon", "2031-12-04 09:30", "Stand together again.", "", "", ""),
)


def chorus(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_imports_a_file_and_prints_a_summary_per_account(
    env: str, content_dir: Path, tmp_path: Path
) -> None:
    assert chorus("content", "load", str(content_dir))[0] == 0
    write_csv(tmp_path, FUTURE)
    code, out, _ = chorus("posts", "import", "posts.csv", "--as", "Sam Patel")
    assert code == 0
    assert "posts.csv: 3 deliveries scheduled" in out
    assert "lead-mastodon: 2" in out and "lead-x: 1" in out
    code, out, _ = chorus("posts", "import", "posts.csv", "--as", "Sam Patel")
    assert code == 0 and "already imported" in out and "nothing changed" in out
    code, out, _ = chorus("deliveries", "list", "--status", "approved")
    assert code == 0 and "row-2" in out


def test_cli_reports_every_error_and_exits_non_zero(
    env: str, content_dir: Path, tmp_path: Path
) -> None:
    assert chorus("content", "load", str(content_dir))[0] == 0
    write_csv(tmp_path, [FUTURE[0], with_cell("account", "lead-xx", FUTURE[1]),
                         with_cell("send_at", "2031-03-30 01:15", FUTURE[2])])
    code, out, err = chorus("posts", "import", "posts.csv", "--as", "Sam Patel")
    assert code == 1 and "scheduled" not in out
    assert "posts.csv: row 3, column account: unknown account 'lead-xx'" in err
    assert "posts.csv: row 4, column send_at: " in err and "does not exist" in err
    assert "2 error(s); nothing was imported" in err
    assert "no deliveries" in chorus("deliveries", "list")[1]


def test_cli_names_a_missing_file(env: str) -> None:
    code, _, err = chorus("posts", "import", "nowhere.csv", "--as", "Sam Patel")
    assert code == 1 and "nowhere.csv: file not found" in err


def test_a_file_of_more_posts_than_the_limit_is_refused_whole(
    loaded: sessionmaker[Session], tmp_path: Path
) -> None:
    rows = [("lead-mastodon", f"2031-{1 + n % 12:02d}-{1 + n % 28:02d} 09:30",
             f"Post {n} against hate", "", "", "") for n in range(MAX_ROWS + 1)]
    found = problems(loaded, write_csv(tmp_path, rows))
    assert [(p.row, p.column) for p in found] == [(0, "")]
    assert f"more than {MAX_ROWS:,} posts; split the file" in found[0].message
    with loaded() as session:
        assert session.scalars(select(Campaign).where(Campaign.key.startswith("bulk-"))).all() == []
