"""Reading and checking a content directory: every problem found in one pass, with its place.

Layout of a content directory:

    events.yaml               the awareness calendar (campaigns.core.calendar)
    reporting-channels.yaml   where people can report hate crime
    partners.yaml             organisations, their accounts, their consent per campaign
    campaigns/*.yaml          one campaign per file, with its posts
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError

from campaigns.core import calendar, entities, text
from campaigns.core.timezones import LocalTimeKind, classify_local
from campaigns.formats.images import ImageRefused, read_image
from campaigns.formats.schema import (
    CampaignFile,
    ChannelIn,
    ChannelsFile,
    PartnerIn,
    PartnersFile,
    PostIn,
    SendIn,
)
from campaigns.formats.sourcemap import Located, PathKey, YamlSyntaxError, load_located
from campaigns.formats.suggest import suggest

EVENTS_FILE = "events.yaml"
CHANNELS_FILE = "reporting-channels.yaml"
PARTNERS_FILE = "partners.yaml"
CAMPAIGNS_DIR = "campaigns"

MAX_HASHTAGS = 2
#: A hashtag this long in one case is probably several words run together.
LOWERCASE_HASHTAG_MIN = 8

Severity = Literal["error", "warning"]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        label = "warning: " if self.severity == "warning" else ""
        where = f"{self.field}: " if self.field else ""
        return f"{self.file}:{self.line}: {label}{where}{self.message}"


@dataclass(frozen=True)
class CampaignContent:
    file: str
    spec: CampaignFile
    occurrence: calendar.Occurrence
    #: The file as read, for the line of each field (None when built some other way).
    source: Located | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        return self.spec.campaign.key


@dataclass
class Library:
    """A content directory, checked. `problems` holds errors and warnings in file order."""

    root: Path
    events: list[calendar.EventDef] = field(default_factory=list)
    event_data: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: list[ChannelIn] = field(default_factory=list)
    partners: list[PartnerIn] = field(default_factory=list)
    campaigns: list[CampaignContent] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    partners_source: Located | None = None
    #: Keys each file declares, valid or not (None: the file could not be read), so that a
    #: reference is called unknown only when it really is, not because its target has an error.
    declared: dict[str, set[str] | None] = field(default_factory=dict)

    def unknown(self, kind: str, key: str) -> bool:
        keys = self.declared.get(kind)
        return keys is not None and key not in keys

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


class _Reporter:
    def __init__(self, library: Library, located: Located) -> None:
        self.library = library
        self.located = located
        self.name = _display(library.root, located.file)

    def __call__(self, path: PathKey, message: str, severity: Severity = "error") -> None:
        line = self.located.line_of(path)
        self.library.problems.append(Problem(self.name, line, field_name(path), message, severity))


def read_library(root: Path, *, default_timezone: str = "Europe/London") -> Library:
    """Read and check every file under `root`."""
    library = Library(root=root)
    if not root.is_dir():
        library.problems.append(Problem(str(root), 1, "", "content directory not found"))
        return library
    _read_events(library)
    _read_channels(library)
    _read_partners(library)
    library.declared["campaigns"] = set()
    for file in sorted((root / CAMPAIGNS_DIR).glob("*.y*ml")):
        _read_campaign(library, file, default_timezone)
    _check_campaign_keys(library)
    _check_consent(library)
    library.problems.sort(key=lambda p: (p.file, p.line, p.severity))
    return library


# ---- files -------------------------------------------------------------------------------


def _load(library: Library, name: Path, required: bool = True) -> Located | None:
    if not name.exists():
        if required:
            library.problems.append(Problem(_display(library.root, name), 1, "", "file missing"))
        return None
    try:
        return load_located(name)
    except YamlSyntaxError as exc:
        library.problems.append(Problem(_display(library.root, name), exc.line, "", exc.message))
    except UnicodeDecodeError:
        library.problems.append(
            Problem(_display(library.root, name), 1, "", "not UTF-8 text")
        )
    except IsADirectoryError:
        library.problems.append(Problem(_display(library.root, name), 1, "",
                                        "is a folder, not a YAML file: rename or move it"))
    except OSError as exc:
        library.problems.append(Problem(_display(library.root, name), 1, "",
                                        f"cannot be read ({exc.strerror or exc})"))
    return None


def _parse(model: type[M], located: Located, report: _Reporter) -> M | None:
    data = located.data if located.data is not None else {}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            path = tuple(p for p in error["loc"] if isinstance(p, str | int))
            report(path, _pydantic_message(error))
        return None


def _pydantic_message(error: Any) -> str:
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error["type"] == "extra_forbidden":
        return "unknown field (check its spelling)"
    if error["type"] == "string_pattern_mismatch":
        return "keys use lower-case letters, digits and hyphens, e.g. 'refugee-week-2026'"
    return message


def _read_events(library: Library) -> None:
    located = _load(library, library.root / EVENTS_FILE)
    library.declared["events"] = _raw_keys(located, "events")
    if located is None:
        return
    report = _Reporter(library, located)
    items = located.data.get("events") if isinstance(located.data, dict) else None
    if not isinstance(items, list):
        report((), "expected a top-level 'events:' list")
        return
    for index, item in enumerate(items):
        path: PathKey = ("events", index)
        if not isinstance(item, dict):
            report(path, "each event is a mapping with key, name and rule")
            continue
        try:
            event = calendar.parse_event(item)
        except calendar.RuleError as exc:
            report((*path, *exc.path), str(exc))
            continue
        if event.key in library.event_data:
            report((*path, "key"), f"event key {event.key!r} is used twice")
            continue
        library.events.append(event)
        library.event_data[event.key] = item


def _read_channels(library: Library) -> None:
    located = _load(library, library.root / CHANNELS_FILE)
    library.declared["channels"] = _raw_keys(located, "channels")
    if located is None:
        return
    report = _Reporter(library, located)
    parsed = _parse(ChannelsFile, located, report)
    if parsed is None:
        return
    _report_repeats(report, "channel",
                    ((("channels", i), c.key) for i, c in enumerate(parsed.channels)))
    library.channels = list(parsed.channels)


def _read_partners(library: Library) -> None:
    located = _load(library, library.root / PARTNERS_FILE)
    library.declared["partners"] = _raw_keys(located, "partners")
    library.declared["accounts"] = _raw_account_keys(located)
    if located is None:
        return
    report = _Reporter(library, located)
    parsed = _parse(PartnersFile, located, report)
    if parsed is None:
        return
    _report_repeats(report, "partner",
                    ((("partners", i), p.key) for i, p in enumerate(parsed.partners)))
    _report_repeats(report, "account", (
        (("partners", i, "accounts", j), a.key)
        for i, p in enumerate(parsed.partners) for j, a in enumerate(p.accounts)))
    leads = [p for p in parsed.partners if p.lead]
    if len(leads) != 1:
        report(("partners",), f"exactly one partner must be the lead (found {len(leads)})")
    library.partners = list(parsed.partners)
    library.partners_source = located


def _read_campaign(library: Library, file: Path, default_timezone: str) -> None:
    located = _load(library, file)
    _declare_campaign(library, located)
    if located is None:
        return
    report = _Reporter(library, located)
    spec = _parse(CampaignFile, located, report)
    if spec is None:
        return
    campaign = spec.campaign
    zone_name = campaign.timezone or default_timezone
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        report(("campaign", "timezone"), f"unknown IANA time zone {zone_name!r}")
        return
    event = next((e for e in library.events if e.key == campaign.event), None)
    if event is None:
        if library.unknown("events", campaign.event):
            report(("campaign", "event"), f"unknown event key {campaign.event!r}" + suggest(
                campaign.event, library.declared["events"] or ()))
        return
    occurrence = calendar.occurrence(event, campaign.year)
    content = CampaignContent(_display(library.root, file), spec, occurrence, located)
    for index, post in enumerate(spec.posts):
        _check_post(library, report, ("posts", index), post, occurrence, zone)
    _report_repeats(report, "post", ((("posts", i), p.key) for i, p in enumerate(spec.posts)))
    library.campaigns.append(content)


def _report_repeats(
    report: _Reporter, kind: str, keyed: Iterable[tuple[PathKey, str]]
) -> None:
    seen: set[str] = set()
    for path, key in keyed:
        if key in seen:
            report((*path, "key"), f"{kind} key {key!r} is used twice")
        seen.add(key)


def _check_campaign_keys(library: Library) -> None:
    seen: dict[str, str] = {}
    for content in library.campaigns:
        if content.key in seen:
            library.problems.append(Problem(
                content.file, 1, "campaign.key",
                f"campaign key {content.key!r} is also used in {seen[content.key]}"))
        seen.setdefault(content.key, content.file)


def _check_consent(library: Library) -> None:
    if library.partners_source is None:
        return
    report = _Reporter(library, library.partners_source)
    for index, partner in enumerate(library.partners):
        for campaign_key in partner.consent:
            if library.unknown("campaigns", campaign_key):
                report(("partners", index, "consent", campaign_key),
                       f"consent names unknown campaign {campaign_key!r}"
                       + suggest(campaign_key, library.declared["campaigns"] or ()))


# ---- posts -------------------------------------------------------------------------------


def compose(variant: str, link: str | None) -> str:
    """The text as it will be sent: the post's link added at the end unless already there."""
    if not link or link in variant:
        return variant
    return f"{variant}\n\n{link}"


def send_local(send: SendIn, occurrence: calendar.Occurrence) -> datetime:
    """The naive local wall-clock time a post asks for."""
    anchor = occurrence.end if send.anchor == "end" else occurrence.start
    day: date = anchor + timedelta(days=send.offset_days)
    return datetime.combine(day, send.clock)


def _check_post(
    library: Library,
    report: _Reporter,
    path: PathKey,
    post: PostIn,
    occurrence: calendar.Occurrence,
    zone: ZoneInfo,
) -> None:
    channel = next((c for c in library.channels if c.key == post.reporting_channel), None)
    if library.unknown("channels", post.reporting_channel):
        report((*path, "reporting_channel"),
               f"unknown reporting channel {post.reporting_channel!r}"
               + suggest(post.reporting_channel, library.declared["channels"] or ()))
    _check_send_time(report, path, post, occurrence, zone)
    _check_audience(library, report, path, post)
    for variant_path, network, wording in _variants(path, post):
        composed = compose(wording, post.link)
        _check_length(report, variant_path, network, composed)
        if channel is not None and not _points_to(composed, channel):
            report(variant_path, f"does not point to its reporting channel {channel.name}: "
                                 f"include {_channel_contact(channel)}")
        _check_hashtags(report, variant_path, composed)
    for partner_key in post.partner_variants:
        if library.unknown("partners", partner_key):
            report((*path, "partner_variants", partner_key),
                   f"unknown partner {partner_key!r}"
                   + suggest(partner_key, library.declared["partners"] or ()))
    for index, image in enumerate(post.images):
        try:
            read_image(library.root, image.file)
        except ImageRefused as refused:
            report((*path, "images", index, "file"), str(refused))


def _variants(path: PathKey, post: PostIn) -> Iterator[tuple[PathKey, str, str]]:
    for network, wording in post.variants.items():
        yield (*path, "variants", network), network, wording
    for partner_key, by_network in post.partner_variants.items():
        for network, wording in by_network.items():
            yield (*path, "partner_variants", partner_key, network), network, wording


def _check_send_time(
    report: _Reporter, path: PathKey, post: PostIn, occurrence: calendar.Occurrence,
    zone: ZoneInfo,
) -> None:
    local = send_local(post.send, occurrence)
    kind = classify_local(local, zone)
    when = f"{local:%A %d %B %Y %H:%M} in {zone.key}"
    if kind is LocalTimeKind.GAP:
        report((*path, "send", "at"),
               f"{when} does not exist: the clocks go forward then; pick another time")
    elif kind is LocalTimeKind.FOLD:
        report((*path, "send", "at"),
               f"{when} happens twice: the clocks go back then; pick another time")


def _check_audience(library: Library, report: _Reporter, path: PathKey, post: PostIn) -> None:
    if not isinstance(post.audience, list):
        return
    for index, key in enumerate(post.audience):
        if library.unknown("accounts", key):
            report((*path, "audience", index), f"unknown account {key!r}"
                   + suggest(key, library.declared["accounts"] or ()))


def _check_length(report: _Reporter, path: PathKey, network: str, composed: str) -> None:
    measured = text.measure(composed, network)
    if not measured.valid:
        report(path, f"too long or invalid for {network}: {measured.problem}")


def _points_to(composed: str, channel: ChannelIn) -> bool:
    folded = composed.casefold()
    if channel.url and _bare(channel.url) in folded:
        return True
    if channel.phone:
        digits = "".join(ch for ch in channel.phone if ch.isdigit())
        return digits in "".join(ch for ch in composed if ch.isdigit())
    return False


def _bare(url: str) -> str:
    url = url.casefold().removeprefix("https://").removeprefix("http://").removeprefix("www.")
    return url.rstrip("/")


def _channel_contact(channel: ChannelIn) -> str:
    options = [o for o in (channel.url, channel.phone) if o]
    return " or ".join(options)


def _check_hashtags(report: _Reporter, path: PathKey, composed: str) -> None:
    tags = entities.extract_hashtags(composed)
    if len(tags) > MAX_HASHTAGS:
        report(path, f"{len(tags)} hashtags; accessibility guidance advises at most "
                     f"{MAX_HASHTAGS}", "warning")
    for tag in tags:
        if len(tag) >= LOWERCASE_HASHTAG_MIN and tag.isalpha() and tag == tag.lower():
            report(path, f"#{tag} is all lower case; write it in CamelCase (e.g. "
                         f"#{_camel_hint(tag)}) so screen readers read it word by word",
                   "warning")


def _camel_hint(tag: str) -> str:
    return tag[:1].upper() + tag[1:]


# ---- helpers -----------------------------------------------------------------------------


def _raw_keys(located: Located | None, list_name: str) -> set[str] | None:
    if located is None or not isinstance(located.data, dict):
        return None
    items = located.data.get(list_name)
    if not isinstance(items, list):
        return None
    return {str(i["key"]) for i in items if isinstance(i, dict) and "key" in i}


def _raw_account_keys(located: Located | None) -> set[str] | None:
    if located is None or not isinstance(located.data, dict):
        return None
    partners = located.data.get("partners")
    if not isinstance(partners, list):
        return None
    accounts = [
        account for partner in partners if isinstance(partner, dict)
        for account in partner.get("accounts") or []
    ]
    return {str(a["key"]) for a in accounts if isinstance(a, dict) and "key" in a}


def _declare_campaign(library: Library, located: Located | None) -> None:
    """Note the campaign key a file declares; a file too broken to say makes keys unknowable."""
    declared = library.declared.get("campaigns")
    campaign = located.data.get("campaign") if located and isinstance(located.data, dict) else None
    if isinstance(campaign, dict) and "key" in campaign:
        if declared is not None:
            declared.add(str(campaign["key"]))
    else:
        library.declared["campaigns"] = None


def field_name(path: PathKey) -> str:
    """`posts[1].variants.x` and its like: a field as content files name it."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _display(root: Path, file: Path) -> str:
    """The file as a person would type it: relative to the working directory where possible."""
    try:
        return str(file.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(file)


