"""How much of a reporting file is read, and a sheet's rows built within those limits.

The limits bound what a file can cost to read, whatever its size on disk says: a few kilobytes
of XLSX can name a cell a million rows down, and a few of ODS can repeat a row fifty million
times. A sheet's extent is what lies up to its last value (rows, and columns up to each row's
last value); blank rows and columns beyond it cost nothing. A file past a limit is refused with a
message naming the limit, before anything is stored.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from campaigns.formats.reports.layouts import Sheet
from campaigns.formats.reports.values import Cell, Problem, ReportsInvalid

#: Bytes read from a file, or accepted from an upload; a larger one is refused unread.
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Bytes a workbook (a zip archive) may unpack to, as its table of contents states.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
#: XML elements in a workbook's parts: about three for each cell a file may hold.
MAX_XML_ELEMENTS = 1_500_000
#: Rows of a file, over all its sheets; in a sheet, a value below this row is refused.
MAX_ROWS = 100_000
#: Columns of a sheet: a value right of this column (SZ) is refused.
MAX_COLUMNS = 520
#: Cells of a file: every row's cells up to its last value, over all its sheets. Reading a
#: file this size takes a few seconds; these limits keep any file's cost to about that.
MAX_CELLS = 500_000
#: Characters in one cell: Excel's own limit.
MAX_CELL_CHARS = 32_767
#: Different areas in one file (England and Wales have 43 police force areas).
MAX_AREAS = 10_000


def column_letter(number: int) -> str:
    """A column as a spreadsheet names it: 1 is A, 27 is AA."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def too_large(name: str, message: str, sheet: str | None = None, row: int = 0,
              column: int = 0) -> ReportsInvalid:
    """The refusal of a file past a limit."""
    return ReportsInvalid([Problem(name, message, sheet, row,
                                   column_letter(column) if column else "")])


def file_too_large(name: str, size: int) -> ReportsInvalid:
    return too_large(name, f"the file is {size / 2**20:,.1f} MB, more than the "
                           f"{MAX_FILE_BYTES // 2**20} MB Chorus reads: split it into smaller "
                           "files")


def cell_value(value: object) -> Cell:
    """A reader's value as a cell: blanks None, whole numbers int, anything else as text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool | date):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return None
        return int(number) if number.is_integer() else number
    return str(value)


@dataclass
class Budget:
    """What is left of a file's allowance of rows and cells, over all its sheets."""

    name: str
    rows: int = MAX_ROWS
    cells: int = MAX_CELLS
    #: Characters of text, as much as the largest file Chorus reads holds.
    text: int = MAX_FILE_BYTES


class Grid:
    """One sheet's rows, added as a reader finds them; refuses a sheet past the limits.

    Blank rows are added only when a row with a value follows them, so trailing blank rows
    (however many a file repeats) are never made.
    """

    def __init__(self, budget: Budget, sheet: str | None) -> None:
        self.budget, self.name = budget, sheet
        self.rows: list[tuple[int, tuple[Cell, ...]]] = []
        self._next = 1  # the number of the first row not yet added

    def add(self, number: int, cells: Sequence[Cell], repeat: int = 1) -> None:
        """Row `number`, and `repeat - 1` copies of it below; trailing blanks are dropped."""
        width = len(cells)
        while width and cells[width - 1] is None:
            width -= 1
        if not width:
            return
        row = tuple(cells[:width])
        last = number + repeat - 1
        self._spend(number, last, row)
        self.rows.extend((n, ()) for n in range(self._next, number))
        self.rows.extend((n, row) for n in range(number, last + 1))
        self._next = last + 1

    def _spend(self, number: int, last: int, row: tuple[Cell, ...]) -> None:
        """Take rows `number` to `last`, each `row`, from the budget, or refuse them."""
        self.check_column(number, len(row))
        text = sum(self.check_text(number, column, len(cell))
                   for column, cell in enumerate(row, start=1) if isinstance(cell, str))
        if last > MAX_ROWS:
            raise self._refusal(f"a value below the {MAX_ROWS:,} rows Chorus reads from a "
                                "sheet: delete what lies below the table, or split the file",
                                row=last)
        rows, cells = last + 1 - self._next, len(row) * (last + 1 - number)
        if rows > self.budget.rows:
            raise self._refusal(f"more than {MAX_ROWS:,} rows in all: split the file")
        if cells > self.budget.cells:
            raise self._refusal(f"more than {MAX_CELLS:,} cells in all (rows, and columns up "
                                "to each row's last value): split the file, or delete what "
                                "lies outside the table", row=number)
        if text > self.budget.text:
            raise self._refusal(f"more than {MAX_FILE_BYTES // 2**20} MB of text in all: split "
                                "the file", row=number)
        self.budget.rows -= rows
        self.budget.cells -= cells
        self.budget.text -= text

    def check_column(self, row: int, column: int) -> None:
        """Refuse a value in `column` (1 is A) of `row` if it lies right of the limit."""
        if column > MAX_COLUMNS:
            raise self._refusal(f"a value right of the {MAX_COLUMNS} columns (A to "
                                f"{column_letter(MAX_COLUMNS)}) Chorus reads: delete what lies "
                                "right of the table",
                                row=row, column=column)

    def check_text(self, row: int, column: int, length: int) -> int:
        """Refuse a cell of more than MAX_CELL_CHARS characters; the length otherwise."""
        if length > MAX_CELL_CHARS:
            raise self._refusal(f"a cell of more than {MAX_CELL_CHARS:,} characters (the most "
                                "a spreadsheet cell holds): is this the right file?",
                                row=row, column=column)
        return length

    def sheet(self) -> Sheet:
        return Sheet(self.name, tuple(self.rows))

    def _refusal(self, message: str, *, row: int = 0, column: int = 0) -> ReportsInvalid:
        return too_large(self.budget.name, message, self.name, row, column)

