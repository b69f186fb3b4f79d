"""Parsing a whole file's sheets into counts, row by row, with every problem found in one pass."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from campaigns.formats.reports.grid import MAX_AREAS
from campaigns.formats.reports.layouts import (
    EXPECTED,
    HOME_OFFICE,
    LONG,
    WIDE,
    WIDE_COUNTS,
    Header,
    Sheet,
    detect_layout,
    match_header,
)
from campaigns.formats.reports.values import (
    ALL,
    FIRST_YEAR,
    LAST_YEAR,
    MAX_COUNT,
    MEASURES,
    MOTIVATING_FACTORS,
    OFFENCES,
    POLICE_RECORDED,
    Cell,
    CellError,
    Problem,
    T,
    check_wide_row,
    financial_year_period,
    normalise,
    parse_area,
    parse_count,
    parse_date,
    parse_financial_year,
    parse_measure,
    parse_published_count,
    parse_quarter,
    parse_source,
    parse_strand,
    quarter_period,
)

#: Rows searched for the header, below titles and comment lines.
HEADER_SCAN = 30


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
    #: The last year a period may start in.
    last_year: int = LAST_YEAR

    def report(self, message: str, sheet: str | None = None, row: int = 0,
               column: str = "") -> None:
        self.problems.append(Problem(self.name, message, sheet, row, column))


def parse_sheets(
    sheets: Sequence[Sheet], *, name: str, source: str | None = None, today: date | None = None
) -> ParsedFile:
    """Every count in the sheets, or every problem with its sheet, row and column.

    Periods may start from FIRST_YEAR to the year after `today` (to LAST_YEAR without it).
    """
    parsed = ParsedFile(name, last_year=today.year + 1 if today else LAST_YEAR)
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
    areas = len({key.area for key in parsed.counts})
    if areas > MAX_AREAS:
        parsed.report(f"{areas:,} different areas, more than the {MAX_AREAS:,} Chorus takes from "
                      "one file: is the area column the right one? If so, split the file")
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

    def plausible(self, key: str, year: int, shown: str) -> bool:
        """Whether a period starting in `year` can be one of reported figures; if not, say so."""
        if FIRST_YEAR <= year <= self.parsed.last_year:
            return True
        self.report(key, f"{shown} is outside the years reporting figures can cover "
                         f"({FIRST_YEAR} to {self.parsed.last_year}): check the year")
        return False

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
                                f"source and measure ({describe_key(key)}); keep one of them")


def describe_key(key: CountKey) -> str:
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
    if start and not row.plausible("period_start", start.year, start.isoformat()):
        start = None
    if end and not row.plausible("period_end", end.year, end.isoformat()):
        end = None
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
    if year is None or not row.plausible("year", year, str(row.cell("year"))):
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
    values = {k: row.get(k, parse_published_count) for k in WIDE_COUNTS if row.has(k)}
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
