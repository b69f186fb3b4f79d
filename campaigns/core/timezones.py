"""Wall-clock times in a zone, with daylight-saving gaps and overlaps made explicit."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


class LocalTimeKind(enum.Enum):
    NORMAL = "normal"
    GAP = "gap"  # skipped when the clocks go forward: the time never happens
    FOLD = "fold"  # repeated when the clocks go back: the time happens twice


def classify_local(local: datetime, zone: ZoneInfo) -> LocalTimeKind:
    """Whether a naive wall-clock time exists once, never or twice in `zone`."""
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return LocalTimeKind.NORMAL
    round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return LocalTimeKind.FOLD if round_trip == local else LocalTimeKind.GAP


def resolve_local(local: datetime, zone: ZoneInfo) -> tuple[datetime, str | None]:
    """The UTC instant for a naive local time, and a note when a clock change moved it.

    A time in a gap moves forward by the gap (01:30 on the spring-forward night becomes
    02:30 BST); a time in an overlap takes its first occurrence (before the clocks go back).
    """
    kind = classify_local(local, zone)
    if kind is LocalTimeKind.NORMAL:
        return local.replace(tzinfo=zone).astimezone(UTC), None
    first = local.replace(tzinfo=zone, fold=0)
    if kind is LocalTimeKind.FOLD:
        note = (f"{local:%Y-%m-%d %H:%M} happens twice in {zone.key}; "
                "used the first (before the clocks go back)")
        return first.astimezone(UTC), note
    second = local.replace(tzinfo=zone, fold=1)
    gap = (first.utcoffset() or timedelta()) - (second.utcoffset() or timedelta())
    moved = (local + abs(gap)).replace(tzinfo=zone)
    note = (f"{local:%Y-%m-%d %H:%M} does not exist in {zone.key} (clocks go forward); "
            f"moved to {moved:%H:%M}")
    return moved.astimezone(UTC), note
