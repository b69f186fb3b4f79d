"""The board overview: reach from SQL aggregates of cumulative snapshots, reports under
disclosure control, the effect of each awareness window on the synthetic demo figures, data
freshness and sources, and the board pack; for officers and the board."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from campaigns.analysis.effect import CAVEAT_INCIDENCE, CAVEAT_SYNTHETIC, estimate_effect
from campaigns.analysis.reach import weekly_reach
from campaigns.core.planning import Rules
from campaigns.formats.content import read_library
from campaigns.storage import db
from campaigns.storage.effects import store_estimates, stored_estimate
from campaigns.storage.loader import load_library
from campaigns.storage.models import (
    Account,
    Campaign,
    Delivery,
    EngagementSnapshot,
    Organisation,
    ReportCount,
    StoredEffectEstimate,
)
from campaigns.storage.plans import plan_and_store
from campaigns.storage.reports import import_report_file
from campaigns.storage.users import Viewer
from dashboard import startup
from dashboard.auth import PAGES
from dashboard.insights import effect_estimates, reach
from dashboard.insights.headline import change
from dashboard.insights.networks import network_reach
from dashboard.insights.overview import board_overview
from dashboard.insights.partners import campaign_reach, contribution
from dashboard.insights.periods import Period, last_ended_sunday, long_date
from dashboard.insights.reports import OFFENCES_SERIES, STRAND_NAMES
from dashboard.queries import SANDBOX_LABEL, SYNTHETIC_LABEL
from tests.conftest import CONTENT, NOW, ROOT
from tests.dashboard.conftest import BOARD, OFFICER, Person, Seeded, frames, rendered_text

SignedIn = Callable[[Person], AppTest]


@pytest.fixture
def signed_in(signed_in: SignedIn) -> SignedIn:
    """Signed in and on the board page (officers land on their campaigns)."""
    def on_board(person: Person) -> AppTest:
        at = signed_in(person)
        if not at.title or at.title[0].value != PAGES["board"].title:
            at = at.switch_page(PAGES["board"].path).run()
        assert not at.exception, at.exception
        return at

    return on_board
SYNTHETIC_FILE = ROOT / "content" / "reports" / "york-synthetic-weekly-2023-2026.csv"
ZONE = "Europe/London"
EVERYONE_WHO_SEES_IT = (OFFICER, BOARD)
FIGURES = ["Posts", "Reach", "Engagement", "Reports"]
#: Four weeks, Monday 13 October to Sunday 9 November 2025: NHCAW 2025 falls in the first.
PERIOD = Period(date(2025, 10, 13), 4)
HARMLESS_BUTTONS = {"Sign out"}
BOARD_VIEW = Viewer(0, "board@chorus.example", "Board", "board", None)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def import_synthetic(sessions: sessionmaker[Session]) -> None:
    with db.transaction(sessions) as session:
        import_report_file(SYNTHETIC_FILE, session=session, now=NOW, imported_by="test")


def delivery_on(session: Session, account_key: str, index: int = 0) -> Delivery:
    return session.scalars(select(Delivery).join(Delivery.account)
                           .where(Account.key == account_key)
                           .order_by(Delivery.send_at)).all()[index]


def read(session: Session, delivery: Delivery, at: str, impressions: int, likes: int = 0,
         reposts: int = 0) -> None:
    session.add(EngagementSnapshot(delivery_id=delivery.id, read_at=utc(at),
                                   impressions=impressions, likes=likes, reposts=reposts))


def seed_known_reach(sessions: sessionmaker[Session]) -> None:
    """A real post seen 100 times before the period and 700 by its end (a dip on the way
    takes nothing back), and a sandbox post gaining 50 in the period.

    Weekly gains of the real post: 150 (13 Oct), 150 (20 Oct), 0 (27 Oct), 300 (3 Nov).
    """
    with db.transaction(sessions) as session:
        real = delivery_on(session, "lead-x")
        real.posted_at = utc("2025-09-01 09:00")
        read(session, real, "2025-09-02 09:00", 100, likes=2)
        read(session, real, "2025-10-14 09:00", 250, likes=5)
        read(session, real, "2025-10-20 09:00", 400, likes=9, reposts=1)
        read(session, real, "2025-10-21 09:00", 380, likes=8, reposts=1)  # a dip
        read(session, real, "2025-11-03 09:00", 700, likes=12, reposts=3)
        # 23:30 on Sunday 9 November in UTC is still that Sunday in London (GMT).
        read(session, real, "2025-11-09 23:30", 700, likes=12, reposts=3)
        sandbox = delivery_on(session, "council-x")
        sandbox.posted_at = utc("2025-10-15 10:00")
        read(session, sandbox, "2025-10-15 11:00", 20)
        read(session, sandbox, "2025-10-16 11:00", 50)


def choose(at: AppTest, label: str, value: object) -> AppTest:
    found = [s for s in at.selectbox if s.label == label]
    assert len(found) == 1, [s.label for s in at.selectbox]
    return found[0].set_value(value).run()


def show_period(at: AppTest, period: Period = PERIOD) -> AppTest:
    choose(at, "Period", period.weeks)
    at.date_input[0].set_value(period.last_day).run()
    assert not at.exception, at.exception
    return at


def opened(at: AppTest, *sections: str) -> AppTest:
    """The page with the details `sections` opened, as a reader opens them (they are drawn
    only once opened)."""
    for key in sections:
        at.session_state[key] = True
    at.run()
    assert not at.exception, at.exception
    return at


WEEKLY, EFFECTS, METHODS, NETWORKS, SOURCES = (
    "board-weekly", "board-effects", "board-methods", "board-networks", "board-sources")


def weekly_table(at: AppTest) -> pd.DataFrame:
    opened(at, WEEKLY)
    found = [f for f in frames(at) if "awareness events" in f.columns]
    assert len(found) == 1
    return found[0].set_index("week")


# ---- reach from SQL aggregates ------------------------------------------------------------------


def test_weekly_reach_adds_up_to_the_growth_seeded_in_the_snapshots(
    seeded: Seeded, seeded_sessions: sessionmaker[Session]
) -> None:
    seed_known_reach(seeded_sessions)
    with seeded_sessions() as session:
        rows = reach.reach_rows(session=session, viewer=BOARD_VIEW, period=PERIOD, zone=ZONE)
    weekly = reach.weekly_reach(rows, PERIOD).set_index("week")
    assert weekly["impressions"].tolist() == [150, 150, 0, 300]
    assert weekly["impressions"].sum() == 700 - 100
    assert weekly["engagements"].tolist() == [3, 5, 0, 5]  # likes and reposts gained
    assert weekly["sandbox impressions"].tolist() == [50, 0, 0, 0]
    assert weekly["sandbox posts"].tolist() == [1, 0, 0, 0]
    assert weekly["posts"].sum() == 0  # the real post went out before the period


def test_reach_by_partner_and_campaign_keeps_sandbox_apart(
    seeded: Seeded, seeded_sessions: sessionmaker[Session]
) -> None:
    seed_known_reach(seeded_sessions)
    with seeded_sessions() as session:
        rows = reach.reach_rows(session=session, viewer=BOARD_VIEW, period=PERIOD, zone=ZONE)
    partners = contribution(reach.by_organisation(rows))
    campaigns = campaign_reach(reach.by_campaign(rows))
    assert partners[["partner", "impressions", "share of real impressions", "sandbox"]].to_dict(
        "records") == [
        {"partner": "York Hate Crime Partnership", "impressions": 600,
         "share of real impressions": "100%", "sandbox": ""},
        {"partner": "City of York Council (sandbox)", "impressions": 50,
         "share of real impressions": "", "sandbox": SANDBOX_LABEL},
    ]
    assert campaigns["impressions"].tolist() == [600, 50]
    assert set(campaigns["campaign"]) == {"nhcaw-2026"}


def test_sql_reach_agrees_with_the_pandas_reference_on_random_readings(
    seeded: Seeded, seeded_sessions: sessionmaker[Session]
) -> None:
    """campaigns.analysis.reach is the reference: the same growth, week by week, however the
    readings rise, dip, repeat or straddle the period's edges and its clock change."""
    rng = random.Random(7)
    with db.transaction(seeded_sessions) as session:
        chosen = session.scalars(select(Delivery).order_by(Delivery.id)).all()[:12]
        for delivery in chosen:
            delivery.posted_at = utc("2025-09-20 08:00") + timedelta(hours=rng.randrange(1200))
            moment, counters = delivery.posted_at, [0, 0, 0, 0, 0]
            for _ in range(rng.randrange(1, 12)):
                moment += timedelta(minutes=rng.randrange(30, 60 * 24 * 6))
                counters = [max(0, c + rng.randrange(-3, 60)) for c in counters]
                session.add(EngagementSnapshot(
                    delivery_id=delivery.id, read_at=moment, impressions=counters[0],
                    likes=counters[1], reposts=counters[2], replies=counters[3],
                    quotes=counters[4]))
    with seeded_sessions() as session:
        rows = reach.reach_rows(session=session, viewer=BOARD_VIEW, period=PERIOD,
                                   zone=ZONE)
        snapshots = pd.read_sql(select(EngagementSnapshot.__table__), session.connection())
        deliveries = pd.read_sql(
            select(Delivery.id.label("delivery_id"), Campaign.key.label("campaign"),
                   Organisation.name.label("organisation"), Delivery.network,
                   Delivery.posted_at, Account.is_sandbox)
            .join(Delivery.campaign).join(Delivery.account).join(Account.organisation),
            session.connection())
    reference = weekly_reach(snapshots, deliveries, by=[], tz=ZONE)
    inside = reference["period"].between(pd.Timestamp(PERIOD.first_week),
                                         pd.Timestamp(PERIOD.last_day))
    reference = reference[inside & (reference[["posted", "impressions", "engagements"]]
                                    .sum(axis=1) > 0)]
    expected = reference.rename(columns={"period": "week", "posted": "posts"})[
        ["week", "is_sandbox", "posts", "impressions", "engagements"]]
    ours = rows.groupby(["week", "is_sandbox"], as_index=False)[
        ["posts", "impressions", "engagements"]].sum()
    assert len(ours) > 0
    pd.testing.assert_frame_equal(ours, expected.reset_index(drop=True), check_dtype=False)
    by_partner = reference_by(snapshots, deliveries, "organisation")
    ours_by_partner = rows.groupby(["organisation", "is_sandbox"])["impressions"].sum()
    assert ours_by_partner[ours_by_partner > 0].to_dict() == by_partner


def reference_by(snapshots: pd.DataFrame, deliveries: pd.DataFrame,
                 dimension: str) -> dict[tuple[str, bool], int]:
    """Impressions gained in PERIOD by `dimension`, as campaigns.analysis.reach counts them
    (organisations named as the database names them)."""
    reference = weekly_reach(snapshots, deliveries, by=[dimension], tz=ZONE)
    inside = reference["period"].between(pd.Timestamp(PERIOD.first_week),
                                         pd.Timestamp(PERIOD.last_day))
    summed = reference[inside].groupby([dimension, "is_sandbox"])["impressions"].sum()
    return {key: int(n) for key, n in summed.items() if n > 0}


# ---- the page ------------------------------------------------------------------------------------


@pytest.mark.parametrize("person", EVERYONE_WHO_SEES_IT, ids=lambda p: p.role)
def test_headline_figures_compare_the_period_with_the_one_before(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session], person: Person
) -> None:
    seed_known_reach(seeded_sessions)
    import_synthetic(seeded_sessions)
    at = show_period(signed_in(person))
    assert not at.error, [e.value for e in at.error]
    figures = {m.label: m for m in at.metric}
    assert list(figures) == FIGURES
    assert figures["Reach"].value == "600"
    assert figures["Reach"].proto.delta == "up from none"
    assert figures["Engagement"].value == "13"
    with seeded_sessions() as session:
        offences = session.scalar(
            select(func.sum(ReportCount.count)).where(
                ReportCount.strand == "all", ReportCount.measure == "offences",
                ReportCount.period_start.between(PERIOD.first_week, PERIOD.last_day)))
        before = session.scalar(
            select(func.sum(ReportCount.count)).where(
                ReportCount.strand == "all", ReportCount.measure == "offences",
                ReportCount.period_start.between(PERIOD.previous().first_week,
                                                 PERIOD.first_week - timedelta(days=1))))
    assert figures["Reports"].value == f"{offences:,}"
    assert figures["Reports"].proto.delta == change(offences, before)
    assert any("50 impressions" in w.value and SANDBOX_LABEL in w.value for w in at.warning)


def test_the_weekly_table_shows_the_seeded_reach_beside_the_reports(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    seed_known_reach(seeded_sessions)
    import_synthetic(seeded_sessions)
    at = show_period(signed_in(BOARD))
    weekly = weekly_table(at)
    assert weekly.loc[["2025-10-13", "2025-10-20", "2025-10-27", "2025-11-03"],
                      "impressions"].tolist() == [150, 150, 0, 300]
    assert weekly.loc["Total", "impressions"] == 600
    assert weekly.loc["Total", "sandbox impressions"] == 50
    assert "National Hate Crime Awareness Week 2025" in weekly.loc["2025-10-13",
                                                                   "awareness events"]
    assert (weekly["figures"] == SYNTHETIC_LABEL).all()
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert specs[0]["description"].startswith("Bar chart of the impressions gained each week")
    assert specs[1]["description"].startswith("Line chart of the weekly hate crime reports")
    for spec in specs:
        assert all(layer["mark"]["aria"] is False for layer in spec["layer"])


def test_the_weekly_table_starts_with_the_week_its_reach_and_its_reports(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    """What a phone shows first, before the table scrolls sideways."""
    seed_known_reach(seeded_sessions)
    import_synthetic(seeded_sessions)
    at = opened(show_period(signed_in(BOARD)), WEEKLY)
    [shown] = [d for d in at.dataframe if "awareness events" in d.value.columns]
    config = json.loads(shown.proto.columns or "{}")
    order = list(shown.proto.column_order)
    labels = [config.get(c, {}).get("label") or c for c in order]
    assert labels[:5] == ["Week", "Reach", "Sandbox reach", "Reports", "Awareness events"]
    assert config["week"]["pinned"] is True


def test_report_counts_under_the_threshold_are_shown_nowhere(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    import_synthetic(seeded_sessions)
    at = show_period(signed_in(BOARD), Period(date(2025, 9, 1), 13))
    weekly = weekly_table(at)
    report_columns = [OFFENCES_SERIES, *STRAND_NAMES.values(),
                      "motivating factors"]
    cells = weekly[report_columns].to_numpy().ravel().tolist()
    assert "<5" in cells
    for cell in cells:
        assert cell in ("<5", "[c]") or int(cell.replace(",", "")) >= 5, cell
    drawn = pd.concat([convert_arrow_bytes_to_pandas_df(d.data.data)
                       for d in at.get("vega_lite_chart")[1].proto.datasets
                       ], ignore_index=True)
    counts = drawn.loc[drawn["series"].notna(), "count"].dropna()
    assert len(counts) and counts.min() >= 5


@pytest.mark.parametrize("person", EVERYONE_WHO_SEES_IT, ids=lambda p: p.role)
def test_the_effect_of_nhcaw_2025_is_shown_with_its_interval_and_caveats(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session], person: Person
) -> None:
    import_synthetic(seeded_sessions)
    at = signed_in(person)
    assert not at.exception
    # One notice, at the top, however many tables and charts carry the label.
    assert [w.value for w in at.warning if SYNTHETIC_LABEL in w.value] == [
        w.value for w in at.warning][:1]
    assert at.warning[0].value.startswith(SYNTHETIC_LABEL)
    opened(at, EFFECTS, METHODS)
    assert len([w for w in at.warning if SYNTHETIC_LABEL in w.value]) == 1
    years = next(s for s in at.selectbox if s.label == "Awareness windows in")
    assert years.options == ["2027", "2026", "2025", "2024", "2023"]  # 2027: Chorus campaigns
    assert years.value == 2026  # the latest year with figures around its windows
    table = next(f for f in frames(at) if "rate ratio" in f.columns)
    nhcaw_2026 = table[table["event"] == "National Hate Crime Awareness Week"].iloc[0]
    # The campaign by its name, as the officer gave it: never its key (nhcaw-2026).
    assert (nhcaw_2026["year"], nhcaw_2026["Chorus campaign"]) == (
        2026, "National Hate Crime Awareness Week 2026")
    # The finding comes first, beside the event, where it is in view at 1280 px; the event's
    # name stays in view when the table is scrolled sideways on a phone.
    # The board's table is the finding beside the event; the statistics are in the methods.
    shown = next(d for d in at.dataframe if "what it shows" in d.value.columns
                 and "rate ratio" not in d.value.columns)
    assert list(shown.proto.column_order)[:5] == [
        "event", "year", "what it shows", "change", "95% interval (change)"]
    assert json.loads(shown.proto.columns)["event"]["pinned"] is True
    explained = "\n".join(m.value for m in at.markdown)
    # UK Disability History Month 2026 runs from 19 November to 20 December.
    verb = "is running" if date.today() <= date(2026, 12, 20) else "ran"
    assert f"The partnership's campaign UK Disability History Month 2026 {verb} in this " \
        "window." in explained, explained
    assert "rate ratio" not in explained.split("The statistics")[0].lower()
    choose(at, "Awareness windows in", 2025)
    table = next(f for f in frames(at) if "rate ratio" in f.columns)
    assert set(table["year"]) == {2025}
    row = table[(table["event"] == "National Hate Crime Awareness Week")
                & (table["year"] == 2025)].iloc[0]
    start, end = date(2025, 10, 11), date(2025, 10, 18)  # NHCAW 2025, as events.yaml gives it
    around = _offences_in_the_file()
    around = around[around["week"].between(str(start - effect_estimates.SPAN_BEFORE),
                                           str(end + effect_estimates.SPAN_AFTER))]
    expected = estimate_effect(around, start, end, synthetic=True)
    assert row["rate ratio"] == f"{expected.rate_ratio:.2f}"
    assert row["95% interval (rate ratio)"] == f"{expected.ci_low:.2f} to {expected.ci_high:.2f}"
    assert row["change"] == f"{expected.percent_change:+.0f}%"
    assert row["what it shows"] == "cannot be told apart from chance"
    assert row["figures"] == SYNTHETIC_LABEL
    assert row["Chorus campaign"] == "none recorded"  # Chorus's campaign is the 2026 one
    idpd = table[table["event"] == "International Day of Persons with Disabilities"].iloc[0]
    assert idpd["what it shows"].startswith("Not estimated: the event lasts 1 day(s)")

    choose(at, "Explain the estimate for", "National Hate Crime Awareness Week 2025")
    text = "\n".join(m.value for m in at.markdown)
    assert "In these synthetic figures, during the campaign (11 October 2025 to 18 October 2025)" \
        in text
    assert "95% confidence interval" in text
    assert CAVEAT_SYNTHETIC in text and CAVEAT_INCIDENCE in text
    assert "Inter Faith Week 2025" in text  # a neighbouring window, named as a caveat
    assert "No campaign for National Hate Crime Awareness Week 2025 is recorded" in text


def _offences_in_the_file() -> pd.DataFrame:
    counts = pd.read_csv(SYNTHETIC_FILE, comment="#")
    offences = counts[(counts["strand"] == "all") & (counts["measure"] == "offences")]
    series = offences.groupby("period_start", as_index=False)["count"].sum()
    return series.rename(columns={"period_start": "week"})


def test_a_window_too_early_in_the_figures_says_why_it_has_no_estimate(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    import_synthetic(seeded_sessions)
    at = choose(opened(signed_in(BOARD), METHODS), "Awareness windows in", 2023)
    table = next(f for f in frames(at) if "rate ratio" in f.columns).set_index("event")
    assert table.loc["Refugee Week", "what it shows"] == (
        "Not estimated: Only 24 weeks before the campaign; at least 26 are needed.")
    assert table.loc["National Hate Crime Awareness Week", "rate ratio"] != ""


def test_without_weekly_figures_the_page_says_why_there_is_no_estimate(
    signed_in: SignedIn,
) -> None:
    at = opened(signed_in(BOARD), EFFECTS)
    assert not at.exception and not at.error
    assert [m.label for m in at.metric] == FIGURES
    assert {m.label: m.value for m in at.metric}["Reports"] == "no figures"
    assert any("once weekly reporting figures are imported" in i.value for i in at.info)


def test_freshness_and_sources_name_the_synthetic_file_and_its_citation(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    seed_known_reach(seeded_sessions)
    import_synthetic(seeded_sessions)
    at = opened(show_period(signed_in(BOARD)), SOURCES)
    freshness = next(f for f in frames(at) if "what" in f.columns).set_index("what")
    # The file runs to 27 December 2026; the latest figures are those of the latest week
    # that has ended, never a week still going on or to come.
    today = datetime.now(ZoneInfo(ZONE)).date()
    assert freshness.loc["Latest reporting figures for York", "latest"] == long_date(
        min(last_ended_sunday(today), date(2026, 12, 27)))
    assert freshness.loc["Engagement last read", "latest"] == "2025-11-09 23:30 GMT"
    assert "york-synthetic-weekly-2023-2026.csv, by test" in freshness.loc[
        "Last import of reporting figures", "detail"]
    sources = next(f for f in frames(at) if "citation" in f.columns)
    assert sources["figures"].tolist() == [SYNTHETIC_LABEL]
    assert sources["citation"].str.contains("synthetic demo data").all()


# ---- read-only, and the board pack ---------------------------------------------------------------


def test_the_board_is_offered_downloads_and_nothing_that_changes_anything(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    seed_known_reach(seeded_sessions)
    import_synthetic(seeded_sessions)
    at = show_period(signed_in(BOARD))
    assert {b.label for b in at.button} <= HARMLESS_BUTTONS
    assert not at.text_input and not at.radio and not at.get("file_uploader")
    assert not at.checkbox and not at.toggle
    downloads = {d.label for d in at.get("download_button")}
    assert "Download the board pack (ZIP)" in downloads
    assert {"Headline figures (CSV)", "Weekly reach and reports (CSV)",
            "Estimated effect of each awareness window in 2026 (CSV)",
            "Partners' contribution (CSV)",
            "Sources (CSV)"} <= downloads
    assert {"Weekly reach (SVG)", "Weekly reach (PNG)", "Weekly reports in York (SVG)",
            "Partners' contribution (PNG)"} <= downloads


def test_nothing_on_the_board_page_names_a_token(
    signed_in: SignedIn, seeded: Seeded, seeded_sessions: sessionmaker[Session]
) -> None:
    seed_known_reach(seeded_sessions)
    at = show_period(signed_in(OFFICER))
    text = rendered_text(at)
    assert seeded.sealed_token[:40] not in text


# ---- the same aggregates on every backend ------------------------------------------------------


def test_the_board_aggregates_agree_on_every_backend(sessions: sessionmaker[Session]) -> None:
    """Window functions, the VALUES list of weeks and the materialised CTE, on SQLite and (when
    configured) PostgreSQL: the seeded growth, the synthetic reports and an estimate."""
    with db.transaction(sessions) as session:
        load_library(read_library(CONTENT), session=session, default_timezone=ZONE)
    with db.transaction(sessions) as session:
        campaign = session.scalars(select(Campaign).where(Campaign.key == "nhcaw-2026")).one()
        assert plan_and_store(campaign, Rules(), session=session, now=NOW).ok
        session.scalars(select(Account).where(Account.key == "council-x")).one().is_sandbox = True
    seed_known_reach(sessions)
    import_synthetic(sessions)
    with sessions() as session:
        board = board_overview(session=session, viewer=BOARD_VIEW, period=PERIOD,
                                        area="York", zone=ZONE, threshold=5)
        years = effect_estimates.effect_years(session=session, viewer=BOARD_VIEW, area="York")
        effects = effect_estimates.effects(session=session, viewer=BOARD_VIEW, area="York",
                                           year=2025)
    weekly = board.weekly.set_index("week")
    assert weekly.loc["Total", ["impressions", "sandbox impressions"]].tolist() == [600, 50]
    assert board.partners["impressions"].tolist() == [600, 50]
    assert {f.label: f.value for f in board.figures}["Reach"] == "600"
    assert years is not None and years.default == 2026
    nhcaw = next(r for r in effects.results if r.label == "National Hate Crime Awareness Week 2025")
    assert nhcaw.estimate is not None and nhcaw.estimate.synthetic


# ---- effect estimates, fitted once -------------------------------------------------------------


def test_estimates_are_stored_and_fitted_again_only_when_their_figures_change(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.transaction(sessions) as session:
        load_library(read_library(CONTENT), session=session, default_timezone=ZONE)
    import_synthetic(sessions)
    fits: list[date] = []

    def counted(series: pd.DataFrame, start: date, *args: object, **kwargs: object) -> object:
        fits.append(start)
        return estimate_effect(series, start, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("campaigns.analysis.effect.estimate_effect", counted)

    def effects_of_2025() -> effect_estimates.Effects:
        with db.transaction(sessions) as session:
            found = effect_estimates.effects(session=session, viewer=BOARD_VIEW, area="York",
                                             year=2025)
            effect_estimates.store_fitted(found, session=session, now=NOW)
        return found

    first = effects_of_2025()
    estimated = [r for r in first.results if r.estimate is not None]
    assert estimated and all(r.fitted for r in estimated) and len(fits) == len(estimated)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(StoredEffectEstimate)) == len(
            estimated)
    fits.clear()
    again = effects_of_2025()
    assert fits == [] and not any(r.fitted for r in again.results)
    assert [r.estimate for r in again.results] == [r.estimate for r in first.results]
    assert again.table.equals(first.table)

    def correct(week: date, more: int) -> None:
        with db.transaction(sessions) as session:
            count = session.scalars(select(ReportCount).where(
                ReportCount.period_start == week, ReportCount.strand == "all",
                ReportCount.measure == "offences")).first()
            assert count is not None
            count.count += more

    # A week after LGBT+ History Month 2025's figures end (a year after the window), inside
    # those of the windows later in 2025.
    correct(date(2026, 6, 1), 1)
    refitted = {r.label for r in effects_of_2025().results if r.fitted}
    assert "LGBT+ History Month 2025" not in refitted
    assert "National Hate Crime Awareness Week 2025" in refitted
    nhcaw = next(r for r in estimated if r.label == "National Hate Crime Awareness Week 2025")
    correct(date(2025, 10, 13), 30)  # the window's own week
    assert effects_of_2025().result(nhcaw.label).estimate.rate_ratio > nhcaw.estimate.rate_ratio


def test_an_unreadable_stored_estimate_is_fitted_again_and_replaced(
    sessions: sessionmaker[Session],
) -> None:
    fitted = estimate_effect(_offences_in_the_file(), date(2025, 10, 11), date(2025, 10, 18))
    with db.transaction(sessions) as session:
        session.add(StoredEffectEstimate(fingerprint="f" * 64, estimate={"shape": "old"},
                                         fitted_at=NOW))
    with db.transaction(sessions) as session:
        assert stored_estimate("f" * 64, session=session) is None
        store_estimates({"f" * 64: fitted}, session=session, now=NOW)
    with sessions() as session:
        assert stored_estimate("f" * 64, session=session) == fitted
        assert session.scalar(select(func.count()).select_from(StoredEffectEstimate)) == 1


def test_the_board_page_keeps_what_it_fits_and_shows_it_again_without_fitting(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import_synthetic(seeded_sessions)
    at = opened(signed_in(BOARD), METHODS)
    shown = next(f for f in frames(at) if "rate ratio" in f.columns)
    with seeded_sessions() as session:
        stored = session.scalar(select(func.count()).select_from(StoredEffectEstimate))
    assert stored == (shown["rate ratio"] != "").sum() > 0

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("fitted again")

    monkeypatch.setattr("campaigns.analysis.effect.estimate_effect", refuse)
    st.cache_data.clear()  # as after the cache's time to live, or in a new server process
    at.run()
    assert not at.exception
    assert next(f for f in frames(at) if "rate ratio" in f.columns).equals(shown)


def test_the_estimates_the_board_sees_first_can_be_fitted_before_anyone_visits(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import_synthetic(seeded_sessions)
    # As `chorus dashboard` does, on the day the board visits (estimates use the weeks ended
    # by then).
    now = datetime.now(UTC)
    assert startup.fit_first_effects(seeded_sessions, now=now) > 0
    assert startup.fit_first_effects(seeded_sessions, now=now) == 0  # already stored

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("fitted on the page")

    monkeypatch.setattr("campaigns.analysis.effect.estimate_effect", refuse)
    at = opened(signed_in(BOARD), METHODS)
    assert (next(f for f in frames(at) if "rate ratio" in f.columns)["rate ratio"] != "").any()


# ---- each network, and a sandbox-only partnership -----------------------------------------------


def seed_other_networks(sessions: sessionmaker[Session]) -> None:
    """Engagement on Mastodon (10 gained in the period) and Bluesky (7: counted from 0 at
    posting, in the period too), which publish no impressions."""
    with db.transaction(sessions) as session:
        for key, before, after in (("lead-mastodon", 0, 10), ("lead-bluesky", 3, 7)):
            delivery = delivery_on(session, key)
            delivery.posted_at = utc("2025-10-14 09:00")
            read(session, delivery, "2025-10-14 09:15", 0, likes=before)
            read(session, delivery, "2025-10-20 09:00", 0, likes=after)


def test_engagement_is_shown_for_each_network(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    seed_known_reach(seeded_sessions)
    seed_other_networks(seeded_sessions)
    with seeded_sessions() as session:
        rows = reach.reach_rows(session=session, viewer=BOARD_VIEW, period=PERIOD, zone=ZONE)
    expected = [
        {"network": "X", "posts": 0, "impressions": "600", "engagements": 13, "sandbox": ""},
        {"network": "Mastodon", "posts": 1, "impressions": "not published", "engagements": 10,
         "sandbox": ""},
        {"network": "Bluesky", "posts": 1, "impressions": "not published", "engagements": 7,
         "sandbox": ""},
        {"network": "X (sandbox)", "posts": 1, "impressions": "50", "engagements": 0,
         "sandbox": SANDBOX_LABEL},
    ]
    assert network_reach(reach.by_network(rows, PERIOD)).to_dict(
        "records") == expected
    at = opened(show_period(signed_in(BOARD)), NETWORKS)
    shown = next(f for f in frames(at) if f.columns[0] == "network")
    # The sandbox label stays on each row, under 'figures'; the page says what it means once.
    assert shown.to_dict("records") == [
        {**{k: v for k, v in row.items() if k != "sandbox"}, "figures": row["sandbox"]}
        for row in expected]
    assert any("Mastodon: 1 posts, 10 engagements" in m.value for m in at.markdown)
    assert {m.label: m.value for m in at.metric}["Engagement"] == "30"


def test_with_only_sandbox_posts_the_figures_are_the_sandboxs_and_say_so(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    with db.transaction(seeded_sessions) as session:
        sandbox = delivery_on(session, "council-x")
        sandbox.posted_at = utc("2025-10-15 10:00")
        read(session, sandbox, "2025-10-15 11:00", 20, likes=1)
        read(session, sandbox, "2025-10-16 11:00", 50, likes=3)
    at = show_period(signed_in(BOARD))
    figures = {m.label: m.value for m in at.metric}
    assert figures == {"Sandbox posts": "1", "Sandbox reach": "50",
                       "Sandbox actions": "3", "Reports": "no figures"}
    assert any("the figures above are the sandbox's" in w.value for w in at.warning)


def test_real_figures_leave_the_sandbox_out(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    seed_known_reach(seeded_sessions)
    at = show_period(signed_in(BOARD))
    assert [m.label for m in at.metric] == FIGURES
    assert any("left out of the figures above" in w.value for w in at.warning)
