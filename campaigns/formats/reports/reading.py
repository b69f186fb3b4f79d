"""Reading a CSV, XLSX or ODS file's bytes into plain sheets of cells (pandas)."""

from __future__ import annotations

import csv
import io
import math
import numbers
from datetime import date
from typing import Any

import pandas as pd

from campaigns.formats.reports.layouts import Sheet
from campaigns.formats.reports.values import Cell, Problem, ReportsInvalid

ENGINES = {".xlsx": "openpyxl", ".ods": "odf"}


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
