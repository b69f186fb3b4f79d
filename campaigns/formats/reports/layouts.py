"""The three layouts a reporting file may take, their columns, and finding the header."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from campaigns.formats.reports.values import MOTIVATING_FACTORS, OFFENCES, Cell, normalise
from campaigns.formats.suggest import suggest

LONG = "long"


HOME_OFFICE = "home-office-long"


WIDE = "wide-strands"


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


WIDE_COUNTS = tuple(c.key for c in LAYOUT_COLUMNS[WIDE][3:])


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
                             + suggest(column.aliases[0], positions)))
    if layout == LONG:
        known = {a for c in LAYOUT_COLUMNS[LONG] for a in c.aliases}
        for name, position in positions.items():
            if name not in known:
                hint = (": mark a synthetic file with a first line '# synthetic' instead"
                        if name == "synthetic" else suggest(name, known))
                problems.append((str(cells[position]).strip(), "unknown column" + hint))
    if layout == WIDE and not set(index) & set(WIDE_COUNTS):
        problems.append(("", "no count columns: expected Race, Religion, Sexual orientation, "
                             "Disability, Transgender or the totals"))
    return Header(layout, row, index, headings), problems
