"""Synthetic weekly report counts with a known campaign effect, for tests and the demo.

Every series made here is made up. Anything shown from it must say so: pass
`synthetic=True` to `campaigns.analysis.effect.estimate_effect`, which puts that in the caveats.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from campaigns.analysis.periods import campaign_exposure, weeks_from

#: Length of the seasonal cycle in days, as the model's Fourier terms use it.
YEAR_DAYS = 365.25


def simulate_weekly_counts(
    n_weeks: int,
    *,
    first_week: date,
    intervention_start: date,
    intervention_end: date | None = None,
    effect: float = 1.0,
    baseline: float = 40.0,
    trend_per_year: float = 0.0,
    seasonal_amplitude: float = 0.2,
    peak_day_of_year: int = 200,
    dispersion: float = 0.0,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Weekly counts whose rate is `effect` times higher while the campaign runs.

    The expected count in week t is
    ``baseline × (1 + trend_per_year)^years × exp(seasonal_amplitude × cos(season))
    × effect^exposure``, where `exposure` is the share of the week's days inside the campaign
    window (the same definition `estimate_effect` uses), and the season peaks on
    `peak_day_of_year`. With `dispersion` 0 counts are Poisson; above 0 they are negative
    binomial with variance ``mu + dispersion × mu²`` (NB2, as in statsmodels).

    `first_week` must be a Monday. Returns columns `week` (Monday, datetime64), `count` (int),
    `expected` (float) and `exposure` (0–1).
    """
    if first_week.weekday() != 0:
        raise ValueError(f"first_week {first_week} is not a Monday")
    if n_weeks < 1 or baseline <= 0 or effect <= 0 or dispersion < 0:
        raise ValueError("n_weeks, baseline and effect must be positive; dispersion not negative")
    weeks = weeks_from(first_week, n_weeks)
    exposure = campaign_exposure(weeks, intervention_start, intervention_end)
    midweek = weeks + timedelta(days=3)
    years = (weeks - weeks[0]).days.to_numpy() / YEAR_DAYS
    season = 2 * np.pi * (midweek.day_of_year.to_numpy() - peak_day_of_year) / YEAR_DAYS
    mu = (
        baseline
        * (1 + trend_per_year) ** years
        * np.exp(seasonal_amplitude * np.cos(season))
        * effect**exposure
    )
    return pd.DataFrame(
        {"week": weeks, "count": _draw(mu, dispersion, rng), "expected": mu, "exposure": exposure}
    )


def _draw(mu: np.ndarray, dispersion: float, rng: np.random.Generator) -> np.ndarray:
    if dispersion == 0:
        return rng.poisson(mu)
    # A gamma-mixed Poisson is NB2: mean mu, variance mu + dispersion·mu².
    return rng.poisson(rng.gamma(1 / dispersion, mu * dispersion))
