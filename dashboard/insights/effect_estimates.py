"""The estimated effect of each awareness window on weekly offences reported, with its caveats
in plain English; estimates are fitted once and stored under the fingerprint of their figures."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.formats.reports.values import ALL, OFFENCES
from campaigns.storage.models import Campaign, Event, ReportCount, ReportDataset
from campaigns.storage.users import BOARD, Viewer
from dashboard.insights.awareness import campaigns_by_event, event_windows
from dashboard.insights.periods import DEFAULT_ZONE, ended_weeks, local_today, long_date
from dashboard.insights.reports import reporting_areas, weekly_reports
from dashboard.queries import SYNTHETIC_LABEL

#: A window shorter than this share of a week cannot be seen in weekly figures.
MIN_EXPOSURE_WEEKS = 1.0
#: Each window is fitted on the weeks from three years before it to one year after: enough
#: for the seasonal pattern (two years before are needed for it to be well known), and short
#: enough that a straight-line trend is a fair description of the reporting rate.
SPAN_BEFORE = timedelta(weeks=156)
SPAN_AFTER = timedelta(weeks=52)
#: Windows this close to each other cannot be told apart by the model.
NEARBY = timedelta(weeks=4)
EFFECT_COLUMNS = ("event", "year", "dates", "Chorus campaign", "rate ratio", "change",
                  "95% interval (rate ratio)", "95% interval (change)", "p-value",
                  "weeks of figures", "what it shows", "figures")


# ---- results remembered in the process, under a fingerprint of what they are made from --------

#: How many results are kept (each area, year and day the board looks at is one).
REMEMBERED = 64
_remembered: OrderedDict[Hashable, Any] = OrderedDict()
_remembering = threading.Lock()


def _digest(parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


def calendar_fingerprint(session: Session) -> str:
    """A digest of what the awareness windows are made from: every event's definition and
    every campaign's event, year, name and withdrawal (a few hundred short rows at most; the
    tables have no time of change to compare instead). A new, changed or withdrawn campaign,
    or an edited event, gives a new digest."""
    campaigns = session.execute(
        select(Campaign.id, Campaign.key, Campaign.event_key, Campaign.year, Campaign.name,
               Campaign.withdrawn).order_by(Campaign.id)).all()
    events = session.execute(select(Event.id, Event.key, Event.name, Event.definition)
                             .order_by(Event.id)).all()
    return _digest([[list(r) for r in campaigns], [list(r) for r in events]])


def reports_fingerprint(session: Session) -> str:
    """A digest of the report counts: each dataset's id, file hash and time of import, and
    the counts' number, highest id and two sums (one scan of one table, no rows returned):
    an import, or a count changed in place, gives a new digest."""
    datasets = session.execute(
        select(ReportDataset.id, ReportDataset.file_hash, ReportDataset.imported_at,
               ReportDataset.rows, ReportDataset.synthetic).order_by(ReportDataset.id)).all()
    counts = session.execute(select(
        func.count(ReportCount.id), func.max(ReportCount.id),
        func.coalesce(func.sum(ReportCount.count), 0),
        func.coalesce(func.sum(ReportCount.count * ReportCount.id), 0))).one()
    return _digest([[list(r) for r in datasets], list(counts)])


def _database(session: Session) -> tuple[str, int]:
    """Which database a result was read from (its address and the engine in this process)."""
    bind = session.get_bind()
    return str(getattr(bind, "url", "")), id(bind)


def _recall(key: Hashable) -> Any:
    with _remembering:
        found = _remembered.get(key)
        if found is not None:
            _remembered.move_to_end(key)
        return found


def _remember(key: Hashable, value: Any) -> None:
    with _remembering:
        _remembered[key] = value
        _remembered.move_to_end(key)
        while len(_remembered) > REMEMBERED:
            _remembered.popitem(last=False)


def forget_remembered() -> None:
    """Drop every remembered result (they are never stale, only kept: this frees them)."""
    with _remembering:
        _remembered.clear()


def windows(
    *, session: Session, viewer: Viewer, years: Iterable[int], calendar: str | None = None
) -> pd.DataFrame:
    """`event_windows` for `years`, remembered under `calendar_fingerprint` (given, when the
    caller has it already): the windows are worked out from the calendar's rules once, not on
    every visit. A copy, so that a caller may change it."""
    calendar = calendar if calendar is not None else calendar_fingerprint(session)
    wanted = tuple(sorted(set(years)))
    key = ("windows", _database(session), calendar, wanted, viewer.sees_everything)
    found = _recall(key)
    if found is None:
        found = event_windows(session=session, viewer=viewer, years=wanted)
        _remember(key, found)
    return found.copy()


@dataclass(frozen=True)
class EffectResult:
    """One awareness window's estimated effect on weekly reports, or why there is none."""

    name: str
    year: int
    start: date
    end: date
    campaign: str
    estimate: Any = None  # campaigns.analysis.effect.EffectEstimate
    reason: str = ""
    notes: tuple[str, ...] = ()
    #: What the estimate was fitted on (campaigns.analysis.effect.fingerprint), and whether it
    #: was fitted just now rather than found already stored under it.
    fingerprint: str = ""
    fitted: bool = False
    #: The window had not ended on the day of the estimate: it is provisional, from the weeks
    #: so far, and is written in the present tense.
    ongoing: bool = False

    @property
    def label(self) -> str:
        return f"{self.name} {self.year}"

    @property
    def dates(self) -> str:
        return _dates(self.start, self.end)

    @property
    def caveats(self) -> list[str]:
        return [*(self.estimate.caveats if self.estimate is not None else []), *self.notes]

    def explanation(self) -> str:
        """The estimate in plain English, with no statistical terms (those are in
        `statistics`) and without its caveats (`caveats` lists them); in the present tense,
        and said to be provisional, while the window has not ended."""
        if self.campaign:
            verb = "is running" if self.ongoing else "ran"
            whose = f"The partnership's campaign {self.campaign} {verb} in this window."
        else:
            whose = (f"No campaign for {self.label} is recorded in Chorus: this asks only "
                     "whether reports moved during the event's dates.")
        if self.estimate is None:
            return f"{whose} No estimate: {self.reason}"
        return " ".join([whose, *plain_estimate(self.estimate, ongoing=self.ongoing)])

    def statistics(self) -> str:
        """The model and its figures, for the methods ('' without an estimate)."""
        e = self.estimate
        if e is None:
            return ""
        low, high = e.percent_ci
        p_value = "p < 0.001" if e.p_value < 0.001 else f"p = {e.p_value:.3f}"
        return (f"{self.label}: {e.model} A {e.family} model on {e.n_weeks} weeks of counts "
                f"({e.n_weeks_before} of them before the window, which counts as "
                f"{e.campaign_weeks:.1f} weeks). Rate ratio {e.rate_ratio:.2f}, "
                f"{round(e.confidence * 100)}% confidence interval {e.ci_low:.2f} to "
                f"{e.ci_high:.2f} (a change of {low:+.0f}% to {high:+.0f}%); {p_value}. "
                f"Dispersion {e.dispersion:.2f} (1 would be Poisson); lag-one "
                f"autocorrelation of the residuals {e.autocorrelation:.2f}, allowed for in "
                "the standard errors.")


def _compared(percent: float) -> str:
    if abs(percent) < 0.5:
        return "about the same as"
    return f"{abs(percent):.0f}% {'higher' if percent > 0 else 'lower'} than"


def plain_estimate(estimate: Any, *, ongoing: bool) -> list[str]:
    """What an estimate says, in sentences a board member reads without a statistics
    course: the change, the range it probably lies in, and whether it could be chance."""
    low, high = estimate.percent_ci
    window = _dates(estimate.intervention_start, estimate.intervention_end
                    or estimate.intervention_start)
    lead = "In these synthetic figures, " if estimate.synthetic else ""
    if ongoing:
        change = (f"{lead}so far in the campaign ({window}), weekly reports are an estimated "
                  f"{_compared(estimate.percent_change)} the trend and seasonal pattern of the "
                  "other weeks predict")
        first = ("The window has not ended, so this estimate is provisional: it uses only "
                 "the weeks that have ended so far, and will change as the rest come in.")
    else:
        change = (f"{lead}during the campaign ({window}), weekly reports were an estimated "
                  f"{_compared(estimate.percent_change)} the trend and seasonal pattern of the "
                  "other weeks would predict")
        first = ""
    likely = f"(most likely somewhere between {_between(low)} and {_between(high)})."
    if estimate.excludes_no_change:
        verdict = ("A change this large is unlikely to be chance alone, but that does not show "
                   "the campaign caused it.")
    else:
        verdict = ("That range includes no change at all, so these figures cannot tell the "
                   "campaign's effect from chance.")
    sentence = f"{change[:1].upper()}{change[1:]} {likely}"
    return [s for s in (first, sentence, verdict) if s]


def _between(percent: float) -> str:
    if abs(percent) < 0.5:
        return "no change"
    return f"{abs(percent):.0f}% {'higher' if percent > 0 else 'lower'}"


@dataclass(frozen=True)
class EffectYears:
    """The years whose awareness windows can be looked at, newest first, and the one to show
    first: the latest with a window that has figures around it."""

    years: list[int]
    default: int


def effect_years(
    *, session: Session, viewer: Viewer, area: str, today: date | None = None
) -> EffectYears | None:
    """The years of weekly figures (of weeks ended by `today`) for `area` and of the
    partnership's campaigns; None when `area` has no weekly offence counts."""
    today = _today(today)
    calendar = calendar_fingerprint(session)
    key = ("effect years", _database(session), reports_fingerprint(session), calendar, area,
           today, viewer.sees_everything)
    found = _recall(key)
    if found is None:
        found = _effect_years(session=session, viewer=viewer, area=area, today=today,
                              calendar=calendar)
        _remember(key, found or "none")
    return found if isinstance(found, EffectYears) else None


def _effect_years(
    *, session: Session, viewer: Viewer, area: str, today: date, calendar: str
) -> EffectYears | None:
    from campaigns.analysis.periods import MIN_BASELINE_WEEKS

    series = weekly_offences(ended_weeks(
        weekly_reports(session=session, area=area, offences_only=True), today))
    if series.empty:
        return None
    first, last = series["week"].min(), series["week"].max() + pd.Timedelta(days=6)
    campaigns = {year for _, year in campaigns_by_event(session, viewer)}
    years = sorted(set(range(first.year, last.year + 1)) | campaigns, reverse=True)
    found = windows(session=session, viewer=viewer, years=years, calendar=calendar)
    earliest = (first + pd.Timedelta(weeks=MIN_BASELINE_WEEKS)).date()
    measurable = found[(found["start"] >= earliest) & (found["end"] <= last.date())]
    default = int(measurable["year"].max()) if not measurable.empty else years[0]
    return EffectYears(years, default)


@dataclass(frozen=True)
class Effects:
    area: str
    year: int
    synthetic: bool
    results: tuple[EffectResult, ...]
    note: str
    table: pd.DataFrame = field(compare=False)

    @property
    def estimated(self) -> list[EffectResult]:
        return [r for r in self.results if r.estimate is not None]

    def result(self, label: str) -> EffectResult:
        return next(r for r in self.results if r.label == label)

    @property
    def default(self) -> int:
        """The position in `estimated` to explain first: the latest Chorus campaign's."""
        estimated = self.estimated
        with_campaign = [n for n, r in enumerate(estimated) if r.campaign]
        return with_campaign[-1] if with_campaign else max(len(estimated) - 1, 0)


def weekly_offences(reports: pd.DataFrame) -> pd.DataFrame:
    """The series `estimate_effect` takes: week, count (offences, all sources), sources."""
    offences = reports[(reports["strand"] == ALL) & (reports["measure"] == OFFENCES)]
    return offences[["week", "count", "sources"]].sort_values("week", ignore_index=True)


def local_series(series: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """The weeks a window is fitted on: SPAN_BEFORE before its start to SPAN_AFTER after."""
    first, last = pd.Timestamp(start - SPAN_BEFORE), pd.Timestamp(end + SPAN_AFTER)
    return series[series["week"].between(first, last)].reset_index(drop=True)


def _none_stored(_fingerprint: str) -> Any:
    return None


def estimate_effects(
    series: pd.DataFrame, windows: pd.DataFrame, *, synthetic: bool,
    neighbours: pd.DataFrame | None = None,
    stored: Callable[[str], Any] = _none_stored, today: date | None = None,
) -> list[EffectResult]:
    """An estimate for each window with enough figures around it; the reason for the others.

    `neighbours` are the windows (these and others) whose nearness is worth a caveat.
    `stored` gives the estimate already fitted on the same figures (by their fingerprint), or
    None; only the windows it has none for are fitted. A window that has not ended by
    `today` (when given) is marked `ongoing`.
    """
    from campaigns.analysis.effect import estimate_effect, fingerprint
    from campaigns.analysis.periods import campaign_exposure

    nearby = windows if neighbours is None else neighbours
    results = []
    for window in windows.to_dict("records"):
        start, end = window["start"], window["end"]
        base = EffectResult(window["name"], int(window["year"]), start, end,
                            window["campaign"], ongoing=today is not None and end >= today)
        local = local_series(series, start, end)
        weeks = pd.DatetimeIndex(local["week"])
        exposure = float(campaign_exposure(weeks, start, end).sum()) if len(weeks) else 0.0
        days = (end - start).days + 1
        if exposure == 0 and not window["campaign"]:
            continue  # an event year outside the figures, with no campaign to account for
        if exposure == 0:
            when = ("before the first weekly figures" if len(series) and
                    pd.Timestamp(end) < series["week"].min() else "yet")
            results.append(replace(base, reason=f"there are no weekly figures for these dates "
                                                f"{when}."))
            continue
        if days < 7 * MIN_EXPOSURE_WEEKS:
            results.append(replace(base, reason=f"the event lasts {days} day(s); weekly "
                                                "figures cannot show the effect of so short a "
                                                "window."))
            continue
        key = fingerprint(local, start, end, synthetic=synthetic)
        estimate = stored(key)
        fitted = estimate is None
        if estimate is None:
            try:
                estimate = estimate_effect(local, start, end, synthetic=synthetic)
            except ValueError as exc:
                results.append(replace(base, reason=_sentence(str(exc))))
                continue
        notes = [*_coverage_note(exposure, days), *_nearby_note(window, nearby),
                 *_sources_note(local)]
        results.append(replace(base, estimate=estimate, notes=tuple(notes), fingerprint=key,
                               fitted=fitted))
    return results


def _dates(start: date, end: date) -> str:
    return long_date(start) if start == end else f"{long_date(start)} to {long_date(end)}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _coverage_note(exposure: float, days: int) -> list[str]:
    covered = round(exposure * 7)
    if covered >= days:
        return []
    return [f"Figures cover only {covered} of the window's {days} days."]


def _nearby_note(window: dict[str, Any], windows: pd.DataFrame) -> list[str]:
    start, end = window["start"], window["end"]
    near = windows[(windows["start"] <= end + NEARBY) & (windows["end"] >= start - NEARBY)
                   & ~((windows["event"] == window["event"]) & (windows["year"] == window["year"]))]
    if near.empty:
        return []
    listed = ", ".join(f"{n} {y} ({_dates(s, e)})" for n, y, s, e in
                       zip(near["name"], near["year"], near["start"], near["end"], strict=True))
    return [f"Other awareness events fall within four weeks of this window: {listed}. Any "
            "effect of theirs that lasts beyond their dates counts here as ordinary weeks or "
            "as this window's effect; the model cannot tell them apart."]


def _sources_note(series: pd.DataFrame) -> list[str]:
    if series.empty or series["sources"].nunique() <= 1:
        return []
    return [f"Not every week has figures from every source (from {series['sources'].min()} "
            f"to {series['sources'].max()} sources a week), which moves the totals whatever "
            "the campaigns did."]


def effect_table(results: Sequence[EffectResult], synthetic: bool) -> pd.DataFrame:
    rows = []
    for r in results:
        e = r.estimate
        row = {"event": r.name, "year": r.year, "dates": r.dates,
               "Chorus campaign": r.campaign or "none recorded",
               "figures": SYNTHETIC_LABEL if synthetic else ""}
        if e is None:
            rows.append({**row, "what it shows": f"Not estimated: {r.reason}"})
            continue
        shows = (f"so far (the window has not ended; provisional): {_verdict(e)}"
                 if r.ongoing else _verdict(e))
        low, high = e.percent_ci
        rows.append({
            **row, "rate ratio": f"{e.rate_ratio:.2f}", "change": f"{e.percent_change:+.0f}%",
            "95% interval (rate ratio)": f"{e.ci_low:.2f} to {e.ci_high:.2f}",
            "95% interval (change)": f"{low:+.0f}% to {high:+.0f}%",
            "p-value": "<0.001" if e.p_value < 0.001 else f"{e.p_value:.3f}",
            "weeks of figures": str(e.n_weeks), "what it shows": shows,
        })
    frame = pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
    return frame.astype({c: object for c in EFFECT_COLUMNS if c != "year"}).fillna("")


def _verdict(estimate: Any) -> str:
    if not estimate.excludes_no_change:
        return "cannot be told apart from chance"
    direction = "more" if estimate.rate_ratio > 1 else "fewer"
    return f"{direction} reports than expected; unlikely to be chance alone"


def effects_note(results: Sequence[EffectResult]) -> str:
    count = sum(r.estimate is not None for r in results)
    return (
        "Each estimate compares the weekly offences reported during an awareness event's dates "
        "(from the awareness calendar) with what the trend and the seasonal pattern of the "
        "weeks around it predict, from three years before the event to one year after. Reports "
        "may also move in the weeks after an event; those weeks count here as ordinary ones, "
        "which pulls an estimate towards no change. "
        f"{count} estimates are shown for this year: even if no campaign had any effect, about "
        "one in twenty would look 'unlikely to be chance alone' by chance, so read any single "
        "one with care. A hate crime reported both to a third-party centre and to the police "
        "may be counted in both sources."
    )


def _today(today: date | None) -> date:
    """`today`, or else today in the partnership's time zone (the board page's day)."""
    return today if today is not None else local_today(DEFAULT_ZONE)


def effects(
    *, session: Session, viewer: Viewer, area: str, year: int, today: date | None = None
) -> Effects:
    """The estimated effect of each awareness window of `year` on weekly offences reported in
    `area`, with all sources added together, from the weeks that have ended by `today`
    (default: today in periods.DEFAULT_ZONE, as the board page's). Estimates stored earlier
    for the same figures (campaigns.storage.effects) are used as they are; `store_fitted`
    keeps the others.

    Remembered in this process under the fingerprints of the report counts and of the
    calendar (with the area, year, day and what the viewer sees), once every estimate in it
    was found stored: a later call on the same figures reads the fingerprints only, not the
    counts, the calendar's rules or the estimates."""
    today = _today(today)
    calendar = calendar_fingerprint(session)
    key = ("effects", _database(session), reports_fingerprint(session), calendar, area, year,
           today, viewer.sees_everything)
    found = _recall(key)
    if found is None:
        found = _effects(session=session, viewer=viewer, area=area, year=year, today=today,
                         calendar=calendar)
        if not any(r.fitted for r in found.results):  # else stored first, then remembered
            _remember(key, found)
    return found


def _effects(
    *, session: Session, viewer: Viewer, area: str, year: int, today: date, calendar: str
) -> Effects:
    from campaigns.storage.effects import stored_estimate

    reports = ended_weeks(weekly_reports(session=session, area=area, offences_only=True), today)
    series = weekly_offences(reports)
    synthetic = bool(reports["synthetic"].any())
    around = windows(session=session, viewer=viewer, years=[year - 1, year, year + 1],
                     calendar=calendar)
    in_year = around[around["year"] == year].reset_index(drop=True)
    results = estimate_effects(series, in_year, synthetic=synthetic, neighbours=around,
                               stored=partial(stored_estimate, session=session), today=today)
    return Effects(area, year, synthetic, tuple(results), effects_note(results),
                   effect_table(results, synthetic))


def store_fitted(found: Effects, *, session: Session, now: datetime) -> int:
    """Keep the estimates `effects` had to fit, so that no view fits them again; how many."""
    from campaigns.storage.effects import store_estimates

    fitted = {r.fingerprint: r.estimate for r in found.results if r.fitted}
    store_estimates(fitted, session=session, now=now)
    return len(fitted)


#: What the board sees, for estimates fitted before anyone signs in (`chorus dashboard`).
EVERYTHING = Viewer(id=0, email="", name="chorus dashboard", role=BOARD, organisation_key=None)


def fit_first_effects(*, session: Session, now: datetime, zone: str = DEFAULT_ZONE) -> int:
    """Fit and store, for each reporting area, the estimates the board page shows first (its
    default year), unless they are stored already; how many were fitted. `chorus dashboard`
    runs this before it starts, so that the first visitor does not wait for the fitting.
    The day is `now`'s in `zone`, as the board page's is (not UTC's: just after midnight in
    British Summer Time the two differ)."""
    today = now.astimezone(ZoneInfo(zone)).date()
    fitted = 0
    for area in reporting_areas(session=session):
        years = effect_years(session=session, viewer=EVERYTHING, area=area, today=today)
        if years is not None:
            found = effects(session=session, viewer=EVERYTHING, area=area, year=years.default,
                            today=today)
            fitted += store_fitted(found, session=session, now=now)
    return fitted
