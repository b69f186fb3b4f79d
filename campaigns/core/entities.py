"""Links and hashtags in a post, found the way twitter-text finds them (the IANA list of
top-level domains ships in ``campaigns/core/data``), and twitter-text's validators for
hashtags, usernames, lists and URLs. Pure: standard library and ``regex``."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any, TypeVar

import regex

Span = tuple[int, int]  # [start, end) in code points


_T = TypeVar("_T")


def without_overlaps(entities: Iterable[tuple[Span, _T]]) -> list[tuple[Span, _T]]:
    """Entities by position, dropping any that starts inside the one kept before it."""
    kept: list[tuple[Span, _T]] = []
    for entity in sorted(entities, key=lambda e: e[0][0]):
        if not kept or kept[-1][0][1] <= entity[0][0]:
            kept.append(entity)
    return kept


def extract_urls(text: str) -> list[str]:
    """The links X would recognise in `text` (with or without http://), in order."""
    return [text[start:end] for start, end in url_spans(text)]


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


def url_spans(text: str, *, without_protocol: bool = True) -> list[Span]:
    """Where twitter-text finds links; protocol-less ones only when `without_protocol`."""
    patterns = _patterns()
    if ("." if without_protocol else ":") not in text or not patterns["dot_tld"].search(text):
        return []
    spans: list[Span] = []
    for match in patterns["url" if without_protocol else "url_with_protocol"].finditer(text):
        spans.extend(_link_spans(match, without_protocol))
    return spans


def _link_spans(match: re.Match[str], without_protocol: bool) -> list[Span]:
    protocol = match["protocol"]
    if not _host_is_encodable(match["url"], protocol or "https://", match["domain"]):
        return []
    if protocol:
        return _protocol_link_span(match)
    if not without_protocol or match["before"][-1:] in ("-", "_", ".", "/"):
        return []
    return _bare_domain_spans(match)


def _protocol_link_span(match: re.Match[str]) -> list[Span]:
    start, end = match.span("url")
    tco = _TCO_URL.match(match["url"])
    if tco is None:
        return [(start, end)]
    # t.co links end at their slug; an over-long slug is not a t.co link at all.
    return [] if len(tco[1]) > _MAX_TCO_SLUG else [(start, start + tco.end())]


def _bare_domain_spans(match: re.Match[str]) -> list[Span]:
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
    tags: list[tuple[Span, str | None]] = [(m.span(), m["tag"]) for m in _HASHTAG.finditer(text)]
    links: list[tuple[Span, str | None]] = [(span, None) for span in url_spans(text)]
    return [tag for _, tag in without_overlaps(tags + links) if tag is not None]


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
