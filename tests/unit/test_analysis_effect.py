"""The campaign-effect regression: it finds a known effect, its interval is honest, it says
what it cannot know."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from campaigns.analysis.effect import (
    CAVEAT_INCIDENCE,
    CAVEAT_RECORDING,
    CAVEAT_SYNTHETIC,
    CAVEAT_TRIGGERS,
    EffectEstimate,
    describe,
    estimate_effect,
    fingerprint,
    from_record,
    to_record,
    two_sided_p,
)
from campaigns.analysis.periods import campaign_exposure, weeks_from
from campaigns.analysis.synthetic import simulate_weekly_counts

FIRST_WEEK = date(2022, 1, 3)
START, END = date(2024, 3, 6), date(2024, 4, 28)  # a Wednesday; eight weeks in all


def series(
    rng: np.random.Generator, *, effect: float = 1.0, weeks: int = 156,
    end: date | None = END, dispersion: float = 0.0, baseline: float = 40.0,
) -> pd.DataFrame:
    return simulate_weekly_counts(
        weeks, first_week=FIRST_WEEK, intervention_start=START, intervention_end=end,
        effect=effect, baseline=baseline, trend_per_year=0.05, seasonal_amplitude=0.25,
        dispersion=dispersion, rng=rng,
    )


# ---- simulation: the interval is honest --------------------------------------------------------


@pytest.mark.parametrize(
    ("dispersion", "end"),
    [(0.0, END), (0.05, END), (0.05, None)],
    ids=["poisson-8-weeks", "overdispersed-8-weeks", "overdispersed-sustained"],
)
def test_the_interval_covers_a_known_effect_in_at_least_90_percent_of_runs(
    dispersion: float, end: date | None
) -> None:
    rng = np.random.default_rng(1729)
    truth, runs = 1.25, 200
    estimates = [
        estimate_effect(series(rng, effect=truth, end=end, dispersion=dispersion), START, end)
        for _ in range(runs)
    ]
    covered = np.mean([e.ci_low <= truth <= e.ci_high for e in estimates])
    typical = np.exp(np.mean([np.log(e.rate_ratio) for e in estimates]))
    assert covered >= 0.90
    assert typical == pytest.approx(truth, rel=0.03)


def test_no_effect_is_rarely_called_significant() -> None:
    rng = np.random.default_rng(4321)
    runs = 200
    estimates = [estimate_effect(series(rng, dispersion=0.05), START, END) for _ in range(runs)]
    false_positives = np.mean([e.excludes_no_change for e in estimates])
    assert false_positives <= 0.10
    assert np.mean([e.p_value < 0.05 for e in estimates]) == pytest.approx(false_positives)


# ---- the model ---------------------------------------------------------------------------------


def test_a_large_effect_on_a_long_busy_series_is_recovered_closely() -> None:
    data = series(np.random.default_rng(7), effect=1.5, weeks=260, baseline=400.0)
    estimate = estimate_effect(data, START, END)
    assert estimate.rate_ratio == pytest.approx(1.5, rel=0.05)
    assert estimate.percent_change == pytest.approx(50, abs=7)
    assert estimate.p_value < 0.001 and estimate.excludes_no_change


def test_auto_picks_negative_binomial_only_when_the_counts_are_overdispersed() -> None:
    rng = np.random.default_rng(11)
    assert estimate_effect(series(rng, dispersion=0.1), START, END).family == "negative binomial"
    assert estimate_effect(series(rng), START, END).family == "quasi-Poisson"
    asked = estimate_effect(series(rng, dispersion=0.02), START, END, family="negbin")
    assert asked.family == "negative binomial"
    assert estimate_effect(series(rng, dispersion=0.1), START, END, family="poisson").family == (
        "quasi-Poisson")


def test_asking_for_negative_binomial_without_overdispersion_falls_back_and_says_so() -> None:
    estimate = estimate_effect(series(np.random.default_rng(3)), START, END, family="negbin")
    assert estimate.family == "quasi-Poisson"
    assert "found no overdispersion" in estimate.model


def test_month_dummies_and_fourier_terms_agree_on_a_clear_effect() -> None:
    data = series(np.random.default_rng(3), effect=1.4, baseline=200.0)
    fourier = estimate_effect(data, START, END)
    months = estimate_effect(data, START, END, seasonality="month")
    assert months.rate_ratio == pytest.approx(fourier.rate_ratio, rel=0.08)
    assert "month-of-year" in months.model and "Fourier" in fourier.model


def test_a_slope_change_is_estimated_when_asked() -> None:
    data = series(np.random.default_rng(5), effect=1.3, end=None)
    estimate = estimate_effect(data, START, slope_change=True)
    assert estimate.slope_ratio is not None and estimate.slope_ci is not None
    assert estimate.slope_ci[0] < 1 < estimate.slope_ci[1]  # the simulated effect is a step
    assert "slope" in estimate.model


def test_an_exposure_offset_takes_out_a_rise_that_is_only_more_forces_reporting() -> None:
    rng = np.random.default_rng(9)
    data = series(rng, baseline=60.0, end=None)
    forces = np.where(pd.to_datetime(data["week"]) >= pd.Timestamp(START), 2.0, 1.0)
    data["count"] = rng.poisson(data["expected"] * forces)
    data["forces"] = forces
    naive = estimate_effect(data, START)
    per_force = estimate_effect(data, START, exposure="forces")
    assert naive.rate_ratio > 1.5
    assert per_force.ci_low < 1 < per_force.ci_high


def test_a_campaign_starting_midweek_counts_that_week_in_part() -> None:
    weeks = weeks_from(date(2024, 3, 4), 3)
    assert list(campaign_exposure(weeks, date(2024, 3, 6), date(2024, 3, 12))) == [
        5 / 7, 2 / 7, 0.0]
    assert list(campaign_exposure(weeks, date(2024, 3, 6))) == [5 / 7, 1.0, 1.0]


# ---- caveats and the board's paragraph ---------------------------------------------------------


def test_every_estimate_carries_the_standing_caveats() -> None:
    estimate = estimate_effect(series(np.random.default_rng(1)), START, END)
    for caveat in (CAVEAT_INCIDENCE, CAVEAT_RECORDING, CAVEAT_TRIGGERS):
        assert caveat in estimate.caveats
    assert CAVEAT_SYNTHETIC not in estimate.caveats


def test_synthetic_data_is_labelled_first() -> None:
    estimate = estimate_effect(series(np.random.default_rng(1)), START, END, synthetic=True)
    assert estimate.caveats[0] == CAVEAT_SYNTHETIC
    assert describe(estimate).startswith("In these synthetic figures")


def test_a_short_window_and_a_short_baseline_are_caveated() -> None:
    data = series(np.random.default_rng(2), weeks=130)
    data = data[pd.to_datetime(data["week"]) >= pd.Timestamp("2023-01-02")]
    estimate = estimate_effect(data, START, date(2024, 3, 17))
    text = " ".join(estimate.caveats)
    assert "only 1.7 weeks" in text
    assert f"only {estimate.n_weeks_before} weeks of figures before" in text


def test_missing_weeks_are_left_out_and_said_so() -> None:
    data = series(np.random.default_rng(2)).astype({"count": "float64"})
    data.loc[10, "count"] = np.nan
    data = data.drop(index=[20, 21])
    estimate = estimate_effect(data, START, END)
    assert estimate.n_weeks == 153
    assert "3 week(s) without a figure were left out." in estimate.caveats


def test_the_board_paragraph_gives_the_change_its_interval_and_the_caveats() -> None:
    estimate = EffectEstimate(
        rate_ratio=1.18, ci_low=1.04, ci_high=1.34, p_value=0.011, family="negative binomial",
        model="...", n_weeks=156, n_weeks_before=113, campaign_weeks=7.7,
        intervention_start=START, intervention_end=END, dispersion=2.1, autocorrelation=0.1,
        synthetic=False, caveats=[CAVEAT_INCIDENCE],
    )
    text = describe(estimate)
    assert "6 March 2024 to 28 April 2024" in text
    assert "18% higher than" in text
    assert "95% confidence interval: 4% higher to 34% higher" in text
    assert "p = 0.011" in text and "does not show the campaign caused it" in text
    assert text.endswith(CAVEAT_INCIDENCE)


def test_the_board_paragraph_says_when_the_interval_includes_no_change() -> None:
    estimate = EffectEstimate(
        rate_ratio=0.997, ci_low=0.91, ci_high=1.09, p_value=0.95, family="quasi-Poisson",
        model="...", n_weeks=156, n_weeks_before=113, campaign_weeks=7.7,
        intervention_start=START, intervention_end=None, dispersion=1.0, autocorrelation=0.0,
        synthetic=True,
    )
    text = describe(estimate)
    assert "from 6 March 2024 onwards" in text
    assert "about the same as" in text and "9% lower to 9% higher" in text
    assert "cannot tell the campaign's effect from chance (p = 0.950)" in text


# ---- refusals ----------------------------------------------------------------------------------


def test_too_little_baseline_is_refused() -> None:
    data = series(np.random.default_rng(1))
    with pytest.raises(ValueError, match="weeks before the campaign"):
        estimate_effect(data, date(2022, 3, 2))


def test_a_campaign_outside_the_series_is_refused() -> None:
    with pytest.raises(ValueError, match="no week"):
        estimate_effect(series(np.random.default_rng(1)), date(2030, 1, 1))


@pytest.mark.parametrize(
    ("change", "message"),
    [({"count": -1}, "non-negative"), ({"count": 2.5}, "whole numbers")],
)
def test_counts_must_be_non_negative_whole_numbers(change: dict[str, float], message: str) -> None:
    data = series(np.random.default_rng(1)).astype({"count": "float64"})
    data.loc[3, "count"] = change["count"]
    with pytest.raises(ValueError, match=message):
        estimate_effect(data, START, END)


# ---- storing estimates -------------------------------------------------------------------------


def test_an_estimate_read_back_from_its_record_is_the_same_estimate() -> None:
    fitted = estimate_effect(series(np.random.default_rng(5), effect=1.3, end=None), START,
                             slope_change=True, synthetic=True)
    record = to_record(fitted)
    assert json.loads(json.dumps(record)) == record  # plain JSON, as the database keeps it
    assert from_record(record) == fitted
    assert describe(from_record(record)) == describe(fitted)


@pytest.mark.parametrize("record", [{}, {"rate_ratio": 1.2}, {"rate_ratio": 1.2, "odd": 1}],
                         ids=["empty", "incomplete", "unknown-field"])
def test_a_record_that_is_not_an_estimate_is_refused(record: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="not a stored effect estimate"):
        from_record(record)


def test_the_fingerprint_changes_with_the_figures_the_window_and_the_label_only() -> None:
    data = series(np.random.default_rng(8))
    first = fingerprint(data, START, END, synthetic=False)
    assert fingerprint(data.sample(frac=1, random_state=1), START, END, synthetic=False) == first
    assert fingerprint(data.assign(extra=1), START, END, synthetic=False) == first
    changed = data.copy()
    changed.loc[40, "count"] += 1
    missing = data.astype({"count": "float64"})
    missing.loc[40, "count"] = np.nan
    others = {fingerprint(changed, START, END, synthetic=False),
              fingerprint(missing, START, END, synthetic=False),
              fingerprint(data, START, None, synthetic=False),
              fingerprint(data, START, date(2024, 4, 27), synthetic=False),
              fingerprint(data, START, END, synthetic=True)}
    assert first not in others and len(others) == 5


def test_p_values_and_intervals_use_the_exact_normal_distribution() -> None:
    assert two_sided_p(1.959963984540054) == pytest.approx(0.05, rel=1e-12)
    assert two_sided_p(-3.0) == pytest.approx(0.0026997960632601866, rel=1e-12)
    assert two_sided_p(10.0) == pytest.approx(1.523970604832105e-23, rel=1e-9)  # 1 - cdf: 0
    estimate = estimate_effect(series(np.random.default_rng(1)), START, END)
    z = np.log(estimate.ci_high / estimate.rate_ratio) / np.log(
        estimate.rate_ratio / estimate.ci_low)
    assert z == pytest.approx(1.0)  # symmetric on the log scale, 1.96 standard errors each way
