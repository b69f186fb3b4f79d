"""What a Mastodon instance says about itself that posting depends on (its version and its
character limit), and refusing before sending what the instance would refuse by that limit.

Asking the instance (`read_instance`) takes Mastodon.py, so that is in mastodon.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from campaigns.core.text import measure
from scheduler.publishers.base import Outcome, SendResult, SendStopped
from scheduler.publishers.mastodon_outcomes import host_of


@dataclass(frozen=True)
class InstanceInfo:
    """What an instance says about itself that posting depends on."""

    url: str
    version: str
    max_characters: int
    read_at: datetime


def semver(version: str) -> str:
    """A version Mastodon.py can compare ("4.3.0+glitch" -> "4.3.0"); Mastodon.py's own guess
    (1.0.0) for one it cannot read."""
    found = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", version.strip())
    return f"{found[1]}.{found[2]}.{found[3] or 0}" if found else "1.0.0"


def check_length(text: str, instance: InstanceInfo, *, has_media: bool) -> None:
    """Refuse, before sending, what the instance would refuse: too long by its own limit."""
    measured = measure(text, "mastodon", limit=instance.max_characters)
    if measured.length > instance.max_characters:
        raise SendStopped(SendResult(Outcome.FAILED, reason=(
            f"too long for {host_of(instance.url)}: {measured.length} characters where it "
            f"allows {instance.max_characters} (each link counts 23); nothing was sent")))
    if measured.problem is not None and not (has_media and not text.strip()):
        raise SendStopped(SendResult(Outcome.FAILED, reason=f"cannot be posted on Mastodon: "
                                                      f"{measured.problem}"))
