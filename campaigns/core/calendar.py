"""The awareness calendar: events defined by date rules, with per-year published overrides.

An event is written in content/events.yaml as a mapping. Its ``rule`` says when the event
usually falls; ``overrides`` record the dates an organiser actually published for a year, with
where they were published, and win over the rule. Rules read like the sentence a
communications officer would say:

    rule: {date: 27 January}                                  # a fixed day
    rule: {date: 13 November, days: 7}                        # a fixed day and a length
    rule: {nth: second, weekday: Saturday, month: October}    # first..fourth or last
    rule: {week_containing: 20 June}                          # Monday to Sunday
    rule: {month: February}                                   # the whole month
    rule: {next: Monday, after: {date: 9 November}}           # the first Monday after a date
    rule:                                                     # from one rule to another
      from: {nth: second, weekday: Sunday, month: November}
      to: {next: Sunday}                                      # ...or {days: 8}, or any rule

Inside ``to``, ``next`` without ``after`` counts from the end of ``from``. A ``to`` that would
fall before the start is taken in the following year, so a range can cross New Year.

Everything here is a pure function of its arguments; reading files is the caller's job.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta

from campaigns.core import clock

#: The hate-crime strands an event can speak to.
STRANDS = ("race", "religion", "sexual-orientation", "disability", "transgender")

#: The source of an occurrence worked out from its rule rather than published dates.
RULE_SOURCE = "rule"

PathKey = tuple[str | int, ...]

_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RELATIVE_WEEKDAYS = (MO, TU, WE, TH, FR, SA, SU)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
_KEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_DAY_MONTH = re.compile(r"(\d{1,2})\s+([A-Za-z]+)")
_MONTH_DAY = re.compile(r"([A-Za-z]+)\s+(\d{1,2})")
_EVENT_FIELDS = ("key", "name", "description", "url", "strands", "rule", "overrides")
_OVERRIDE_FIELDS = ("start", "end", "source")
# Weekdays and leap years repeat every 28 years between 1901 and 2099, so checking a rule
# over one such cycle checks it for every year anyone will plan.
_CHECK_YEARS = range(2000, 2028)


class RuleError(ValueError):
    """A problem in an event definition, at `path` (keys and indices into the event mapping)."""

    def __init__(self, message: str, path: Sequence[str | int] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path: PathKey = tuple(path)

    def __str__(self) -> str:
        return self.message


class Rule(Protocol):
    def span(self, year: int) -> tuple[date, date]:
        """First and last day (inclusive) of the occurrence anchored in `year`."""
        ...


@dataclass(frozen=True)
class FixedDate:
    month: int
    day: int
    days: int = 1

    def span(self, year: int) -> tuple[date, date]:
        start = date(year, self.month, self.day)
        return start, start + timedelta(days=self.days - 1)


@dataclass(frozen=True)
class NthWeekday:
    nth: int  # 1 to 4, or -1 for the last
    weekday: int  # Monday is 0
    month: int

    def span(self, year: int) -> tuple[date, date]:
        first = date(year, self.month, 1)
        if self.nth < 0:
            found = first + relativedelta(day=31, weekday=_RELATIVE_WEEKDAYS[self.weekday](-1))
        else:
            found = first + relativedelta(weekday=_RELATIVE_WEEKDAYS[self.weekday](self.nth))
        return found, found


@dataclass(frozen=True)
class WeekContaining:
    month: int
    day: int

    def span(self, year: int) -> tuple[date, date]:
        anchor = date(year, self.month, self.day)
        monday = anchor - timedelta(days=anchor.weekday())
        return monday, monday + timedelta(days=6)


@dataclass(frozen=True)
class WholeMonth:
    month: int

    def span(self, year: int) -> tuple[date, date]:
        first = date(year, self.month, 1)
        return first, first + relativedelta(day=31)


@dataclass(frozen=True)
class NextWeekday:
    weekday: int
    after: Rule

    def span(self, year: int) -> tuple[date, date]:
        _, last = self.after.span(year)
        found = last + relativedelta(days=1, weekday=_RELATIVE_WEEKDAYS[self.weekday](1))
        return found, found


@dataclass(frozen=True)
class Range:
    start: Rule
    end: Rule | None = None
    days: int | None = None

    def span(self, year: int) -> tuple[date, date]:
        first, _ = self.start.span(year)
        if self.days is not None:
            return first, first + timedelta(days=self.days - 1)
        assert self.end is not None, "a range has either an end rule or a number of days"
        _, last = self.end.span(year)
        if last < first:
            _, last = self.end.span(year + 1)
        return first, last


@dataclass(frozen=True)
class Override:
    year: int
    start: date
    end: date
    source: str


@dataclass(frozen=True)
class EventDef:
    key: str
    name: str
    description: str
    url: str | None
    strands: tuple[str, ...]
    rule: Rule
    overrides: tuple[Override, ...] = ()

    def override_for(self, year: int) -> Override | None:
        return next((o for o in self.overrides if o.year == year), None)


@dataclass(frozen=True)
class Occurrence:
    key: str
    name: str
    start: date
    end: date  # inclusive
    source: str  # RULE_SOURCE, or where the published dates come from
    description: str = field(default="", compare=False)
    url: str | None = field(default=None, compare=False)

    @property
    def from_rule(self) -> bool:
        return self.source == RULE_SOURCE


# ---- parsing ---------------------------------------------------------------------------------


def parse_event(data: Mapping[str, Any]) -> EventDef:
    """Validate one event mapping; raise RuleError with the path of the first problem."""
    if not isinstance(data, Mapping):
        raise RuleError("an event is a mapping with key, name and rule")
    _reject_unknown(data, _EVENT_FIELDS, (), "an event")
    key = _parse_key(_required(data, "key", ()))
    name = _text(_required(data, "name", ()), ("name",))
    description = _optional_text(data, "description")
    url = _parse_url(data.get("url"))
    strands = _parse_strands(data.get("strands"))
    rule = _parse_rule(_required(data, "rule", ()), ("rule",))
    _check_rule_years(rule)
    overrides = _parse_overrides(data.get("overrides"))
    return EventDef(key, name, description, url, strands, rule, overrides)


def _required(data: Mapping[str, Any], name: str, path: PathKey) -> Any:
    if data.get(name) is None:
        raise RuleError(f"'{name}' is missing", (*path, name))
    return data[name]


def _reject_unknown(
    data: Mapping[Any, Any], allowed: Sequence[str], path: PathKey, what: str
) -> None:
    for name in data:
        if name not in allowed:
            expected = ", ".join(allowed)
            raise RuleError(f"{what} has no field {name!r}; expected {expected}", (*path, name))


def _text(value: Any, path: PathKey) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RuleError("expected some text", path)
    return value.strip()


def _optional_text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    return "" if value is None else _text(value, (name,))


def _parse_key(value: Any) -> str:
    if not isinstance(value, str) or not _KEY.fullmatch(value):
        raise RuleError(
            "keys use lower-case letters, digits and hyphens, e.g. 'refugee-week'", ("key",)
        )
    return value


def _parse_url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise RuleError("expected a web address starting https://", ("url",))
    return value


def _parse_strands(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RuleError(f"expected a list drawn from {', '.join(STRANDS)}", ("strands",))
    for index, strand in enumerate(value):
        if strand not in STRANDS:
            raise RuleError(f"{strand!r} is not one of {', '.join(STRANDS)}", ("strands", index))
        if strand in value[:index]:
            raise RuleError(f"{strand!r} is listed twice", ("strands", index))
    return tuple(value)


# ---- rules -----------------------------------------------------------------------------------

_RULE_SHAPES = (
    "a rule is one of: {date: 27 January}, {nth: second, weekday: Saturday, month: October}, "
    "{week_containing: 20 June}, {month: February}, {next: Monday, after: <rule>} "
    "or {from: <rule>, to: <rule>} / {from: <rule>, days: 7}"
)


def _parse_rule(data: Any, path: PathKey, *, relative_to: Rule | None = None) -> Rule:
    if not isinstance(data, Mapping):
        raise RuleError(_RULE_SHAPES, path)
    if "from" in data:
        return _parse_range(data, path)
    if "next" in data:
        return _parse_next(data, path, relative_to)
    if "week_containing" in data:
        _reject_unknown(data, ("week_containing",), path, "a week_containing rule")
        return WeekContaining(*_day_and_month(data["week_containing"], (*path, "week_containing")))
    if "date" in data:
        _reject_unknown(data, ("date", "days"), path, "a date rule")
        month, day = _day_and_month(data["date"], (*path, "date"))
        return FixedDate(month, day, _days(data.get("days", 1), (*path, "days")))
    if "weekday" in data or "nth" in data:
        _reject_unknown(data, ("nth", "weekday", "month"), path, "an nth-weekday rule")
        return NthWeekday(
            _nth(_required(data, "nth", path), (*path, "nth")),
            _weekday(_required(data, "weekday", path), (*path, "weekday")),
            _month(_required(data, "month", path), (*path, "month")),
        )
    if "month" in data:
        _reject_unknown(data, ("month",), path, "a whole-month rule")
        return WholeMonth(_month(data["month"], (*path, "month")))
    raise RuleError(_RULE_SHAPES, path)


def _parse_range(data: Mapping[str, Any], path: PathKey) -> Range:
    _reject_unknown(data, ("from", "to", "days"), path, "a from rule")
    start = _parse_rule(data["from"], (*path, "from"))
    if "to" in data and "days" in data:
        raise RuleError("give either 'to' or 'days', not both", (*path, "days"))
    if "days" in data:
        return Range(start, days=_days(data["days"], (*path, "days")))
    if "to" not in data:
        raise RuleError("a from rule needs 'to' (a rule) or 'days' (a number)", path)
    return Range(start, end=_parse_rule(data["to"], (*path, "to"), relative_to=start))


def _parse_next(data: Mapping[str, Any], path: PathKey, relative_to: Rule | None) -> NextWeekday:
    _reject_unknown(data, ("next", "after"), path, "a next rule")
    weekday = _weekday(data["next"], (*path, "next"))
    if "after" in data:
        return NextWeekday(weekday, _parse_rule(data["after"], (*path, "after")))
    if relative_to is None:
        raise RuleError("'after' is missing: next Monday after what?", (*path, "after"))
    return NextWeekday(weekday, relative_to)


def _name_index(value: Any, names: Sequence[str], path: PathKey, what: str) -> int:
    if isinstance(value, str):
        word = value.strip().lower()
        for index, name in enumerate(names):
            if word in (name, name[:3]):
                return index
    raise RuleError(f"{value!r} is not {what}; expected e.g. {names[0].title()}", path)


def _month(value: Any, path: PathKey) -> int:
    return _name_index(value, _MONTHS, path, "a month") + 1


def _weekday(value: Any, path: PathKey) -> int:
    return _name_index(value, _WEEKDAYS, path, "a day of the week")


def _nth(value: Any, path: PathKey) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4:
        return value
    if isinstance(value, str) and value.strip().lower() in _ORDINALS:
        return _ORDINALS[value.strip().lower()]
    raise RuleError(f"{value!r} is not one of first, second, third, fourth or last", path)


def _days(value: Any, path: PathKey) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 366:
        return value
    raise RuleError(f"expected a number of days from 1 to 366, not {value!r}", path)


def _day_and_month(value: Any, path: PathKey) -> tuple[int, int]:
    """(month, day) from '27 January' or 'January 27'."""
    text = value.strip() if isinstance(value, str) else ""
    day_first, month_first = _DAY_MONTH.fullmatch(text), _MONTH_DAY.fullmatch(text)
    if day_first:
        day_text, month_text = day_first.groups()
    elif month_first:
        month_text, day_text = month_first.groups()
    else:
        raise RuleError(
            f"expected a day and month without a year, like '27 January', not {value!r}", path
        )
    month, day = _month(month_text, path), int(day_text)
    if (month, day) == (2, 29):
        raise RuleError("29 February is not in every year; use 28 February or 1 March", path)
    last = (date(2001, month, 1) + relativedelta(day=31)).day
    if not 1 <= day <= last:
        raise RuleError(f"{_MONTHS[month - 1].title()} has no day {day}", path)
    return month, day


def _check_rule_years(rule: Rule) -> None:
    """Each year must have exactly one occurrence, starting in that year."""
    for year in _CHECK_YEARS:
        start, _ = rule.span(year)
        if start.year != year:
            raise RuleError(
                f"in {year} this rule starts on {start.isoformat()}, outside the year; "
                "anchor it on a date that keeps the start within the year",
                ("rule",),
            )


# ---- overrides -------------------------------------------------------------------------------


def _parse_overrides(value: Any) -> tuple[Override, ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise RuleError("expected years, each with start, end and source", ("overrides",))
    parsed = [_parse_override(key, item, ("overrides", key)) for key, item in value.items()]
    years = [o.year for o in parsed]
    for key, override in zip(value, parsed, strict=True):
        if years.count(override.year) > 1:
            raise RuleError(f"{override.year} is listed twice", ("overrides", key))
    return tuple(sorted(parsed, key=lambda o: o.year))


def _parse_override(key: Any, data: Any, path: PathKey) -> Override:
    year = _year(key, path)
    if not isinstance(data, Mapping):
        raise RuleError("expected start, end and source", path)
    _reject_unknown(data, _OVERRIDE_FIELDS, path, "an override")
    start = _iso_date(_required(data, "start", path), (*path, "start"))
    end = _iso_date(_required(data, "end", path), (*path, "end"))
    source = _text(_required(data, "source", path), (*path, "source"))
    if start.year != year:
        raise RuleError(f"the {year} dates must start in {year}", (*path, "start"))
    if end < start:
        raise RuleError(f"ends on {end.isoformat()}, before it starts", (*path, "end"))
    if source == RULE_SOURCE:
        raise RuleError(
            "say where the published dates come from (a web address or publication)",
            (*path, "source"),
        )
    return Override(year, start, end, source)


def _year(value: Any, path: PathKey) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1900 <= value <= 2200:
        return value
    raise RuleError(f"{value!r} is not a year", path)


def _iso_date(value: Any, path: PathKey) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise RuleError(f"expected a date like 2025-06-16, not {value!r}", path)


# ---- occurrences -----------------------------------------------------------------------------


def occurrence(event: EventDef, year: int) -> Occurrence:
    """The occurrence of `event` that starts in `year`; published dates win over the rule."""
    published = event.override_for(year)
    if published is not None:
        start, end, source = published.start, published.end, published.source
    else:
        (start, end), source = event.rule.span(year), RULE_SOURCE
    return Occurrence(event.key, event.name, start, end, source, event.description, event.url)


def occurrences(events: Iterable[EventDef], year: int) -> list[Occurrence]:
    """Every event's occurrence starting in `year`, by start date then key."""
    return sorted((occurrence(e, year) for e in events), key=lambda o: (o.start, o.key))


# ---- output ----------------------------------------------------------------------------------


def to_json(occs: Iterable[Occurrence]) -> str:
    """A JSON list of {key, name, start, end, source}; dates are ISO and `end` is inclusive."""
    rows = [
        {
            "key": o.key,
            "name": o.name,
            "start": o.start.isoformat(),
            "end": o.end.isoformat(),
            "source": o.source,
        }
        for o in occs
    ]
    return json.dumps(rows, indent=2, ensure_ascii=False)


def to_table(occs: Iterable[Occurrence]) -> str:
    """An aligned plain-text table for a terminal."""
    header = ("Start", "End", "Key", "Event", "Dates from")
    rows = [header] + [
        (o.start.isoformat(), o.end.isoformat(), o.key, o.name, o.source) for o in occs
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]
    return "\n".join(lines)


def to_ics(
    occs: Iterable[Occurrence], *, calendar_name: str, stamp: datetime | None = None
) -> bytes:
    """An iCalendar file of all-day events, for Outlook, Google Calendar and the like.

    `stamp` (aware) becomes every event's DTSTAMP; it defaults to now.
    """
    stamp = clock.utcnow() if stamp is None else stamp
    if stamp.tzinfo is None:
        raise ValueError("stamp must be timezone-aware")
    from icalendar import Calendar, Event  # only here: the dashboard need not load it

    cal = Calendar()
    cal.add("prodid", "-//Chorus//Awareness calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", calendar_name)
    seen: set[str] = set()
    for occ in occs:
        uid = f"{occ.key}-{occ.start.year}@chorus"
        if uid in seen:
            raise ValueError(f"{occ.key} appears twice for {occ.start.year}")
        seen.add(uid)
        event = Event()
        event.add("uid", uid)
        event.add("dtstamp", stamp.astimezone(UTC))
        event.add("dtstart", occ.start)
        event.add("dtend", occ.end + timedelta(days=1))  # RFC 5545: DTEND is exclusive
        event.add("summary", occ.name)
        event.add("description", _ics_description(occ))
        if occ.url:
            event.add("url", occ.url)
        event.add("transp", "TRANSPARENT")  # an awareness week should not block diaries
        cal.add_component(event)
    return cal.to_ical()


def _ics_description(occ: Occurrence) -> str:
    dates = (
        "Dates follow the usual pattern; check the organiser's site before publishing."
        if occ.from_rule
        else f"Dates as published: {occ.source}"
    )
    return f"{occ.description}\n\n{dates}" if occ.description else dates
