"""How long a post is on each network, measured the way that network measures it.

- X: twitter-text v3 rules. Code points weigh 1 or 2 by range, every link counts 23, an emoji
  sequence counts 2, text is NFC-normalised first; ranges are reported in UTF-16 code units,
  as twitter-text does, so they line up with what X's own editors show.
- Mastodon: code points, every http(s) link 23, ``@user@domain`` counted as ``@user``.
- Bluesky: grapheme clusters; links are sent as written (and the record is at most 3000 bytes).

X's counting is `campaigns.core.twitter_text`; finding links and hashtags is
`campaigns.core.entities`. Pure: standard library and ``regex``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import regex

from campaigns.core.entities import url_spans, without_overlaps
from campaigns.core.twitter_text import V3, parse_tweet

NETWORKS = ("x", "mastodon", "bluesky")


MASTODON_LIMIT = 500


MASTODON_URL_LENGTH = 23


BLUESKY_LIMIT = 300


BLUESKY_MAX_BYTES = 3000


@dataclass(frozen=True)
class Measurement:
    """A post's length on one network, in that network's unit (X: weighted length; Mastodon:
    characters with links as 23; Bluesky: graphemes), and why it cannot be sent, if it cannot."""

    network: str
    length: int
    limit: int
    valid: bool
    problem: str | None


def measure(text: str, network: str, *, limit: int | None = None) -> Measurement:
    """Measure `text` for `network`; `limit` replaces the network's default limit."""
    if network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}: expected one of {', '.join(NETWORKS)}")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    measurer = {"x": _measure_x, "mastodon": _measure_mastodon, "bluesky": _measure_bluesky}
    return measurer[network](text, limit)


def _measure_x(text: str, limit: int | None) -> Measurement:
    config = V3 if limit is None else replace(V3, max_weighted_length=limit)
    parsed = parse_tweet(text, config)
    problem = _first_problem(
        _blank_problem(text),
        _character_problem(text, _X_REFUSED, "X"),
        _length_problem(parsed.weighted_length, config.max_weighted_length, "X weighted length"),
    )
    return _measurement("x", parsed.weighted_length, config.max_weighted_length, problem)


def _measure_mastodon(text: str, limit: int | None) -> Measurement:
    length, limit = mastodon_length(text), limit or MASTODON_LIMIT
    problem = _first_problem(
        _blank_problem(text),
        _character_problem(text, _UNSENDABLE, "Mastodon"),
        _length_problem(length, limit, f"Mastodon; each link counts {MASTODON_URL_LENGTH}"),
    )
    return _measurement("mastodon", length, limit, problem)


def _measure_bluesky(text: str, limit: int | None) -> Measurement:
    length, limit = grapheme_count(text), limit or BLUESKY_LIMIT
    size = len(text.encode("utf-8", "surrogatepass"))
    problem = _first_problem(
        _blank_problem(text),
        _character_problem(text, _UNSENDABLE, "Bluesky"),
        _length_problem(length, limit, "Bluesky graphemes"),
        _size_problem(size),
    )
    return _measurement("bluesky", length, limit, problem)


def _measurement(network: str, length: int, limit: int, problem: str | None) -> Measurement:
    return Measurement(network, length, limit, problem is None, problem)


def _first_problem(*problems: str | None) -> str | None:
    return next((p for p in problems if p is not None), None)


def _blank_problem(text: str) -> str | None:
    if not text:
        return "the post is empty"
    return "the post is only white space" if text.isspace() else None


def _character_problem(text: str, refused: re.Pattern[str], network: str) -> str | None:
    found = refused.search(text)
    if found is None:
        return None
    return (f"contains U+{ord(found.group()):04X} (character {found.start() + 1}), "
            f"which {network} does not accept")


def _length_problem(length: int, limit: int, unit: str) -> str | None:
    return None if length <= limit else f"{length} of {limit} characters ({unit})"


def _size_problem(size: int) -> str | None:
    if size <= BLUESKY_MAX_BYTES:
        return None
    return f"{size} of {BLUESKY_MAX_BYTES} bytes (Bluesky's limit on the UTF-8 size of a post)"


# Lone surrogates cannot be encoded for sending; U+FFFE/U+FFFF are noncharacters.
_UNSENDABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")


# twitter-text's invalid characters (the BOM too), plus what cannot be sent at all.
_X_REFUSED = re.compile("[\ud800-\udfff\ufeff\ufffe\uffff]")


# Mastodon's own mention syntax: a local username, optionally followed by @domain.
_MASTODON_MENTION = re.compile(
    r"(?<![=/\w])@(?P<username>[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@\w+(?:[.-]+\w+)*)?",
    re.IGNORECASE,
)


def mastodon_length(text: str) -> int:
    """The length as Mastodon's StatusLengthValidator counts it: grapheme clusters of the text
    with each link replaced by 23 characters and each remote mention by its local part."""
    links = [(span, "x" * MASTODON_URL_LENGTH)
             for span in url_spans(text, without_protocol=False)]
    mentions = [((m.start(), m.end()), f"@{m['username']}")
                for m in _MASTODON_MENTION.finditer(text)]
    pieces, last = [], 0
    for (start, end), replacement in without_overlaps(links + mentions):
        pieces += [text[last:start], replacement]
        last = end
    return grapheme_count("".join(pieces) + text[last:])


_GRAPHEME = regex.compile(r"\X")


def grapheme_count(text: str) -> int:
    """User-perceived characters (extended grapheme clusters), as Bluesky counts them."""
    if text.isascii():
        return len(text) - text.count("\r\n")
    return len(_GRAPHEME.findall(text))
