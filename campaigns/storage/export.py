"""The database's content as content files: `chorus content export [DIR]`.

The files follow the layout of docs/content.md, so `chorus content validate` passes on them
and `chorus content load` of them changes nothing. Comments are not stored, so none are
written; keys come in the order the documentation shows them, long texts as folded blocks.

The same documents serve the rest of Chorus: `stored_campaign` is a campaign as its file would
be, and `digest` a fingerprint of it that ignores layout. With them the loader tells whether a
file says what the database holds, and refuses to load over a campaign edited in the browser
that the file contradicts (`browser_conflicts`); Compose starts from the stored version
(campaigns.storage.authoring).
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from campaigns.core import calendar
from campaigns.formats.content import (
    CAMPAIGNS_DIR,
    CHANNELS_FILE,
    EVENTS_FILE,
    PARTNERS_FILE,
    Library,
)
from campaigns.formats.schema import CampaignFile, SendIn
from campaigns.formats.sourcemap import YamlSyntaxError, load_located
from campaigns.storage.models import (
    Account,
    Campaign,
    Consent,
    Event,
    Organisation,
    Post,
    ReportingChannel,
)

#: The order variants are written in (and shown in Compose).
NETWORKS = ("x", "mastodon", "bluesky")
#: Texts with spaces longer than this are written as folded blocks (`>-`), as people write them.
FOLD_AFTER = 72
WIDTH = 80
#: Lists of words no longer than this are written on one line: [race, religion].
SHORT_WORD = 40
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class NothingToExport(ValueError):
    pass


@dataclass
class ExportResult:
    directory: Path
    written: list[Path] = field(default_factory=list)
    images_copied: int = 0
    #: Things a person should look at: images not found, campaign files left in place.
    notes: list[str] = field(default_factory=list)


# ---- documents (the shape of each file) ---------------------------------------------------


def events_document(*, session: Session) -> dict[str, Any]:
    events = session.scalars(select(Event).order_by(Event.id))
    return {"events": [_yaml_event(e.definition) for e in events]}


def _yaml_event(definition: dict[str, Any]) -> dict[str, Any]:
    """An event as stored (JSON: years and dates as strings) with YAML's years and dates back,
    and rules on one line, as people write them; the loader stores both spellings alike."""
    event = dict(definition)
    if isinstance(event.get("rule"), dict):
        event["rule"] = _flow_leaves(event["rule"])
    overrides = event.get("overrides")
    if isinstance(overrides, dict):
        event["overrides"] = {
            int(year) if str(year).isdigit() else year:
                {k: _date_or_text(v) for k, v in item.items()} if isinstance(item, dict) else item
            for year, item in overrides.items()}
    return event


def _flow_leaves(rule: dict[str, Any]) -> dict[str, Any]:
    """{from: {nth: second, ...}, days: 7}: the innermost mappings on one line each."""
    if all(not isinstance(v, dict | list) for v in rule.values()):
        return Flow(rule)
    return {k: _flow_leaves(v) if isinstance(v, dict) else v for k, v in rule.items()}


def _date_or_text(value: Any) -> Any:
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def channels_document(*, session: Session) -> dict[str, Any]:
    channels = session.scalars(select(ReportingChannel).order_by(ReportingChannel.id))
    return {"channels": [_without_empty({
        "key": c.key, "name": c.name, "url": c.url, "phone": c.phone,
        "description": c.description}) for c in channels]}


def partners_document(*, session: Session, campaign_keys: Iterable[str]) -> dict[str, Any]:
    """Organisations with their accounts still in use, and their consent to the campaigns
    in `campaign_keys` (consent to a withdrawn campaign has nowhere to point)."""
    wanted = set(campaign_keys)
    accounts: dict[int, list[Account]] = {}
    for account in session.scalars(
            select(Account).where(Account.withdrawn.is_(False)).order_by(Account.id)):
        accounts.setdefault(account.organisation_id, []).append(account)
    consents: dict[int, dict[str, str]] = {}
    for organisation_id, campaign_key, mode in session.execute(
            select(Consent.organisation_id, Campaign.key, Consent.mode).join(Consent.campaign)
            .order_by(Campaign.year, Campaign.key)):
        if campaign_key in wanted:
            consents.setdefault(organisation_id, {})[campaign_key] = mode
    partners = []
    for organisation in session.scalars(select(Organisation).order_by(Organisation.id)):
        partners.append(_without_empty({
            "key": organisation.key, "name": organisation.name, "kind": organisation.kind,
            "lead": organisation.is_lead or None, "website": organisation.website,
            "accounts": [_without_empty({"key": a.key, "network": a.network,
                                         "handle": a.handle, "daily_cap": a.daily_cap})
                         for a in accounts.get(organisation.id, [])],
            "consent": consents.get(organisation.id, {}),
        }))
    return {"partners": partners}


def exported_campaigns(*, session: Session) -> list[Campaign]:
    """Campaigns that belong in content files: tied to an event and not withdrawn (one-off
    posts imported from spreadsheets are not content)."""
    return list(session.scalars(
        select(Campaign).where(Campaign.withdrawn.is_(False), Campaign.event_key.is_not(None))
        .order_by(Campaign.year, Campaign.key)))


def campaign_document(campaign: Campaign, *, session: Session) -> dict[str, Any]:
    """The campaign as its file would say it: posts in the order they are sent."""
    posts = list(session.scalars(
        select(Post).where(Post.campaign_id == campaign.id, Post.withdrawn.is_(False))
        .options(selectinload(Post.variants)).order_by(Post.key)))
    head = _without_empty({
        "key": campaign.key, "name": campaign.name, "event": campaign.event_key,
        "year": campaign.year, "timezone": campaign.timezone, "author": campaign.author,
        "summary": campaign.summary})
    return {"campaign": head,
            "posts": [post_document(p) for p in _in_send_order(posts, campaign, session)]}


def post_document(post: Post) -> dict[str, Any]:
    shared = {v.network: v.text for v in post.variants if not v.organisation_key}
    own: dict[str, dict[str, str]] = {}
    for variant in sorted(post.variants, key=lambda v: v.organisation_key):
        if variant.organisation_key:
            own.setdefault(variant.organisation_key, {})[variant.network] = variant.text
    audience: str | list[str] = post.audience
    if post.audience not in ("all", "lead"):
        audience = post.audience.split(",")
    return _without_empty({
        "key": post.key, "send": Flow(post.send), "audience": audience, "link": post.link,
        "reporting_channel": post.reporting_channel_key,
        "images": [{"file": i["file"], "alt": i["alt"]} for i in post.images],
        "variants": _by_network(shared),
        "partner_variants": {k: _by_network(v) for k, v in own.items()},
    })


def _by_network(texts: dict[str, str]) -> dict[str, str]:
    order = {n: i for i, n in enumerate(NETWORKS)}
    return dict(sorted(texts.items(), key=lambda item: order.get(item[0], len(order))))


def _in_send_order(posts: list[Post], campaign: Campaign, session: Session) -> list[Post]:
    event = session.scalars(select(Event).where(Event.key == campaign.event_key)).one_or_none()
    if event is None:
        return posts
    occurrence = calendar.occurrence(calendar.parse_event(event.definition), campaign.year)

    def when(post: Post) -> tuple[object, ...]:
        try:
            send = SendIn.model_validate(post.send)
        except ValidationError:
            return (1, post.key)
        anchor = occurrence.end if send.anchor == "end" else occurrence.start
        day = anchor + timedelta(days=send.offset_days)
        return (0, datetime.combine(day, send.clock), post.key)

    return sorted(posts, key=when)


def _without_empty(item: dict[str, Any]) -> dict[str, Any]:
    """Leave out what a person would not write: absent values and empty lists or texts."""
    return {k: v for k, v in item.items() if v is not None and v != "" and v != [] and v != {}}


# ---- comparing files with the database --------------------------------------------------


def stored_campaign(campaign: Campaign, *, session: Session) -> CampaignFile | None:
    """The stored campaign as the schema reads a file (None if it could not be a file)."""
    try:
        return CampaignFile.model_validate(campaign_document(campaign, session=session))
    except ValidationError:
        return None


def digest(spec: CampaignFile, default_timezone: str) -> str:
    """A fingerprint of what a campaign says, whatever the layout, post order or spelling of
    its file: two specs with the same digest load the same rows."""
    data = spec.model_dump(mode="json")
    data["campaign"]["timezone"] = spec.campaign.timezone or default_timezone
    data["posts"] = sorted(data["posts"], key=lambda p: p["key"])
    raw = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def differences(ours: CampaignFile, theirs: CampaignFile, default_timezone: str) -> list[str]:
    """What differs between two versions of a campaign, in words: its details, and each post
    changed, only in one of them."""
    found = []
    mine, other = ours.campaign, theirs.campaign
    if (mine.model_dump() | {"timezone": mine.timezone or default_timezone}
            != other.model_dump() | {"timezone": other.timezone or default_timezone}):
        found.append("the campaign's details")
    a = {p.key: p for p in ours.posts}
    b = {p.key: p for p in theirs.posts}
    changed = sorted(k for k in a.keys() & b.keys() if a[k] != b[k])
    if changed:
        found.append("post " + ", ".join(changed) + (" differ" if len(changed) > 1 else " differs"))
    for keys, where in ((sorted(a.keys() - b.keys()), "only in the file"),
                        (sorted(b.keys() - a.keys()), "only in the browser's version")):
        if keys:
            found.append("post " + ", ".join(keys) + f" {where}")
    return found


CONFLICT_ADVICE = ("Nothing was loaded. Export the browser's version first (chorus content export "
                   "DIR) and bring its changes into the files, or load again with --overwrite "
                   "to replace the browser's edits with the files.")


@dataclass(frozen=True)
class Conflict:
    file: str
    campaign_key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


class ContentConflict(ValueError):
    """Campaigns edited in the browser differ from their files; nothing was loaded."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__(f"{len(conflicts)} campaign(s) edited in the browser differ from "
                         "their files")
        self.conflicts = conflicts


def browser_conflicts(
    library: Library, *, session: Session, default_timezone: str
) -> list[Conflict]:
    """Campaigns edited in the browser since they were last loaded whose file now says
    something else, or that no file has (loading would withdraw them)."""
    files = {c.key: c for c in library.campaigns}
    edited = session.scalars(
        select(Campaign).where(Campaign.edited_at.is_not(None), Campaign.withdrawn.is_(False),
                               Campaign.event_key.is_not(None)).order_by(Campaign.key))
    conflicts = []
    for campaign in edited:
        when = f"edited in the browser by {campaign.edited_by or 'someone'} on " \
               f"{campaign.edited_at:%Y-%m-%d %H:%M} UTC"
        content = files.get(campaign.key)
        if content is None:
            conflicts.append(Conflict(f"{CAMPAIGNS_DIR}/{campaign.key}.yaml", campaign.key,
                                      f"campaign {campaign.key!r} was {when}, and no file has "
                                      "it: loading would withdraw it"))
            continue
        stored = stored_campaign(campaign, session=session)
        theirs = digest(content.spec, default_timezone)
        if stored is not None and digest(stored, default_timezone) == theirs:
            continue  # the file already says what the browser saved
        what = differences(content.spec, stored, default_timezone) if stored else []
        stale = " (the file has not changed since it was last loaded)" \
            if theirs == campaign.loaded_hash else ""
        conflicts.append(Conflict(content.file, campaign.key,
                                  f"campaign {campaign.key!r} was {when}, and the file "
                                  f"differs{stale}: " + ("; ".join(what) or "its content")))
    return conflicts


# ---- YAML ---------------------------------------------------------------------------------


class Flow(dict[str, Any]):
    """A mapping written on one line, as people write send times: {day: 1, at: '09:00'}."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # "  - key:" under its list, as the docs show


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    folds = len(value) > FOLD_AFTER and " " in value
    style = "|" if "\n" in value else (">" if folds else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    words = all(isinstance(v, str) and " " not in v and len(v) <= SHORT_WORD for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value,
                                     flow_style=bool(value) and words)


def _flow(dumper: yaml.SafeDumper, value: Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=True)


_Dumper.add_representer(str, _text)
_Dumper.add_representer(Flow, _flow)
_Dumper.add_representer(list, _list)
#: Top-level list items that get a blank line before them, for the eye.
_ITEM = re.compile(r"^(  - key: )", re.MULTILINE)


def dump_yaml(data: dict[str, Any]) -> str:
    """`data` as readable YAML that reads back as exactly `data`.

    Layout is only for the eye: if a text's block style could change it on reading back, the
    plainer layouts are tried in turn.
    """
    expected = json.loads(json.dumps(data, default=str))
    attempts: list[Callable[[], str]] = [
        lambda: _ITEM.sub(r"\n\1", _dump(data, _Dumper)).replace(":\n\n  - key:", ":\n  - key:"),
        lambda: _dump(data, _Dumper),
        lambda: yaml.safe_dump(_plain(data), sort_keys=False, allow_unicode=True, width=WIDTH),
    ]
    for attempt in attempts:
        text = attempt()
        if json.loads(json.dumps(yaml.safe_load(text), default=str)) == expected:
            return text
    raise AssertionError("YAML did not read back as written")  # pragma: no cover


def _dump(data: dict[str, Any], dumper: type[yaml.SafeDumper]) -> str:
    return yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=WIDTH)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# ---- writing a directory ------------------------------------------------------------------


def export_content(directory: Path, *, session: Session, images_from: Path) -> ExportResult:
    """Write every content file for the database's content under `directory`.

    Campaign files already there are rewritten in place when they declare a campaign being
    written (so a file keeps its name); others are left alone and listed in the notes.
    Images the posts use are copied from `images_from` (the content directory) when missing.
    """
    campaigns = exported_campaigns(session=session)
    if session.scalar(select(ReportingChannel.id).limit(1)) is None:
        raise NothingToExport("the database holds no content yet: load some first "
                              "(chorus content load)")
    result = ExportResult(directory)
    documents: list[tuple[Path, dict[str, Any]]] = [
        (directory / EVENTS_FILE, events_document(session=session)),
        (directory / CHANNELS_FILE, channels_document(session=session)),
        (directory / PARTNERS_FILE,
         partners_document(session=session, campaign_keys=[c.key for c in campaigns])),
    ]
    names = _campaign_files(directory / CAMPAIGNS_DIR, {c.key for c in campaigns}, result)
    for campaign in campaigns:
        documents.append((names.get(campaign.key, directory / CAMPAIGNS_DIR /
                                    f"{campaign.key}.yaml"),
                          campaign_document(campaign, session=session)))
    for path, document in documents:
        _write(path, dump_yaml(document))
        result.written.append(path)
    images = {i["file"] for c in campaigns for p in c.posts if not p.withdrawn for i in p.images}
    for image in sorted(images):
        _copy_image(image, images_from, directory, result)
    return result


def _campaign_files(folder: Path, keys: set[str], result: ExportResult) -> dict[str, Path]:
    """Existing files in `folder` by the campaign key they declare."""
    found: dict[str, Path] = {}
    for file in sorted(folder.glob("*.y*ml")):
        try:
            data = load_located(file).data
            key = str(data["campaign"]["key"])
        except (YamlSyntaxError, OSError, UnicodeDecodeError, TypeError, KeyError):
            result.notes.append(f"{file}: left in place (not a campaign file it could read)")
            continue
        if key in found:
            result.notes.append(f"{file}: left in place; campaign {key!r} was written to "
                                f"{found[key].name} (two files declare it: remove one)")
        elif key in keys:
            found[key] = file
        else:
            result.notes.append(f"{file}: left in place; campaign {key!r} is not in the "
                                "database (remove the file, or loading will add it again)")
    return found


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _copy_image(name: str, source: Path, directory: Path, result: ExportResult) -> None:
    origin, target = (source / name).resolve(), (directory / name).resolve()
    if not (origin.is_relative_to(source.resolve()) and
            target.is_relative_to(directory.resolve())):
        result.notes.append(f"{name}: image path leaves the content directory; not copied")
        return
    if target.is_file() and (origin == target or not origin.is_file()
                             or filecmp.cmp(origin, target, shallow=False)):
        return
    if not origin.is_file():
        result.notes.append(f"{name}: image not found in {source}; copy it in before loading")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(origin, target)
    result.images_copied += 1
