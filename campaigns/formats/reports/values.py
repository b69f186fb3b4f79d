"""Reporting files' cells: what a strand, measure, source, area, count, date, financial year
or quarter may be written as, each checked with a message that says what to write instead;
the problems a file can have."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TypeVar

from campaigns.formats.suggest import suggest

STRANDS = ("race", "religion", "sexual-orientation", "disability", "transgender")


ALL = "all"


OFFENCES = "offences"


MOTIVATING_FACTORS = "motivating-factors"


MEASURES = (OFFENCES, MOTIVATING_FACTORS)


POLICE_RECORDED = "police-recorded"


MAX_COUNT = 2**31 - 1


#: The first year reporting figures may cover: hate crime has been recorded by police forces in
#: England and Wales since the 1990s (and by motivating factor since 2011/12).
FIRST_YEAR = 1990


#: The last year accepted when today's date is not given; when it is, next year is the last.
LAST_YEAR = 2100


MAX_SHOWN_LENGTH = {"area": 100, "source": 100, "file": 300}


#: Government statistical shorthand for a value that is not available (GSS guidance).
NOT_AVAILABLE = frozenset({"..", "[x]", "[z]", "[c]", "[u]", "[w]"})


Cell = str | int | float | bool | date | None


T = TypeVar("T")


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
        raise CellError(f"unknown strand {text!r}{suggest(normalise(text), _STRAND_NAMES)}: "
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
    """A day: a spreadsheet date, 2023-01-02, or 02/01/2023 (day first, as in the UK).

    A spreadsheet date-time with a time of day is refused rather than cut to its day: a period
    runs from one whole day to another, so a time is probably a mistake in the cell.
    """
    if isinstance(value, datetime):
        if value.time() != time(0):
            raise CellError(f"{value:%Y-%m-%d %H:%M:%S} has a time of day: write the day alone "
                            f"({value:%Y-%m-%d})")
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


