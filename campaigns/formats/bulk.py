"""One-off posts from a spreadsheet: a CSV file checked whole, before it is imported as approved
posts.

Columns (header in row 1, any order, case and spaces ignored):

    account    an account key, as `chorus accounts list` names it
    send_at    2026-12-03T09:30:00+00:00 (with offset), or 2026-12-03 09:30 (local time in the
               default zone; a time the clocks skip or repeat is refused)
    text       the words of the post
    link       optional; added at the end of the text unless already in it
    image      optional; a file, relative to the CSV's folder
    alt_text   required with an image: what it shows, for screen-reader users

Every problem is found in one pass and named by file, row (as a spreadsheet shows it) and
column. Nothing is written unless every row is valid. Each file becomes one campaign whose key
comes from the file's content, so importing the same file again changes nothing.

This module is the checking half (`check_csv`), plain Python but for reading the file and
looking up image files; `campaigns.storage.bulk.import_csv` stores the rows.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from zoneinfo import ZoneInfo

from campaigns.core import entities
from campaigns.core import text as measuring
from campaigns.core.planning import PlannedDelivery, similarity, words
from campaigns.core.timezones import LocalTimeKind, classify_local
from campaigns.formats.content import compose
from campaigns.formats.images import ImageRefused, read_image
from campaigns.formats.suggest import suggest

REQUIRED = ("account", "send_at", "text")

#: Far more than a year of one-off posts; the near-duplicate check compares rows in pairs.
MAX_ROWS = 2_000
MAX_CHARACTERS = 5_000_000

#: Control characters no network takes in a post (tab and line breaks are allowed).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


OPTIONAL = ("link", "image", "alt_text")


COLUMNS = REQUIRED + OPTIONAL


#: As content images (campaigns.formats.schema.ImageIn).
MAX_ALT_TEXT = 1000


KEY_PREFIX = "bulk-"


#: Reports one problem of the row being checked: (column, message).
_Report = Callable[[str, str], None]


_TIME_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


_TIME_EXAMPLES = "2026-12-03 09:30 (local time) or 2026-12-03T09:30:00+00:00"


@dataclass(frozen=True)
class RowProblem:
    """Something wrong with a CSV file; `row` 1 is the header, 0 the file as a whole."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = [f"row {self.row}"] if self.row else []
        if self.column:
            where.append(f"column {self.column}")
        return f"{self.file}: {', '.join(where)}: {self.message}" if where else (
            f"{self.file}: {self.message}")


@dataclass(frozen=True)
class AccountInfo:
    key: str
    network: str
    handle: str
    withdrawn: bool = False


@dataclass(frozen=True)
class BulkImage:
    name: str  # as the CSV names it, relative to its folder
    data: bytes = field(repr=False)
    alt: str


@dataclass(frozen=True)
class BulkRow:
    """One valid row: what will be sent, and the parts a post keeps."""

    row: int
    delivery: PlannedDelivery
    wording: str  # the text column as written; `delivery.text` has the link added
    link: str | None
    image: BulkImage | None


@dataclass
class CheckedFile:
    name: str
    rows: list[BulkRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    def report(self, row: int, column: str, message: str) -> None:
        self.problems.append(RowProblem(self.name, row, column, message))


@dataclass(frozen=True)
class Limits:
    """How long stored values may be (the database's columns)."""

    audience: int | None = None
    link: int | None = None
    approver: int | None = None


def check_csv(
    content: str,
    *,
    name: str,
    folder: Path,
    accounts: Mapping[str, AccountInfo],
    zone: ZoneInfo,
    now: datetime,
    near_duplicate_threshold: float,
    limits: Limits = Limits(),
) -> CheckedFile:
    """Every valid row of a CSV text, and every problem with its row and column."""
    checked = CheckedFile(name)
    records = read_records(content, checked)
    if records is None:
        return checked
    if not records or not any(cell.strip() for cell in records[0]):
        checked.report(1, "", "no header row: expected columns " + ", ".join(REQUIRED))
        return checked
    columns = _columns(records[0], checked)
    if not columns:
        return checked
    seen_rows = 0
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue  # blank rows are common at the end of a spreadsheet export
        seen_rows += 1
        _check_row(checked, number, record, _Header(columns, len(records[0])), accounts, folder,
                   zone, now, limits)
    if not seen_rows:
        checked.report(0, "", "no posts: the file has a header but no rows")
    _check_repeats(checked)
    _check_x_duplicates(checked, near_duplicate_threshold)
    checked.problems.sort(key=lambda p: (p.row, _column_order(p.column)))
    return checked


def read_records(content: str, checked: CheckedFile) -> list[list[str]] | None:
    """The CSV's rows, read strictly; None (with the problem reported) when a row is not CSV.

    Strict reading matters: a quote left open would otherwise swallow the rows after it into
    one post's text, and that post would be scheduled.
    """
    if len(content) > MAX_CHARACTERS:
        checked.report(0, "", f"the file is larger than {MAX_CHARACTERS // 1_000_000} MB; "
                              f"split it (at most {MAX_ROWS:,} posts per file)")
        return None
    reader = csv.reader(content.splitlines(keepends=True), strict=True)
    records: list[list[str]] = []
    try:
        for record in reader:
            records.append(record)
            if len(records) > MAX_ROWS + 1:
                checked.report(0, "", f"more than {MAX_ROWS:,} posts; split the file")
                return None
    except csv.Error as exc:
        row = len(records) + 1
        checked.report(row, "", _csv_problem(str(exc)))
        return None
    return records


def _csv_problem(error: str) -> str:
    if "end of data" in error or "expected after" in error:
        return ("a quote (\") in this row is not closed, or text follows a closing quote: a "
                "text with commas or line breaks goes in double quotes, and a quote inside it "
                "is written twice (\"\")")
    if "field larger" in error:
        return f"a value is longer than {csv.field_size_limit():,} characters"
    return f"not readable as CSV ({error})"


@dataclass(frozen=True)
class _Header:
    columns: Mapping[str, int]  # known column -> its index
    width: int


def _columns(header: Sequence[str], checked: CheckedFile) -> dict[str, int]:
    """Where each known column is; reports unknown, repeated and missing ones."""
    if len(header) == 1 and ";" in header[0]:
        checked.report(1, "", "columns are separated by ';': save the file as comma-separated "
                              "CSV (UTF-8)")
        return {}
    columns: dict[str, int] = {}
    for index, heading in enumerate(header):
        column = "_".join(heading.strip().casefold().replace("-", " ").split())
        if not column:
            checked.report(1, f"#{index + 1}", "column without a name in the header")
        elif column not in COLUMNS:
            checked.report(1, heading.strip(), "unknown column" + suggest(column, COLUMNS)
                           + "; the columns are " + ", ".join(COLUMNS))
        elif column in columns:
            checked.report(1, column, "column appears twice in the header")
        else:
            columns[column] = index
    for column in REQUIRED:
        if column not in columns:
            checked.report(1, column, "required column missing from the header")
    return columns


def _check_row(
    checked: CheckedFile,
    row: int,
    record: Sequence[str],
    header: _Header,
    accounts: Mapping[str, AccountInfo],
    folder: Path,
    zone: ZoneInfo,
    now: datetime,
    limits: Limits,
) -> None:
    before = len(checked.problems)
    columns = header.columns

    def value(column: str) -> str:
        index = columns.get(column)
        return record[index].strip() if index is not None and index < len(record) else ""

    def report(column: str, message: str) -> None:
        checked.report(row, column, message)

    for column, index in columns.items():
        found = _CONTROL.search(record[index]) if index < len(record) else None
        if found:
            report(column, f"contains a control character (U+{ord(found.group()):04X}) that "
                           "cannot be posted; remove it")
    if len(checked.problems) > before:
        return
    width = header.width
    if len(record) > width and any(cell.strip() for cell in record[width:]):
        report("", f"{len(record)} values but the header has {width} columns "
                   "(does a text with commas need quotes?)")
    # A required column missing from the header is reported once, not on every row.
    account = _account(value("account"), accounts, limits, report) if (
        "account" in columns) else None
    send_at = _send_time(value("send_at"), zone, now, report) if "send_at" in columns else None
    link = _link(value("link"), limits, report)
    image = _image(value("image"), value("alt_text"), folder, report)
    wording = value("text").replace("\r\n", "\n")
    if not wording and "text" in columns:
        report("text", "no text given")
    if account is None or not wording:
        return
    composed = compose(wording, link)
    measured = measuring.measure(composed, account.network)
    if not measured.valid:
        report("text", f"too long or invalid for {account.network}: {measured.problem}")
    if send_at is None or len(checked.problems) > before:
        return
    shown = send_at.astimezone(zone)
    delivery = PlannedDelivery(
        post_key=f"row-{row}", account_key=account.key, network=account.network,
        text=composed, send_at=send_at, local_time=f"{shown:%Y-%m-%d %H:%M %Z}",
    )
    checked.rows.append(BulkRow(row, delivery, wording, link, image))


def _account(
    key: str, accounts: Mapping[str, AccountInfo], limits: Limits, report: _Report
) -> AccountInfo | None:
    if not key:
        report("account", "no account given")
        return None
    found = accounts.get(key)
    if found is None:
        live = [k for k, a in accounts.items() if not a.withdrawn]
        report("account", f"unknown account {key!r}" + suggest(key, live)
               + "; see `chorus accounts list`")
        return None
    if found.withdrawn:
        report("account", f"account {key!r} has been withdrawn (it is no longer in the "
                          "content files); choose another account")
        return None
    if limits.audience is not None and len(key) > limits.audience:
        report("account", f"account key {key!r} is longer than the {limits.audience} "
                          "characters the database keeps for a post's audience; this needs "
                          "a schema change before posts can be imported for it")
        return None
    return found


def _send_time(value: str, zone: ZoneInfo, now: datetime, report: _Report) -> datetime | None:
    if not value:
        report("send_at", "no send time given")
        return None
    try:
        if not _TIME_SHAPE.match(value):
            raise ValueError(value)
        when = datetime.fromisoformat(value)
    except ValueError:
        report("send_at", f"{value!r} is not a date and time: write {_TIME_EXAMPLES} "
                          "(if a spreadsheet reformatted it, format the column as text)")
        return None
    if when.tzinfo is None:
        resolved = _local_to_aware(when, zone, report)
        if resolved is None:
            return None
        when = resolved
    if when <= now:
        current = now.astimezone(zone)
        report("send_at", f"{value} is in the past (it is now {current:%Y-%m-%d %H:%M %Z})")
        return None
    return when.astimezone(UTC)


def _local_to_aware(local: datetime, zone: ZoneInfo, report: _Report) -> datetime | None:
    kind = classify_local(local, zone)
    when = f"{local:%A %d %B %Y %H:%M} in {zone.key}"
    if kind is LocalTimeKind.GAP:
        report("send_at", f"{when} does not exist: the clocks go forward then; pick another "
                          "time")
        return None
    if kind is LocalTimeKind.FOLD:
        first = local.replace(tzinfo=zone, fold=0)
        report("send_at", f"{when} happens twice: the clocks go back then; give the UTC offset "
                          f"to say which, e.g. {first.isoformat()} for the first")
        return None
    return local.replace(tzinfo=zone)


def _link(value: str, limits: Limits, report: _Report) -> str | None:
    if not value:
        return None
    if not entities.is_valid_url(value):
        report("link", f"{value!r} is not a web address; write it in full, e.g. "
                       "https://www.report-it.org.uk")
        return None
    if limits.link is not None and len(value) > limits.link:
        report("link", f"longer than {limits.link} characters; use a shorter address")
        return None
    return value


def _image(value: str, alt: str, folder: Path, report: _Report) -> BulkImage | None:
    if not value:
        if alt:
            report("alt_text", "alt text without an image: add the image or clear the alt text")
        return None
    if not alt:
        report("alt_text", "an image needs alt text describing it for screen-reader users")
    elif len(alt) > MAX_ALT_TEXT:
        report("alt_text", f"{len(alt)} characters; alt text may have at most {MAX_ALT_TEXT}")
    try:
        data = read_image(folder, value)
    except ImageRefused as refused:
        report("image", f"{refused} (paths are relative to the CSV's folder)")
        return None
    return BulkImage(value, data, alt) if alt else None


def _check_repeats(checked: CheckedFile) -> None:
    first: dict[tuple[str, str], int] = {}
    repeats = set()
    for item in checked.rows:
        pair = (item.delivery.account_key, item.delivery.text)
        earlier = first.setdefault(pair, item.row)
        if earlier != item.row:
            checked.report(item.row, "text", f"repeats row {earlier}: the same text for "
                                             f"{item.delivery.account_key}; remove one of them")
            repeats.add(item.row)
    checked.rows = [item for item in checked.rows if item.row not in repeats]


def _check_x_duplicates(checked: CheckedFile, threshold: float) -> None:
    """X's automation rules: the same or nearly the same words never go to two X accounts."""
    on_x = [(item, words(item.delivery.text)) for item in checked.rows
            if item.delivery.network == "x"]
    for (first, first_words), (second, second_words) in combinations(on_x, 2):
        if first.delivery.account_key == second.delivery.account_key:
            continue
        score = similarity(first_words, second_words, floor=threshold)
        if score >= threshold:
            kind = "identical" if score >= 1 else f"near-identical (similarity {score:.2f})"
            checked.report(second.row, "text", (
                f"{kind} to the text of row {first.row}, on another X account "
                f"({first.delivery.account_key} and {second.delivery.account_key}); X's "
                "automation rules forbid this: give each account its own wording"))


def _column_order(column: str) -> int:
    return COLUMNS.index(column) if column in COLUMNS else len(COLUMNS)




class BulkImportInvalid(ValueError):
    def __init__(self, problems: Sequence[RowProblem]) -> None:
        super().__init__(f"{len(problems)} error(s); nothing was imported")
        self.problems = list(problems)


def campaign_key_for(records: Sequence[Sequence[str]]) -> str:
    """The campaign a file's posts belong to, named by what its rows say: the same rows saved
    with other line endings, or with blank rows added, are the same campaign."""
    rows = [[cell.replace("\r\n", "\n").replace("\r", "\n") for cell in record]
            for record in records if any(cell.strip() for cell in record)]
    canonical = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return KEY_PREFIX + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]


def legacy_campaign_key_for(content: str) -> str:
    """The key earlier versions gave a file (a digest of its exact bytes), so that a file
    imported before this change is still recognised."""
    return KEY_PREFIX + hashlib.sha256(content.encode("utf-8")).hexdigest()[:24]


def read_csv_text(path: Path) -> str:
    """The file as text: UTF-8, with or without the byte-order mark spreadsheets add.

    Raises BulkImportInvalid when the file cannot be read.
    """
    name = display_name(path)
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_CHARACTERS * 4 + 1)  # UTF-8 takes at most 4 bytes a character
        return raw.decode("utf-8-sig")
    except FileNotFoundError:
        message = "file not found"
    except IsADirectoryError:
        message = "is a folder, not a CSV file"
    except OSError as exc:
        message = f"cannot be read ({exc.strerror or exc})"
    except UnicodeDecodeError as exc:
        message = (f"not UTF-8 text (byte {exc.start + 1}): save it from the spreadsheet as "
                   "'CSV UTF-8'")
    raise BulkImportInvalid([RowProblem(name, 0, "", message)])


def display_name(path: Path) -> str:
    """The file as a person would type it: relative to the working directory where possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
