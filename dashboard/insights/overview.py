"""The board overview put together: every figure, chart line and table the board page and its
board pack show for one period and area, including the weekly table and the pack's notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy.orm import Session

from campaigns.analysis.disclosure import TOTAL
from campaigns.formats.reports.values import ALL, OFFENCES
from campaigns.storage.users import Viewer
from dashboard.insights.awareness import windows_in
from dashboard.insights.effect_estimates import windows as event_windows
from dashboard.insights.freshness import freshness
from dashboard.insights.headline import Figure, headline, sandbox_note, sandbox_only
from dashboard.insights.networks import network_reach
from dashboard.insights.partners import campaign_reach, contribution, contribution_summary
from dashboard.insights.periods import Period, ended_weeks, local_today, week_key
from dashboard.insights.reach import (
    by_campaign,
    by_network,
    by_organisation,
    reach_lines,
    reach_rows,
    reach_summary,
    weekly_reach,
)
from dashboard.insights.reports import (
    report_lines,
    reports_summary,
    suppressed_reports,
    weekly_reports,
)
from dashboard.insights.story import Totals, Window, notice, period_line, summary
from dashboard.queries import SYNTHETIC_LABEL

# ---- the weekly table -------------------------------------------------------------------------


def weekly_table(
    weekly: pd.DataFrame, shown: pd.DataFrame | None, windows: pd.DataFrame, synthetic: bool
) -> pd.DataFrame:
    """The numbers behind the weekly charts, one row a week and a total: reach, the
    awareness events of the week and (under disclosure control) the reports."""
    table = weekly.assign(week=weekly["week"].map(week_key))
    if not table["sandbox impressions"].any() and not table["sandbox posts"].any():
        table = table.drop(columns=["sandbox posts", "sandbox impressions",
                                    "sandbox engagements"])
    totals = table.drop(columns="week").sum()
    table = pd.concat([table, pd.DataFrame([{"week": TOTAL, **totals}])], ignore_index=True)
    table.insert(1, "awareness events", [_events_in_week(w, windows) for w in table["week"]])
    if shown is not None:
        table = table.merge(shown.reset_index(), on="week", how="left").fillna("")
        if synthetic:
            table["synthetic"] = SYNTHETIC_LABEL
    return table


def _events_in_week(week: str, windows: pd.DataFrame) -> str:
    if week == TOTAL or windows.empty:
        return ""
    monday = date.fromisoformat(week)
    found = windows_in(windows, monday, monday + timedelta(days=6))
    return "; ".join(f"{n} {y}" for n, y in zip(found["name"], found["year"], strict=True))


# ---- the board overview -----------------------------------------------------------------------


@dataclass(frozen=True)
class BoardOverview:
    period: Period
    area: str | None
    threshold: int
    figures: list[Figure]
    sandbox_note: str
    synthetic: bool
    weekly: pd.DataFrame
    reach_lines: pd.DataFrame
    report_lines: pd.DataFrame | None
    windows: pd.DataFrame
    reach_summary: str
    reports_summary: str
    partners: pd.DataFrame
    partners_summary: str
    networks: pd.DataFrame
    campaigns: pd.DataFrame
    freshness: pd.DataFrame
    totals: Totals
    today: date

    @property
    def period_line(self) -> str:
        return period_line(self.period, self.today)

    @property
    def story(self) -> list[str]:
        """The plain sentences under the headline figures."""
        windows = [Window(f"{n} {y}", s, e) for n, y, s, e in zip(
            self.windows["name"], self.windows["year"], self.windows["start"],
            self.windows["end"], strict=True)] if not self.windows.empty else []
        return summary(self.totals, windows=windows, today=self.today)

    @property
    def notice(self) -> str:
        """The page's one notice on sandbox or synthetic figures ('' if all are real)."""
        return notice(synthetic_area=self.area if self.synthetic else None,
                      sandbox_note=self.sandbox_note)

    @property
    def weekly_summary(self) -> str:
        return " ".join(s for s in (self.reach_summary, self.reports_summary) if s)

    @property
    def notices(self) -> list[str]:
        """What a reader of the board pack must know about the figures' origin."""
        synthetic = (f"{SYNTHETIC_LABEL}: the reporting figures for {self.area} come from a "
                     "synthetic demo file and say nothing about real reporting."
                     if self.synthetic else "")
        disclosure = (f"Disclosure control: report counts under {self.threshold}, and others "
                      "that would give them away, are not shown ('<"
                      f"{self.threshold}', '[c]') in any table or chart of reports."
                      if self.area is not None else "")
        return [n for n in (synthetic, self.sandbox_note, disclosure) if n]

    @property
    def figures_table(self) -> pd.DataFrame:
        """The headline figures as a table, for the board pack."""
        return pd.DataFrame(
            [{"figure": f.label, "value": f.value, "change": f.delta or "", "about": f.help}
             for f in self.figures])


def totals(
    reach: pd.DataFrame, reports: pd.DataFrame | None, period: Period, area: str | None,
    threshold: int,
) -> Totals:
    """The totals the headline figures and the story are written from (reach and reports of
    both periods, as `board_overview` reads them)."""
    prefix = "sandbox " if sandbox_only(reach) else ""
    now = reach[reach["week"] >= pd.Timestamp(period.first_week)]
    before = reach[reach["week"] < pd.Timestamp(period.first_week)]
    found: dict[str, object] = {}
    if reports is not None:
        offences = reports[(reports["strand"] == ALL) & (reports["measure"] == OFFENCES)]
        inside = offences["week"] >= pd.Timestamp(period.first_week)
        if inside.any():
            found = {"reports": int(offences.loc[inside, "count"].sum()),
                     "reports_before": int(offences.loc[~inside, "count"].sum()),
                     "report_weeks": int(inside.sum()),
                     "report_weeks_before": int((~inside).sum())}
    return Totals(
        weeks=period.weeks, posts=int(now[f"{prefix}posts"].sum()),
        impressions=int(now[f"{prefix}impressions"].sum()),
        engagements=int(now[f"{prefix}engagements"].sum()),
        impressions_before=int(before[f"{prefix}impressions"].sum()),
        sandbox_only=bool(prefix), area=area, threshold=threshold,
        synthetic=bool(reports is not None and reports["synthetic"].any()),
        **found)  # type: ignore[arg-type]


def board_overview(
    *, session: Session, viewer: Viewer, period: Period, area: str | None, zone: str,
    threshold: int, today: date | None = None,
) -> BoardOverview:
    """Everything the board page shows for `period` and `area`. Report counts are those of
    weeks that have ended by `today` (default: today in `zone`): a week still going on has no
    final figure, and none is dated in the future."""
    today = today if today is not None else local_today(zone)
    both = Period(period.previous().first_week, 2 * period.weeks)
    rows = reach_rows(session=session, viewer=viewer, period=both, zone=zone)
    reach = weekly_reach(rows, both)
    reports = (ended_weeks(weekly_reports(session=session, area=area, first=both.first_week,
                                          last=period.last_day), today)
               if area is not None else None)
    current = reach[reach["week"] >= pd.Timestamp(period.first_week)].reset_index(drop=True)
    years = range(period.first_week.year - 1, period.last_day.year + 1)
    windows = windows_in(event_windows(session=session, viewer=viewer, years=years),
                         period.first_week, period.last_day)
    shown = None
    if reports is not None:
        now = reports[reports["week"] >= pd.Timestamp(period.first_week)]
        shown = suppressed_reports(now, threshold)
    partners = contribution(by_organisation(rows, period))
    synthetic = bool(reports is not None and reports["synthetic"].any())
    return BoardOverview(
        period=period, area=area, threshold=threshold,
        figures=headline(reach, reports, period, threshold),
        sandbox_note=sandbox_note(reach, period), synthetic=synthetic,
        weekly=weekly_table(current, shown, windows, synthetic),
        reach_lines=reach_lines(current),
        report_lines=report_lines(shown) if shown is not None else None,
        windows=windows,
        reach_summary=reach_summary(current, period),
        reports_summary=(reports_summary(shown, area, threshold)
                         if shown is not None and area is not None else ""),
        partners=partners, partners_summary=contribution_summary(partners),
        networks=network_reach(by_network(rows, period)),
        campaigns=campaign_reach(by_campaign(rows, period)),
        freshness=freshness(session=session, zone=zone, area=area, today=today),
        totals=totals(reach, reports, period, area, threshold), today=today,
    )
