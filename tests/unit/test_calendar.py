"""The awareness calendar: rules, overrides, the shipped events and the three output formats."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from icalendar import Calendar

from campaigns.core import calendar
from campaigns.core.calendar import EventDef, Occurrence, RuleError

EVENTS_FILE = Path(__file__).resolve().parents[2] / "content" / "events.yaml"
STAMP = datetime(2025, 1, 6, 9, 30, tzinfo=UTC)


def d(text: str) -> date:
    return date.fromisoformat(text)


def event(rule: Any, **fields: Any) -> EventDef:
    return calendar.parse_event({"key": "test-event", "name": "Test event", "rule": rule, **fields})


def span(rule: Any, year: int) -> tuple[date, date]:
    found = calendar.occurrence(event(rule), year)
    return found.start, found.end


@pytest.fixture(scope="module")
def shipped() -> dict[str, EventDef]:
    data = yaml.safe_load(EVENTS_FILE.read_text(encoding="utf-8"))
    events = [calendar.parse_event(item) for item in data["events"]]
    return {e.key: e for e in events}


# ---- the shipped calendar --------------------------------------------------------------------

# From the research notes beside each event in content/events.yaml: published dates where
# they were found, otherwise the organiser's own rule.
EVERY_YEAR = {
    "holocaust-memorial-day": ("01-27", "01-27"),
    "elimination-of-racial-discrimination-day": ("03-21", "03-21"),
    "trans-day-of-visibility": ("03-31", "03-31"),
    "idahobit": ("05-17", "05-17"),
    "pride-month": ("06-01", "06-30"),
    "grt-history-month": ("06-01", "06-30"),
    "windrush-day": ("06-22", "06-22"),
    "srebrenica-memorial-week": ("07-04", "07-11"),
    "south-asian-heritage-month": ("07-18", "08-17"),
    "bi-visibility-day": ("09-23", "09-23"),
    "black-history-month": ("10-01", "10-31"),
    "islamophobia-awareness-month": ("11-01", "11-30"),
    "trans-awareness-week": ("11-13", "11-19"),
    "trans-day-of-remembrance": ("11-20", "11-20"),
    "international-day-of-persons-with-disabilities": ("12-03", "12-03"),
}
VARYING = {
    "lgbt-history-month": {
        2023: ("2023-02-01", "2023-02-28"), 2024: ("2024-02-01", "2024-02-29"),
        2025: ("2025-02-01", "2025-02-28"), 2026: ("2026-02-01", "2026-02-28"),
    },
    "learning-disability-week": {
        2023: ("2023-06-19", "2023-06-25"), 2024: ("2024-06-17", "2024-06-23"),
        2025: ("2025-06-16", "2025-06-22"), 2026: ("2026-06-15", "2026-06-21"),
    },
    "refugee-week": {
        2023: ("2023-06-19", "2023-06-25"), 2024: ("2024-06-17", "2024-06-23"),
        2025: ("2025-06-16", "2025-06-22"), 2026: ("2026-06-15", "2026-06-21"),
    },
    "national-hate-crime-awareness-week": {
        2023: ("2023-10-14", "2023-10-21"), 2024: ("2024-10-12", "2024-10-19"),
        2025: ("2025-10-11", "2025-10-18"), 2026: ("2026-10-10", "2026-10-17"),
    },
    "interfaith-week": {
        2023: ("2023-11-12", "2023-11-19"), 2024: ("2024-11-10", "2024-11-17"),
        2025: ("2025-11-09", "2025-11-16"), 2026: ("2026-11-08", "2026-11-15"),
    },
    "anti-bullying-week": {
        2023: ("2023-11-13", "2023-11-17"), 2024: ("2024-11-11", "2024-11-15"),
        2025: ("2025-11-10", "2025-11-14"), 2026: ("2026-11-09", "2026-11-13"),
    },
    "uk-disability-history-month": {
        2023: ("2023-11-16", "2023-12-16"), 2024: ("2024-11-14", "2024-12-20"),
        2025: ("2025-11-20", "2025-12-20"), 2026: ("2026-11-19", "2026-12-20"),
    },
}  # fmt: skip
YEARS = (2023, 2024, 2025, 2026)
SHIPPED_TABLE = [
    (key, year, (f"{year}-{start}", f"{year}-{end}"))
    for key, (start, end) in EVERY_YEAR.items()
    for year in YEARS
] + [(key, year, dates) for key, by_year in VARYING.items() for year, dates in by_year.items()]


def test_every_required_event_is_shipped(shipped: dict[str, EventDef]) -> None:
    assert set(shipped) == set(EVERY_YEAR) | set(VARYING)


@pytest.mark.parametrize(("key", "year", "expected"), SHIPPED_TABLE)
def test_shipped_event_falls_on_researched_dates(
    shipped: dict[str, EventDef], key: str, year: int, expected: tuple[str, str]
) -> None:
    found = calendar.occurrence(shipped[key], year)
    assert (found.start, found.end) == (d(expected[0]), d(expected[1]))


def test_shipped_events_are_described_and_linked(shipped: dict[str, EventDef]) -> None:
    for e in shipped.values():
        assert e.description.endswith("."), e.key
        assert e.url and e.url.startswith("https://"), e.key
        assert set(e.strands) <= set(calendar.STRANDS), e.key


def test_shipped_keys_are_unique() -> None:
    data = yaml.safe_load(EVENTS_FILE.read_text(encoding="utf-8"))
    keys = [item["key"] for item in data["events"]]
    assert len(keys) == len(set(keys))


def test_published_dates_carry_their_source(shipped: dict[str, EventDef]) -> None:
    found = calendar.occurrence(shipped["uk-disability-history-month"], 2024)
    assert "ukdhm.org" in found.source
    assert calendar.occurrence(shipped["refugee-week"], 2024).source == "rule"


def test_definition_stored_as_json_parses_to_the_same_dates() -> None:
    """The loader keeps definitions in a JSON column: year keys and dates become strings."""
    data = yaml.safe_load(EVENTS_FILE.read_text(encoding="utf-8"))
    for item in data["events"]:
        stored = json.loads(json.dumps(item, default=str))
        for year in YEARS:
            assert calendar.occurrence(calendar.parse_event(stored), year) == (
                calendar.occurrence(calendar.parse_event(item), year)
            )


# ---- each rule kind --------------------------------------------------------------------------

NOV_REMEMBRANCE_SUNDAY = {"nth": "second", "weekday": "Sunday", "month": "November"}
RULE_TABLE = [
    # fixed date, one day or several
    ({"date": "27 January"}, 2024, "2024-01-27", "2024-01-27"),
    ({"date": "January 27"}, 2024, "2024-01-27", "2024-01-27"),
    ({"date": "13 November", "days": 7}, 2025, "2025-11-13", "2025-11-19"),
    ({"date": "28 February", "days": 2}, 2024, "2024-02-28", "2024-02-29"),
    ({"date": "28 February", "days": 2}, 2025, "2025-02-28", "2025-03-01"),
    # nth weekday of a month, including the last and a month that starts on that weekday
    ({"nth": "second", "weekday": "Saturday", "month": "October"}, 2024, "2024-10-12",
     "2024-10-12"),
    ({"nth": "first", "weekday": "Monday", "month": "April"}, 2024, "2024-04-01", "2024-04-01"),
    ({"nth": "last", "weekday": "Monday", "month": "May"}, 2024, "2024-05-27", "2024-05-27"),
    ({"nth": "last", "weekday": "Friday", "month": "May"}, 2024, "2024-05-31", "2024-05-31"),
    ({"nth": 3, "weekday": "thu", "month": "nov"}, 2025, "2025-11-20", "2025-11-20"),
    # the Monday-to-Sunday week containing a date, whatever day the date falls on
    ({"week_containing": "20 June"}, 2022, "2022-06-20", "2022-06-26"),  # a Monday
    ({"week_containing": "20 June"}, 2024, "2024-06-17", "2024-06-23"),  # a Thursday
    ({"week_containing": "20 June"}, 2021, "2021-06-14", "2021-06-20"),  # a Sunday
    # a whole month
    ({"month": "February"}, 2024, "2024-02-01", "2024-02-29"),
    ({"month": "February"}, 2023, "2023-02-01", "2023-02-28"),
    ({"month": "December"}, 2025, "2025-12-01", "2025-12-31"),
    # the first weekday after another rule
    ({"next": "Monday", "after": NOV_REMEMBRANCE_SUNDAY}, 2021, "2021-11-15", "2021-11-15"),
    ({"next": "Sunday", "after": {"date": "7 July"}}, 2024, "2024-07-14", "2024-07-14"),
    # ranges: rule to rule, rule to the following weekday, rule for N days
    ({"from": {"nth": "second", "weekday": "Saturday", "month": "October"},
      "to": {"nth": "third", "weekday": "Saturday", "month": "October"}},
     2025, "2025-10-11", "2025-10-18"),
    ({"from": NOV_REMEMBRANCE_SUNDAY, "to": {"next": "Sunday"}}, 2024, "2024-11-10",
     "2024-11-17"),
    ({"from": NOV_REMEMBRANCE_SUNDAY, "days": 8}, 2024, "2024-11-10", "2024-11-17"),
    ({"from": {"month": "October"}, "to": {"month": "November"}}, 2025, "2025-10-01",
     "2025-11-30"),
    ({"from": {"week_containing": "20 June"}, "to": {"next": "Friday"}}, 2024, "2024-06-17",
     "2024-06-28"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "year", "start", "end"), RULE_TABLE)
def test_rule_gives_its_dates(rule: dict[str, Any], year: int, start: str, end: str) -> None:
    assert span(rule, year) == (d(start), d(end))


@pytest.mark.parametrize(
    ("rule", "year", "start", "end"),
    [
        (
            {"from": {"date": "20 December"}, "to": {"date": "6 January"}},
            2024,
            "2024-12-20",
            "2025-01-06",
        ),
        ({"date": "28 December", "days": 10}, 2025, "2025-12-28", "2026-01-06"),
        ({"week_containing": "31 December"}, 2025, "2025-12-29", "2026-01-04"),
        (
            {"from": {"date": "31 December"}, "to": {"next": "Sunday"}},
            2026,
            "2026-12-31",
            "2027-01-03",
        ),
    ],
)
def test_range_crossing_new_year_ends_in_the_next_year(
    rule: dict[str, Any], year: int, start: str, end: str
) -> None:
    assert span(rule, year) == (d(start), d(end))


# ---- overrides -------------------------------------------------------------------------------


def test_published_dates_beat_the_rule_for_their_year_only() -> None:
    overridden = event(
        {"week_containing": "20 June"},
        overrides={
            2024: {
                "start": date(2024, 6, 10),
                "end": "2024-06-16",
                "source": "https://example.org/2024-dates",
            }
        },
    )
    published = calendar.occurrence(overridden, 2024)
    assert (published.start, published.end) == (d("2024-06-10"), d("2024-06-16"))
    assert published.source == "https://example.org/2024-dates"
    following = calendar.occurrence(overridden, 2025)
    assert (following.start, following.end, following.source) == (
        d("2025-06-16"),
        d("2025-06-22"),
        "rule",
    )


def test_override_may_cross_new_year() -> None:
    overridden = event(
        {"date": "20 December"},
        overrides={"2025": {"start": "2025-12-29", "end": "2026-01-04", "source": "Bulletin 7"}},
    )
    found = calendar.occurrence(overridden, 2025)
    assert (found.start, found.end) == (d("2025-12-29"), d("2026-01-04"))


# ---- errors ----------------------------------------------------------------------------------

GOOD = {"key": "refugee-week", "name": "Refugee Week", "rule": {"week_containing": "20 June"}}
SOURCE = "https://example.org"
ERROR_TABLE = [
    ({"rule": None}, ("rule",), "missing"),
    ({"key": None}, ("key",), "missing"),
    ({"name": None}, ("name",), "missing"),
    ({"key": "Refugee Week"}, ("key",), "lower-case"),
    ({"overides": {}}, ("overides",), "no field 'overides'"),
    ({"url": "www.example.org"}, ("url",), "https://"),
    ({"strands": ["race", "religon"]}, ("strands", 1), "'religon' is not one of"),
    ({"strands": ["race", "race"]}, ("strands", 1), "twice"),
    ({"rule": "27 January"}, ("rule",), "a rule is one of"),
    ({"rule": {"on": "27 January"}}, ("rule",), "a rule is one of"),
    ({"rule": {"month": "Febuary"}}, ("rule", "month"), "not a month"),
    ({"rule": {"month": "February", "days": 3}}, ("rule", "days"), "no field 'days'"),
    ({"rule": {"nth": "second", "weekday": "Satday", "month": "October"}}, ("rule", "weekday"),
     "not a day of the week"),
    ({"rule": {"nth": "fifth", "weekday": "Saturday", "month": "October"}}, ("rule", "nth"),
     "first, second, third, fourth or last"),
    ({"rule": {"nth": "second", "weekday": "Saturday"}}, ("rule", "month"), "missing"),
    ({"rule": {"date": "31 June"}}, ("rule", "date"), "June has no day 31"),
    ({"rule": {"date": "0 June"}}, ("rule", "date"), "June has no day 0"),
    ({"rule": {"date": "29 February"}}, ("rule", "date"), "not in every year"),
    ({"rule": {"date": date(2024, 1, 27)}}, ("rule", "date"), "without a year"),
    ({"rule": {"date": "27 January", "days": 0}}, ("rule", "days"), "number of days"),
    ({"rule": {"week_containing": "20 Juin"}}, ("rule", "week_containing"), "not a month"),
    ({"rule": {"from": {"nth": "second", "weekday": "Saturday", "month": "Octobr"},
               "to": {"date": "19 October"}}}, ("rule", "from", "month"), "not a month"),
    ({"rule": {"from": {"date": "1 June"}, "to": {"next": "Sundy"}}}, ("rule", "to", "next"),
     "not a day of the week"),
    ({"rule": {"from": {"date": "1 June"}}}, ("rule",), "needs 'to' (a rule) or 'days'"),
    ({"rule": {"from": {"date": "1 June"}, "to": {"date": "7 June"}, "days": 7}},
     ("rule", "days"), "not both"),
    ({"rule": {"next": "Monday"}}, ("rule", "after"), "after what"),
    ({"rule": {"week_containing": "2 January"}}, ("rule",), "outside the year"),
    ({"rule": {"next": "Monday", "after": {"date": "30 December"}}}, ("rule",),
     "outside the year"),
    ({"overrides": {2024: {"start": "2024-06-23", "end": "2024-06-17", "source": SOURCE}}},
     ("overrides", 2024, "end"), "before it starts"),
    ({"overrides": {2024: {"start": "2024-06-17", "end": "2024-06-23"}}},
     ("overrides", 2024, "source"), "missing"),
    ({"overrides": {2024: {"start": "2023-06-17", "end": "2024-06-23", "source": SOURCE}}},
     ("overrides", 2024, "start"), "must start in 2024"),
    ({"overrides": {2024: {"start": "2024-13-01", "end": "2024-06-23", "source": SOURCE}}},
     ("overrides", 2024, "start"), "expected a date"),
    ({"overrides": {2024: {"start": "2024-06-17", "end": "2024-06-23", "source": "rule"}}},
     ("overrides", 2024, "source"), "where the published dates come from"),
    ({"overrides": {2024: {"start": "2024-06-17", "end": "2024-06-23", "source": SOURCE,
                           "note": "x"}}}, ("overrides", 2024, "note"), "no field 'note'"),
    ({"overrides": {"next year": {"start": "2024-06-17", "end": "2024-06-23",
                                  "source": SOURCE}}}, ("overrides", "next year"),
     "not a year"),
    ({"overrides": {2024: {"start": "2024-06-17", "end": "2024-06-23", "source": SOURCE},
                    "2024": {"start": "2024-06-17", "end": "2024-06-23", "source": SOURCE}}},
     ("overrides", 2024), "listed twice"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "path", "message"), ERROR_TABLE)
def test_bad_definition_is_reported_at_its_path(
    change: dict[str, Any], path: tuple[str | int, ...], message: str
) -> None:
    data = {**GOOD, **change}
    with pytest.raises(RuleError) as caught:
        calendar.parse_event({k: v for k, v in data.items() if v is not None})
    assert caught.value.path == path
    assert message in str(caught.value)


def test_rule_error_is_a_value_error_whose_text_leaves_the_path_to_the_caller() -> None:
    with pytest.raises(ValueError, match=r"^'Febuary' is not a month; expected e\.g\. January$"):
        calendar.parse_event({**GOOD, "rule": {"month": "Febuary"}})


# ---- outputs ---------------------------------------------------------------------------------


def sample() -> list[Occurrence]:
    return [
        Occurrence(
            "refugee-week",
            "Refugee Week",
            d("2025-06-16"),
            d("2025-06-22"),
            "rule",
            "A festival.",
            "https://refugeeweek.org.uk/",
        ),
        Occurrence(
            "windrush-day",
            "Windrush Day",
            d("2025-06-22"),
            d("2025-06-22"),
            "https://example.org/published",
        ),
    ]


def test_json_lists_keys_and_inclusive_iso_dates() -> None:
    rows = json.loads(calendar.to_json(sample()))
    assert rows == [
        {
            "key": "refugee-week",
            "name": "Refugee Week",
            "start": "2025-06-16",
            "end": "2025-06-22",
            "source": "rule",
        },
        {
            "key": "windrush-day",
            "name": "Windrush Day",
            "start": "2025-06-22",
            "end": "2025-06-22",
            "source": "https://example.org/published",
        },
    ]


def test_table_columns_line_up() -> None:
    lines = calendar.to_table(sample()).splitlines()
    assert lines[0].split()[:3] == ["Start", "End", "Key"]
    assert len(lines) == 3
    for column in ("End", "Key", "Event", "Dates from"):
        at = lines[0].index(column)
        assert all(line[at - 2 : at] == "  " and line[at] != " " for line in lines), column
    assert not any(line.endswith(" ") for line in lines)


def test_occurrences_are_sorted_by_start_then_key(shipped: dict[str, EventDef]) -> None:
    found = calendar.occurrences(shipped.values(), 2025)
    assert [(o.start, o.key) for o in found] == sorted((o.start, o.key) for o in found)
    same_day = [o.key for o in found if o.start == d("2025-06-16")]
    assert same_day == ["learning-disability-week", "refugee-week"]


def parsed_ics(occs: list[Occurrence]) -> Calendar:
    return Calendar.from_ical(calendar.to_ics(occs, calendar_name="Awareness 2025", stamp=STAMP))


def test_ics_has_calendar_properties() -> None:
    cal = parsed_ics(sample())
    assert str(cal["VERSION"]) == "2.0"
    assert "Chorus" in str(cal["PRODID"])
    assert str(cal["X-WR-CALNAME"]) == "Awareness 2025"


def test_ics_events_are_all_day_with_exclusive_end(shipped: dict[str, EventDef]) -> None:
    occs = calendar.occurrences(shipped.values(), 2025)
    events = parsed_ics(occs).walk("VEVENT")
    assert len(events) == len(occs)
    for occ, ev in zip(occs, events, strict=True):
        start, end = ev.decoded("DTSTART"), ev.decoded("DTEND")
        assert type(start) is date and type(end) is date
        assert (start, end) == (occ.start, occ.end + timedelta(days=1))
        assert str(ev["SUMMARY"]) == occ.name
        assert str(ev["UID"]) == f"{occ.key}-2025@chorus"
        assert ev.decoded("DTSTAMP") == STAMP
        assert str(ev["URL"]) == occ.url
    assert len({str(ev["UID"]) for ev in events}) == len(events)


def test_ics_dates_are_marked_as_dates_in_the_file() -> None:
    raw = calendar.to_ics(sample(), calendar_name="x", stamp=STAMP).decode()
    assert "DTSTART;VALUE=DATE:20250616\r\n" in raw
    assert "DTEND;VALUE=DATE:20250623\r\n" in raw
    assert "DTSTAMP:20250106T093000Z\r\n" in raw


def test_ics_description_says_where_the_dates_come_from() -> None:
    refugee, windrush = parsed_ics(sample()).walk("VEVENT")
    assert "A festival." in str(refugee["DESCRIPTION"])
    assert "usual pattern" in str(refugee["DESCRIPTION"])
    assert "https://example.org/published" in str(windrush["DESCRIPTION"])
    assert "URL" not in windrush


def test_ics_refuses_two_occurrences_with_one_uid() -> None:
    twice = [sample()[0], sample()[0]]
    with pytest.raises(ValueError, match="twice"):
        calendar.to_ics(twice, calendar_name="x", stamp=STAMP)


def test_ics_refuses_a_naive_stamp() -> None:
    with pytest.raises(ValueError, match="aware"):
        calendar.to_ics(sample(), calendar_name="x", stamp=datetime(2025, 1, 6))
