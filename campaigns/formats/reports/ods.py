"""Reading an ODS workbook's tables, streaming its content.xml within the limits.

ODS writes repeated rows and cells once, with a count: LibreOffice ends every sheet with a
blank row repeated a million times and blank cells repeated to column AMJ. Blank repeats only
move the position on, so they cost nothing; a repeated value is written out only within the
limits, and a repeat past them is refused before it is made.
"""

from __future__ import annotations

import math
import zipfile
from datetime import date, datetime

from campaigns.formats.reports.archive import (
    ElementCount,
    Unreadable,
    open_archive,
    parse_part,
    unreadable,
)
from campaigns.formats.reports.grid import MAX_CELL_CHARS, Budget, Grid, cell_value
from campaigns.formats.reports.layouts import Sheet
from campaigns.formats.reports.values import Cell, ReportsInvalid

LABEL = "ODS"
CONTENT = "content.xml"
CELLS = frozenset({"table-cell", "covered-table-cell"})


def ods_sheets(data: bytes, name: str, budget: Budget) -> list[Sheet]:
    """Every table of the spreadsheet, in order."""
    archive = open_archive(data, name, LABEL)
    reader = _Tables(budget)
    try:
        with archive.open(CONTENT) as source:
            parse_part(source, ElementCount(name), reader.start, reader.end, reader.text)
    except ReportsInvalid:
        raise
    except KeyError:
        raise unreadable(name, LABEL, Unreadable(f"it has no {CONTENT}")) from None
    except (Unreadable, zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError,
            EOFError, ValueError) as exc:
        raise unreadable(name, LABEL, exc) from None
    finally:
        archive.close()
    return reader.sheets


def _repeat(attrs: dict[str, str], key: str) -> int:
    text = attrs.get(key, "1")
    if not text.isdigit() or int(text) < 1:
        raise Unreadable(f"{key}={text!r} is not a count of 1 or more")
    return int(text)


class _Tables:
    """The handlers of the XML parser: the tables, their rows and their cells as they come."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.sheets: list[Sheet] = []
        self.grid: Grid | None = None
        self.row = 1  # the number of the current row
        self.rows = 1  # how many times it repeats
        self.cells: list[Cell] = []
        self.blanks = 0  # blank cells since the last value, not yet written out
        self.cell: dict[str, str] | None = None  # the current cell's attributes
        self.columns = 1
        self.paragraphs: list[list[str]] = []
        self.length = 0
        self.ignored = 0  # depth inside an annotation or a table inside a cell

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if self.ignored or (self.cell is not None and tag in ("annotation", "table")):
            self.ignored += 1
        elif tag == "table":
            self.grid = Grid(self.budget, attrs.get("name", f"Sheet{len(self.sheets) + 1}"))
            self.row = 1
        elif self.grid is None:
            return
        elif tag == "table-row":
            self.rows = _repeat(attrs, "number-rows-repeated")
            self.cells, self.blanks = [], 0
        elif tag in CELLS:
            self.cell, self.paragraphs, self.length = attrs, [], 0
            self.columns = _repeat(attrs, "number-columns-repeated")
        elif self.cell is not None:
            self._text_start(tag, attrs)

    def _text_start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "p":
            self.paragraphs.append([])
        elif tag == "s":
            spaces = attrs.get("c", "1")
            self.text(" " * min(int(spaces) if spaces.isdigit() else 1, MAX_CELL_CHARS + 1))
        elif tag == "tab":
            self.text("\t")
        elif tag == "line-break":
            self.text("\n")

    def text(self, data: str) -> None:
        if self.cell is None or self.ignored or not self.paragraphs:
            return
        self.length += len(data)
        assert self.grid is not None
        self.grid.check_text(self.row, len(self.cells) + self.blanks + 1, self.length)
        self.paragraphs[-1].append(data)

    def end(self, tag: str) -> None:
        if self.ignored:
            self.ignored -= 1
        elif self.grid is None:
            return
        elif tag in CELLS and self.cell is not None:
            self._end_cell(self.grid)
        elif tag == "table-row":
            self.grid.add(self.row, self.cells, self.rows)
            self.row += self.rows
        elif tag == "table":
            self.sheets.append(self.grid.sheet())
            self.grid = None

    def _end_cell(self, grid: Grid) -> None:
        value = _value(self.cell or {}, "\n".join("".join(p) for p in self.paragraphs))
        self.cell = None
        if value is None:
            self.blanks += self.columns
            return
        grid.check_column(self.row, len(self.cells) + self.blanks + self.columns)
        self.cells.extend([None] * self.blanks)
        self.cells.extend([value] * self.columns)
        self.blanks = 0


def _value(attrs: dict[str, str], text: str) -> Cell:
    """A cell's value as a spreadsheet holds it: numbers and dates typed, anything else text."""
    kind = attrs.get("value-type")
    if kind in ("float", "percentage", "currency"):
        try:
            number = float(attrs.get("value", ""))
        except ValueError:
            return cell_value(text)
        return cell_value(number) if math.isfinite(number) else cell_value(text)
    if kind == "date":
        return _date(attrs.get("date-value", "")) or cell_value(text)
    if kind == "boolean":
        return attrs.get("boolean-value", text).strip().casefold() in ("true", "1")
    return cell_value(text)


def _date(text: str) -> date | None:
    try:
        if "T" in text:
            return datetime.fromisoformat(text)
        return date.fromisoformat(text)
    except ValueError:
        return None
