"""Make the synthetic demo file: weekly hate crime reports for York, 2023-2026.

    python content/reports/make_synthetic.py            # (re)write the CSV beside this script
    python content/reports/make_synthetic.py --check    # fail if the shipped CSV differs

The figures are made up. They follow the model in README.md (section "The synthetic demo
data"), with a known rise after each campaign, so that the analysis can be tested against a
truth. Only the standard library is used, and its random generator is seeded, so the same
file comes out on every machine and Python version.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

SEED = 20230102
AREA = "York"
FIRST_MONDAY = date(2023, 1, 2)
#: Monday 2023-01-02 to Sunday 2026-12-27: every week that lies wholly inside 2023-2026.
WEEKS = 208
OUTPUT = Path(__file__).with_name("york-synthetic-weekly-2023-2026.csv")

#: Expected offences a week at FIRST_MONDAY, before season and campaigns, by source.
BASE_RATE = {
    "police-recorded": 6.0,
    "third-party-centre": 1.2,
    "true-vision": 0.8,
    "stop-hate-uk": 0.6,
}
#: Growth of the underlying rate: exp(TREND * years since FIRST_MONDAY), about 4% a year.
TREND = 0.04
#: One annual harmonic, highest in mid-July: exp(SEASON_AMPLITUDE * cos(2 pi (d - peak) / y)).
SEASON_AMPLITUDE = 0.15
SEASON_PEAK_DAY = 196  # day of the year, 15 July
#: The true campaign effect: every rate is multiplied by this in the weeks after a campaign.
EFFECT = 1.15
EFFECT_WEEKS = 4

#: First days of the awareness weeks the partnership campaigns in, as content/events.yaml
#: gives them (`chorus calendar --year YEAR`); a unit test checks they still agree.
CAMPAIGN_STARTS = {
    "refugee-week": (date(2023, 6, 19), date(2024, 6, 17), date(2025, 6, 16),
                     date(2026, 6, 15)),
    "national-hate-crime-awareness-week": (date(2023, 10, 14), date(2024, 10, 12),
                                           date(2025, 10, 11), date(2026, 10, 10)),
    "interfaith-week": (date(2023, 11, 12), date(2024, 11, 10), date(2025, 11, 9),
                        date(2026, 11, 8)),
}

#: The share of offences whose first motivating factor is each strand.
PRIMARY = {
    "race": 0.62,
    "religion": 0.08,
    "sexual-orientation": 0.16,
    "disability": 0.09,
    "transgender": 0.05,
}
#: The chance that an offence has a second motivating factor (another strand, drawn in
#: proportion to PRIMARY), so that the strands add up to more than the offences.
SECOND_FACTOR = 0.06

COLUMNS = ("period_start", "period_end", "area", "strand", "source", "measure", "count")


@dataclass(frozen=True)
class Week:
    start: date

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)


def weeks() -> list[Week]:
    return [Week(FIRST_MONDAY + timedelta(weeks=n)) for n in range(WEEKS)]


def after_campaign(week: Week) -> bool:
    """True for the EFFECT_WEEKS weeks starting on the first Monday on or after a campaign."""
    return any(timedelta(0) <= week.start - start < timedelta(weeks=EFFECT_WEEKS)
               for starts in CAMPAIGN_STARTS.values() for start in starts)


def effect_windows() -> list[tuple[date, date]]:
    """The weeks after each campaign, as (first Monday, last Sunday), in date order."""
    windows = []
    for start in sorted(d for starts in CAMPAIGN_STARTS.values() for d in starts):
        monday = start + timedelta(days=-start.weekday() % 7)
        windows.append((monday, monday + timedelta(weeks=EFFECT_WEEKS, days=-1)))
    return windows


def expected(source: str, week: Week) -> float:
    """The mean offences of a source in a week: the generating model, without noise."""
    years = (week.start - FIRST_MONDAY).days / 365.25
    day = week.start.timetuple().tm_yday
    season = SEASON_AMPLITUDE * math.cos(2 * math.pi * (day - SEASON_PEAK_DAY) / 365.25)
    rate = BASE_RATE[source] * math.exp(TREND * years + season)
    return rate * (EFFECT if after_campaign(week) else 1.0)


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: exact, and quick for the small means used here."""
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    target = rng.random() * sum(weights.values())
    for name, weight in weights.items():
        target -= weight
        if target < 0:
            return name
    return name


def factors(rng: random.Random, offences: int) -> dict[str, int]:
    """Motivating factors per strand for a number of offences."""
    counts = dict.fromkeys(PRIMARY, 0)
    for _ in range(offences):
        first = pick(rng, PRIMARY)
        counts[first] += 1
        if rng.random() < SECOND_FACTOR:
            counts[pick(rng, {s: w for s, w in PRIMARY.items() if s != first})] += 1
    return counts


def rows(seed: int = SEED) -> Iterator[tuple[str, ...]]:
    rng = random.Random(seed)
    for week in weeks():
        for source in BASE_RATE:
            offences = poisson(rng, expected(source, week))
            period = (week.start.isoformat(), week.end.isoformat(), AREA)
            yield (*period, "all", source, "offences", str(offences))
            for strand, count in factors(rng, offences).items():
                yield (*period, strand, source, "motivating-factors", str(count))


def render(seed: int = SEED) -> str:
    out = io.StringIO()
    out.write(f"# synthetic: made-up weekly counts for {AREA}, not real figures; generated by "
              f"content/reports/make_synthetic.py (seed {seed})\n")
    out.write("# citation: none: synthetic demo data (see content/reports/README.md)\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows(seed))
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUTPUT, help="where to write the CSV")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    body = render()
    if args.check:
        same = args.out.is_file() and args.out.read_text(encoding="utf-8") == body
        print(f"{args.out}: {'up to date' if same else 'differs from the generator'}")
        return 0 if same else 1
    args.out.write_text(body, encoding="utf-8")
    print(f"{args.out}: {body.count(chr(10)) - 3} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
