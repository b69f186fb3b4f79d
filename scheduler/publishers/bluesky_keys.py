"""Record keys for Bluesky posts: TIDs, and the one a delivery always gets.

A pure module (no atproto): the publisher chooses each post's key with `record_key`, and the
sandbox checks and makes keys with `is_tid` and `tid`, as a PDS does.

A TID is 13 characters of base32-sortable: a 64-bit number whose top bit is zero, then 53
bits of microseconds since the Unix epoch, then a 10-bit clock id.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_MAX_MICROS = 2**53 - 1
#: The instant a delivery's key counts from: key microseconds = this + the delivery id.
KEY_EPOCH = datetime(2023, 1, 1, tzinfo=UTC)
_KEY_EPOCH_MICROS = int(KEY_EPOCH.timestamp()) * 1_000_000


def tid(micros: int, clock_id: int = 0) -> str:
    """The TID for this many microseconds since the epoch and this clock id (0–1023)."""
    if not 0 <= micros <= _MAX_MICROS or not 0 <= clock_id < 1024:
        raise ValueError(f"no TID has {micros} microseconds and clock id {clock_id}")
    value = micros << 10 | clock_id
    return "".join(_ALPHABET[value >> shift & 31] for shift in range(60, -1, -5))


def is_tid(text: str) -> bool:
    return _TID.match(text) is not None


def record_key(delivery_id: int) -> str:
    """The record key of a delivery's post: the same on every try and in every worker, so a
    PDS refuses a second copy of the post instead of publishing it.

    It is a valid TID (what app.bsky.feed.post keys must be) that stands for an instant soon
    after 2023-01-01, `delivery_id` microseconds after `KEY_EPOCH`, so it never runs ahead of
    the clock. Feeds order posts by their `createdAt` and when they were indexed; only a
    listing of the repository's records goes by key, where these sort among themselves by
    delivery.
    """
    if delivery_id < 0:
        raise ValueError(f"a delivery id is never negative: {delivery_id}")
    return tid(_KEY_EPOCH_MICROS + delivery_id)
