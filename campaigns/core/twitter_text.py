"""X's way of counting: twitter-text's configuration (v3 weights, links count 23, emoji
sequences count 2) and `parse_tweet`, with ranges in UTF-16 code units as twitter-text reports
them. Pure: standard library and ``regex``."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import regex

from campaigns.core.entities import Span, url_spans


@dataclass(frozen=True)
class WeightRange:
    start: int  # first code point, inclusive
    end: int  # last code point, inclusive
    weight: int


@dataclass(frozen=True)
class TwitterTextConfig:
    """A twitter-text counting configuration (the fields of its config/*.json files)."""

    max_weighted_length: int
    scale: int
    default_weight: int
    transformed_url_length: int
    emoji_parsing_enabled: bool
    ranges: tuple[WeightRange, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TwitterTextConfig:
        return cls(
            max_weighted_length=data["maxWeightedTweetLength"],
            scale=data["scale"],
            default_weight=data["defaultWeight"],
            transformed_url_length=data["transformedURLLength"],
            emoji_parsing_enabled=data.get("emojiParsingEnabled", False),
            ranges=tuple(WeightRange(r["start"], r["end"], r["weight"]) for r in data["ranges"]),
        )

    def weight_of(self, text: str) -> int:
        """Scaled weight of plain text (no links or emoji): each code point by its range."""
        weight = self.default_weight * len(text)
        for pattern, extra in _range_patterns(self.ranges, self.default_weight):
            weight += extra * (len(text) - len(pattern.sub("", text)))
        return weight


@functools.cache
def _range_patterns(
    ranges: tuple[WeightRange, ...], default_weight: int
) -> tuple[tuple[re.Pattern[str], int], ...]:
    """Each range as a character class with its weight over the default (ranges are disjoint)."""
    return tuple((re.compile(rf"[\U{r.start:08x}-\U{r.end:08x}]"), r.weight - default_weight)
                 for r in ranges)


V3 = TwitterTextConfig(
    max_weighted_length=280,
    scale=100,
    default_weight=200,
    transformed_url_length=23,
    emoji_parsing_enabled=True,
    ranges=(
        WeightRange(0, 4351, 100),  # Latin, Greek, Cyrillic, Hebrew, Arabic, Indic, ...
        WeightRange(8192, 8205, 100),  # spaces and zero-width joiners
        WeightRange(8208, 8223, 100),  # dashes and quotation marks
        WeightRange(8242, 8247, 100),  # primes
    ),
)


V2 = replace(V3, emoji_parsing_enabled=False)


# The 140-character era: every code point 1, links 23. twitter-text's deprecated
# valid_tweet_text? still counts this way, and validate.yml's `tweets` cases expect it.
V1 = TwitterTextConfig(
    max_weighted_length=140,
    scale=1,
    default_weight=1,
    transformed_url_length=23,
    emoji_parsing_enabled=False,
    ranges=(),
)


@dataclass(frozen=True)
class ParsedTweet:
    """twitter-text's parseTweet result; range ends are inclusive UTF-16 indices of the text."""

    weighted_length: int
    valid: bool
    permillage: int
    display_range_start: int
    display_range_end: int
    valid_range_start: int
    valid_range_end: int


def parse_tweet(text: str, config: TwitterTextConfig = V3) -> ParsedTweet:
    """Weigh `text` as X does: valid when 0 < weighted length <= the maximum, no invalid chars."""
    normalized = unicodedata.normalize("NFC", text)
    maximum = config.max_weighted_length * config.scale
    invalid = _TWITTER_INVALID.search(normalized)
    clean_until = len(normalized) if invalid is None else invalid.start()
    total, fitting = _weigh(normalized, config, fit_within=maximum, clean_until=clean_until)
    shrinkage = _utf16_length(text) - _utf16_length(normalized)
    return ParsedTweet(
        weighted_length=total // config.scale,
        valid=invalid is None and 0 < total <= maximum,
        permillage=total * 1000 // maximum,
        display_range_start=0,
        display_range_end=max(_utf16_length(text) - 1, 0),
        valid_range_start=0,
        valid_range_end=max(_utf16_length(normalized[:fitting]) - 1, 0) + shrinkage,
    )


_TWITTER_INVALID = re.compile("[\ufeff\ufffe\uffff]")


def _weigh(text: str, config: TwitterTextConfig, *, fit_within: int,
           clean_until: int) -> tuple[int, int]:
    """Total scaled weight, and where the longest leading run of whole units that fits ends.

    Units are links, emoji sequences and single code points. A unit fits while the weight so
    far is within `fit_within` and it ends before `clean_until` (the first invalid character).
    """
    total = fitting = 0
    for start, end, entity_weight in _pieces(text, config):
        weight = config.weight_of(text[start:end]) if entity_weight is None else entity_weight
        if fitting == start:
            room = fit_within - total
            if weight <= room and end <= clean_until:
                fitting = end
            elif entity_weight is None:
                fitting = _fitting_prefix_end(text, start, min(end, clean_until), room, config)
        total += weight
    return total, fitting


def _pieces(text: str, config: TwitterTextConfig) -> Iterator[tuple[int, int, int | None]]:
    """Links and emoji sequences as (start, end, weight); the plain text between, weight None."""
    position = 0
    for start, (end, weight) in sorted(_weighted_entities(text, config).items()):
        if start < position:
            continue  # inside a link already counted
        if position < start:
            yield position, start, None
        yield start, end, weight
        position = end
    if position < len(text):
        yield position, len(text), None


def _fitting_prefix_end(text: str, start: int, stop: int, room: int,
                        config: TwitterTextConfig) -> int:
    """End of the longest run of code points from `start`, before `stop`, weighing <= `room`."""
    low, high = start, stop
    while low < high:  # weights are never negative, so prefix weight grows with length
        middle = (low + high + 1) // 2
        if config.weight_of(text[start:middle]) <= room:
            low = middle
        else:
            high = middle - 1
    return low


def _weighted_entities(text: str, config: TwitterTextConfig) -> dict[int, tuple[int, int]]:
    """Links and emoji sequences by start index; a link wins where both start."""
    entities: dict[int, tuple[int, int]] = {}
    if config.emoji_parsing_enabled:
        entities.update((start, (end, config.default_weight)) for start, end in _emoji_spans(text))
    url_weight = config.transformed_url_length * config.scale
    entities.update((start, (end, url_weight)) for start, end in url_spans(text))
    return entities


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# One emoji as UTS #51 builds them: keycap, flag, or a pictograph with an optional skin tone or
# presentation selector and tag sequence. ©, ® and ™ are emoji only when asked for with U+FE0F.
_EMOJI_ELEMENT = (
    r"(?:[#*0-9]\ufe0f?\u20e3"
    r"|\p{Regional_Indicator}{2}"
    r"|[\u00a9\u00ae\u2122]\ufe0f"
    r"|(?![\u00a9\u00ae\u2122])[\p{Extended_Pictographic}\p{Emoji_Presentation}]"
    r"(?:\p{Emoji_Modifier}|\ufe0f)?"
    r"(?:[\U000e0020-\U000e007e]+\U000e007f)?)"
)


_EMOJI_SEQUENCE = regex.compile(rf"{_EMOJI_ELEMENT}(?:\u200d{_EMOJI_ELEMENT})*")


def _emoji_spans(text: str) -> list[Span]:
    if text.isascii():
        return []
    return [match.span() for match in _EMOJI_SEQUENCE.finditer(text)]
