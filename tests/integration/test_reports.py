"""Importing reporting figures from CSV, XLSX and ODS files into a real database."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from campaigns.cli import app
from campaigns.formats.bulk import display_name
from campaigns.formats.reports.rows import CountKey, ParsedFile, Place, Tally
from campaigns.formats.reports.values import ALL, MOTIVATING_FACTORS, OFFENCES, ReportsInvalid
from campaigns.storage import db
from campaigns.storage.models import ReportCount, ReportDataset
from campaigns.storage.reports import (
    ImportResult,
    find_conflicts,
    import_report_file,
    summarise,
)
from tests.conftest import NOW

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "reports"
REPORTS = ROOT / "content" / "reports"
DEMO = REPORTS / "york-synthetic-weekly-2023-2026.csv"
PUBLISHED = REPORTS / "north-yorkshire-home-office-2017-2019.csv"
FORMATS = (".csv", ".xlsx", ".ods")
ENGINES = {".xlsx": "openpyxl", ".ods": "odf"}

runner = CliRunner()
Stored = dict[tuple[date, date, str, str, str, str], int]


def chorus(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def spreadsheet_value(text: str) -> object:
    """A CSV cell as a spreadsheet would hold it: numbers and dates typed, blanks empty."""
    if not text:
        return None
    if re.fullmatch(r"\d+", text):
        return int(text)
    try:
        return date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else text
    except ValueError:
        return text  # as a spreadsheet keeps 2024-13-01: text, not a date


def in_format(name: str, folder: Path, suffix: str, *, notes: bool = False) -> Path:
    """The fixture `name` (a CSV file) as a file of `suffix`, the data on a sheet 'Data'."""
    source = FIXTURES / name
    target = folder / (source.stem + suffix)
    if suffix == ".csv":
        shutil.copy(source, target)
        return target
    with source.open(encoding="utf-8", newline="") as file:
        rows = [[spreadsheet_value(cell.strip()) for cell in row] for row in csv.reader(file)]
    width = max(len(r) for r in rows)
    frame = pd.DataFrame([r + [None] * (width - len(r)) for r in rows], dtype=object)
    with pd.ExcelWriter(target, engine=ENGINES[suffix]) as writer:
        if notes:
            pd.DataFrame([["About this workbook"], ["Made for the tests"]]).to_excel(
                writer, sheet_name="Notes", header=False, index=False)
        frame.to_excel(writer, sheet_name="Data", header=False, index=False)
    return target


def run(sessions: sessionmaker[Session], path: Path, **options: str) -> ImportResult:
    with db.transaction(sessions) as session:
        return import_report_file(path, session=session, now=NOW, imported_by="tester",
                                  **options)  # type: ignore[arg-type]


def refused(sessions: sessionmaker[Session], path: Path, **options: str) -> list[str]:
    with pytest.raises(ReportsInvalid) as caught:
        run(sessions, path, **options)
    return [str(p) for p in caught.value.problems]


def stored(sessions: sessionmaker[Session]) -> Stored:
    with sessions() as session:
        return {(c.period_start, c.period_end, c.area, c.strand, c.source, c.measure): c.count
                for c in session.scalars(select(ReportCount))}


def datasets(sessions: sessionmaker[Session]) -> list[ReportDataset]:
    with sessions() as session:
        return list(session.scalars(select(ReportDataset).order_by(ReportDataset.id)))


FY17 = (date(2017, 4, 1), date(2018, 3, 31))
FY18 = (date(2018, 4, 1), date(2019, 3, 31))
WEEK1 = (date(2024, 1, 1), date(2024, 1, 7))
WEEK2 = (date(2024, 1, 8), date(2024, 1, 14))
NY = "North Yorkshire"
POLICE = "police-recorded"

EXPECTED: dict[str, tuple[str, bool, Stored]] = {
    "long.csv": ("long", False, {
        (*WEEK1, "York", ALL, POLICE, OFFENCES): 7,
        (*WEEK1, "York", "race", POLICE, OFFENCES): 5,
        (*WEEK1, "York", ALL, "stop-hate-uk", OFFENCES): 2,
        (*WEEK2, "York", ALL, POLICE, OFFENCES): 4,
        (*WEEK2, "York", "disability", "third-party-centre", OFFENCES): 1,
    }),
    "long-synthetic.csv": ("long", True, {
        (*WEEK1, "York", ALL, POLICE, OFFENCES): 3,
        (*WEEK1, "York", "race", POLICE, MOTIVATING_FACTORS): 2,
        (*WEEK1, "York", "sexual-orientation", POLICE, MOTIVATING_FACTORS): 2,
    }),
    "home-office-strands.csv": ("home-office-long", False, {
        (date(2018, 4, 1), date(2018, 6, 30), NY, "race", POLICE, MOTIVATING_FACTORS): 25,
        (date(2018, 4, 1), date(2018, 6, 30), NY, "sexual-orientation", POLICE,
         MOTIVATING_FACTORS): 4,
        (date(2018, 7, 1), date(2018, 9, 30), NY, "race", POLICE, MOTIVATING_FACTORS): 30,
        (date(2019, 1, 1), date(2019, 3, 31), NY, "disability", POLICE, MOTIVATING_FACTORS): 3,
    }),
    "home-office-totals.csv": ("home-office-long", False, {
        (*FY17, NY, ALL, POLICE, OFFENCES): 384,
        (*FY18, NY, ALL, POLICE, OFFENCES): 546,
    }),
    "wide-bulletin.csv": ("wide-strands", False, {
        **{(*FY17, NY, strand, POLICE, MOTIVATING_FACTORS): n for strand, n in (
            ("race", 276), ("religion", 39), ("sexual-orientation", 55), ("disability", 25),
            ("transgender", 7), (ALL, 402))},
        (*FY17, NY, ALL, POLICE, OFFENCES): 384,
        **{(*FY17, "Cleveland", strand, POLICE, MOTIVATING_FACTORS): n for strand, n in (
            ("race", 721), ("religion", 19), ("sexual-orientation", 74), ("disability", 53),
            ("transgender", 17), (ALL, 884))},
        (*FY17, "Cleveland", ALL, POLICE, OFFENCES): 878,
        **{(*FY17, "London, City of", strand, POLICE, MOTIVATING_FACTORS): n for strand, n in (
            ("race", 66), ("religion", 15), ("sexual-orientation", 5))},
        (*FY17, "London, City of", ALL, POLICE, OFFENCES): 79,
    }),
}


# ---- each layout, each format ------------------------------------------------------------------


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_layout_imports_from_csv_xlsx_and_ods(
    sessions: sessionmaker[Session], tmp_path: Path, name: str, suffix: str
) -> None:
    layout, synthetic, expected = EXPECTED[name]
    result = run(sessions, in_format(name, tmp_path, suffix))
    assert stored(sessions) == expected
    assert (result.layout, result.synthetic, result.counts) == (layout, synthetic, len(expected))
    (dataset,) = datasets(sessions)
    assert (dataset.layout, dataset.synthetic, dataset.rows) == (layout, synthetic, len(expected))
    assert dataset.file_name == name.replace(".csv", suffix)


def test_strands_of_a_per_strand_table_are_never_summed_as_offences(
    sessions: sessionmaker[Session]
) -> None:
    run(sessions, PUBLISHED)
    counts = stored(sessions)
    offences = {k[0].year: n for k, n in counts.items() if k[5] == OFFENCES}
    strands = {y: sum(n for k, n in counts.items() if k[0].year == y and k[3] != ALL)
               for y in offences}
    assert offences == {2017: 384, 2018: 546}
    assert strands == {2017: 402, 2018: 574}


def test_a_workbook_sheet_without_a_known_header_is_skipped_and_said(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    result = run(sessions, in_format("long.csv", tmp_path, ".xlsx", notes=True))
    assert result.skipped_sheets == ["Notes"]
    assert len(stored(sessions)) == 5


def test_source_names_the_source_of_a_published_table(
    sessions: sessionmaker[Session]
) -> None:
    result = run(sessions, FIXTURES / "home-office-totals.csv", source="Third party centre")
    assert result.source == "third-party-centre"
    assert {k[4] for k in stored(sessions)} == {"third-party-centre"}


# ---- malformed files ---------------------------------------------------------------------------


BAD_VALUES = [
    "row 2, column count: 'three' is not a whole number",
    "row 3, column count: -2 is negative: a count is 0 or more",
    "row 4, column period_end: 2024-01-01 is before period_start 2024-01-08",
    "row 5, column strand: unknown strand 'misogyny': use race, religion, sexual-orientation, "
    "disability, transgender or all",
    "row 6, column measure: unknown measure 'reports': use offences or motivating-factors",
    "row 7, column period_start: '2024-13-01' is not a day of the calendar",
    "row 7, column count: '1.5' is not a whole number",
    "row 8, column area: no area given",
]


@pytest.mark.parametrize("suffix", FORMATS)
def test_bad_values_are_named_by_sheet_row_and_column_and_nothing_is_written(
    sessions: sessionmaker[Session], tmp_path: Path, suffix: str
) -> None:
    path = in_format("long-bad-values.csv", tmp_path, suffix, notes=suffix != ".csv")
    where = "" if suffix == ".csv" else "sheet 'Data', "
    assert refused(sessions, path) == [f"{display_name(path)}: {where}{line}"
                                       for line in BAD_VALUES]
    assert stored(sessions) == {} and datasets(sessions) == []


@pytest.mark.parametrize("suffix", FORMATS)
def test_strands_that_do_not_add_up_are_refused_in_every_format(
    sessions: sessionmaker[Session], tmp_path: Path, suffix: str
) -> None:
    path = in_format("wide-bad-total.csv", tmp_path, suffix)
    problems = refused(sessions, path)
    assert problems[0].endswith("row 3, column Total number of motivating factors: the strands "
                                "add up to 574 (375 + 51 + 93 + 45 + 10), not the 500 "
                                "motivating factors stated")
    assert stored(sessions) == {} and datasets(sessions) == []


def truncated_workbook(folder: Path, suffix: str) -> Path:
    whole = in_format("long.csv", folder, suffix)
    damaged = folder / f"damaged{suffix}"
    damaged.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return damaged


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: FIXTURES / "corrupt.xlsx", "corrupt.xlsx: not a readable XLSX workbook"),
    (lambda d: FIXTURES / "corrupt.ods", "corrupt.ods: not a readable ODS workbook"),
    (lambda d: truncated_workbook(d, ".xlsx"), "damaged.xlsx: not a readable XLSX workbook"),
    (lambda d: truncated_workbook(d, ".ods"), "damaged.ods: not a readable ODS workbook"),
    (lambda d: FIXTURES / "not-utf8.csv", "not-utf8.csv: not UTF-8 text (byte 74)"),
    (lambda d: FIXTURES / "empty.csv", "empty.csv: the file is empty"),
    (lambda d: FIXTURES / "header-only.csv", "header-only.csv: row 1: no data rows below the "
                                             "header"),
    (lambda d: d / "nowhere.csv", "nowhere.csv: file not found"),
], ids=["corrupt-xlsx", "corrupt-ods", "truncated-xlsx", "truncated-ods", "not-utf8", "empty",
        "header-only", "missing"])
def test_unreadable_or_empty_files_are_refused_and_write_nothing(
    sessions: sessionmaker[Session], tmp_path: Path, make: object, message: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    (problem,) = refused(sessions, path)
    assert message in problem
    assert stored(sessions) == {} and datasets(sessions) == []


# ---- the same file twice, and another file restating a count -----------------------------------


def test_importing_the_same_file_twice_changes_nothing(sessions: sessionmaker[Session]) -> None:
    first = run(sessions, FIXTURES / "long.csv")
    before = stored(sessions)
    again = run(sessions, FIXTURES / "long.csv", source="true-vision")
    assert again.already_imported and again.dataset_id == first.dataset_id
    assert (again.counts, again.first_day, again.last_day) == (5, date(2024, 1, 1),
                                                               date(2024, 1, 14))
    assert stored(sessions) == before
    assert len(datasets(sessions)) == 1


def test_another_file_restating_a_stored_count_is_refused_naming_both(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    run(sessions, FIXTURES / "home-office-totals.csv")
    run(sessions, FIXTURES / "long.csv")
    restated = tmp_path / "restated.csv"
    restated.write_text(PUBLISHED.read_text(encoding="utf-8").replace("384", "380").replace(
        ",402,", ",398,").replace(",276,", ",272,"), encoding="utf-8")
    problems = refused(sessions, restated)
    assert [p.removeprefix(display_name(restated)) for p in problems] == [
        ": row 3, column Total number of offences: North Yorkshire, 2017-04-01 to "
        "2018-03-31, all, offences, police-recorded is already stored from "
        "home-office-totals.csv (imported 2026-09-01) as 384, not 380; a stored count is "
        "never overwritten: remove it from this file",
        ": row 4, column Total number of offences: North Yorkshire, 2018-04-01 to "
        "2019-03-31, all, offences, police-recorded is already stored from "
        "home-office-totals.csv (imported 2026-09-01) as the same figure; a stored count is "
        "never overwritten: remove it from this file",
    ]
    assert len(datasets(sessions)) == 2
    assert len(stored(sessions)) == 7


def test_the_same_figures_for_another_source_are_not_a_conflict(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    run(sessions, FIXTURES / "home-office-totals.csv")
    copy = tmp_path / "copy.csv"
    copy.write_text((FIXTURES / "home-office-totals.csv").read_text(encoding="utf-8") + "\n",
                    encoding="utf-8")
    run(sessions, copy, source="true-vision")
    assert sorted({(k[4], n) for k, n in stored(sessions).items()}) == [
        (POLICE, 384), (POLICE, 546), ("true-vision", 384), ("true-vision", 546)]


# ---- summary -----------------------------------------------------------------------------------


def test_summary_totals_by_source_area_year_strand_and_measure(
    sessions: sessionmaker[Session]
) -> None:
    run(sessions, FIXTURES / "long.csv")
    run(sessions, FIXTURES / "home-office-strands.csv")
    with sessions() as session:
        summary = summarise(session=session)
    totals = {(t.source, t.area, t.year, t.strand, t.measure): (t.count, t.periods)
              for t in summary.totals}
    assert totals == {
        (POLICE, "York", 2024, ALL, OFFENCES): (11, 2),
        (POLICE, "York", 2024, "race", OFFENCES): (5, 1),
        ("stop-hate-uk", "York", 2024, ALL, OFFENCES): (2, 1),
        ("third-party-centre", "York", 2024, "disability", OFFENCES): (1, 1),
        (POLICE, NY, 2018, "race", MOTIVATING_FACTORS): (55, 2),
        (POLICE, NY, 2018, "sexual-orientation", MOTIVATING_FACTORS): (4, 1),
        (POLICE, NY, 2019, "disability", MOTIVATING_FACTORS): (3, 1),
    }
    assert [d.file for d in summary.datasets] == ["long.csv", "home-office-strands.csv"]


def test_the_demo_files_import_cleanly_and_the_synthetic_one_is_marked(
    sessions: sessionmaker[Session]
) -> None:
    published = run(sessions, PUBLISHED)
    demo = run(sessions, DEMO)
    assert not published.synthetic and demo.synthetic
    assert demo.counts == 208 * 4 * 6 and demo.areas == ["York"]
    assert (demo.first_day, demo.last_day) == (date(2023, 1, 2), date(2026, 12, 27))
    with sessions() as session:
        summary = summarise(session=session)
        by_file = {d.file: d for d in summary.datasets}
        assert by_file[DEMO.name].synthetic and not by_file[PUBLISHED.name].synthetic
        assert "Hate crime, England and Wales, 2018 to 2019" in by_file[PUBLISHED.name].citation
        assert "synthetic" in by_file[DEMO.name].citation
        assert {t.synthetic for t in summary.totals if t.area == "York"} == {True}
        assert {t.synthetic for t in summary.totals if t.area == NY} == {False}
        assert session.scalar(select(func.count()).select_from(ReportCount)) == 4992 + 14


# ---- the command line --------------------------------------------------------------------------


def test_cli_imports_then_says_nothing_changed_on_the_second_run(env: str) -> None:
    code, out, _ = chorus("reports", "import", str(PUBLISHED))
    assert code == 0
    assert f"{PUBLISHED.name}: 14 counts imported from 2 rows as dataset 1" in out
    assert "layout wide-strands; source police-recorded; North Yorkshire; 2017-04-01 to " \
           "2019-03-31" in out
    code, out, _ = chorus("reports", "import", str(PUBLISHED))
    assert code == 0 and "already imported as dataset 1" in out and "nothing changed" in out


def test_cli_labels_synthetic_figures(env: str) -> None:
    code, out, _ = chorus("reports", "import", str(FIXTURES / "long-synthetic.csv"))
    assert code == 0 and "SYNTHETIC" in out
    code, out, _ = chorus("reports", "summary")
    assert code == 0
    assert "long-synthetic.csv  (long, police-recorded, 3 counts)  SYNTHETIC" in out
    assert all(line.rstrip().endswith("SYNTHETIC") for line in out.splitlines()
               if "York" in line)


def test_cli_reports_each_problem_and_exits_1(env: str) -> None:
    code, out, err = chorus("reports", "import", str(FIXTURES / "long-bad-values.csv"))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines[:-1] == [f"{FIXTURES / 'long-bad-values.csv'}: {line}" for line in BAD_VALUES]
    assert lines[-1] == "8 error(s); nothing was imported"
    code, out, _ = chorus("reports", "summary", "--json")
    assert code == 0 and json.loads(out) == {"datasets": [], "totals": []}


def test_cli_shows_the_first_fifty_problems_and_counts_the_rest(env: str, tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text("period_start,period_end,area,strand,source,count\n"
                    + "".join(f"2024-01-01,2024-01-07,York,all,police-recorded,x{n}\n"
                              for n in range(60)), encoding="utf-8")
    code, _, err = chorus("reports", "import", str(path))
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 52
    assert lines[-2:] == ["... and 10 more", "60 error(s); nothing was imported"]


@pytest.mark.parametrize(("args", "message"), [
    (("reports", "import", "missing.csv"), "missing.csv: file not found"),
    (("reports", "import", str(FIXTURES / "corrupt.xlsx")), "not a readable XLSX workbook"),
    (("reports", "import", str(FIXTURES / "long.csv"), "--source", "!!"),
     "--source: '!!' is not a source name"),
])
def test_cli_refuses_unreadable_input_with_exit_1(
    env: str, args: tuple[str, ...], message: str
) -> None:
    code, _, err = chorus(*args)
    assert code == 1 and message in err


def test_cli_summary_json_gives_the_totals(env: str) -> None:
    chorus("reports", "import", str(PUBLISHED))
    chorus("reports", "import", str(FIXTURES / "long.csv"), "--citation", "Partnership returns")
    code, out, _ = chorus("reports", "summary", "--json")
    assert code == 0
    body = json.loads(out)
    assert [(d["file"], d["layout"], d["counts"], d["synthetic"]) for d in body["datasets"]] == [
        (PUBLISHED.name, "wide-strands", 14, False), ("long.csv", "long", 5, False)]
    assert body["datasets"][0]["citation"].startswith('Home Office, "Hate crime, England')
    assert body["datasets"][1]["citation"] == "Partnership returns"
    offences = {(t["area"], t["year"], t["source"]): t["count"] for t in body["totals"]
                if t["strand"] == ALL and t["measure"] == OFFENCES}
    assert offences == {(NY, 2017, POLICE): 384, (NY, 2018, POLICE): 546,
                        ("York", 2024, POLICE): 11, ("York", 2024, "stop-hate-uk"): 2}
    first = body["totals"][0]
    assert set(first) == {"source", "area", "year", "strand", "measure", "count", "periods",
                          "first_day", "last_day", "synthetic"}


# ---- hostile files (issue 12) -------------------------------------------------------------------


def test_any_number_of_areas_is_checked_against_what_is_stored(
    sessions: sessionmaker[Session],
) -> None:
    """More areas than a statement may bind on SQLite (32,766, or 250,000 as Debian builds it)."""
    areas = sqlite3.connect(":memory:").getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) + 1
    run(sessions, FIXTURES / "long.csv")
    week = CountKey(*WEEK1, "", ALL, POLICE, OFFENCES)
    parsed = ParsedFile("many.csv", counts={
        week._replace(area=f"Area {n}"): Tally(1, [Place(None, n + 2)], "count")
        for n in range(areas)})
    parsed.counts[week._replace(area="York")] = Tally(7, [Place(None, areas + 2)], "count")
    with sessions() as session:
        (conflict,) = find_conflicts(parsed, session=session)
    assert conflict.row == areas + 2 and "already stored from long.csv" in conflict.message


def test_cli_refuses_a_folder_a_pipe_and_a_file_past_the_size_limit(
    env: str, tmp_path: Path
) -> None:
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    big = tmp_path / "big.csv"
    with big.open("wb") as file:
        file.truncate(60 * 2**20)
    for path, message in ((folder, "is a directory"), (pipe, "pipe.csv: is not a file"),
                          (big, "big.csv: the file is 60.0 MB, more than the 50 MB")):
        code, out, err = chorus("reports", "import", str(path))
        assert code != 0 and message in err and "Traceback" not in out + err
    assert chorus("reports", "summary", "--json")[1].count('"file"') == 0
