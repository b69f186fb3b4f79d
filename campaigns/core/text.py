"""How long a post is on each network, measured the way that network measures it.

- X: twitter-text v3 rules. Code points weigh 1 or 2 by range, every link counts 23, an emoji
  sequence counts 2, text is NFC-normalised first; ranges are reported in UTF-16 code units,
  as twitter-text does, so they line up with what X's own editors show.
- Mastodon: code points, every http(s) link 23, ``@user@domain`` counted as ``@user``.
- Bluesky: grapheme clusters; links are sent as written (and the record is at most 3000 bytes).

A pure module: standard library, ``regex`` and the TLD list shipped in ``campaigns/data``.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any, TypeVar

import regex

NETWORKS = ("x", "mastodon", "bluesky")

MASTODON_LIMIT = 500
MASTODON_URL_LENGTH = 23
BLUESKY_LIMIT = 300
BLUESKY_MAX_BYTES = 3000

_Span = tuple[int, int]  # [start, end) in code points
_T = TypeVar("_T")


# --- measurement, the API the rest of Chorus uses ----------------------------------------------


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


# --- Mastodon and Bluesky ----------------------------------------------------------------------

# Mastodon's own mention syntax: a local username, optionally followed by @domain.
_MASTODON_MENTION = re.compile(
    r"(?<![=/\w])@(?P<username>[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@\w+(?:[.-]+\w+)*)?",
    re.IGNORECASE,
)


def mastodon_length(text: str) -> int:
    """The length as Mastodon's StatusLengthValidator counts it: grapheme clusters of the text
    with each link replaced by 23 characters and each remote mention by its local part."""
    links = [(span, "x" * MASTODON_URL_LENGTH)
             for span in _url_spans(text, without_protocol=False)]
    mentions = [((m.start(), m.end()), f"@{m['username']}")
                for m in _MASTODON_MENTION.finditer(text)]
    pieces, last = [], 0
    for (start, end), replacement in _without_overlaps(links + mentions):
        pieces += [text[last:start], replacement]
        last = end
    return grapheme_count("".join(pieces) + text[last:])


def _without_overlaps(entities: Iterable[tuple[_Span, _T]]) -> list[tuple[_Span, _T]]:
    """Entities by position, dropping any that starts inside the one kept before it."""
    kept: list[tuple[_Span, _T]] = []
    for entity in sorted(entities, key=lambda e: e[0][0]):
        if not kept or kept[-1][0][1] <= entity[0][0]:
            kept.append(entity)
    return kept


_GRAPHEME = regex.compile(r"\X")


def grapheme_count(text: str) -> int:
    """User-perceived characters (extended grapheme clusters), as Bluesky counts them."""
    if text.isascii():
        return len(text) - text.count("\r\n")
    return len(_GRAPHEME.findall(text))


# --- X: twitter-text configuration and parse_tweet ---------------------------------------------


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
    entities.update((start, (end, url_weight)) for start, end in _url_spans(text))
    return entities


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# --- emoji sequences ---------------------------------------------------------------------------

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


def _emoji_spans(text: str) -> list[_Span]:
    if text.isascii():
        return []
    return [match.span() for match in _EMOJI_SEQUENCE.finditer(text)]


# --- links -------------------------------------------------------------------------------------


def extract_urls(text: str) -> list[str]:
    """The links X would recognise in `text` (with or without http://), in order."""
    return [text[start:end] for start, end in _url_spans(text)]


_ASCII_PUNCTUATION = re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_SPACES = r"\t-\r\x20\x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_DIRECTIONAL_MARKS = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_INVALID = r"\ufeff\ufffe\uffff"
_LATIN_ACCENTS = (r"\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259"
                  r"\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff")
_CYRILLIC = r"\u0400-\u04ff"

_PRECEDING = rf"(?:[^a-z0-9@\uff20$#\uff03{_INVALID}]|^)"
_DOMAIN_CHAR = rf"[^{_ASCII_PUNCTUATION}{_SPACES}{_DIRECTIONAL_MARKS}{_INVALID}]"
_SUBDOMAIN = rf"(?:(?:{_DOMAIN_CHAR}(?:[_-]|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\.)"
_DOMAIN_NAME = rf"(?:(?:{_DOMAIN_CHAR}(?:-|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\.)"
_PUNYCODE_TLD = r"xn--[-0-9a-z]+"
_TLD_END = r"(?=[^0-9a-z@]|$)"
_PATH_CHAR = rf"[a-z{_CYRILLIC}0-9!*';:=+,.$/%#\[\]\-\u2013_~@|&{_LATIN_ACCENTS}]"
_PATH_END = rf"[+\-a-z{_CYRILLIC}0-9=_#/{_LATIN_ACCENTS}]"
# Up to two levels of balanced parentheses, as in /wiki/Primer_(film)
_PARENS = rf"\((?:{_PATH_CHAR}+|{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*)\)"
# A path never ends on punctuation that more likely belongs to the sentence ("see x.com/a.")
_PATH = rf"/(?:(?:{_PATH_CHAR}|{_PARENS})*(?:{_PATH_END}|{_PARENS}))?"
_QUERY = r"\?[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]*[a-z0-9\-_&=#/]"

_TCO_URL = re.compile(r"https?://t\.co/([a-z0-9]+)", re.IGNORECASE)
_MAX_TCO_SLUG = 40
_MAX_URL_LENGTH = 4096
_MAX_LABEL_LENGTH = 63


@dataclass(frozen=True)
class _TopLevelDomains:
    generic: tuple[str, ...]
    country: tuple[str, ...]  # two-letter ASCII codes


@functools.cache
def _top_level_domains() -> _TopLevelDomains:
    lines = resources.files("campaigns.core").joinpath("data/tlds.txt").read_text("utf-8")
    names = [_unicode_label(line.strip().lower()) for line in lines.splitlines()
             if line.strip() and not line.startswith("#")]
    country = tuple(n for n in names if len(n) == 2 and n.isascii())
    return _TopLevelDomains(tuple(n for n in names if n not in country), country)


def _unicode_label(label: str) -> str:
    if not label.startswith("xn--"):
        return label
    try:
        return label[4:].encode("ascii").decode("punycode")
    except UnicodeError:
        return label


@functools.cache
def _patterns() -> dict[str, re.Pattern[str]]:
    tlds = _top_level_domains()
    generic = rf"(?:{_trie_pattern(tlds.generic)}){_TLD_END}"
    country = rf"(?:{_trie_pattern(tlds.country)}){_TLD_END}"
    any_tld = rf"(?:{generic}|{country}|{_PUNYCODE_TLD})"
    domain = rf"{_SUBDOMAIN}*{_DOMAIN_NAME}{any_tld}"
    # A cheap necessary condition first: a dot and a TLD ahead, before any white space.
    before = rf"(?P<before>{_PRECEDING})(?=[^{_SPACES}]*\.{any_tld})"
    protocol = r"(?P<protocol>https?://)"
    after_protocol = rf"(?P<domain>{domain})(?::[0-9]+)?(?P<path>{_PATH})?(?:{_QUERY})?"
    compiled = {
        "url": rf"{before}(?P<url>{protocol}?{after_protocol})",
        "url_with_protocol": rf"{before}(?P<url>{protocol}{after_protocol})",
        "dot_tld": rf"\.{any_tld}",
        "ascii_domain": rf"(?:[-a-z0-9{_LATIN_ACCENTS}]+\.)+{any_tld}",
        "short_country_domain": rf"{_DOMAIN_NAME}{country}",
        "special_short_domain": rf"{_DOMAIN_NAME}(?:co|tv)(?=[^0-9a-z@]|$)",
    }
    return {name: re.compile(pattern, re.IGNORECASE) for name, pattern in compiled.items()}


def _trie_pattern(words: Iterable[str]) -> str:
    """An alternation of `words` factored by common prefix, so matching one is cheap."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_node_pattern(trie)


def _trie_node_pattern(node: dict[str, Any]) -> str:
    branches = [re.escape(char) + _trie_node_pattern(child)
                for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


def _url_spans(text: str, *, without_protocol: bool = True) -> list[_Span]:
    """Where twitter-text finds links; protocol-less ones only when `without_protocol`."""
    patterns = _patterns()
    if ("." if without_protocol else ":") not in text or not patterns["dot_tld"].search(text):
        return []
    spans: list[_Span] = []
    for match in patterns["url" if without_protocol else "url_with_protocol"].finditer(text):
        spans.extend(_link_spans(match, without_protocol))
    return spans


def _link_spans(match: re.Match[str], without_protocol: bool) -> list[_Span]:
    protocol = match["protocol"]
    if not _host_is_encodable(match["url"], protocol or "https://", match["domain"]):
        return []
    if protocol:
        return _protocol_link_span(match)
    if not without_protocol or match["before"][-1:] in ("-", "_", ".", "/"):
        return []
    return _bare_domain_spans(match)


def _protocol_link_span(match: re.Match[str]) -> list[_Span]:
    start, end = match.span("url")
    tco = _TCO_URL.match(match["url"])
    if tco is None:
        return [(start, end)]
    # t.co links end at their slug; an over-long slug is not a t.co link at all.
    return [] if len(tco[1]) > _MAX_TCO_SLUG else [(start, start + tco.end())]


def _bare_domain_spans(match: re.Match[str]) -> list[_Span]:
    """ASCII domains inside a protocol-less match; a lone ccTLD domain needs a path to count."""
    start, domain, has_path = match.start("domain"), match["domain"], bool(match["path"])
    spans = [(start + m.start(), start + m.end())
             for m in _patterns()["ascii_domain"].finditer(domain)
             if has_path or not _is_short_country_domain(m.group())]
    if has_path and spans:
        spans[-1] = (spans[-1][0], match.end("url"))
    return spans


def _is_short_country_domain(domain: str) -> bool:
    patterns = _patterns()
    return (patterns["short_country_domain"].fullmatch(domain) is not None
            and patterns["special_short_domain"].fullmatch(domain) is None)


def _host_is_encodable(url: str, protocol: str, domain: str) -> bool:
    """Every DNS label fits 63 characters once punycoded, and so does the whole URL."""
    if domain.lower().startswith("xn--") and not _patterns()["ascii_domain"].search(domain):
        return False
    lengths = [_punycode_length(label) for label in domain.split(".")]
    if not all(1 <= length <= _MAX_LABEL_LENGTH for length in lengths):
        return False
    encoded_domain = sum(lengths) + len(lengths) - 1
    return len(protocol) + len(url) - len(domain) + encoded_domain <= _MAX_URL_LENGTH


def _punycode_length(label: str) -> int:
    """The label's length in DNS (ASCII) form; never less than its length in characters."""
    if label.isascii() or len(label) > _MAX_LABEL_LENGTH:
        return len(label)  # long labels are refused anyway: spare the slow punycode codec
    try:
        return len("xn--") + len(label.encode("punycode"))
    except UnicodeError:
        return 0


# --- hashtags ----------------------------------------------------------------------------------

_HASHTAG_LETTER = r"[\p{L}\p{M}]"
_HASHTAG_CHAR = (r"[\p{L}\p{M}\p{Nd}_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c"
                 r"\u309b\u309c\u30a0\u30fb\u3003\u0f0b\u0f0c\u00b7]")
_HASHTAG = regex.compile(
    # Not glued to a word or an HTML entity; a hash sign that is part of a keycap is no hashtag.
    rf"(?:(?<=[\ufe0e\ufe0f])|(?<!{_HASHTAG_CHAR}|&))[#\uff03](?![\ufe0f\u20e3])"
    rf"(?P<tag>(?>{_HASHTAG_CHAR}*{_HASHTAG_LETTER}{_HASHTAG_CHAR}*))"
    r"(?![#\uff03]|://)"
)


def extract_hashtags(text: str) -> list[str]:
    """Hashtags as X recognises them, without the '#', in order; those inside links excluded."""
    if "#" not in text and "\uff03" not in text:
        return []
    tags: list[tuple[_Span, str | None]] = [(m.span(), m["tag"]) for m in _HASHTAG.finditer(text)]
    links: list[tuple[_Span, str | None]] = [(span, None) for span in _url_spans(text)]
    return [tag for _, tag in _without_overlaps(tags + links) if tag is not None]


# --- validators (twitter-text's Validator) -----------------------------------------------------


def is_valid_hashtag(text: str) -> bool:
    """Whether `text` is exactly one hashtag, hash sign included."""
    return bool(text) and extract_hashtags(text) == [text[1:]]


_USERNAME = r"[@\uff20][a-z0-9_]{1,20}"
_USERNAME_PATTERN = re.compile(_USERNAME, re.IGNORECASE)
_LIST_PATTERN = re.compile(rf"{_USERNAME}/[a-z][a-z0-9_-]{{0,24}}", re.IGNORECASE)


def is_valid_username(text: str) -> bool:
    """Whether `text` is exactly one X @username."""
    return _USERNAME_PATTERN.fullmatch(text) is not None


def is_valid_list(text: str) -> bool:
    """Whether `text` is exactly one X list reference, @owner/slug."""
    return _LIST_PATTERN.fullmatch(text) is not None


# RFC 3986 appendix B, with the authority required to be a host name or IP address.
_URL_PARTS = re.compile(r"(?:([^:/?#]+)://)?([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.DOTALL)
_UNRESERVED = rf"[a-z{_CYRILLIC}0-9\-._~]"
_PCHAR = rf"(?:{_UNRESERVED}|%[0-9a-f]{{2}}|[!$&'()*+,;=:@])"
_URL_PATH = re.compile(rf"(?:/{_PCHAR}*)*", re.IGNORECASE)
_URL_QUERY = re.compile(rf"(?:{_PCHAR}|[/?])*", re.IGNORECASE)
_USERINFO = re.compile(rf"(?:{_UNRESERVED}|%[0-9a-f]{{2}}|[!$&'()*+,;=:])*", re.IGNORECASE)
_NON_ASCII = r"[^\x00-\x7f]"
_LABEL_END = rf"(?:[a-z0-9]|{_NON_ASCII})"
_SUB_LABEL = rf"{_LABEL_END}(?:(?:[a-z0-9_-]|{_NON_ASCII})*{_LABEL_END})?"
_LABEL = rf"{_LABEL_END}(?:(?:[a-z0-9-]|{_NON_ASCII})*{_LABEL_END})?"
_TLD = rf"(?:[a-z]|{_NON_ASCII})(?:(?:[a-z0-9-]|{_NON_ASCII})*{_LABEL_END})?"
_HOST_NAME = re.compile(rf"(?:{_SUB_LABEL}\.)*{_LABEL}\.{_TLD}", re.IGNORECASE)
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}"
                   r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])")


def is_valid_url(url: str, *, require_protocol: bool = True) -> bool:
    """Whether `url` is one well-formed http(s) URL (twitter-text's isValidUrl).

    Unicode host names are accepted; without `require_protocol` the scheme may be left out.
    """
    parts = _URL_PARTS.fullmatch(url) if url else None
    if parts is None:
        return False
    scheme, authority, path, query, fragment = parts.groups()
    if scheme is None and require_protocol:
        return False
    return (
        (scheme is None or scheme.lower() in ("http", "https"))
        and _URL_PATH.fullmatch(path) is not None
        and (query is None or _URL_QUERY.fullmatch(query) is not None)
        and (fragment is None or _URL_QUERY.fullmatch(fragment) is not None)
        and _is_valid_authority(authority)
    )


def _is_valid_authority(authority: str) -> bool:
    userinfo, _, host_and_port = authority.rpartition("@")
    if _USERINFO.fullmatch(userinfo) is None:
        return False
    if host_and_port.startswith("["):
        address, _, port = host_and_port[1:].partition("]")
        return _is_ipv6(address) and (not port or _is_port_suffix(port))
    host, _, port = host_and_port.partition(":")
    return _is_valid_host(host) and (not port or (port.isascii() and port.isdigit()))


def _is_port_suffix(text: str) -> bool:
    return text.startswith(":") and text[1:].isascii() and text[1:].isdigit()


def _is_ipv6(address: str) -> bool:
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return True


def _is_valid_host(host: str) -> bool:
    if _IPV4.fullmatch(host):
        return True
    return _HOST_NAME.fullmatch(host) is not None and all(
        1 <= _punycode_length(label) <= _MAX_LABEL_LENGTH for label in host.split(".")
    )
