"""Reading reporting files: headers, periods, strands, per-strand rules, messages (no database)."""

from __future__ import annotations

import importlib.util
import re
import sys
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path
from types import ModuleType

import pytest

from campaigns.core import calendar
from campaigns.formats.content import read_library
from campaigns.formats.reports.layouts import (
    HOME_OFFICE,
    LONG,
    WIDE,
    Sheet,
    detect_layout,
    match_header,
)
from campaigns.formats.reports.reading import read_sheets
from campaigns.formats.reports.rows import CountKey, ParsedFile, parse_sheets
from campaigns.formats.reports.values import (
    ALL,
    MOTIVATING_FACTORS,
    OFFENCES,
    STRANDS,
    CellError,
    Problem,
    ReportsInvalid,
    check_wide_row,
    financial_year_period,
    normalise,
    parse_count,
    parse_date,
    parse_financial_year,
    parse_published_count,
    parse_quarter,
    parse_source,
    parse_strand,
    quarter_period,
)

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "reports"
REPORTS = ROOT / "content" / "reports"


def sheet(*rows: tuple[object, ...], name: str | None = None) -> Sheet:
    return Sheet(name, tuple((n, tuple(r)) for n, r in enumerate(rows, start=1)))  # type: ignore[misc]


def parse(*rows: tuple[object, ...], source: str | None = None) -> ParsedFile:
    return parse_sheets([sheet(*rows)], name="f.csv", source=source)


def fixture(name: str) -> ParsedFile:
    path = FIXTURES / name
    return parse_sheets(read_sheets(path.read_bytes(), name=name, suffix=path.suffix), name=name)


def messages(parsed: ParsedFile) -> list[str]:
    return [str(p) for p in parsed.problems]


LONG_HEADER = ("period_start", "period_end", "area", "strand", "source", "count")
WIDE_HEADER = ("Force", "Year", "Race", "Religion", "Sexual orientation", "Disability",
               "Transgender", "Total number of motivating factors", "Total number of offences")


# ---- headers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("heading", "expected"), [
    ("Financial Year", "financial year"),
    ("  financial   YEAR ", "financial year"),
    ("period_start", "period start"),
    ("Period-Start", "period start"),
    ("Number of Offences", "number of offences"),
    ("Total number of motivating factors\n", "total number of motivating factors"),
    (None, ""),
])
def test_headings_are_compared_ignoring_case_spacing_and_punctuation(
    heading: str | None, expected: str
) -> None:
    assert normalise(heading) == expected


@pytest.mark.parametrize(("header", "layout"), [
    (LONG_HEADER, LONG),
    (("COUNT", "Source", "Strand", "Area", "Period End", "Period Start"), LONG),
    (("Financial Year", "Financial Quarter", "Force Name", "Offence Description",
      "Number of Offences"), HOME_OFFICE),
    (("Force Name", "Number of offences", "Hate Crime Strand", "Financial Year"), HOME_OFFICE),
    (WIDE_HEADER, WIDE),
    (("Force", "Year", "Race", "Total Religion", "Sexual orientation", "Disability",
      "Transgender", "Total number of motivating factors", "Total number of offences",
      "Population", "Offences per 100,000 pop"), WIDE),
    (("Table 2.3: hate crimes by police force area", None), None),
    (("# synthetic",), None),
    (("name", "value"), None),
])
def test_the_layout_is_recognised_from_the_header(
    header: tuple[str | None, ...], layout: str | None
) -> None:
    assert detect_layout(header) == layout


def test_header_columns_are_found_in_any_order_and_case() -> None:
    header, problems = match_header(HOME_OFFICE, 3, (
        "number of OFFENCES", "Offence Group", " force name", "FINANCIAL YEAR"))
    assert problems == []
    assert header.index == {"count": 0, "area": 2, "year": 3}
    assert header.label("count") == "number of OFFENCES"


def test_a_missing_required_column_is_named_with_a_suggestion() -> None:
    _, problems = match_header(LONG, 1, ("period_strat", "period_end", "area", "strand",
                                         "source", "count"))
    assert ("period_start", "required column missing from the header (did you mean "
            "'period strat'?)") in problems
    assert ("period_strat", "unknown column (did you mean 'period start'?)") in problems


def test_source_column_may_be_left_out_when_the_source_is_given() -> None:
    header = ("period_start", "period_end", "area", "strand", "count")
    assert match_header(LONG, 1, header, source_given=True)[1] == []
    assert match_header(LONG, 1, header)[1] == [
        ("source", "required column missing from the header")]


def test_a_column_given_twice_is_refused() -> None:
    _, problems = match_header(LONG, 1, (*LONG_HEADER, "Count"))
    assert problems == [("Count", "column appears twice in the header")]


def test_total_religion_is_preferred_to_a_religion_column_beside_it() -> None:
    header, _ = match_header(WIDE, 1, ("Force", "Year", "Religion", "Total Religion"))
    assert header.index["religion"] == 3


# ---- periods ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2018/19", "2018-19", "2018/2019", "2018 to 2019",
                                  "2018 - 19", "Year ending March 2019", "2018–19"])
def test_financial_years_are_read_in_the_forms_tables_use(text: str) -> None:
    assert parse_financial_year(text) == 2018
    assert financial_year_period(2018) == (date(2018, 4, 1), date(2019, 3, 31))


@pytest.mark.parametrize(("value", "message"), [
    ("2018/20", "one runs April to March, e.g. 2018/19"),
    ("2018", "is not a financial year: write it as 2018/19"),
    (2018, "is not a financial year: write it as 2018/19"),
    ("18/19", "is not a financial year"),
    (None, "no financial year given"),
])
def test_what_is_not_a_financial_year_is_refused(value: object, message: str) -> None:
    with pytest.raises(CellError, match=message):
        parse_financial_year(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(("quarter", "period"), [
    (1, (date(2018, 4, 1), date(2018, 6, 30))),
    (2, (date(2018, 7, 1), date(2018, 9, 30))),
    (3, (date(2018, 10, 1), date(2018, 12, 31))),
    (4, (date(2019, 1, 1), date(2019, 3, 31))),
])
def test_financial_quarters_run_april_to_march(quarter: int, period: tuple[date, date]) -> None:
    assert quarter_period(2018, quarter) == period


@pytest.mark.parametrize("year", [2019, 2023, 2099])
def test_the_four_quarters_tile_the_financial_year(year: int) -> None:
    quarters = [quarter_period(year, q) for q in (1, 2, 3, 4)]
    assert (quarters[0][0], quarters[-1][1]) == financial_year_period(year)
    assert all((b[0] - a[1]).days == 1 for a, b in pairwise(quarters))


@pytest.mark.parametrize(("value", "quarter"), [
    (1, 1), (2.0, 2), ("3", 3), ("Q4", 4), ("Quarter 1", 1), ("q2 (Jul-Sep)", 2)])
def test_quarters_are_read_as_numbers_or_names(value: object, quarter: int) -> None:
    assert parse_quarter(value) == quarter  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, 5, "Q5", "first", True, None])
def test_what_is_not_a_quarter_is_refused(value: object) -> None:
    with pytest.raises(CellError):
        parse_quarter(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "day"), [
    ("2024-01-08", date(2024, 1, 8)),
    ("08/01/2024", date(2024, 1, 8)),
    ("8/1/2024", date(2024, 1, 8)),
    ("2024-01-08 00:00:00", date(2024, 1, 8)),
    (datetime(2024, 1, 8), date(2024, 1, 8)),
    (date(2024, 1, 8), date(2024, 1, 8)),
])
def test_dates_are_read_as_iso_uk_or_spreadsheet_dates(value: object, day: date) -> None:
    assert parse_date(value) == day  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "message"), [
    ("2024-02-30", "is not a day of the calendar"),
    ("01/13/2024", "is not a day of the calendar"),
    ("Jan 8 2024", "is not a date: write 2023-01-02"),
    (45299, "is not a date"),
    (None, "no date given"),
])
def test_what_is_not_a_date_is_refused(value: object, message: str) -> None:
    with pytest.raises(CellError, match=message):
        parse_date(value)  # type: ignore[arg-type]


# ---- strands, counts, sources -------------------------------------------------------------------


@pytest.mark.parametrize(("value", "strand"), [
    ("Race", "race"), ("race or ethnicity", "race"), ("Religion", "religion"),
    ("Total Religion", "religion"), ("Religion or belief", "religion"),
    ("Sexual orientation", "sexual-orientation"), ("sexual-orientation", "sexual-orientation"),
    ("Disability", "disability"), ("Transgender", "transgender"),
    ("Transgender identity", "transgender"), ("ALL", ALL), ("Total", ALL),
])
def test_strands_are_mapped_from_the_home_offices_names(value: str, strand: str) -> None:
    assert parse_strand(value) == strand


def test_the_five_monitored_strands() -> None:
    assert STRANDS == ("race", "religion", "sexual-orientation", "disability", "transgender")


def test_an_unknown_strand_is_refused_with_the_choices() -> None:
    with pytest.raises(CellError) as caught:
        parse_strand("Sexual orientaton")
    assert str(caught.value) == (
        "unknown strand 'Sexual orientaton' (did you mean 'sexual orientation'?): use race, "
        "religion, sexual-orientation, disability, transgender or all")


@pytest.mark.parametrize(("value", "count"), [
    (0, 0), (7, 7), (7.0, 7), ("7", 7), (" 12 ", 12), ("1,466", 1466), ("21,174", 21174)])
def test_counts_are_whole_numbers(value: object, count: int) -> None:
    assert parse_count(value) == count  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "message"), [
    (-1, "-1 is negative: a count is 0 or more"),
    ("-3", "-3 is negative"),
    (2.5, "2.5 is not a whole number"),
    ("2.5", "'2.5' is not a whole number"),
    ("seven", "'seven' is not a whole number"),
    ("1,46", "'1,46' is not a whole number"),
    (True, "True is not a count"),
    (float("nan"), "nan is not a whole number"),
    (None, "no count given"),
    (2**31, "too large to store"),
])
def test_what_is_not_a_count_is_refused(value: object, message: str) -> None:
    with pytest.raises(CellError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_count(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("marker", ["..", "[x]", "[z]", "[c]", None])
def test_published_tables_may_mark_a_count_not_available(marker: str | None) -> None:
    assert parse_published_count(marker) is None
    with pytest.raises(CellError):
        parse_published_count("n/a")


@pytest.mark.parametrize(("value", "source"), [
    ("police-recorded", "police-recorded"), ("Stop Hate UK", "stop-hate-uk"),
    ("True_Vision", "true-vision"), ("Third-party centre", "third-party-centre")])
def test_sources_become_short_names(value: str, source: str) -> None:
    assert parse_source(value) == source


# ---- per-strand tables --------------------------------------------------------------------------


NY_2017 = {"race": 276, "religion": 39, "sexual-orientation": 55, "disability": 25,
           "transgender": 7, MOTIVATING_FACTORS: 402, OFFENCES: 384}


def test_published_figures_pass_the_per_strand_checks() -> None:
    assert check_wide_row(NY_2017) == []


def test_strands_must_add_up_to_the_stated_motivating_factors() -> None:
    assert check_wide_row({**NY_2017, MOTIVATING_FACTORS: 400}) == [(
        MOTIVATING_FACTORS,
        "the strands add up to 402 (276 + 39 + 55 + 25 + 7), not the 400 motivating factors "
        "stated")]


def test_some_strands_may_be_missing_but_never_exceed_the_total() -> None:
    partial = {"race": 276, "religion": None, MOTIVATING_FACTORS: 402, OFFENCES: 384}
    assert check_wide_row(partial) == []
    assert check_wide_row({"race": 403, MOTIVATING_FACTORS: 402})[0][1].startswith(
        "the strands given add up to 403 (403), more than the 402 stated")


def test_a_strand_cannot_exceed_the_offences_nor_the_offences_the_motivating_factors() -> None:
    assert check_wide_row({"race": 390, OFFENCES: 384}) == [
        ("race", "390 offences with this motivating factor, more than the 384 offences in all")]
    assert check_wide_row({MOTIVATING_FACTORS: 380, OFFENCES: 384}) == [
        (MOTIVATING_FACTORS, "380 motivating factors for 384 offences: every offence has at "
                             "least one")]


def test_strands_are_stored_as_motivating_factors_and_never_summed_as_offences() -> None:
    parsed = parse(WIDE_HEADER, ("North Yorkshire", "2017/18", 276, 39, 55, 25, 7, 402, 384))
    assert parsed.problems == []
    by_key = {(k.strand, k.measure): t.count for k, t in parsed.counts.items()}
    assert by_key == {("race", MOTIVATING_FACTORS): 276, ("religion", MOTIVATING_FACTORS): 39,
                      ("sexual-orientation", MOTIVATING_FACTORS): 55,
                      ("disability", MOTIVATING_FACTORS): 25,
                      ("transgender", MOTIVATING_FACTORS): 7,
                      (ALL, MOTIVATING_FACTORS): 402, (ALL, OFFENCES): 384}


def test_a_per_strand_table_without_totals_stores_no_offences() -> None:
    parsed = parse(("Force", "Year", "Race", "Religion"), ("York", "2018/19", 10, 2))
    assert parsed.problems == []
    assert {(k.strand, k.measure) for k in parsed.counts} == {
        ("race", MOTIVATING_FACTORS), ("religion", MOTIVATING_FACTORS)}


def test_a_force_and_year_given_twice_in_a_per_strand_table_is_refused() -> None:
    parsed = parse(WIDE_HEADER, ("York", "2018/19", 1, 0, 0, 0, 0, 1, 1),
                   ("York", "2018-19", 1, 0, 0, 0, 0, 1, 1))
    assert messages(parsed) == [
        "f.csv: row 3, column Force: repeats row 2: York for 2018-04-01 to 2019-03-31 again; "
        "keep one of them"]


def test_a_bulletin_table_with_title_footnote_and_markers_is_read() -> None:
    parsed = fixture("wide-bulletin.csv")
    assert parsed.problems == []
    assert parsed.data_rows == 3
    london = {(k.strand, k.measure): t.count for k, t in parsed.counts.items()
              if k.area == "London, City of"}
    assert london == {("race", MOTIVATING_FACTORS): 66, ("religion", MOTIVATING_FACTORS): 15,
                      ("sexual-orientation", MOTIVATING_FACTORS): 5, (ALL, OFFENCES): 79}


def test_the_wide_totals_check_names_the_row_and_column() -> None:
    assert messages(fixture("wide-bad-total.csv")) == [
        "wide-bad-total.csv: row 3, column Total number of motivating factors: the strands add "
        "up to 574 (375 + 51 + 93 + 45 + 10), not the 500 motivating factors stated",
        "wide-bad-total.csv: row 3, column Total number of motivating factors: 500 motivating "
        "factors for 546 offences: every offence has at least one"]


# ---- Home Office long tables --------------------------------------------------------------------


def test_home_office_offence_rows_are_added_up_within_a_strand() -> None:
    parsed = fixture("home-office-strands.csv")
    assert parsed.problems == []
    first_quarter = (date(2018, 4, 1), date(2018, 6, 30), "North Yorkshire")
    race = parsed.counts[CountKey(*first_quarter, "race", "police-recorded", MOTIVATING_FACTORS)]
    assert race.count == 25
    assert [p.row for p in race.places] == [2, 3]
    assert CountKey(date(2019, 1, 1), date(2019, 3, 31), "North Yorkshire", "disability",
                    "police-recorded", MOTIVATING_FACTORS) in parsed.counts
    assert not any(k.measure == OFFENCES for k in parsed.counts)


def test_home_office_rows_without_a_strand_are_offences_totals() -> None:
    parsed = fixture("home-office-totals.csv")
    assert parsed.problems == []
    assert {(k.period_start, k.strand, k.measure): t.count for k, t in parsed.counts.items()} == {
        (date(2017, 4, 1), ALL, OFFENCES): 384, (date(2018, 4, 1), ALL, OFFENCES): 546}


def test_the_source_of_a_home_office_table_can_be_named() -> None:
    parsed = parse_sheets(
        [sheet(("Financial Year", "Force Name", "Number of Offences"),
               ("2018/19", "York", 3))], name="f.csv", source="third-party-centre")
    assert {k.source for k in parsed.counts} == {"third-party-centre"}


def test_a_blank_quarter_is_refused_when_the_table_has_quarters() -> None:
    parsed = parse(("Financial Year", "Financial Quarter", "Force Name", "Number of Offences"),
                   ("2018/19", None, "York", 3))
    assert messages(parsed) == ["f.csv: row 2, column Financial Quarter: no quarter given"]


# ---- the long format ----------------------------------------------------------------------------


def test_the_long_format_defaults_to_offences_and_skips_blank_rows() -> None:
    parsed = fixture("long.csv")
    assert parsed.problems == []
    assert parsed.data_rows == 5
    assert {k.measure for k in parsed.counts} == {OFFENCES}
    assert [t.places[0].row for t in parsed.counts.values()] == [2, 3, 4, 6, 7]


def test_every_bad_value_is_reported_with_its_row_and_column() -> None:
    assert messages(fixture("long-bad-values.csv")) == [
        "long-bad-values.csv: row 2, column count: 'three' is not a whole number",
        "long-bad-values.csv: row 3, column count: -2 is negative: a count is 0 or more",
        "long-bad-values.csv: row 4, column period_end: 2024-01-01 is before period_start "
        "2024-01-08",
        "long-bad-values.csv: row 5, column strand: unknown strand 'misogyny': use race, "
        "religion, sexual-orientation, disability, transgender or all",
        "long-bad-values.csv: row 6, column measure: unknown measure 'reports': use offences or "
        "motivating-factors",
        "long-bad-values.csv: row 7, column period_start: '2024-13-01' is not a day of the "
        "calendar",
        "long-bad-values.csv: row 7, column count: '1.5' is not a whole number",
        "long-bad-values.csv: row 8, column area: no area given",
    ]


def test_missing_and_unknown_columns_are_named() -> None:
    assert messages(fixture("long-missing-column.csv")) == [
        "long-missing-column.csv: row 1, column source: required column missing from the "
        "header",
        "long-missing-column.csv: row 1, column synthetic: unknown column: mark a synthetic "
        "file with a first line '# synthetic' instead",
    ]


def test_a_repeated_count_in_the_long_format_is_refused() -> None:
    row = ("2024-01-01", "2024-01-07", "York", "race", "police-recorded", 2)
    parsed = parse(LONG_HEADER, row, row)
    assert messages(parsed) == [
        "f.csv: row 3, column count: repeats row 2: the same period, area, strand, source and "
        "measure (York, 2024-01-01 to 2024-01-07, race, offences, police-recorded); keep one of "
        "them"]


def test_source_fills_blank_cells_but_may_not_contradict_the_file() -> None:
    header = LONG_HEADER
    parsed = parse(header, ("2024-01-01", "2024-01-07", "York", "all", None, 2),
                   ("2024-01-08", "2024-01-14", "York", "all", "true-vision", 2),
                   source="true-vision")
    assert parsed.problems == []
    assert {k.source for k in parsed.counts} == {"true-vision"}
    parsed = parse(header, ("2024-01-01", "2024-01-07", "York", "all", "stop-hate-uk", 2),
                   source="true-vision")
    assert messages(parsed) == [
        "f.csv: row 2, column source: the file says 'stop-hate-uk' but --source says "
        "'true-vision'; leave out --source, or clear the column"]


def test_synthetic_and_citation_comments_above_the_header_are_read() -> None:
    parsed = parse(("# synthetic: made up",), ("# citation: Somewhere, 2024",), LONG_HEADER,
                   ("2024-01-01", "2024-01-07", "York", "all", "police-recorded", 2))
    assert parsed.synthetic and parsed.citation == "Somewhere, 2024"
    assert not parse(LONG_HEADER,
                     ("2024-01-01", "2024-01-07", "York", "all", "police-recorded", 2)).synthetic


def test_a_file_without_a_known_header_says_what_was_expected() -> None:
    (problem,) = parse(("name", "value"), ("x", 1)).problems
    assert problem.row == 1
    assert "no header row of a known layout in the first 30 rows: expected the long format" in (
        problem.message)


def test_a_semicolon_separated_file_gets_a_hint() -> None:
    assert messages(parse(("# synthetic",), (";".join(LONG_HEADER),), ("2024-01-01;...",))) == [
        "f.csv: row 2: columns are separated by ';': save the file as comma-separated CSV "
        "(UTF-8)"]


def test_a_header_without_rows_is_reported() -> None:
    assert messages(fixture("header-only.csv")) == [
        "header-only.csv: row 1: no data rows below the header"]


# ---- reading files ------------------------------------------------------------------------------


def test_csv_rows_are_numbered_as_a_spreadsheet_shows_them() -> None:
    data = (b"# synthetic\n" + ",".join(LONG_HEADER).encode() + b"\n\n"
            b'2024-01-01,2024-01-07,"York\nCentral",all,police-recorded,1\n'
            b"2024-01-01,2024-01-07,York,all,police-recorded,x\n")
    (read,) = read_sheets(data, name="f.csv", suffix=".csv")
    assert [n for n, _ in read.rows] == [1, 2, 3, 4, 5]
    assert messages(parse_sheets([read], name="f.csv")) == [
        "f.csv: row 5, column count: 'x' is not a whole number"]


def test_a_byte_order_mark_and_excel_padding_are_tolerated() -> None:
    data = ("\ufeff# synthetic,,,,,\n" + ",".join(LONG_HEADER) + "\n"
            "2024-01-01,2024-01-07,York,all,police-recorded,1\n").encode()
    parsed = parse_sheets(read_sheets(data, name="f.csv", suffix=".csv"), name="f.csv")
    assert parsed.problems == [] and parsed.synthetic


@pytest.mark.parametrize(("name", "message"), [
    ("empty.csv", "empty.csv: the file is empty"),
    ("not-utf8.csv", "not-utf8.csv: not UTF-8 text (byte 74): save it from the spreadsheet as "
                     "'CSV UTF-8'"),
    ("corrupt.xlsx", "corrupt.xlsx: not a readable XLSX workbook (BadZipFile"),
    ("corrupt.ods", "corrupt.ods: not a readable ODS workbook (BadZipFile"),
])
def test_unreadable_files_are_refused_with_a_clear_message(name: str, message: str) -> None:
    with pytest.raises(ReportsInvalid) as caught:
        read_sheets((FIXTURES / name).read_bytes(), name=name, suffix=Path(name).suffix)
    (problem,) = caught.value.problems
    assert str(problem).startswith(message)


@pytest.mark.parametrize(("suffix", "hint"), [(".xls", "(save it as .xlsx)"), (".txt", "")])
def test_other_file_types_are_refused(suffix: str, hint: str) -> None:
    with pytest.raises(ReportsInvalid) as caught:
        read_sheets(b"data", name="f" + suffix, suffix=suffix)
    assert str(caught.value.problems[0]) == (
        f"f{suffix}: unsupported file type {suffix!r}{' ' + hint if hint else ''}: use .csv, "
        ".xlsx or .ods")


def test_problems_name_the_sheet_of_a_workbook() -> None:
    problem = Problem("f.xlsx", "no area given", "Data", 4, "Force")
    assert str(problem) == "f.xlsx: sheet 'Data', row 4, column Force: no area given"
    assert str(Problem("f.csv", "the file is empty")) == "f.csv: the file is empty"


# ---- the shipped files --------------------------------------------------------------------------


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_synthetic", REPORTS / "make_synthetic.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_synthetic_file_is_what_the_generator_makes() -> None:
    generator = load_generator()
    assert generator.OUTPUT.read_text(encoding="utf-8") == generator.render()


def test_the_generators_campaign_dates_are_those_of_the_awareness_calendar() -> None:
    generator = load_generator()
    events = {e.key: e for e in read_library(ROOT / "content").events}
    for key, starts in generator.CAMPAIGN_STARTS.items():
        assert tuple(calendar.occurrence(events[key], day.year).start for day in starts) == (
            starts)


def test_the_readme_states_the_generators_true_effect() -> None:
    generator = load_generator()
    readme = (REPORTS / "README.md").read_text(encoding="utf-8")
    assert f"`EFFECT` = {generator.EFFECT}" in readme
    assert f"{generator.EFFECT_WEEKS} weeks (`EFFECT_WEEKS`)" in readme


def test_the_readme_lists_the_weeks_the_effect_applies_to() -> None:
    generator = load_generator()
    readme = (REPORTS / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"(\d{4}-\d{2}-\d{2}) to (\d{4}-\d{2}-\d{2})", readme)
    windows = [(date.fromisoformat(a), date.fromisoformat(b)) for a, b in listed]
    assert sorted(windows) == generator.effect_windows()
    affected = [w for w in generator.weeks() if generator.after_campaign(w)]
    assert len(affected) == 48
    assert all(any(a <= w.start and w.end <= b for a, b in windows) for w in affected)


def test_the_synthetic_file_is_marked_synthetic_and_never_sums_strands_into_offences() -> None:
    path = REPORTS / "york-synthetic-weekly-2023-2026.csv"
    parsed = parse_sheets(read_sheets(path.read_bytes(), name=path.name, suffix=".csv"),
                          name=path.name)
    assert parsed.problems == [] and parsed.synthetic
    assert len(parsed.counts) == 208 * 4 * 6
    offences = {(k.period_start, k.source): t.count for k, t in parsed.counts.items()
                if k.measure == OFFENCES}
    assert {k.strand for k in parsed.counts if k.measure == OFFENCES} == {ALL}
    factors: dict[tuple[date, str], int] = {}
    for key, tally in parsed.counts.items():
        if key.measure == MOTIVATING_FACTORS:
            factors[key.period_start, key.source] = (
                factors.get((key.period_start, key.source), 0) + tally.count)
    assert all(factors[k] >= offences[k] for k in offences)


def test_the_published_north_yorkshire_figures_are_read_with_their_citation() -> None:
    path = REPORTS / "north-yorkshire-home-office-2017-2019.csv"
    parsed = parse_sheets(read_sheets(path.read_bytes(), name=path.name, suffix=".csv"),
                          name=path.name)
    assert parsed.problems == [] and not parsed.synthetic
    assert "Hate crime, England and Wales, 2018 to 2019" in parsed.citation
    offences = {k.period_start.year: t.count for k, t in parsed.counts.items()
                if k.measure == OFFENCES}
    assert offences == {2017: 384, 2018: 546}
