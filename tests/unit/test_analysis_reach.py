"""Reach by week and month from cumulative readings, and reach beside report counts."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from campaigns.analysis.periods import granularity
from campaigns.analysis.reach import align, monthly_reach, reach, weekly_reach

COUNTERS = ["impressions", "likes", "reposts", "replies", "quotes", "bookmarks"]


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def readings(*rows: tuple[int, str, int, int, int, int, int, int]) -> pd.DataFrame:
    return pd.DataFrame(
        [(d, utc(at), *values) for d, at, *values in rows],
        columns=["delivery_id", "read_at", *COUNTERS],
    )


def deliveries(*rows: tuple[int, str, str, str, str | None, bool]) -> pd.DataFrame:
    return pd.DataFrame(
        [(d, c, o, n, utc(p) if p else pd.NaT, s) for d, c, o, n, p, s in rows],
        columns=["delivery_id", "campaign", "organisation", "network", "posted_at",
                 "is_sandbox"],
    )


POSTS = deliveries(
    (1, "hcaw", "police", "x", "2025-03-03 09:00", False),
    (2, "hcaw", "council", "x", "2025-03-04 09:00", False),
    (3, "pride", "council", "bluesky", "2025-03-12 09:00", True),
    (4, "hcaw", "police", "x", None, False),
)


ONE_POST = POSTS.iloc[:1]


def week(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# ---- cumulative readings become growth per period ----------------------------------------------


def test_cumulative_readings_are_differenced_per_week_not_summed() -> None:
    snaps = readings(
        (1, "2025-03-03 10:00", 100, 5, 1, 0, 0, 1),
        (1, "2025-03-05 10:00", 300, 9, 2, 1, 0, 2),  # latest in the week of 3 March
        (1, "2025-03-11 10:00", 350, 9, 2, 1, 1, 2),
        (1, "2025-03-20 10:00", 360, 10, 2, 1, 1, 2),
    )
    table = weekly_reach(snaps, ONE_POST)
    assert list(table["period"]) == [week("2025-03-03"), week("2025-03-10"),
                                     week("2025-03-17")]
    assert list(table["impressions"]) == [300, 50, 10]
    assert list(table["likes"]) == [9, 0, 1]
    assert table["impressions"].sum() == 360  # the last reading, not 1,110


def test_engagements_are_likes_reposts_replies_and_quotes_not_bookmarks() -> None:
    snaps = readings((1, "2025-03-03 10:00", 100, 5, 3, 2, 1, 40))
    row = weekly_reach(snaps, ONE_POST).iloc[0]
    assert row["engagements"] == 11
    assert row["bookmarks"] == 40


def test_a_falling_reading_takes_nothing_back() -> None:
    snaps = readings(
        (1, "2025-03-03 10:00", 300, 9, 0, 0, 0, 0),
        (1, "2025-03-11 10:00", 0, 0, 0, 0, 0, 0),  # the post was deleted and read as zero
        (1, "2025-03-18 10:00", 320, 8, 0, 0, 0, 0),
    )
    table = weekly_reach(snaps, ONE_POST)
    assert list(table["impressions"]) == [300, 0, 20]
    assert list(table["likes"]) == [9, 0, 0]


def test_weeks_follow_local_time_so_late_sunday_utc_in_summer_is_monday() -> None:
    snaps = readings(
        (1, "2025-06-01 22:30", 10, 0, 0, 0, 0, 0),  # 23:30 BST, Sunday 1 June
        (1, "2025-06-01 23:30", 25, 0, 0, 0, 0, 0),  # 00:30 BST, Monday 2 June
    )
    posts = deliveries((1, "hcaw", "police", "x", "2025-06-01 20:00", False))
    table = weekly_reach(snaps, posts)
    assert list(zip(table["period"], table["impressions"], strict=True)) == [
        (week("2025-05-26"), 10), (week("2025-06-02"), 15)]
    utc_weeks = weekly_reach(snaps, posts, tz="UTC")
    assert list(utc_weeks["impressions"]) == [25]


def test_monthly_reach_takes_the_latest_reading_in_each_month() -> None:
    snaps = readings(
        (1, "2025-03-03 10:00", 100, 1, 0, 0, 0, 0),
        (1, "2025-03-31 10:00", 400, 4, 0, 0, 0, 0),
        (1, "2025-04-02 10:00", 450, 4, 0, 0, 0, 0),
    )
    table = monthly_reach(snaps, ONE_POST)
    assert list(table["period"]) == [week("2025-03-01"), week("2025-04-01")]
    assert list(table["impressions"]) == [400, 50]


def test_growth_adds_up_to_the_highest_reading_of_every_delivery() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for delivery in (1, 2, 3):
        moments = pd.Timestamp("2025-03-03", tz="UTC") + pd.to_timedelta(
            np.sort(rng.uniform(0, 60 * 24 * 3600, size=30)), unit="s")
        totals = np.cumsum(rng.integers(-2, 40, size=(30, 6)), axis=0).clip(min=0)
        rows += [(delivery, m, *t) for m, t in zip(moments, totals, strict=True)]
    snaps = pd.DataFrame(rows, columns=["delivery_id", "read_at", *COUNTERS])
    for freq in ("week", "month"):
        table = reach(snaps, POSTS, freq=freq)
        assert (table[COUNTERS] >= 0).all().all()
        highest = snaps.groupby("delivery_id")[COUNTERS].max().sum()
        assert (table[COUNTERS].sum() == highest).all()


# ---- dimensions, posts and the sandbox ---------------------------------------------------------


def test_rows_are_per_campaign_partner_network_and_sandbox_and_count_posts_sent() -> None:
    snaps = readings(
        (1, "2025-03-05 10:00", 100, 1, 0, 0, 0, 0),
        (2, "2025-03-05 10:00", 40, 1, 0, 0, 0, 0),
        (3, "2025-03-13 10:00", 70, 2, 0, 0, 0, 0),
    )
    table = weekly_reach(snaps, POSTS)
    keys = ["period", "campaign", "organisation", "network", "is_sandbox"]
    assert table[[*keys, "posted", "impressions"]].values.tolist() == [
        [week("2025-03-03"), "hcaw", "council", "x", False, 1, 40],
        [week("2025-03-03"), "hcaw", "police", "x", False, 1, 100],
        [week("2025-03-10"), "pride", "council", "bluesky", True, 1, 70],
    ]
    by_campaign = weekly_reach(snaps, POSTS, by=["campaign"])
    assert by_campaign[["campaign", "impressions"]].values.tolist() == [
        ["hcaw", 140], ["pride", 70]]


def test_a_post_sent_but_not_yet_read_still_counts_as_posted() -> None:
    table = weekly_reach(readings(), POSTS)
    assert table["posted"].sum() == 3  # delivery 4 was never sent
    assert table["impressions"].sum() == 0


def test_link_clicks_are_carried_when_read_and_not_lost_when_the_network_stops_giving_them() -> (
        None):
    snaps = readings(
        (1, "2025-03-03 10:00", 100, 0, 0, 0, 0, 0),
        (1, "2025-03-11 10:00", 200, 0, 0, 0, 0, 0),
        (1, "2025-03-18 10:00", 250, 0, 0, 0, 0, 0),
    ).assign(link_clicks=[4.0, 9.0, np.nan])
    table = weekly_reach(snaps, ONE_POST)
    assert list(table["link_clicks"]) == [4, 5, 0]
    assert "link_clicks" not in weekly_reach(snaps.drop(columns="link_clicks"), ONE_POST)


def test_readings_of_unknown_deliveries_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown deliveries"):
        weekly_reach(readings((99, "2025-03-03 10:00", 1, 0, 0, 0, 0, 0)), POSTS)


def test_an_unknown_dimension_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot group"):
        reach(readings(), POSTS, by=["account"])


# ---- reach beside reports ----------------------------------------------------------------------


def reports(*rows: tuple[str, str, str, str, str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        [(date.fromisoformat(s), date.fromisoformat(e), "Force A", strand, source, measure, n)
         for s, e, strand, source, measure, n in rows],
        columns=["period_start", "period_end", "area", "strand", "source", "measure", "count"],
    )


REPORTS = reports(
    ("2025-03-03", "2025-03-09", "race", "police", "offences", 12),
    ("2025-03-17", "2025-03-23", "race", "police", "offences", 9),
    ("2025-03-03", "2025-03-09", "race", "police", "motivating-factors", 14),
    ("2025-03-03", "2025-03-09", "religion", "third-party", "offences", 3),
    ("2025-03-01", "2025-03-31", "all", "police", "offences", 120),
    ("2024-04-01", "2025-03-31", "all", "police", "offences", 1500),
)
SNAPS = readings(
    (1, "2025-03-05 10:00", 100, 1, 0, 0, 0, 0),
    (3, "2025-03-13 10:00", 70, 2, 0, 0, 0, 0),
    (1, "2025-03-26 10:00", 130, 2, 0, 0, 0, 0),
)


def test_weekly_reports_line_up_with_weekly_reach_with_gaps_as_zero_and_nan() -> None:
    aligned = align(weekly_reach(SNAPS, POSTS), REPORTS)
    weeks = [week(w) for w in ("2025-03-03", "2025-03-10", "2025-03-17", "2025-03-24")]
    assert list(aligned.reach["period"]) == weeks
    assert list(aligned.reach["impressions"]) == [100, 0, 0, 30]  # week 2 was sandbox only
    race = aligned.reports[aligned.reports["strand"] == "race"]
    assert list(race["period"]) == weeks
    assert race["count"].tolist()[::2] == [12.0, 9.0]
    assert race["count"].isna().tolist() == [False, True, False, True]
    assert set(aligned.reports["source"]) == {"police", "third-party"}


def test_longer_report_periods_are_not_spread_over_weeks() -> None:
    aligned = align(weekly_reach(SNAPS, POSTS), REPORTS)
    assert list(aligned.unaligned["granularity"]) == ["month", "year"]
    assert list(aligned.unaligned["count"]) == [120, 1500]
    assert "all" not in set(aligned.reports["strand"])


def test_only_the_chosen_measure_is_aligned() -> None:
    aligned = align(weekly_reach(SNAPS, POSTS), REPORTS, measure="motivating-factors")
    assert aligned.reports["count"].dropna().tolist() == [14.0]
    assert aligned.unaligned.empty


def test_sandbox_reach_is_left_out_unless_asked_for_and_then_flagged() -> None:
    table = weekly_reach(SNAPS, POSTS)
    assert not align(table, REPORTS).reach["sandbox"].any()
    flagged = align(table, REPORTS, include_sandbox=True).reach
    assert flagged.loc[flagged["period"] == week("2025-03-10"), "impressions"].item() == 70
    assert flagged["sandbox"].tolist() == [False, True, False, False]


def test_monthly_reports_line_up_with_monthly_reach() -> None:
    aligned = align(monthly_reach(SNAPS, POSTS), REPORTS, freq="month")
    assert aligned.reach[["period", "impressions"]].values.tolist() == [
        [week("2025-03-01"), 130]]
    assert aligned.reports[["strand", "count"]].values.tolist() == [["all", 120.0]]
    assert list(aligned.unaligned["granularity"]) == ["week", "week", "week", "year"]


def test_start_and_end_set_the_calendar() -> None:
    aligned = align(weekly_reach(SNAPS, POSTS), REPORTS, start=date(2025, 2, 26),
                    end=date(2025, 3, 12))
    assert list(aligned.reach["period"]) == [week("2025-02-24"), week("2025-03-03"),
                                             week("2025-03-10")]
    assert aligned.reach["impressions"].tolist() == [0, 100, 0]


def test_reach_at_the_wrong_frequency_is_refused() -> None:
    with pytest.raises(ValueError, match="starts of weeks"):
        align(monthly_reach(SNAPS, POSTS), REPORTS)


def test_two_figures_for_the_same_week_and_series_are_refused() -> None:
    doubled = pd.concat([REPORTS, REPORTS.iloc[:1]])
    with pytest.raises(ValueError, match="more than one figure"):
        align(weekly_reach(SNAPS, POSTS), doubled)


def test_the_wide_view_has_one_row_per_week_and_a_column_per_series() -> None:
    wide = align(weekly_reach(SNAPS, POSTS), REPORTS).wide()
    assert len(wide) == 4
    assert wide["reports: race (police, Force A)"].tolist()[:1] == [12.0]
    assert "reports: religion (third-party, Force A)" in wide.columns


def test_no_data_gives_empty_frames() -> None:
    aligned = align(weekly_reach(readings(), deliveries()), reports())
    assert aligned.reach.empty and aligned.reports.empty and aligned.unaligned.empty


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        ("2025-03-03", "2025-03-09", "week"),
        ("2025-03-04", "2025-03-10", "other"),  # a week, but not Monday to Sunday
        ("2025-02-01", "2025-02-28", "month"),
        ("2024-02-01", "2024-02-29", "month"),
        ("2025-01-01", "2025-03-31", "quarter"),
        ("2024-04-01", "2025-03-31", "year"),  # a financial year
        ("2024-01-01", "2024-12-31", "year"),
        ("2025-03-01", "2025-03-30", "other"),
    ],
)
def test_report_periods_are_classified_by_their_inclusive_dates(
    start: str, end: str, label: str
) -> None:
    assert granularity(pd.Series([start]), pd.Series([end])).item() == label
