"""Reporting files past the readers' limits are refused with a message, and dates a report
cannot hold are named: the regressions of issue 12 (defects 5, 9 and 10 for report files)."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from campaigns.formats.reports.grid import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    column_letter,
)
from campaigns.formats.reports.reading import read_sheets
from campaigns.formats.reports.rows import parse_sheets
from campaigns.formats.reports.values import CellError, ReportsInvalid, parse_date

LONG = "period_start,period_end,area,strand,source,count\n"


def xlsx(cells: dict[str, object]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Data"
    for coordinate, value in cells.items():
        sheet[coordinate] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ods(rows: str) -> bytes:
    """An ODS file whose one table, 'Data', holds `rows` (table:table-row elements)."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
        f'<office:spreadsheet><table:table table:name="Data">{rows}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    return out.getvalue()


def text_cell(text: str, columns: int = 1) -> str:
    return (f'<table:table-cell table:number-columns-repeated="{columns}" '
            f'office:value-type="string"><text:p>{text}</text:p></table:table-cell>')


def refusal(data: bytes, name: str) -> str:
    with pytest.raises(ReportsInvalid) as caught:
        read_sheets(data, name=name, suffix=name[name.rindex("."):])
    (problem,) = caught.value.problems
    return str(problem)


def test_columns_are_lettered_as_a_spreadsheet_does() -> None:
    assert [column_letter(n) for n in (1, 26, 27, 520, 16384)] == ["A", "Z", "AA", "SZ", "XFD"]


def test_a_far_xlsx_cell_is_refused_without_building_the_rows_before_it() -> None:
    data = xlsx({"A1": "period_start", "XFD1048576": 1})
    tracemalloc.start()
    started = time.perf_counter()
    try:
        message = refusal(data, "far.xlsx")
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert message.startswith("far.xlsx: sheet 'Data', row 1048576, column XFD: a value right "
                              f"of the {MAX_COLUMNS} columns")
    assert peak < 20 * 2**20 and time.perf_counter() - started < 5


BEYOND = column_letter(MAX_COLUMNS + 1)


@pytest.mark.parametrize(("cells", "place", "limit"), [
    ({"A1": "x", f"{BEYOND}1": 1}, f"column {BEYOND}", f"{MAX_COLUMNS} columns"),
    ({"A1": "x", f"A{MAX_ROWS + 1}": 1}, f"row {MAX_ROWS + 1}", f"{MAX_ROWS:,} rows"),
])
def test_an_xlsx_value_past_the_limits_is_refused_naming_file_sheet_and_limit(
    cells: dict[str, object], place: str, limit: str
) -> None:
    message = refusal(xlsx(cells), "wide.xlsx")
    assert message.startswith("wide.xlsx: sheet 'Data', ") and place in message
    assert limit in message


def test_blank_cells_far_out_cost_nothing() -> None:
    (read,) = read_sheets(xlsx({"A1": "x", "B2": 1, "XFD1048576": None}), name="f.xlsx",
                          suffix=".xlsx")
    assert read.rows == ((1, ("x",)), (2, (None, 1)))


def test_an_ods_row_repeated_past_the_row_limit_is_refused() -> None:
    message = refusal(ods(f'<table:table-row table:number-rows-repeated="{MAX_ROWS + 1}">'
                          f'{text_cell("York")}</table:table-row>'), "rows.ods")
    assert message.startswith(f"rows.ods: sheet 'Data', row {MAX_ROWS + 1}: a value below the "
                              f"{MAX_ROWS:,} rows Chorus reads")


def test_an_ods_cell_repeated_past_the_column_limit_is_refused() -> None:
    message = refusal(ods(f"<table:table-row>{text_cell('York', MAX_COLUMNS + 1)}"
                          "</table:table-row>"), "cols.ods")
    assert message.startswith(f"cols.ods: sheet 'Data', row 1, column "
                              f"{column_letter(MAX_COLUMNS + 1)}: a value right of the")


def test_trailing_blank_ods_repeats_are_skipped_unmade() -> None:
    data = ods(f"<table:table-row>{text_cell('York')}</table:table-row>"
               '<table:table-row table:number-rows-repeated="50000000">'
               '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
               '<table:table-row><table:table-cell table:number-columns-repeated="50000000"/>'
               "</table:table-row>")
    started = time.perf_counter()
    (read,) = read_sheets(data, name="f.ods", suffix=".ods")
    assert read.rows == ((1, ("York",)),) and time.perf_counter() - started < 1


def test_a_repeated_ods_value_within_the_limits_is_read_as_each_cell() -> None:
    (read,) = read_sheets(ods('<table:table-row table:number-rows-repeated="2">'
                              f"{text_cell('a', 2)}<table:table-cell/>"
                              f'{text_cell("b")}</table:table-row>'), name="f.ods", suffix=".ods")
    assert read.rows == ((1, ("a", "a", None, "b")), (2, ("a", "a", None, "b")))


@pytest.mark.parametrize("length", [MAX_CELL_CHARS + 1, 131_073, 400_000])
def test_a_long_csv_cell_is_refused_naming_its_row_and_column(length: int) -> None:
    data = (LONG + "2024-01-01,2024-01-07,York,all,police-recorded,1\n"
            f'2024-01-01,2024-01-07,"{"x, " * (length // 3 + 1)}",all,police-recorded,1\n')
    message = refusal(data.encode(), "long.csv")
    assert message.startswith(f"long.csv: row 3, column C: a cell of more than "
                              f"{MAX_CELL_CHARS:,} characters")


def test_a_file_over_the_byte_limit_is_refused_unread() -> None:
    message = refusal(b" " * (MAX_FILE_BYTES + 1), "big.csv")
    assert message.startswith("big.csv: the file is 50.0 MB, more than the 50 MB Chorus reads")


def test_an_unclosed_quote_in_a_csv_is_named_by_row() -> None:
    message = refusal((LONG + '2024-01-01,2024-01-07,"York,all,police-recorded,1\n'
                       "2024-01-08,2024-01-14,York,all,police-recorded,2\n").encode(), "q.csv")
    assert message.startswith('q.csv: row 2: a quote (") opened in this row is never closed')


def test_a_date_time_with_a_time_of_day_is_refused_not_cut_to_its_day() -> None:
    with pytest.raises(CellError, match="2024-01-01 09:30:00 has a time of day"):
        parse_date(datetime(2024, 1, 1, 9, 30))
    assert parse_date(datetime(2024, 1, 1)) == date(2024, 1, 1)


def test_an_xlsx_date_time_with_a_time_of_day_is_named_by_row_and_column() -> None:
    header = ("period_start", "period_end", "area", "strand", "source", "count")
    cells: dict[str, object] = {f"{column_letter(n)}1": h for n, h in enumerate(header, 1)}
    cells.update({"A2": datetime(2024, 1, 1, 9, 30), "B2": datetime(2024, 1, 7), "C2": "York",
                  "D2": "all", "E2": "police-recorded", "F2": 3})
    parsed = parse_sheets(read_sheets(xlsx(cells), name="t.xlsx", suffix=".xlsx"), name="t.xlsx")
    assert [str(p) for p in parsed.problems] == [
        "t.xlsx: sheet 'Data', row 2, column period_start: 2024-01-01 09:30:00 has a time of "
        "day: write the day alone (2024-01-01)"]


@pytest.mark.parametrize(("start", "end", "column", "shown"), [
    ("0001-01-01", "2024-01-07", "period_start", "0001-01-01"),
    ("2024-01-01", "9999-12-31", "period_end", "9999-12-31"),
    ("1989-12-25", "1990-01-01", "period_start", "1989-12-25"),
])
def test_report_years_outside_the_plausible_range_are_refused(
    start: str, end: str, column: str, shown: str
) -> None:
    data = f"{LONG}{start},{end},York,all,police-recorded,1\n".encode()
    parsed = parse_sheets(read_sheets(data, name="y.csv", suffix=".csv"), name="y.csv",
                          today=date(2026, 9, 1))
    assert [str(p) for p in parsed.problems] == [
        f"y.csv: row 2, column {column}: {shown} is outside the years reporting figures can "
        "cover (1990 to 2027): check the year"]


@pytest.mark.parametrize("year", ["9999/00", "2030/31", "1066/67"])
def test_a_financial_year_outside_the_plausible_range_is_refused(year: str) -> None:
    data = f"Financial Year,Force Name,Number of Offences\n{year},York,3\n".encode()
    parsed = parse_sheets(read_sheets(data, name="h.csv", suffix=".csv"), name="h.csv",
                          today=date(2026, 9, 1))
    assert [str(p) for p in parsed.problems] == [
        f"h.csv: row 2, column Financial Year: {year} is outside the years reporting figures "
        "can cover (1990 to 2027): check the year"]


def test_a_file_of_more_areas_than_the_limit_is_refused() -> None:
    rows = "".join(f"2024-01-01,2024-01-07,Area {n},all,police-recorded,1\n"
                   for n in range(10_001))
    parsed = parse_sheets(read_sheets((LONG + rows).encode(), name="a.csv", suffix=".csv"),
                          name="a.csv")
    assert [str(p) for p in parsed.problems] == [
        "a.csv: 10,001 different areas, more than the 10,000 Chorus takes from one file: is "
        "the area column the right one? If so, split the file"]
