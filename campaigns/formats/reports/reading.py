"""Reading a CSV, XLSX or ODS file's bytes into plain sheets of cells, within the limits of
`grid`: a file past one is refused with a message naming it, never read without bound."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from campaigns.formats.reports.grid import (
    MAX_CELL_CHARS,
    MAX_CELLS,
    MAX_FILE_BYTES,
    Budget,
    Grid,
    cell_value,
    file_too_large,
    too_large,
)
from campaigns.formats.reports.layouts import Sheet
from campaigns.formats.reports.ods import ods_sheets
from campaigns.formats.reports.values import Problem, ReportsInvalid
from campaigns.formats.reports.xlsx import xlsx_sheets

#: Commas a CSV file may hold: rows padded with empty cells are common, but not without end.
MAX_CSV_FIELDS = 4 * MAX_CELLS


def read_sheets(data: bytes, *, name: str, suffix: str) -> list[Sheet]:
    """The tables of a CSV, XLSX or ODS file. Raises ReportsInvalid if it cannot be read, or
    is larger than Chorus reads."""
    kind = suffix.casefold()
    if len(data) > MAX_FILE_BYTES:
        raise file_too_large(name, len(data))
    if not data.strip():
        raise ReportsInvalid([Problem(name, "the file is empty")])
    budget = Budget(name)
    if kind == ".csv":
        return [_csv_sheet(data, name, budget)]
    if kind == ".xlsx":
        return xlsx_sheets(data, name, budget)
    if kind == ".ods":
        return ods_sheets(data, name, budget)
    hint = " (save it as .xlsx)" if kind in (".xls", ".xlsm", ".xlsb") else ""
    raise ReportsInvalid([Problem(name, f"unsupported file type {suffix or '(none)'!r}{hint}: "
                                        "use .csv, .xlsx or .ods")])


def _csv_sheet(data: bytes, name: str, budget: Budget) -> Sheet:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReportsInvalid([Problem(name, f"not UTF-8 text (byte {exc.start + 1}): save it "
                                            "from the spreadsheet as 'CSV UTF-8'")]) from None
    if "\x00" in text:
        raise ReportsInvalid([Problem(name, "not a CSV file: it holds binary data")])
    if text.count(",") > MAX_CSV_FIELDS:
        raise too_large(name, f"more than {MAX_CSV_FIELDS:,} commas: more cells than Chorus "
                              "reads; split the file")
    # Lines end as the csv module ends them (\n, \r\n or \r), never at other line breaks.
    lines = io.StringIO(text, newline="").readlines()
    grid = Grid(budget, None)
    comments = 0
    while comments < len(lines) and lines[comments].lstrip().startswith("#"):
        comments += 1
        grid.add(comments, (cell_value(lines[comments - 1].strip().rstrip(",;")),))
    body = lines[comments:]
    reader = csv.reader(iter(body), strict=True)
    number = comments
    while True:
        first = reader.line_num  # lines of the body read before this row
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _csv_error(grid, number + 1, body[first:reader.line_num], exc) from None
        number += 1
        grid.add(number, [cell_value(field) for field in record])
    return grid.sheet()


def _csv_error(grid: Grid, row: int, lines: Sequence[str], exc: csv.Error) -> ReportsInvalid:
    """What is wrong with a row the csv module refused, as a person would put it right."""
    text = "".join(lines)
    if "field larger than field limit" in str(exc):
        column = next((n for n, length in _field_lengths(text) if length > MAX_CELL_CHARS), 0)
        grid.check_text(row, column, MAX_CELL_CHARS + 1)
    if "unexpected end of data" in str(exc):
        message = ("a quote (\") opened in this row is never closed: close it, or double a quote "
                   "that is part of the text (\"\")")
    elif "expected after" in str(exc):
        message = ("text follows a quoted cell before the next comma: put the whole cell in "
                   "quotes, and double a quote that is part of the text (\"\")")
    else:
        message = f"not readable as CSV ({exc})"
    return ReportsInvalid([Problem(grid.budget.name, message, None, row)])


def _field_lengths(text: str) -> Iterator[tuple[int, int]]:
    """(column, length) of the fields of a CSV row as written, quotes and all."""
    column, length, quoted = 1, 0, False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            yield column, length
            column, length = column + 1, 0
            continue
        length += 1
    yield column, length
