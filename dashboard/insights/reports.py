"""Weekly hate-crime report counts for one area, and the same under disclosure control: the
table, the chart's lines and the summary the board may see.

Report counts are added up in SQL by week, strand and measure (over sources) for one area. Any
table of them finer than force-level annual totals goes through disclosure control
(campaigns.analysis.disclosure.suppress) before it is shown, and a chart of them draws only
what that table shows.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from campaigns.analysis.disclosure import TOTAL, suppress
from campaigns.formats.reports.values import ALL, MOTIVATING_FACTORS, OFFENCES, STRANDS
from campaigns.storage.models import ReportCount, ReportDataset
from dashboard.insights.periods import long_date, week_key

# ---- reports (SQL) ----------------------------------------------------------------------------


def _is_week(start: date, end: date) -> bool:
    return start.weekday() == 0 and (end - start).days == 6


def reporting_areas(*, session: Session) -> list[str]:
    """Areas with weekly offence counts, the one with the most weeks first."""
    query = (select(ReportCount.area, ReportCount.period_start, ReportCount.period_end)
             .where(ReportCount.strand == ALL, ReportCount.measure == OFFENCES).distinct())
    weeks: dict[str, int] = {}
    for area, start, end in session.execute(query):
        if _is_week(start, end):
            weeks[area] = weeks.get(area, 0) + 1
    return sorted(weeks, key=lambda a: (-weeks[a], a))


REPORT_COLUMNS = ("week", "strand", "measure", "count", "sources", "synthetic")


def weekly_reports(
    *, session: Session, area: str, first: date | None = None, last: date | None = None,
    offences_only: bool = False,
) -> pd.DataFrame:
    """Weekly report counts for `area`, added up over sources in SQL.

    One row per week (a Monday, between `first` and `last` when given), strand and measure:
    `count`, `sources` (how many sources gave a figure) and `synthetic` (some of it comes from
    a synthetic file). Periods that are not single weeks (months, years) are left out.
    """
    rc = ReportCount
    synthetic = func.max(case((ReportDataset.synthetic, 1), else_=0))
    query = (select(rc.period_start, rc.period_end, rc.strand, rc.measure, func.sum(rc.count),
                    func.count(func.distinct(rc.source)), synthetic)
             .join(ReportDataset, rc.dataset_id == ReportDataset.id)
             .where(rc.area == area)
             .group_by(rc.period_start, rc.period_end, rc.strand, rc.measure)
             .order_by(rc.period_start))
    if first is not None:
        query = query.where(rc.period_start >= first)
    if last is not None:
        query = query.where(rc.period_start <= last)
    if offences_only:
        query = query.where(rc.strand == ALL, rc.measure == OFFENCES)
    rows = [(pd.Timestamp(start), strand, measure, int(total), int(sources), bool(flag))
            for start, end, strand, measure, total, sources, flag in session.execute(query)
            if _is_week(start, end)]
    frame = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    return frame.astype({"week": "datetime64[ns]", "count": "int64", "sources": "int64",
                         "synthetic": bool})


# ---- reports under disclosure control (pure) --------------------------------------------------


STRAND_NAMES = {"race": "race", "religion": "religion", "sexual-orientation": "sexual orientation",
                "disability": "disability", "transgender": "transgender"}
OFFENCES_SERIES = "offences (all strands)"


def suppressed_reports(reports: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Weekly offences and motivating factors by strand, as strings safe to publish.

    One row per week with figures (keyed 'YYYY-MM-DD'), then 'Total': offences (all strands),
    each strand and the total of motivating factors, after primary and secondary suppression.
    Offences and strands are protected as two tables: one offence can have several motivating
    factors, so they do not add up to each other.
    """
    columns = [OFFENCES_SERIES, *STRAND_NAMES.values(), "motivating factors"]
    if reports.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="week"))
    keyed = reports.assign(week=reports["week"].map(week_key))
    offences = keyed[(keyed["strand"] == ALL) & (keyed["measure"] == OFFENCES)]
    strands = keyed[(keyed["measure"] == MOTIVATING_FACTORS) & keyed["strand"].isin(STRANDS)]
    parts = []
    if not offences.empty:
        shown = suppress(offences, "count", threshold=threshold, row_dims=["week"], col_dims=[])
        parts.append(shown.set_axis([OFFENCES_SERIES], axis=1))
    if not strands.empty:
        shown = suppress(strands, "count", threshold=threshold, row_dims=["week"],
                         col_dims=["strand"])
        named = {**STRAND_NAMES, TOTAL: "motivating factors"}
        parts.append(shown.rename(columns=named))
    table = pd.concat(parts, axis=1) if parts else pd.DataFrame()
    table.columns.name = None
    table.index.name = "week"
    return table.reindex(columns=columns).fillna("")


def shown_number(text: str) -> float:
    """A published figure as a number; NaN where it is hidden ('<5', '[c]') or absent."""
    cleaned = text.replace(",", "")
    return float(cleaned) if cleaned.isdigit() else float("nan")


def report_lines(shown: pd.DataFrame) -> pd.DataFrame:
    """Long form of `suppressed_reports` for the chart: week, series, count (NaN if hidden)."""
    weekly = shown.drop(index=TOTAL, errors="ignore").drop(columns="motivating factors")
    if weekly.empty:
        return pd.DataFrame({"week": pd.Series(dtype="datetime64[ns]"),
                             "series": pd.Series(dtype=object), "count": pd.Series(dtype=float)})
    long = weekly.reset_index().melt(id_vars="week", var_name="series", value_name="shown")
    long = long[long["shown"] != ""]
    return pd.DataFrame({"week": pd.to_datetime(long["week"]), "series": long["series"],
                         "count": long["shown"].map(shown_number)}).reset_index(drop=True)


def reports_summary(shown: pd.DataFrame, area: str, threshold: int) -> str:
    if shown.empty or OFFENCES_SERIES not in shown.columns:
        return f"There are no weekly reporting figures for {area} in these weeks."
    weeks = len(shown) - 1
    total = shown.loc[TOTAL, OFFENCES_SERIES] or "no figure"
    numbers = shown.drop(index=TOTAL)[OFFENCES_SERIES].map(shown_number)
    busiest = (f"; the busiest week was that of "
               f"{long_date(date.fromisoformat(str(numbers.idxmax())))}"
               f" ({int(numbers.max())})" if numbers.notna().any() else "")
    return (f"In {area}, {total} hate crime offences were reported in the {weeks} weeks with "
            f"figures, all sources added together{busiest}. Lines show offences and, for each "
            f"strand, the motivating factors (one offence can have several). Counts under "
            f"{threshold}, and others that would give them away, are hidden in the chart and "
            "the table, so some lines have gaps.")
