"""Reading an XLSX workbook's sheets row by row, within the limits.

openpyxl's read-only reader is used piece by piece: its workbook, shared strings and styles are
read whole once every XML part has been counted (so none is larger than the limit allows), and
each sheet is streamed a row at a time as the sheet's XML lists them. Only cells holding a value
are placed, so a far cell (XFD1048576) is refused where it is found, without building the rows
and columns before it; the dimension a sheet declares is not trusted at all.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.worksheet._reader import WorkSheetParser

from campaigns.formats.reports.archive import (
    ElementCount,
    count_elements,
    open_archive,
    unreadable,
)
from campaigns.formats.reports.grid import Budget, Grid, cell_value
from campaigns.formats.reports.layouts import Sheet
from campaigns.formats.reports.values import Cell, ReportsInvalid

LABEL = "XLSX"


def xlsx_sheets(data: bytes, name: str, budget: Budget) -> list[Sheet]:
    """Every worksheet of the workbook (chart sheets have no cells)."""
    archive = open_archive(data, name, LABEL)
    try:
        count_elements(archive, ElementCount(name))
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        sheets = []
        for sheet, rel in reader.parser.find_sheets():
            if rel.target not in reader.valid_files or "chartsheet" in rel.Type:
                continue
            grid = Grid(budget, str(sheet.name))
            for number, cells in _rows(reader, rel.target):
                grid.add(number, _placed(grid, number, cells))
            sheets.append(grid.sheet())
        return sheets
    except ReportsInvalid:
        raise
    except Exception as exc:  # openpyxl raises many kinds; any means the same to a person
        raise unreadable(name, LABEL, exc) from None
    finally:
        archive.close()


def _rows(reader: ExcelReader, path: str) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """The rows the sheet's XML lists, each with the cells it lists (a blank row is left out)."""
    wb = reader.wb
    with reader.archive.open(path) as source:
        parser = WorkSheetParser(source, reader.shared_strings, data_only=True, epoch=wb.epoch,
                                 date_formats=wb._date_formats,
                                 timedelta_formats=wb._timedelta_formats)
        yield from parser.parse()


def _placed(grid: Grid, number: int, cells: Sequence[dict[str, Any]]) -> list[Cell]:
    """A row's values by column, up to its last value; a value past the limit is refused
    before the row is built."""
    values = [(int(c["column"]), _value(c["value"])) for c in cells]
    values = [(column, value) for column, value in values if value is not None]
    if not values:
        return []
    width = max(column for column, _ in values)
    grid.check_column(number, width)
    row: list[Cell] = [None] * width
    for column, value in values:
        if column >= 1:
            row[column - 1] = value
    return row


def _value(value: object) -> Cell:
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, time | timedelta):
        return str(value)
    return cell_value(value)
