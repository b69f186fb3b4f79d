"""Disclosure control: small counts hidden, and nothing hidden can be worked out from the rest.

The attacker here is written independently of the library's own check: it reads only the
published strings, sets up the row and column equations with what the markers say, and solves
a pair of linear programmes per hidden entry for the least and greatest value it could take.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from campaigns.analysis.disclosure import SECONDARY, DisclosureError, suppress

T = 5


def long_table(cells: np.ndarray) -> pd.DataFrame:
    rows, cols = cells.shape
    return pd.DataFrame(
        [(f"r{i}", f"c{j}", int(cells[i, j])) for i in range(rows) for j in range(cols)],
        columns=["area", "strand", "count"],
    )


def publish(cells: np.ndarray, **options: object) -> pd.DataFrame:
    return suppress(long_table(cells), "count", row_dims=["area"], col_dims=["strand"],
                    **options)  # type: ignore[arg-type]


def truth_with_margins(cells: np.ndarray) -> np.ndarray:
    rows = np.column_stack([cells, cells.sum(axis=1)])
    return np.vstack([rows, rows.sum(axis=0)])


# ---- the attacker ------------------------------------------------------------------------------


def known_bounds(text: str, threshold: int, zeros_shown: bool) -> tuple[float, float | None]:
    """What a reader knows of one published entry."""
    if text == f"<{threshold}":
        return (1 if zeros_shown else 0), threshold - 1
    if text == SECONDARY:
        return threshold, None  # anything smaller would have been "<T"
    value = float(text.replace(",", ""))
    return value, value


def attack(
    published: pd.DataFrame, threshold: int = T, zeros_shown: bool = False
) -> dict[tuple[int, int], tuple[float, float]]:
    """The range each hidden entry could take, given the published table with its margins."""
    grid = published.to_numpy()
    rows, cols = grid.shape
    hidden = [(i, j) for i in range(rows) for j in range(cols)
              if grid[i, j] in (f"<{threshold}", SECONDARY)]
    index = {cell: k for k, cell in enumerate(hidden)}
    bounds = [known_bounds(grid[cell], threshold, zeros_shown) for cell in hidden]
    equations, targets = [], []
    lines = [[(i, j) for j in range(cols)] for i in range(rows)]
    lines += [[(i, j) for i in range(rows)] for j in range(cols)]
    for line in lines:  # body entries minus the line's total (the last entry) = 0
        coefficients, constant = np.zeros(len(hidden)), 0.0
        for position, cell in enumerate(line):
            sign = -1.0 if position == len(line) - 1 else 1.0
            if cell in index:
                coefficients[index[cell]] += sign
            else:
                constant += sign * known_bounds(grid[cell], threshold, zeros_shown)[0]
        if coefficients.any():
            equations.append(coefficients)
            targets.append(-constant)
    ranges = {}
    for cell, k in index.items():
        objective = np.zeros(len(hidden))
        objective[k] = 1.0
        low = linprog(objective, A_eq=equations, b_eq=targets, bounds=bounds)
        high = linprog(-objective, A_eq=equations, b_eq=targets, bounds=bounds)
        assert low.status == 0, "the published table contradicts what its markers say"
        ranges[cell] = (low.fun, np.inf if high.status == 3 else -high.fun)
    return ranges


def deduce_by_subtraction(published: pd.DataFrame) -> set[tuple[int, int]]:
    """The simple attack: a line with one unknown gives it away; repeat until nothing new."""
    grid = published.to_numpy()
    rows, cols = grid.shape
    known = {(i, j): float(grid[i, j].replace(",", "")) for i in range(rows) for j in range(cols)
             if grid[i, j] not in (f"<{T}", SECONDARY)}
    recovered: set[tuple[int, int]] = set()
    lines = [[(i, j) for j in range(cols)] for i in range(rows)]
    lines += [[(i, j) for i in range(rows)] for j in range(cols)]
    progress = True
    while progress:
        progress = False
        for line in lines:
            unknown = [cell for cell in line if cell not in known]
            if len(unknown) == 1:
                body, total = line[:-1], line[-1]
                cell = unknown[0]
                if cell == total:
                    known[cell] = sum(known[c] for c in body)
                else:
                    known[cell] = known[total] - sum(known[c] for c in body if c != cell)
                recovered.add(cell)
                progress = True
    return recovered


def random_table(rng: np.random.Generator) -> np.ndarray:
    rows, cols = rng.integers(2, 7, size=2)
    small = rng.poisson(2.0, size=(rows, cols))
    large = rng.poisson(25.0, size=(rows, cols))
    return np.where(rng.random((rows, cols)) < rng.uniform(0.2, 0.7), small, large)


# ---- the adversarial test ----------------------------------------------------------------------


def test_the_attacker_does_recover_a_cell_from_primary_suppression_alone() -> None:
    # Only the 3 hidden: its row total and the other cells give it away at once.
    published = pd.DataFrame([["<5", "40", "43"], ["20", "30", "50"], ["23", "70", "93"]])
    assert deduce_by_subtraction(published) >= {(0, 0)}
    assert attack(published)[(0, 0)] == (3, 3)


@pytest.mark.parametrize("show_zeros", [False, True])
def test_no_hidden_count_can_be_worked_out_from_random_tables(show_zeros: bool) -> None:
    rng = np.random.default_rng(20240517 + show_zeros)
    checked = hidden_total = 0
    for _ in range(120):
        cells = random_table(rng)
        try:
            published = publish(cells, show_zeros=show_zeros)
        except DisclosureError:
            continue  # only possible with shown zeros; asserted rare below
        truth = truth_with_margins(cells)
        grid = published.to_numpy()
        for cell, text in np.ndenumerate(grid):
            if text == f"<{T}":
                assert truth[cell] < T and (truth[cell] > 0 or not show_zeros)
            elif text == SECONDARY:
                assert truth[cell] >= T
            else:
                assert int(text.replace(",", "")) == truth[cell]
                assert truth[cell] >= T or (show_zeros and truth[cell] == 0)
        assert not deduce_by_subtraction(published)
        for cell, (low, high) in attack(published, zeros_shown=show_zeros).items():
            assert low <= truth[cell] <= high
            assert high - low >= 1, f"hidden entry {cell} pinned to {low} in\n{published}"
            hidden_total += 1
        checked += 1
    assert checked >= 110
    assert hidden_total > 500  # the tables were small enough to need plenty of suppression


# ---- the rules, one by one ---------------------------------------------------------------------


def test_counts_under_the_threshold_and_zeros_are_shown_as_less_than_five() -> None:
    cells = np.array([[0, 30, 40], [20, 25, 35], [22, 18, 3]])
    published = publish(cells)
    assert published.loc["r0", "c0"] == "<5"
    assert published.loc["r2", "c2"] == "<5"
    assert (published == SECONDARY).to_numpy().sum() >= 2


def test_zeros_can_be_shown_as_zero() -> None:
    cells = np.array([[0, 30, 40], [20, 25, 35], [22, 18, 30]])
    published = publish(cells, show_zeros=True)
    assert published.loc["r0", "c0"] == "0"
    assert not published.isin(["<5", SECONDARY]).to_numpy().any()


def test_the_threshold_is_configurable() -> None:
    cells = np.array([[7, 30, 40], [20, 25, 35], [22, 18, 30]])
    published = publish(cells, threshold=10)
    assert published.loc["r0", "c0"] == "<10"
    assert publish(cells).loc["r0", "c0"] == "7"


def test_a_table_with_no_small_counts_is_published_whole_with_totals() -> None:
    cells = np.array([[12, 30], [20, 1250]])
    published = publish(cells)
    assert published.loc["r1", "c1"] == "1,250"
    assert published.loc["Total", "Total"] == "1,312"
    assert list(published.columns) == ["c0", "c1", "Total"]


def test_a_lone_small_count_takes_the_smallest_other_cells_with_it() -> None:
    cells = np.array([[3, 50, 9, 40], [60, 70, 80, 90], [11, 65, 75, 85]])
    published = publish(cells)
    assert published.loc["r0", "c0"] == "<5"
    assert published.loc["r0", "c2"] == SECONDARY  # 9, the smallest other count in its row
    assert published.loc["r2", "c0"] == SECONDARY  # 11, the smallest other in its column
    assert published.loc["r2", "c2"] == SECONDARY  # closes the rectangle
    assert (published == SECONDARY).to_numpy().sum() == 3


def test_knowing_hidden_cells_are_at_least_one_is_not_enough_to_recover_them() -> None:
    # With zeros shown, two "<5" in a row that add up to 2 must both be 1; the line rule alone
    # leaves them so, and the check for recoverable cells hides one more in that row.
    cells = np.array([[1, 1, 40, 50], [30, 35, 45, 55], [32, 38, 47, 60]])
    published = publish(cells, show_zeros=True)
    row = published.loc["r0"]
    assert (row.isin(["<5", SECONDARY])).sum() >= 3
    ranges = attack(published, zeros_shown=True)
    assert all(high - low >= 1 for low, high in ranges.values())


def test_totals_can_be_left_off_but_are_still_protected() -> None:
    cells = np.array([[3, 50, 9], [60, 70, 80]])
    bare = publish(cells, with_totals=False)
    assert list(bare.columns) == ["c0", "c1", "c2"] and list(bare.index) == ["r0", "r1"]
    full = publish(cells)
    assert (bare == full.iloc[:-1, :-1]).to_numpy().all()


def test_a_table_of_force_level_annual_totals_is_exempt() -> None:
    cells = np.array([[3, 50], [0, 70]])
    published = publish(cells, exempt="table")
    assert published.loc["r0", "c0"] == "3" and published.loc["r1", "c0"] == "0"


def test_exempt_row_totals_are_always_shown_and_the_cells_protected_around_them() -> None:
    cells = np.array([[3, 50, 20], [2, 70, 30], [40, 60, 25]])
    published = publish(cells, exempt="row-totals")
    assert list(published["Total"]) == ["73", "102", "125", "300"]
    assert all(high - low >= 1 for low, high in attack(published).values())


def test_a_breakdown_that_an_exempt_total_gives_away_is_refused() -> None:
    # A force total of 8 split into two counts under 5: both must be 4.
    cells = np.array([[4, 4], [60, 70]])
    with pytest.raises(DisclosureError, match="coarser"):
        publish(cells, exempt="row-totals", show_zeros=True)


def test_several_row_dimensions_make_a_multi_level_index_with_a_total_row() -> None:
    table = pd.DataFrame({
        "area": ["A", "A", "B", "B"], "year": [2024, 2025, 2024, 2025],
        "strand": ["race"] * 4, "count": [10, 3, 12, 14],
    })
    published = suppress(table, "count", row_dims=["area", "year"], col_dims=["strand"])
    assert published.index[-1] == ("Total", "")
    assert published.loc[("A", 2025), "race"] == "<5"


def test_a_one_way_table_has_a_total_row_only() -> None:
    table = pd.DataFrame({"strand": ["race", "religion", "disability"], "count": [40, 3, 12]})
    published = suppress(table, "count", row_dims=["strand"], col_dims=[])
    assert list(published.columns) == ["count"]
    assert published.loc["religion", "count"] == "<5"
    assert published.loc["disability", "count"] == SECONDARY
    assert published.loc["Total", "count"] == "55"


def test_rows_with_the_same_keys_are_added_and_missing_ones_count_as_zero() -> None:
    table = pd.DataFrame({
        "area": ["A", "A", "B"], "strand": ["race", "race", "religion"], "count": [30, 20, 40],
    })
    published = suppress(table, "count", row_dims=["area"], col_dims=["strand"],
                         show_zeros=True)
    assert published.loc["A", "race"] == "50"
    assert published.loc["A", "religion"] == "0"


def test_negative_or_fractional_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="whole numbers"):
        suppress(pd.DataFrame({"a": ["x"], "b": ["y"], "n": [1.5]}), "n", row_dims=["a"],
                 col_dims=["b"])
