"""The story at the top of the board page, as text: what happened, what the reporting figures
did and what can be concluded, in plain words and a tense that is true on the day; and one
notice for figures that are not real."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from campaigns.analysis.effect import EffectEstimate
from dashboard.insights.effect_estimates import EffectResult, effect_table
from dashboard.insights.periods import Period
from dashboard.insights.story import Totals, Window, notice, period_line, summary
from dashboard.queries import SANDBOX_LABEL, SYNTHETIC_LABEL

TODAY = date(2026, 12, 5)  # a Saturday
#: The 13 weeks to Sunday 29 November 2026, the latest that have ended on TODAY.
PERIOD = Period(date(2026, 8, 31), 13)
REAL = Totals(weeks=13, posts=40, impressions=12_000, engagements=830,
              impressions_before=10_000, area="York", reports=120, reports_before=150,
              report_weeks=13, report_weeks_before=13)
STATISTICS = ("rate ratio", "quasi-poisson", "p =", "p-value", "confidence interval",
              "dispersion", "autocorrelation")
DHM = Window("UK Disability History Month 2026", date(2026, 11, 19), date(2026, 12, 20))
NHCAW = Window("National Hate Crime Awareness Week 2026", date(2026, 10, 10),
               date(2026, 10, 17))


def told(totals: Totals, windows: tuple[Window, ...] = ()) -> str:
    return " ".join(summary(totals, windows=windows, today=TODAY))


@pytest.mark.parametrize(("totals", "said"), [
    pytest.param(REAL, "seen 12,000 times (up 20% on the 13 weeks before)", id="rising"),
    pytest.param(replace(REAL, impressions=8_000),
                 "seen 8,000 times (down 20% on the 13 weeks before)", id="falling"),
    pytest.param(replace(REAL, impressions=10_020),
                 "(about the same as the 13 weeks before)", id="no-change"),
    pytest.param(replace(REAL, impressions_before=0), "(up from none before)", id="new"),
])
def test_reach_says_how_it_moved_on_the_weeks_before(totals: Totals, said: str) -> None:
    text = told(totals)
    assert text.startswith("The partnership's accounts sent 40 posts, seen ")
    assert said in text


def test_reports_say_how_they_moved_and_what_that_cannot_show() -> None:
    text = told(REAL)
    assert "In York, 120 hate crime offences were reported: down 20% on the 13 weeks " \
        "before." in text
    assert "do not show that it caused the change" in text
    assert "more confidence to report" in text


def test_rising_reports_are_not_called_good_or_bad() -> None:
    text = told(replace(REAL, reports=180))
    assert "up 20% on the 13 weeks before" in text
    assert not any(word in text.lower() for word in ("worse", "better", "success", "improv"))


def test_with_no_data_the_story_says_there_is_none_and_concludes_nothing() -> None:
    nothing = Totals(weeks=13, posts=0, impressions=0, engagements=0, impressions_before=0)
    assert summary(nothing, today=TODAY) == [
        "No posts were sent and no reach was recorded in these weeks.",
        "No weekly hate crime reporting figures have been imported yet, so reach cannot be "
        "set beside reporting.",
    ]


def test_an_area_without_figures_for_these_weeks_says_so() -> None:
    text = told(replace(REAL, reports=None, reports_before=None, report_weeks=0))
    assert "There are no weekly hate crime reporting figures for York for these weeks yet." \
        in text
    assert "caused" not in text


def test_weeks_missing_give_no_change() -> None:
    text = told(replace(REAL, report_weeks=12))
    assert "in the 12 weeks of these 13 with figures; with weeks missing, no change can be " \
        "given." in text
    assert "down" not in text.split("York")[1]


def test_a_count_under_the_threshold_is_not_given() -> None:
    text = told(replace(REAL, reports=3))
    assert "fewer than 5 hate crime offences were reported" in text
    assert " 3 " not in text


def test_sandbox_only_reach_is_said_to_reach_no_one_and_concludes_nothing() -> None:
    text = told(replace(REAL, sandbox_only=True))
    assert text.startswith("Only sandbox accounts, which reach no one, posted: 40 posts")
    assert "As the reach is not real, nothing can be concluded from it." in text
    assert "caused" not in text


def test_synthetic_reports_are_named_so_and_conclude_nothing() -> None:
    text = told(replace(REAL, synthetic=True, sandbox_only=True))
    assert "In York's synthetic figures, 120 hate crime offences were reported" in text
    assert "As the reach and the reports are not real, nothing can be concluded from them." \
        in text


def test_a_window_still_running_is_provisional_and_one_that_ended_is_not_mentioned() -> None:
    text = told(REAL, (NHCAW, DHM))
    assert "UK Disability History Month 2026 (until 20 December 2026) runs on: what can be " \
        "said of it so far is provisional." in text
    assert "National Hate Crime Awareness Week" not in text


@pytest.mark.parametrize("totals", [REAL, replace(REAL, sandbox_only=True, synthetic=True),
                                    replace(REAL, reports=None)])
def test_the_story_uses_no_statistical_terms(totals: Totals) -> None:
    text = told(totals, (DHM,)).lower()
    assert not [term for term in STATISTICS if term in text]


def test_the_period_says_so_far_only_when_its_last_week_is_not_over() -> None:
    assert period_line(PERIOD, TODAY) == "31 August to 29 November 2026 (13 weeks)"
    running = Period(date(2026, 9, 7), 13)
    assert period_line(running, TODAY) == ("7 September to 6 December 2026 (13 weeks), so far: "
                                          "this week is not over yet")
    across = Period(date(2025, 12, 29), 4)
    assert period_line(across, TODAY).startswith("29 December 2025 to 25 January 2026")


def test_one_notice_says_what_is_sandbox_and_what_is_synthetic() -> None:
    sandbox = f"{SANDBOX_LABEL}: 39 posts came from sandbox accounts."
    both = notice(synthetic_area="York", sandbox_note=sandbox)
    assert both.startswith(f"{SYNTHETIC_LABEL}: the reporting figures for York come from a "
                           "synthetic demo file")
    assert sandbox in both
    assert both.endswith(f"marks these figures '{SYNTHETIC_LABEL}' and '{SANDBOX_LABEL}'.")
    assert notice(synthetic_area=None, sandbox_note="") == ""
    assert SYNTHETIC_LABEL not in notice(synthetic_area=None, sandbox_note=sandbox)


# ---- an effect estimate, in words and tense ------------------------------------------------------


ESTIMATE = EffectEstimate(
    rate_ratio=0.78, ci_low=0.55, ci_high=1.10, p_value=0.218, family="quasi-Poisson",
    model="Weekly counts on a trend, the seasons and the window.", n_weeks=160,
    n_weeks_before=152, campaign_weeks=1.6, intervention_start=DHM.start,
    intervention_end=DHM.end, dispersion=1.4, autocorrelation=0.12, synthetic=True)
RESULT = EffectResult(DHM.name.removesuffix(" 2026"), 2026, DHM.start, DHM.end,
                      DHM.name, estimate=ESTIMATE)


def test_an_estimate_for_a_window_that_has_ended_is_in_the_past_tense() -> None:
    text = RESULT.explanation()
    assert text.startswith("The partnership's campaign UK Disability History Month 2026 ran "
                           "in this window.")
    assert "during the campaign (19 November 2026 to 20 December 2026), weekly reports were " \
        "an estimated 22% lower than" in text
    assert "most likely somewhere between 45% lower and 10% higher" in text
    assert "cannot tell the campaign's effect from chance" in text
    assert not [term for term in STATISTICS if term in text.lower()]


def test_an_estimate_for_a_window_still_running_is_provisional_and_in_the_present() -> None:
    text = replace(RESULT, ongoing=True).explanation()
    assert "is running in this window." in text
    assert "The window has not ended, so this estimate is provisional" in text
    assert "so far in the campaign (19 November 2026 to 20 December 2026), weekly reports " \
        "are an estimated 22% lower" in text
    assert " were " not in text
    row = effect_table([replace(RESULT, ongoing=True)], synthetic=True).iloc[0]
    assert row["what it shows"].startswith("so far (the window has not ended; provisional)")


def test_the_statistics_are_given_apart_for_the_methods() -> None:
    text = RESULT.statistics()
    for figure in ("quasi-Poisson", "Rate ratio 0.78", "95% confidence interval 0.55 to 1.10",
                   "p = 0.218", "Dispersion 1.40", "autocorrelation of the residuals 0.12"):
        assert figure in text
