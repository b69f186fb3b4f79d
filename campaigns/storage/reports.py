"""Hate crime reporting figures: read a CSV, XLSX or ODS file, check it whole, store its counts.

Three layouts are recognised from the header (case, spacing, punctuation and column order do
not matter; in a workbook, every sheet with a recognised header is read):

`long`, the project's own format, one count per row:
    period_start, period_end   the period's first and last day: 2023-01-02, or 02/01/2023
    area                       e.g. York
    strand                     race, religion, sexual-orientation, disability, transgender or all
    source                     police-recorded, third-party-centre, true-vision, stop-hate-uk, ...
    count                      a whole number, 0 or more
    measure                    optional: offences (the default) or motivating-factors
  Unknown columns are refused, so a misspelt optional column is not silently dropped.

`home-office-long`, the Home Office's long tables: `Financial Year` (2018/19 is 1 April 2018
to 31 March 2019), optional `Financial Quarter` (1 to 4: April-June, July-September,
October-December, January-March of that financial year), `Force Name`, optional
`Hate Crime Strand` (or `Motivating factor`), any offence columns, and `Number of Offences`.
Rows for the same period, force and strand (several offence types) are added up. Without a
strand column the rows count offences (strand `all`); with one, each row counts offences with
that motivating factor, so the counts are stored as motivating factors (one offence can have
several) and are never added up across strands.

`wide-strands`, per-strand tables as the Home Office bulletin tables and newsrooms publish them:
one row per force and year (`Year`, or `Financial Year`, and optional `Financial Quarter`) with
any of `Race`, `Religion` (or `Total Religion`), `Sexual orientation`, `Disability`,
`Transgender`, `Total number of motivating factors`, `Total number of offences`. The strands are
stored as motivating factors, the two totals as strand `all`; the strands must add up to the
stated total of motivating factors. Blank cells and the statistical shorthand for "not
available" (`..`, `[x]`, `[z]`, `[c]`, `[u]`, `[w]`) are not stored. Other columns (population,
rates) and single-cell rows (titles, footnotes) are ignored.

Source: `--source` names the source of a Home Office or per-strand table (default
police-recorded); in the long format each row names its own, and `--source` fills blank cells.

Comment lines above the header start with `#`. `# synthetic` (conventionally the first line)
marks a file of made-up figures, so they are labelled synthetic wherever they are shown;
`# citation: ...` says where the figures were published.

Every problem is found in one pass and named by file, sheet, row (as a spreadsheet shows it:
the header of a plain file is row 1) and column. Nothing is stored unless the whole file is
valid. A file imported before (the same bytes) changes nothing; a different file restating a
count already stored is refused, naming both files.

The checking half (`parse_sheets` and the value parsers) is plain Python; `read_sheets` (pandas)
and `import_report_file`, `summarise` (SQLAlchemy) are its edges.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import math
import numbers
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.storage.models import ReportCount, ReportDataset

STRANDS = ("race", "religion", "sexual-orientation", "disability", "transgender")
ALL = "all"
OFFENCES = "offences"
MOTIVATING_FACTORS = "motivating-factors"
MEASURES = (OFFENCES, MOTIVATING_FACTORS)
POLICE_RECORDED = "police-recorded"

LONG = "long"
HOME_OFFICE = "home-office-long"
WIDE = "wide-strands"

ENGINES = {".xlsx": "openpyxl", ".ods": "odf"}
#: Rows searched for the header, below titles and comment lines.
HEADER_SCAN = 30
MAX_COUNT = 2**31 - 1
MAX_SHOWN_LENGTH = {"area": 100, "source": 100, "file": 300}

#: Government statistical shorthand for a value that is not available (GSS guidance).
NOT_AVAILABLE = frozenset({"..", "[x]", "[z]", "[c]", "[u]", "[w]"})

Cell = str | int | float | bool | date | None
T = TypeVar("T")


# ---- problems ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Something wrong with a file; `row` 0 means the file (or sheet) as a whole."""

    file: str
    message: str
    sheet: str | None = None
    row: int = 0
    column: str = ""

    def __str__(self) -> str:
        where = [f"sheet {self.sheet!r}"] if self.sheet is not None else []
        if self.row:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{self.file}: {', '.join(where)}: {self.message}" if where else (
            f"{self.file}: {self.message}")


class ReportsInvalid(ValueError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} error(s); nothing was imported")
        self.problems = list(problems)


class CellError(ValueError):
    """A value that cannot be read; the message says what to write instead."""


# ---- values (pure) -----------------------------------------------------------------------------


def normalise(heading: object) -> str:
    """A heading or label as compared: lower case, words separated by single spaces."""
    text = "" if heading is None else str(heading)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


_STRAND_NAMES = {
    "race": "race", "race or ethnicity": "race", "racial": "race", "ethnicity": "race",
    "religion": "religion", "total religion": "religion", "religion or belief": "religion",
    "religion or beliefs": "religion", "religious": "religion", "faith": "religion",
    "sexual orientation": "sexual-orientation", "sexuality": "sexual-orientation",
    "disability": "disability", "disabled": "disability",
    "transgender": "transgender", "transgender identity": "transgender",
    "trans": "transgender", "gender identity": "transgender",
    "all": ALL, "total": ALL, "all strands": ALL, "total offences": ALL,
}


def parse_strand(value: Cell) -> str:
    """One of STRANDS or `all`, from the names the Home Office and partners use."""
    text = _text(value, "no strand given")
    found = _STRAND_NAMES.get(normalise(text))
    if found is None:
        raise CellError(f"unknown strand {text!r}{_suggest(normalise(text), _STRAND_NAMES)}: "
                        f"use {', '.join(STRANDS)} or {ALL}")
    return found


def parse_measure(value: Cell) -> str:
    text = _text(value, "no measure given")
    found = {"offences": OFFENCES, "offence": OFFENCES, "motivating factors": MOTIVATING_FACTORS,
             "motivating factor": MOTIVATING_FACTORS}.get(normalise(text))
    if found is None:
        raise CellError(f"unknown measure {text!r}: use {OFFENCES} or {MOTIVATING_FACTORS}")
    return found


def parse_source(value: Cell) -> str:
    """A source as a short name: `Stop Hate UK` becomes stop-hate-uk."""
    text = _text(value, "no source given")
    name = "-".join(normalise(text).split())
    if not name:
        raise CellError(f"{text!r} is not a source name: use letters and digits, e.g. "
                        f"{POLICE_RECORDED}")
    if len(name) > MAX_SHOWN_LENGTH["source"]:
        raise CellError(f"source name longer than {MAX_SHOWN_LENGTH['source']} characters")
    return name


def parse_area(value: Cell) -> str:
    text = " ".join(_text(value, "no area given").split())
    if len(text) > MAX_SHOWN_LENGTH["area"]:
        raise CellError(f"area name longer than {MAX_SHOWN_LENGTH['area']} characters")
    return text


def parse_count(value: Cell) -> int:
    """A whole number of 0 or more; `1,466` is read as 1466."""
    if value is None:
        raise CellError("no count given")
    if isinstance(value, bool | date):
        raise CellError(f"{value!r} is not a count: write a whole number")
    if isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise CellError(f"{value:g} is not a whole number")
        number = int(value)
    else:
        text = str(value).strip()
        if not re.fullmatch(r"-?(\d+|\d{1,3}(,\d{3})+)", text):
            raise CellError(f"{text!r} is not a whole number")
        number = int(text.replace(",", ""))
    if number < 0:
        raise CellError(f"{number} is negative: a count is 0 or more")
    if number > MAX_COUNT:
        raise CellError(f"{number} is too large to store")
    return number


def parse_published_count(value: Cell) -> int | None:
    """A count in a published table, or None where the table says it is not available."""
    if value is None or (isinstance(value, str) and value.strip().casefold() in NOT_AVAILABLE):
        return None
    return parse_count(value)


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?")
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_date(value: Cell) -> date:
    """A day: a spreadsheet date, 2023-01-02, or 02/01/2023 (day first, as in the UK)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value, "no date given")
    try:
        if match := _ISO_DATE.fullmatch(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _UK_DATE.fullmatch(text):
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        raise CellError(f"{text!r} is not a day of the calendar") from None
    raise CellError(f"{text!r} is not a date: write 2023-01-02 (or 02/01/2023)")


_FINANCIAL_YEAR = re.compile(r"(\d{4})\s*(?:/|-|–|to)\s*(\d{2}|\d{4})")
_YEAR_ENDING = re.compile(r"(?:financial )?year ending (?:march|mar) (\d{4})")


def parse_financial_year(value: Cell) -> int:
    """The calendar year a financial year starts in: 2018/19 (or 2018-19, 2018 to 2019) is 2018."""
    text = _text(value, "no financial year given")
    if match := _YEAR_ENDING.fullmatch(normalise(text)):
        return int(match[1]) - 1
    match = _FINANCIAL_YEAR.fullmatch(text)
    if match is None:
        raise CellError(f"{text!r} is not a financial year: write it as 2018/19 "
                        "(1 April 2018 to 31 March 2019)")
    start, end = int(match[1]), match[2]
    expected = str(start + 1) if len(end) == 4 else f"{(start + 1) % 100:02d}"
    if end != expected:
        raise CellError(f"{text!r} is not a financial year: one runs April to March, e.g. "
                        f"{start}/{(start + 1) % 100:02d}")
    return start


def parse_quarter(value: Cell) -> int:
    """A financial quarter, 1 to 4 (or Q1, Quarter 1)."""
    if isinstance(value, bool):
        raise CellError(f"{value!r} is not a quarter: write 1, 2, 3 or 4")
    if isinstance(value, int | float) and float(value) in (1.0, 2.0, 3.0, 4.0):
        return int(value)
    text = _text(value, "no quarter given")
    match = re.fullmatch(r"(?:q|quarter)?\s*([1-4])\b.*", text.casefold())
    if match is None:
        raise CellError(f"{text!r} is not a quarter: write 1, 2, 3 or 4 (April-June is 1)")
    return int(match[1])


def financial_year_period(start_year: int) -> tuple[date, date]:
    """1 April of `start_year` to 31 March of the next year."""
    return date(start_year, 4, 1), date(start_year + 1, 3, 31)


def quarter_period(start_year: int, quarter: int) -> tuple[date, date]:
    """Quarter 1 is April-June, 2 July-September, 3 October-December, 4 January-March."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"quarter {quarter} is not 1 to 4")
    first_month = 4 + 3 * (quarter - 1)
    year = start_year + (first_month - 1) // 12
    month = (first_month - 1) % 12 + 1
    end_year, end_month = (year + 1, 1) if month + 3 > 12 else (year, month + 3)
    return date(year, month, 1), date.fromordinal(date(end_year, end_month, 1).toordinal() - 1)


def check_wide_row(values: Mapping[str, int | None]) -> list[tuple[str, str]]:
    """What is wrong with one row of a per-strand table, as (column key, message) pairs.

    Keys are the strands, `motivating-factors` (the stated total) and `offences`. One offence
    can have several motivating factors, so the strands may add up to more than the offences,
    but each strand, and the offences, are at most the total of motivating factors.
    """
    found: list[tuple[str, str]] = []
    strands = {s: values[s] for s in STRANDS if values.get(s) is not None}
    total = values.get(MOTIVATING_FACTORS)
    offences = values.get(OFFENCES)
    if total is not None and strands:
        added = sum(v for v in strands.values() if v is not None)
        listed = " + ".join(str(v) for v in strands.values())
        if len(strands) == len(STRANDS) and added != total:
            found.append((MOTIVATING_FACTORS, f"the strands add up to {added} ({listed}), not "
                                              f"the {total} motivating factors stated"))
        elif added > total:
            found.append((MOTIVATING_FACTORS, f"the strands given add up to {added} "
                                              f"({listed}), more than the {total} stated"))
    if offences is not None:
        for strand, count in strands.items():
            if count is not None and count > offences:
                found.append((strand, f"{count} offences with this motivating factor, more "
                                      f"than the {offences} offences in all"))
        if total is not None and total < offences:
            found.append((MOTIVATING_FACTORS, f"{total} motivating factors for {offences} "
                                              "offences: every offence has at least one"))
    return found


def _text(value: Cell, missing: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CellError(missing)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _suggest(value: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, sorted(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ---- sheets and headers (pure) -----------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """One table as a spreadsheet shows it: (row number, cells), the first row being 1."""

    name: str | None  # None for a CSV file
    rows: tuple[tuple[int, tuple[Cell, ...]], ...]


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # as named in messages when missing
    aliases: tuple[str, ...]  # normalised headings, the preferred first
    required: bool = True


_AREA = ("force name", "force", "police force", "police force area", "police force area name")
_QUARTER = Column("quarter", "Financial Quarter", ("financial quarter", "quarter"), False)

LAYOUT_COLUMNS: dict[str, tuple[Column, ...]] = {
    LONG: (
        Column("period_start", "period_start", ("period start",)),
        Column("period_end", "period_end", ("period end",)),
        Column("area", "area", ("area",)),
        Column("strand", "strand", ("strand",)),
        Column("source", "source", ("source",)),
        Column("count", "count", ("count",)),
        Column("measure", "measure", ("measure",), False),
    ),
    HOME_OFFICE: (
        Column("year", "Financial Year", ("financial year",)),
        _QUARTER,
        Column("area", "Force Name", _AREA),
        Column("strand", "Hate Crime Strand", ("hate crime strand", "motivating factor",
                                               "motivating factors", "monitored strand",
                                               "strand"), False),
        Column("count", "Number of Offences", ("number of offences",)),
    ),
    WIDE: (
        Column("area", "Force", (*_AREA, "area")),
        Column("year", "Year", ("year", "financial year")),
        _QUARTER,
        Column("race", "Race", ("race", "race or ethnicity"), False),
        Column("religion", "Religion", ("total religion", "religion", "religion or belief",
                                        "religion or beliefs"), False),
        Column("sexual-orientation", "Sexual orientation", ("sexual orientation",), False),
        Column("disability", "Disability", ("disability",), False),
        Column("transgender", "Transgender", ("transgender", "transgender identity"), False),
        Column(MOTIVATING_FACTORS, "Total number of motivating factors",
               ("total number of motivating factors", "total motivating factors"), False),
        Column(OFFENCES, "Total number of offences",
               ("total number of offences", "total offences", "number of offences"), False),
    ),
}
_WIDE_COUNTS = tuple(c.key for c in LAYOUT_COLUMNS[WIDE][3:])
_WIDE_SIGNS = frozenset(a for c in LAYOUT_COLUMNS[WIDE][3:-1] for a in c.aliases)
EXPECTED = ("the long format (period_start, period_end, area, strand, source, count), a Home "
            "Office table (Financial Year, Force Name, Number of Offences) or a per-strand "
            "table (Force, Year, Race, Religion, Sexual orientation, Disability, Transgender, "
            "Total number of offences)")


def detect_layout(headings: Iterable[Cell]) -> str | None:
    """Which layout a header row belongs to, or None if it is not a header row."""
    names = {normalise(h) for h in headings if h is not None}
    if names & {"period start", "period end"}:
        return LONG
    if names & _WIDE_SIGNS:
        return WIDE
    if "number of offences" in names:
        return HOME_OFFICE
    return None


@dataclass(frozen=True)
class Header:
    layout: str
    row: int
    index: Mapping[str, int]  # column key -> position
    headings: Mapping[str, str]  # column key -> heading as written

    def label(self, key: str) -> str:
        return self.headings.get(key) or next(
            c.label for c in LAYOUT_COLUMNS[self.layout] if c.key == key)


def match_header(
    layout: str, row: int, cells: Sequence[Cell], *, source_given: bool = False
) -> tuple[Header, list[tuple[str, str]]]:
    """The columns of a header row, and its problems as (column, message) pairs."""
    problems: list[tuple[str, str]] = []
    positions: dict[str, int] = {}
    for position, cell in enumerate(cells):
        name = normalise(cell)
        if not name:
            continue
        if name in positions:
            problems.append((str(cell).strip(), "column appears twice in the header"))
        else:
            positions[name] = position
    index: dict[str, int] = {}
    headings: dict[str, str] = {}
    for column in LAYOUT_COLUMNS[layout]:
        alias = next((a for a in column.aliases if a in positions), None)
        if alias is not None:
            index[column.key] = positions[alias]
            headings[column.key] = str(cells[positions[alias]]).strip()
        elif column.required and not (column.key == "source" and source_given):
            problems.append((column.label, "required column missing from the header"
                             + _suggest(column.aliases[0], positions)))
    if layout == LONG:
        known = {a for c in LAYOUT_COLUMNS[LONG] for a in c.aliases}
        for name, position in positions.items():
            if name not in known:
                hint = (": mark a synthetic file with a first line '# synthetic' instead"
                        if name == "synthetic" else _suggest(name, known))
                problems.append((str(cells[position]).strip(), "unknown column" + hint))
    if layout == WIDE and not set(index) & set(_WIDE_COUNTS):
        problems.append(("", "no count columns: expected Race, Religion, Sexual orientation, "
                             "Disability, Transgender or the totals"))
    return Header(layout, row, index, headings), problems


# ---- parsing a file (pure) ---------------------------------------------------------------------


class CountKey(NamedTuple):
    period_start: date
    period_end: date
    area: str
    strand: str
    source: str
    measure: str


@dataclass(frozen=True)
class Place:
    sheet: str | None
    row: int

    def __str__(self) -> str:
        return f"row {self.row}" if self.sheet is None else f"sheet {self.sheet!r} row {self.row}"


@dataclass
class Tally:
    count: int
    places: list[Place]
    column: str


@dataclass
class ParsedFile:
    name: str
    layouts: list[str] = field(default_factory=list)
    synthetic: bool = False
    citation: str = ""
    counts: dict[CountKey, Tally] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    skipped_sheets: list[str] = field(default_factory=list)
    data_rows: int = 0

    def report(self, message: str, sheet: str | None = None, row: int = 0,
               column: str = "") -> None:
        self.problems.append(Problem(self.name, message, sheet, row, column))


def parse_sheets(
    sheets: Sequence[Sheet], *, name: str, source: str | None = None
) -> ParsedFile:
    """Every count in the sheets, or every problem with its sheet, row and column."""
    parsed = ParsedFile(name)
    found = [(sheet, _find_header(sheet)) for sheet in sheets]
    if not any(sheet.rows for sheet in sheets):
        parsed.report("the file is empty" if len(sheets) < 2 else "every sheet is empty")
        return parsed
    if not any(start is not None for _, start in found):
        _report_no_header(parsed, next(sheet for sheet in sheets if sheet.rows))
        return parsed
    for sheet, start in found:
        if start is None:
            parsed.skipped_sheets.append(sheet.name or "")
            continue
        _read_comments(parsed, sheet.rows[:start])
        _parse_sheet(parsed, sheet, start, source)
    return parsed


def _find_header(sheet: Sheet) -> int | None:
    for position, (_, cells) in enumerate(sheet.rows[:HEADER_SCAN]):
        if not _is_comment(cells) and detect_layout(cells):
            return position
    return None


def _report_no_header(parsed: ParsedFile, sheet: Sheet) -> None:
    number, cells = next(((n, c) for n, c in sheet.rows if c and not _is_comment(c)), (1, ()))
    if len(cells) == 1 and isinstance(cells[0], str) and ";" in cells[0]:
        message = ("columns are separated by ';': save the file as comma-separated CSV "
                   "(UTF-8)")
    else:
        message = (f"no header row of a known layout in the first {HEADER_SCAN} rows: "
                   f"expected {EXPECTED}")
    parsed.report(message, sheet.name, number)


def _is_comment(cells: Sequence[Cell]) -> bool:
    first = next((c for c in cells if c is not None), None)
    return isinstance(first, str) and first.startswith("#")


def _read_comments(parsed: ParsedFile, rows: Sequence[tuple[int, tuple[Cell, ...]]]) -> None:
    for _, cells in rows:
        if not _is_comment(cells):
            continue
        text = " ".join(str(c) for c in cells if c is not None).lstrip("#").strip()
        word = normalise(text).split(" ")[0]
        if word == "synthetic":
            parsed.synthetic = True
        elif word == "citation":
            value = text.split(":", 1)[1] if ":" in text else text[len("citation"):]
            parsed.citation = " ".join([parsed.citation, value.strip(" ,")]).strip()


def _parse_sheet(parsed: ParsedFile, sheet: Sheet, start: int, source: str | None) -> None:
    number, cells = sheet.rows[start]
    layout = detect_layout(cells)
    assert layout is not None
    header, problems = match_header(layout, number, cells, source_given=source is not None)
    for column, message in problems:
        parsed.report(message, sheet.name, number, column)
    if problems:
        return
    if layout not in parsed.layouts:
        parsed.layouts.append(layout)
    rows = [(n, c) for n, c in sheet.rows[start + 1:] if any(v is not None for v in c)]
    if layout != LONG:
        rows = [(n, c) for n, c in rows if not _is_note(c)]
    if not rows:
        parsed.report("no data rows below the header", sheet.name, number)
        return
    parsed.data_rows += len(rows)
    reader = {LONG: _long_row, HOME_OFFICE: _home_office_row, WIDE: _wide_row}[layout]
    seen: dict[tuple[object, ...], Place] = {}
    for row_number, row_cells in rows:
        reader(_Row(parsed, sheet.name, header, row_number, row_cells, seen), source)


def _is_note(cells: Sequence[Cell]) -> bool:
    """A title, footnote or source line in a published table: a single cell of text."""
    filled = [c for c in cells if c is not None]
    return len(filled) == 1 and isinstance(filled[0], str)


class _Row:
    """One data row: its values by column key, and a way to report what is wrong with them."""

    def __init__(self, parsed: ParsedFile, sheet: str | None, header: Header, number: int,
                 cells: Sequence[Cell], seen: dict[tuple[object, ...], Place]) -> None:
        self.parsed, self.sheet, self.header, self.number = parsed, sheet, header, number
        self.cells = cells
        #: The rows of this sheet read so far, by what identifies them (per-strand tables).
        self.seen = seen
        self.ok = True

    @property
    def place(self) -> Place:
        return Place(self.sheet, self.number)

    def has(self, key: str) -> bool:
        return key in self.header.index

    def cell(self, key: str) -> Cell:
        position = self.header.index[key]
        return self.cells[position] if position < len(self.cells) else None

    def get(self, key: str, parse: Callable[[Cell], T]) -> T | None:
        try:
            return parse(self.cell(key))
        except CellError as exc:
            self.report(key, str(exc))
            return None

    def report(self, key: str, message: str) -> None:
        self.ok = False
        self.parsed.report(message, self.sheet, self.number, self.header.label(key) if key else "")

    def add(self, key: CountKey, count: int, column: str, *, add_up: bool = False) -> None:
        """Store one count; repeats are added up (`add_up`) or refused."""
        tallies = self.parsed.counts
        earlier = tallies.get(key)
        if earlier is None:
            tallies[key] = Tally(count, [self.place], self.header.label(column))
        elif add_up and earlier.places[0].sheet == self.sheet:
            if earlier.count + count > MAX_COUNT:
                self.report(column, "the rows added up are too large to store")
            earlier.count += count
            earlier.places.append(self.place)
        else:
            self.report(column, f"repeats {earlier.places[0]}: the same period, area, strand, "
                                f"source and measure ({_describe(key)}); keep one of them")


def _describe(key: CountKey) -> str:
    return (f"{key.area}, {key.period_start.isoformat()} to {key.period_end.isoformat()}, "
            f"{key.strand}, {key.measure}, {key.source}")


def _long_row(row: _Row, source: str | None) -> None:
    start = row.get("period_start", parse_date)
    end = row.get("period_end", parse_date)
    area = row.get("area", parse_area)
    strand = row.get("strand", parse_strand)
    measure = row.get("measure", parse_measure) if _filled(row, "measure") else OFFENCES
    named = _row_source(row, source)
    count = row.get("count", parse_count)
    if start and end and end < start:
        row.report("period_end", f"{end.isoformat()} is before period_start {start.isoformat()}")
    if (row.ok and start and end and area and strand and measure and named
            and count is not None):
        row.add(CountKey(start, end, area, strand, named, measure), count, "count")


def _filled(row: _Row, key: str) -> bool:
    return row.has(key) and row.cell(key) is not None


def _row_source(row: _Row, given: str | None) -> str | None:
    if not _filled(row, "source"):
        if given is None:
            row.report("source", "no source given")
        return given
    named = row.get("source", parse_source)
    if named and given and named != given:
        row.report("source", f"the file says {named!r} but --source says {given!r}; leave "
                             "out --source, or clear the column")
        return None
    return named


def _period(row: _Row) -> tuple[date, date] | None:
    year = row.get("year", parse_financial_year)
    if year is None:
        return None
    if not row.has("quarter"):
        return financial_year_period(year)
    quarter = row.get("quarter", parse_quarter)
    return quarter_period(year, quarter) if quarter else None


def _home_office_row(row: _Row, source: str | None) -> None:
    period = _period(row)
    area = row.get("area", parse_area)
    strand = row.get("strand", parse_strand) if row.has("strand") else ALL
    count = row.get("count", parse_count)
    if row.ok and period and area and strand and count is not None:
        measure = OFFENCES if strand == ALL else MOTIVATING_FACTORS
        key = CountKey(*period, area, strand, source or POLICE_RECORDED, measure)
        row.add(key, count, "count", add_up=True)


def _wide_row(row: _Row, source: str | None) -> None:
    period = _period(row)
    area = row.get("area", parse_area)
    values = {k: row.get(k, parse_published_count) for k in _WIDE_COUNTS if row.has(k)}
    for key, message in check_wide_row(values):
        row.report(key, message)
    if not (row.ok and period and area):
        return
    earlier = row.seen.setdefault((area, *period), row.place)
    if earlier != row.place:
        row.report("area", f"repeats {earlier}: {area} for {period[0].isoformat()} to "
                           f"{period[1].isoformat()} again; keep one of them")
        return
    for column, count in values.items():
        if count is None:
            continue
        strand = ALL if column in MEASURES else column
        measure = OFFENCES if column == OFFENCES else MOTIVATING_FACTORS
        row.add(CountKey(*period, area, strand, source or POLICE_RECORDED, measure), count,
                column)


# ---- reading files (pandas) --------------------------------------------------------------------


def read_sheets(data: bytes, *, name: str, suffix: str) -> list[Sheet]:
    """The tables of a CSV, XLSX or ODS file. Raises ReportsInvalid if it cannot be read."""
    kind = suffix.casefold()
    if not data.strip():
        raise ReportsInvalid([Problem(name, "the file is empty")])
    if kind == ".csv":
        return [_csv_sheet(data, name)]
    if kind in ENGINES:
        return _workbook_sheets(data, name, kind)
    hint = " (save it as .xlsx)" if kind in (".xls", ".xlsm", ".xlsb") else ""
    raise ReportsInvalid([Problem(name, f"unsupported file type {suffix or '(none)'!r}{hint}: "
                                        "use .csv, .xlsx or .ods")])


def _csv_sheet(data: bytes, name: str) -> Sheet:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReportsInvalid([Problem(name, f"not UTF-8 text (byte {exc.start + 1}): save it "
                                            "from the spreadsheet as 'CSV UTF-8'")]) from None
    if "\x00" in text:
        raise ReportsInvalid([Problem(name, "not a CSV file: it holds binary data")])
    lines = text.splitlines(keepends=True)
    comments = 0
    while comments < len(lines) and lines[comments].lstrip().startswith("#"):
        comments += 1
    rows: list[tuple[int, tuple[Cell, ...]]] = [
        (n, (lines[n - 1].strip().rstrip(",;").strip(),)) for n in range(1, comments + 1)]
    body = "".join(lines[comments:])
    width = max((len(r) for r in csv.reader(io.StringIO(body))), default=0)
    if width:
        try:
            frame = pd.read_csv(io.StringIO(body), header=None, names=range(width), dtype=str,
                                keep_default_na=False, skip_blank_lines=False)
        except (ValueError, csv.Error) as exc:
            raise ReportsInvalid([Problem(name, f"not a readable CSV file ({exc})")]) from None
        rows += _frame_rows(frame, first_row=comments + 1)
    return Sheet(None, tuple(rows))


def _workbook_sheets(data: bytes, name: str, kind: str) -> list[Sheet]:
    label = kind.lstrip(".").upper()
    try:
        frames: dict[Any, pd.DataFrame] = pd.read_excel(
            io.BytesIO(data), sheet_name=None, header=None, dtype=object, engine=ENGINES[kind])
    except Exception as exc:  # the engines raise many kinds; any means the same to a person
        raise ReportsInvalid([Problem(name, f"not a readable {label} workbook "
                                            f"({type(exc).__name__}: {exc}); is it damaged, "
                                            "or another kind of file?")]) from None
    return [Sheet(str(title), tuple(_frame_rows(frame, first_row=1)))
            for title, frame in frames.items()]


def _frame_rows(frame: pd.DataFrame, *, first_row: int) -> list[tuple[int, tuple[Cell, ...]]]:
    rows = []
    for offset, values in enumerate(frame.itertuples(index=False, name=None)):
        cells = tuple(_cell(v) for v in values)
        while cells and cells[-1] is None:
            cells = cells[:-1]
        rows.append((first_row + offset, cells))
    while rows and not rows[-1][1]:
        rows.pop()
    return rows


def _cell(value: object) -> Cell:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool | int | float | date):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return str(value)


# ---- importing (SQLAlchemy) --------------------------------------------------------------------


@dataclass
class ImportResult:
    file: str
    dataset_id: int
    source: str
    layout: str
    synthetic: bool
    counts: int = 0
    data_rows: int = 0
    areas: list[str] = field(default_factory=list)
    first_day: date | None = None
    last_day: date | None = None
    skipped_sheets: list[str] = field(default_factory=list)
    already_imported: bool = False


def import_report_file(
    path: Path,
    *,
    session: Session,
    now: datetime,
    source: str | None = None,
    citation: str | None = None,
    imported_by: str = "",
) -> ImportResult:
    """Check `path` and, if it is valid throughout, store its counts as one dataset.

    Works inside the caller's transaction and raises ReportsInvalid, with every problem, before
    writing anything. The same file imported again is recognised and changes nothing.
    """
    # Imported here: campaigns.storage.bulk loads the content schema, which the dashboard's pages
    # that only read report counts (and the constants above) do not need.
    from campaigns.storage.bulk import display_name

    name = display_name(path)
    data = _read_bytes(path, name)
    digest = hashlib.sha256(data).hexdigest()
    existing = session.scalars(
        select(ReportDataset).where(ReportDataset.file_hash == digest)).one_or_none()
    if existing is not None:
        return _already_imported(existing, name, session=session)
    if source is not None:
        try:
            source = parse_source(source)
        except CellError as exc:
            raise ReportsInvalid([Problem(name, f"--source: {exc}")]) from None
    parsed = parse_sheets(read_sheets(data, name=name, suffix=path.suffix), name=name,
                          source=source)
    if parsed.problems:
        raise ReportsInvalid(parsed.problems)
    conflicts = find_conflicts(parsed, session=session)
    if conflicts:
        raise ReportsInvalid(conflicts)
    sources = sorted({key.source for key in parsed.counts})
    dataset = ReportDataset(
        file_hash=digest, file_name=_shorten(path.name, MAX_SHOWN_LENGTH["file"]),
        source=source or _shorten(", ".join(sources), MAX_SHOWN_LENGTH["source"]),
        citation=(citation if citation is not None else parsed.citation).strip(),
        synthetic=parsed.synthetic, layout="+".join(parsed.layouts), rows=len(parsed.counts),
        imported_at=now, imported_by=imported_by,
    )
    session.add(dataset)
    try:
        session.flush()
        session.execute(insert(ReportCount), [
            {**key._asdict(), "count": tally.count, "dataset_id": dataset.id}
            for key, tally in parsed.counts.items()])
    except IntegrityError:
        raise ReportsInvalid([Problem(name, "another import stored some of the same counts at "
                                            "the same moment; run this import again to see "
                                            "which")]) from None
    keys = parsed.counts.keys()
    return ImportResult(
        name, dataset.id, dataset.source, dataset.layout, dataset.synthetic,
        counts=len(parsed.counts), data_rows=parsed.data_rows,
        areas=sorted({k.area for k in keys}), first_day=min(k.period_start for k in keys),
        last_day=max(k.period_end for k in keys), skipped_sheets=parsed.skipped_sheets,
    )


def find_conflicts(parsed: ParsedFile, *, session: Session) -> list[Problem]:
    """Counts of `parsed` already stored from another file: each is stored once, never twice."""
    keys = parsed.counts.keys()
    if not keys:
        return []
    stored = session.execute(
        select(ReportCount, ReportDataset.file_name, ReportDataset.imported_at)
        .join(ReportDataset, ReportCount.dataset_id == ReportDataset.id)
        .where(ReportCount.area.in_({k.area for k in keys}),
               ReportCount.source.in_({k.source for k in keys}),
               ReportCount.period_start.between(min(k.period_start for k in keys),
                                                max(k.period_start for k in keys))))
    problems = []
    for count, file_name, imported_at in stored:
        key = CountKey(count.period_start, count.period_end, count.area, count.strand,
                       count.source, count.measure)
        tally = parsed.counts.get(key)
        if tally is None:
            continue
        place = tally.places[0]
        figure = ("the same figure" if tally.count == count.count
                  else f"{count.count}, not {tally.count}")
        problems.append(Problem(
            parsed.name, f"{_describe(key)} is already stored from {file_name} (imported "
            f"{imported_at:%Y-%m-%d}) as {figure}; a stored count is never overwritten: "
            "remove it from this file", place.sheet, place.row, tally.column))
    return sorted(problems, key=lambda p: (p.sheet or "", p.row))


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        message = "file not found"
    except IsADirectoryError:
        message = "is a folder, not a file"
    except OSError as exc:
        message = f"cannot be read ({exc.strerror})"
    raise ReportsInvalid([Problem(name, message)])


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _already_imported(dataset: ReportDataset, name: str, *, session: Session) -> ImportResult:
    first, last = session.execute(
        select(func.min(ReportCount.period_start), func.max(ReportCount.period_end))
        .where(ReportCount.dataset_id == dataset.id)).one()
    stored = session.scalars(select(ReportCount.area).where(
        ReportCount.dataset_id == dataset.id).distinct().order_by(ReportCount.area))
    return ImportResult(name, dataset.id, dataset.source, dataset.layout, dataset.synthetic,
                        counts=dataset.rows, areas=list(stored), first_day=first, last_day=last,
                        already_imported=True)


# ---- summary (SQLAlchemy) ----------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetInfo:
    id: int
    file: str
    source: str
    layout: str
    counts: int
    synthetic: bool
    citation: str
    imported_at: datetime
    imported_by: str

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "file": self.file, "source": self.source, "layout": self.layout,
                "counts": self.counts, "synthetic": self.synthetic, "citation": self.citation,
                "imported_at": self.imported_at.isoformat(), "imported_by": self.imported_by}


@dataclass(frozen=True)
class Total:
    """Counts of one source, area, year, strand and measure added up over their periods.

    `year` is the calendar year a period starts in (a financial year 2018/19 counts as 2018).
    Strands are never added into offences: each strand and measure is its own total.
    """

    source: str
    area: str
    year: int
    strand: str
    measure: str
    count: int
    periods: int
    first_day: date
    last_day: date
    synthetic: bool

    def to_json(self) -> dict[str, object]:
        return {"source": self.source, "area": self.area, "year": self.year,
                "strand": self.strand, "measure": self.measure, "count": self.count,
                "periods": self.periods, "first_day": self.first_day.isoformat(),
                "last_day": self.last_day.isoformat(), "synthetic": self.synthetic}


@dataclass(frozen=True)
class Summary:
    datasets: list[DatasetInfo]
    totals: list[Total]

    def to_json(self) -> dict[str, object]:
        return {"datasets": [d.to_json() for d in self.datasets],
                "totals": [t.to_json() for t in self.totals]}


def summarise(*, session: Session) -> Summary:
    """What is stored: each dataset, and totals by source, area, year, strand and measure."""
    datasets = [
        DatasetInfo(d.id, d.file_name, d.source, d.layout, d.rows, d.synthetic, d.citation,
                    d.imported_at, d.imported_by)
        for d in session.scalars(select(ReportDataset).order_by(ReportDataset.id))]
    year = func.extract("year", ReportCount.period_start)
    rows = session.execute(
        select(ReportCount.source, ReportCount.area, year, ReportCount.strand,
               ReportCount.measure, func.sum(ReportCount.count), func.count(),
               func.min(ReportCount.period_start), func.max(ReportCount.period_end),
               ReportDataset.synthetic)
        .join(ReportDataset, ReportCount.dataset_id == ReportDataset.id)
        .group_by(ReportCount.source, ReportCount.area, year, ReportCount.strand,
                  ReportCount.measure, ReportDataset.synthetic))
    totals = [Total(source, area, int(y), strand, measure, int(total), int(periods), _day(first),
                    _day(last), bool(synthetic))
              for source, area, y, strand, measure, total, periods, first, last, synthetic
              in rows]
    order = {s: i for i, s in enumerate((ALL, *STRANDS))}
    totals.sort(key=lambda t: (t.source, t.area, t.year, t.measure != OFFENCES,
                               order.get(t.strand, len(order)), t.strand, t.synthetic))
    return Summary(datasets, totals)


def _day(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
