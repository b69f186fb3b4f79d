"""What the hostile-input suite shares: Hypothesis profiles and a bound on each input's cost.

`make test` runs a bounded number of examples per property; set CHORUS_FUZZ_EXAMPLES (say
2000) to run longer. Every importer must answer each input within BOUND_SECONDS and
BOUND_BYTES: these are bounds on a runaway (a hang, a memory bomb), not speed targets.
"""

from __future__ import annotations

import os
import signal
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from hypothesis import HealthCheck, settings

BOUND_SECONDS = 10
BOUND_BYTES = 500 * 1024 * 1024

settings.register_profile(
    "chorus",
    max_examples=int(os.environ.get("CHORUS_FUZZ_EXAMPLES", "25")),
    deadline=None,  # the watchdog below bounds time; Hypothesis' deadline would flake
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
    derandomize=not os.environ.get("CHORUS_FUZZ_EXAMPLES"),
)
settings.load_profile("chorus")


class Runaway(AssertionError):
    """An input took longer than BOUND_SECONDS to be answered."""


@dataclass
class Cost:
    peak_bytes: int = 0
    seconds: float = 0.0


@contextmanager
def bounded() -> Iterator[Cost]:
    """Run the body under a watchdog and measure its peak Python memory; fail past the bounds.

    The watchdog (SIGALRM) interrupts a body that runs away, so the suite fails instead of
    hanging; tracemalloc sees allocations by Python objects and by NumPy.
    """
    cost = Cost()

    def _expired(signum: int, frame: object) -> None:
        raise Runaway(f"no answer within {BOUND_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.alarm(BOUND_SECONDS)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        yield cost
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        cost.seconds = time.perf_counter() - started
        cost.peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert cost.peak_bytes < BOUND_BYTES, f"peak memory {cost.peak_bytes / 2**20:.0f} MB"
