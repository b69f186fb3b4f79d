"""The board page's effect estimates and years are remembered under a fingerprint of what they
are made from (report counts, campaigns, events), so that a visit after the page's cache
expires does not work them out again; every change to those figures makes them worked out
afresh. And the estimates use the board page's day (London), not UTC's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.formats.content import read_library
from campaigns.storage import db
from campaigns.storage.loader import load_library
from campaigns.storage.models import Campaign, Event, ReportCount, ReportDataset
from dashboard.insights import effect_estimates
from tests.conftest import CONTENT, NOW
from tests.dashboard.test_board import BOARD_VIEW, ZONE, import_synthetic

#: What each remembered result is worked out from; counted by `reads`.
READERS = ("weekly_reports", "event_windows")


@pytest.fixture
def loaded(sessions: sessionmaker[Session]) -> Iterator[sessionmaker[Session]]:
    with db.transaction(sessions) as session:
        load_library(read_library(CONTENT), session=session, default_timezone=ZONE)
    import_synthetic(sessions)
    effect_estimates.forget_remembered()
    yield sessions
    effect_estimates.forget_remembered()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the report counts and the calendar's windows are worked out."""
    counted = dict.fromkeys(READERS, 0)
    for name in READERS:
        original = getattr(effect_estimates, name)

        def counting(*args: object, __name: str = name, __original: object = original,
                     **kwargs: object) -> object:
            counted[__name] += 1
            return __original(*args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(effect_estimates, name, counting)
    return counted


def effects_2025(sessions: sessionmaker[Session], year: int = 2025) -> effect_estimates.Effects:
    with db.transaction(sessions) as session:
        found = effect_estimates.effects(session=session, viewer=BOARD_VIEW, area="York",
                                         year=year, today=date(2026, 12, 3))
        effect_estimates.store_fitted(found, session=session, now=NOW)
    return found


def years(sessions: sessionmaker[Session]) -> effect_estimates.EffectYears | None:
    with sessions() as session:
        return effect_estimates.effect_years(session=session, viewer=BOARD_VIEW, area="York",
                                             today=date(2026, 12, 3))


def test_effects_are_remembered_once_every_estimate_is_stored(
    loaded: sessionmaker[Session], reads: dict[str, int]
) -> None:
    fitted = effects_2025(loaded)  # fitted and stored: not remembered yet
    assert any(r.fitted for r in fitted.results)
    stored = effects_2025(loaded)  # read from the stored estimates: remembered
    assert not any(r.fitted for r in stored.results)
    before = dict(reads)
    again = effects_2025(loaded)
    assert reads == before  # neither the counts nor the calendar worked out again
    assert again.results == stored.results and again.table.equals(stored.table)
    assert years(loaded) == years(loaded)
    assert reads["weekly_reports"] == before["weekly_reports"] + 1


def test_remembered_effects_are_forgotten_when_a_report_count_changes(
    loaded: sessionmaker[Session], reads: dict[str, int]
) -> None:
    effects_2025(loaded)
    first = effects_2025(loaded)
    with db.transaction(loaded) as session:
        count = session.scalars(select(ReportCount).where(
            ReportCount.period_start == date(2025, 10, 13), ReportCount.strand == "all",
            ReportCount.measure == "offences")).first()
        assert count is not None
        count.count += 30
    before = reads["weekly_reports"]
    changed = effects_2025(loaded)
    assert reads["weekly_reports"] == before + 1
    label = "National Hate Crime Awareness Week 2025"
    assert changed.result(label).fitted
    assert changed.result(label).estimate.rate_ratio > first.result(label).estimate.rate_ratio


def test_remembered_effects_and_years_are_forgotten_when_reports_are_imported(
    loaded: sessionmaker[Session], reads: dict[str, int]
) -> None:
    effects_2025(loaded)
    effects_2025(loaded)
    first_years = years(loaded)
    assert first_years is not None and 2019 not in first_years.years
    with db.transaction(loaded) as session:  # another file, with a week of 2019
        dataset = ReportDataset(file_hash="e" * 64, file_name="older.csv", source="police",
                                layout="long", rows=1, imported_at=NOW)
        session.add(dataset)
        session.flush()
        session.add(ReportCount(dataset_id=dataset.id, period_start=date(2019, 6, 3),
                                period_end=date(2019, 6, 9), area="York", strand="all",
                                source="police", measure="offences", count=12))
    before = reads["weekly_reports"]
    effects_2025(loaded)
    assert reads["weekly_reports"] == before + 1
    later = years(loaded)
    assert later is not None and 2019 in later.years


def test_remembered_effects_are_forgotten_when_a_campaign_changes_or_is_withdrawn(
    loaded: sessionmaker[Session], reads: dict[str, int]
) -> None:
    effects_2025(loaded, 2026)
    first = effects_2025(loaded, 2026)
    with_campaign = next(r for r in first.results if r.campaign)
    with db.transaction(loaded) as session:
        campaign = session.scalars(select(Campaign).where(
            Campaign.name == with_campaign.campaign.split(", ")[0])).first()
        assert campaign is not None
        campaign.name = "Renamed for the board"
    renamed = effects_2025(loaded, 2026).result(with_campaign.label)
    assert "Renamed for the board" in renamed.campaign
    with db.transaction(loaded) as session:
        for campaign in session.scalars(select(Campaign)):
            campaign.withdrawn = True
    assert not any(r.campaign for r in effects_2025(loaded, 2026).results)


def test_remembered_years_are_forgotten_when_a_campaign_is_added(
    loaded: sessionmaker[Session],
) -> None:
    first = years(loaded)
    assert first is not None and 2031 not in first.years
    with db.transaction(loaded) as session:
        model = session.scalars(select(Campaign).where(Campaign.event_key.is_not(None))).first()
        assert model is not None
        session.add(Campaign(key="later-campaign", name="A later campaign",
                             event_key=model.event_key, year=2031, timezone=ZONE,
                             author="test"))
    later = years(loaded)
    assert later is not None and 2031 in later.years


def test_remembered_windows_are_forgotten_when_an_event_changes(
    loaded: sessionmaker[Session], reads: dict[str, int]
) -> None:
    effects_2025(loaded)
    first = effects_2025(loaded)
    label = first.results[0].label
    event_name = first.results[0].name
    with db.transaction(loaded) as session:
        event = session.scalars(select(Event).where(Event.name == event_name)).one()
        assert event.definition["name"] == event_name  # the windows read the definition
        event.definition = {**event.definition, "name": "A renamed event"}
    before = reads["event_windows"]
    changed = effects_2025(loaded)
    assert reads["event_windows"] == before + 1
    assert "A renamed event" in {r.name for r in changed.results}
    assert label not in {r.label for r in changed.results}


# ---- the day, in London ---------------------------------------------------------------------


#: Sunday 31 May 2026, 23:30 UTC: already Monday 1 June in London (BST), so the week of
#: 25 May has ended there, but not yet in UTC.
LATE_SUNDAY_UTC = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)


def test_the_estimates_default_to_the_board_pages_day_not_utcs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("campaigns.core.clock.utcnow", lambda: LATE_SUNDAY_UTC)
    assert effect_estimates._today(None) == date(2026, 6, 1)


def test_the_estimates_fitted_before_the_first_visit_are_for_london_s_day(
    loaded: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[date] = []
    original = effect_estimates.effects

    def effects(**kwargs: object) -> effect_estimates.Effects:
        asked.append(kwargs["today"])  # type: ignore[arg-type]
        return original(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(effect_estimates, "effects", effects)
    with db.transaction(loaded) as session:
        effect_estimates.fit_first_effects(session=session, now=LATE_SUNDAY_UTC, zone=ZONE)
    assert asked and set(asked) == {date(2026, 6, 1)}
    asked.clear()
    with db.transaction(loaded) as session:  # an hour earlier it is Sunday in London too
        effect_estimates.fit_first_effects(session=session, now=LATE_SUNDAY_UTC.replace(
            hour=22, minute=30), zone=ZONE)
    assert set(asked) == {date(2026, 5, 31)}
    frame = pd.DataFrame({"week": pd.to_datetime(["2026-05-25"])})
    from dashboard.insights.periods import ended_weeks

    assert len(ended_weeks(frame, date(2026, 6, 1))) == 1
    assert len(ended_weeks(frame, date(2026, 5, 31))) == 0
