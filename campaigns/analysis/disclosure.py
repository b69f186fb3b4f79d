"""Statistical disclosure control for tables of report counts finer than force-level annual totals.

`suppress` turns a table of counts into the strings to publish, with row and column totals:

* Primary suppression: a count below the threshold (default 5) is shown as "<5". Zeros are
  suppressed too by default, so "<5" means 0 to 4: in a small area or a small strand a zero
  says that nobody from a group reported, which some policies treat as disclosive, and showing
  zeros narrows every "<5" to 1–4, which makes hidden cells easier to work out from the totals.
  With `show_zeros=True` zeros are shown as "0", and "<5" means 1 to 4. Totals below the
  threshold are suppressed like any other count.
* Secondary suppression: more counts are hidden, shown as "[c]", until no hidden count can be
  worked out exactly from what is shown. First every row and column (its total included) that
  has one hidden entry gets another, the smallest other count in it (body cells before
  totals, and among those, cells whose own column or row already has a hidden entry, so a new
  gap opens nowhere else). Then the table is attacked as a reader would (see `_pinned`) and a
  further count is hidden beside any that can still be recovered; both steps repeat until
  nothing changes. A "[c]" is never a zero and, since anything smaller was already "<5", is
  always at least the threshold; the attack assumes the reader knows both.

It protects one table and its margins. Two tables cut from the same counts (say, strand by
month and strand by area) can give away between them what neither does alone; such tables
must be designed together, which this does not do.

Force-level annual totals are published by the Home Office and need no protection: pass
`exempt="table"` for a table of them (nothing is hidden), or `exempt="row-totals"` /
`"column-totals"` when a margin is such totals, which are then always shown and taken as
known to every reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Exempt = Literal["none", "table", "row-totals", "column-totals"]
SECONDARY = "[c]"
TOTAL = "Total"

VISIBLE, PRIMARY, HIDDEN = 0, 1, 2  # HIDDEN: secondary suppression


class DisclosureError(ValueError):
    """The table cannot be published safely at this level of detail."""


def suppress(
    table: pd.DataFrame,
    value_col: str,
    *,
    threshold: int = 5,
    row_dims: Sequence[str],
    col_dims: Sequence[str],
    with_totals: bool = True,
    exempt: Exempt = "none",
    show_zeros: bool = False,
) -> pd.DataFrame:
    """The table as strings to publish: one row per `row_dims` value, one column per `col_dims`.

    `table` is long: one row per cell with the `row_dims` and `col_dims` columns and a
    non-negative whole `value_col`; rows with the same keys are added together and missing
    combinations count as zero. `col_dims` may be empty for a one-way table. With
    `with_totals` the result ends with a "Total" row and a "Total" column; the totals are
    protected whether shown or not, since they are usually published somewhere anyway.
    Raises `DisclosureError` when no suppression pattern can protect the table (which can
    happen only with exempt totals or shown zeros): publish it at a coarser level.
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    if not row_dims:
        raise ValueError("row_dims must name at least one column")
    counts = _cross_tab(table, value_col, list(row_dims), list(col_dims))
    grid = _with_margins(counts.to_numpy())
    status = _protect(grid, threshold, _fixed(grid.shape, exempt), show_zeros)
    shown = _display(grid, status, threshold)
    return _frame(shown, counts, value_col, bool(col_dims), with_totals)


# ---- the table ---------------------------------------------------------------------------------


def _cross_tab(
    table: pd.DataFrame, value_col: str, row_dims: list[str], col_dims: list[str]
) -> pd.DataFrame:
    absent = [c for c in [*row_dims, *col_dims, value_col] if c not in table.columns]
    if absent:
        raise ValueError(f"table lacks column(s) {absent}")
    values = table[value_col]
    if values.isna().any() or (values < 0).any() or (values != values.round()).any():
        raise ValueError(f"{value_col} must hold non-negative whole numbers")
    frame = table.assign(_col="") if not col_dims else table
    columns = col_dims or ["_col"]
    summed = frame.groupby([*row_dims, *columns], observed=True)[value_col].sum()
    return summed.unstack(columns, fill_value=0).astype("int64")


def _with_margins(cells: np.ndarray) -> np.ndarray:
    """The cells with a total column on the right and a total row at the bottom."""
    with_rows = np.column_stack([cells, cells.sum(axis=1)])
    return np.vstack([with_rows, with_rows.sum(axis=0)])


def _fixed(shape: tuple[int, int], exempt: Exempt) -> np.ndarray:
    """Entries that must be shown: exempt force-level annual totals."""
    fixed = np.zeros(shape, dtype=bool)
    if exempt == "table":
        fixed[:] = True
    elif exempt == "row-totals":
        fixed[:, -1] = True
    elif exempt == "column-totals":
        fixed[-1, :] = True
    elif exempt != "none":
        raise ValueError(f"exempt must be none, table, row-totals or column-totals, not {exempt!r}")
    return fixed


# ---- choosing what to hide ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Bounds:
    """What a reader knows of each hidden count from its marker."""

    primary_low: int
    primary_high: int
    secondary_low: int


def _protect(
    grid: np.ndarray, threshold: int, fixed: np.ndarray, show_zeros: bool
) -> np.ndarray:
    small = (grid < threshold) & ((grid > 0) | (not show_zeros))
    status = np.where(small & ~fixed, PRIMARY, VISIBLE)
    bounds = _Bounds(1 if show_zeros else 0, threshold - 1, threshold)
    while True:
        _fill_lonely_lines(grid, status, fixed)
        pinned = _pinned(grid, status, bounds)
        if not pinned:
            return status
        if not _hide_beside(grid, status, fixed, pinned[0]):
            raise DisclosureError(
                "a hidden count could still be worked out from what must be shown; publish this "
                "table at a coarser level"
            )


def _candidates(grid: np.ndarray, status: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """Entries that may be hidden now: shown, not exempt, not zero."""
    return (status == VISIBLE) & ~fixed & (grid > 0)


def _lines(shape: tuple[int, int]) -> list[tuple[int | slice, int | slice]]:
    rows, cols = shape
    return [(i, slice(None)) for i in range(rows)] + [(slice(None), j) for j in range(cols)]


def _fill_lonely_lines(grid: np.ndarray, status: np.ndarray, fixed: np.ndarray) -> None:
    """Give every row and column with exactly one hidden entry a second one, until stable."""
    changed = True
    while changed:
        changed = False
        for line in _lines(grid.shape):
            if np.count_nonzero(status[line]) != 1:
                continue
            choice = _best_in(grid, status, fixed, _line_cells(grid.shape, line))
            if choice is not None:
                status[choice] = HIDDEN
                changed = True


def _line_cells(shape: tuple[int, int], line: tuple[int | slice, int | slice]) -> list[
        tuple[int, int]]:
    i, j = line
    if isinstance(i, int):
        return [(i, c) for c in range(shape[1])]
    assert isinstance(j, int)
    return [(r, j) for r in range(shape[0])]


def _best_in(
    grid: np.ndarray, status: np.ndarray, fixed: np.ndarray, cells: list[tuple[int, int]]
) -> tuple[int, int] | None:
    """The cheapest entry to hide among `cells`: body before totals, then no new lonely line,
    then the smallest count."""
    allowed = _candidates(grid, status, fixed)
    last_row, last_col = grid.shape[0] - 1, grid.shape[1] - 1

    def cost(cell: tuple[int, int]) -> tuple[bool, bool, int, tuple[int, int]]:
        r, c = cell
        is_total = r == last_row or c == last_col
        opens_row = np.count_nonzero(status[r, :]) == 0
        opens_col = np.count_nonzero(status[:, c]) == 0
        return (is_total, opens_row or opens_col, int(grid[cell]), cell)

    options = [cell for cell in cells if allowed[cell]]
    return min(options, key=cost) if options else None


def _hide_beside(
    grid: np.ndarray, status: np.ndarray, fixed: np.ndarray, cell: tuple[int, int]
) -> bool:
    """Hide one more entry in the row or column of a recoverable one (or anywhere, if none)."""
    r, c = cell
    near = _line_cells(grid.shape, (r, slice(None))) + _line_cells(grid.shape, (slice(None), c))
    choice = _best_in(grid, status, fixed, near)
    if choice is None:
        everywhere = [(i, j) for i in range(grid.shape[0]) for j in range(grid.shape[1])]
        choice = _best_in(grid, status, fixed, everywhere)
    if choice is None:
        return False
    status[choice] = HIDDEN
    return True


# ---- the attack --------------------------------------------------------------------------------


def _pinned(grid: np.ndarray, status: np.ndarray, bounds: _Bounds) -> list[tuple[int, int]]:
    """Hidden entries a reader could work out exactly from the totals and the markers.

    The reader knows every shown entry, that each row and column adds up to its total, that a
    "<T" lies in [primary_low, T-1] and that a "[c]" is at least T. Each hidden entry is an
    edge between its row and its column; the table's equations allow exactly the changes that
    add and subtract the same amount around a cycle of such edges (counting a total with the
    opposite sign, since it moves with its line rather than against it). A hidden entry can be
    worked out exactly when no such cycle through it can move a little in either direction
    without taking some entry outside what the reader knows. This is exact: the equations
    form a network matrix, so every feasible change is a sum of such cycles.
    """
    rows, cols = grid.shape
    hidden = [(int(r), int(c)) for r, c in zip(*np.nonzero(status), strict=True)]
    up: dict[tuple[int, int], bool] = {}
    down: dict[tuple[int, int], bool] = {}
    for cell in hidden:
        low, high = _known_range(status[cell], bounds)
        value = int(grid[cell])
        sign = -1 if (cell[0] == rows - 1) != (cell[1] == cols - 1) else 1
        rises, falls = value < high, value > low
        up[cell], down[cell] = (rises, falls) if sign == 1 else (falls, rises)
    # Nodes: rows 0..rows-1, then columns as rows..rows+cols-1. An arc row→col raises the
    # signed entry; col→row lowers it.
    arcs: dict[int, list[tuple[int, tuple[int, int]]]] = {}
    for (r, c) in hidden:
        if up[(r, c)]:
            arcs.setdefault(r, []).append((rows + c, (r, c)))
        if down[(r, c)]:
            arcs.setdefault(rows + c, []).append((r, (r, c)))
    pinned = []
    for (r, c) in hidden:
        raise_it = up[(r, c)] and _reaches(arcs, rows + c, r, (r, c))
        lower_it = down[(r, c)] and _reaches(arcs, r, rows + c, (r, c))
        if not (raise_it or lower_it):
            pinned.append((r, c))
    return pinned


def _known_range(state: int, bounds: _Bounds) -> tuple[float, float]:
    if state == PRIMARY:
        return bounds.primary_low, bounds.primary_high
    return bounds.secondary_low, np.inf


def _reaches(
    arcs: dict[int, list[tuple[int, tuple[int, int]]]], start: int, goal: int,
    without: tuple[int, int],
) -> bool:
    seen, frontier = {start}, [start]
    while frontier:
        node = frontier.pop()
        if node == goal:
            return True
        for nxt, cell in arcs.get(node, []):
            if cell != without and nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return False


# ---- display -----------------------------------------------------------------------------------


def _display(grid: np.ndarray, status: np.ndarray, threshold: int) -> np.ndarray:
    shown = np.empty(grid.shape, dtype=object)
    for cell, value in np.ndenumerate(grid):
        if status[cell] == PRIMARY:
            shown[cell] = f"<{threshold}"
        elif status[cell] == HIDDEN:
            shown[cell] = SECONDARY
        else:
            shown[cell] = f"{int(value):,}"
    return shown


def _frame(
    shown: np.ndarray, counts: pd.DataFrame, value_col: str, has_cols: bool, with_totals: bool
) -> pd.DataFrame:
    index = _append_total(counts.index)
    columns = _append_total(counts.columns) if has_cols else pd.Index([value_col, TOTAL])
    frame = pd.DataFrame(shown, index=index, columns=columns)
    if not has_cols:
        frame = frame.iloc[:, :1]
    elif not with_totals:
        frame = frame.iloc[:, :-1]
    return frame if with_totals else frame.iloc[:-1]


def _append_total(labels: pd.Index) -> pd.Index:
    if isinstance(labels, pd.MultiIndex):
        total = (TOTAL,) + ("",) * (labels.nlevels - 1)
        return labels.append(pd.MultiIndex.from_tuples([total], names=labels.names))
    return pd.Index([*labels, TOTAL], name=labels.name)
