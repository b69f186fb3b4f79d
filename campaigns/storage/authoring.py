"""Campaigns written in the dashboard (Compose), saved through the checks content files get.

A campaign from the browser is a content-file document (docs/content.md): a mapping with
`campaign` and `posts`. Checking it writes it out as the YAML file `chorus content export`
would write and reads that back with the file validator (campaigns.formats.content), against the
database's events, reporting channels and partners: the same rules (length per network, the
reporting channel pointed to, alt text, hashtags, unknown keys and fields) in the same words,
at the file and line the exported file will have. Saving stores it with the loader's own code,
inside the caller's transaction, and marks the campaign as edited in the browser, so that
`chorus content load` reports a conflict instead of replacing the edit (campaigns.storage.export).

Nothing is sent because of a save: the campaign is planned and approved as usual.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.core import calendar, text
from campaigns.core.planning import Rules
from campaigns.formats import content
from campaigns.formats.content import CAMPAIGNS_DIR, CampaignContent, Library, Problem, compose

# Re-exported for the Compose page, which uploads images through this module.
from campaigns.formats.images import MAX_IMAGE_BYTES as MAX_IMAGE_BYTES
from campaigns.formats.images import ImageRefused as ImageRefused
from campaigns.formats.plan_check import as_problems, campaign_spec_of, check_plan, field_words
from campaigns.formats.schema import ChannelIn
from campaigns.formats.sourcemap import PathKey, load_located
from campaigns.storage.export import campaign_document, channels_document, dump_yaml
from campaigns.storage.loader import LoadResult, _load_campaign
from campaigns.storage.media import store_image as store_image
from campaigns.storage.models import Account, Campaign, Consent, Event, Organisation
from campaigns.storage.plans import account_specs, booked_for

NETWORKS = ("x", "mastodon", "bluesky")
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")
NEXT_STEPS = ("Nothing is sent yet: on Calendar and campaigns, choose this campaign, use "
              "Check and plan to see its schedule, then Send for sign-off; someone other than "
              "its author then approves it.")


class AuthoringInvalid(ValueError):
    """The campaign has errors; nothing was saved. `problems` lists them (and the warnings)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"{len(errors)} error(s); nothing was saved")
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Checked:
    problems: tuple[Problem, ...]
    #: The campaign as the schema read it; None when it could not be read.
    content: CampaignContent | None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


@dataclass(frozen=True)
class Saved:
    campaign_key: str
    created: bool
    result: LoadResult
    warnings: tuple[Problem, ...] = ()

    @property
    def changed(self) -> bool:
        return self.result.changed

    def summary(self) -> str:
        if not self.changed:
            return f"{self.campaign_key}: nothing changed."
        parts = [f"{n} {kind} {label}" for label, counts in
                 (("new", self.result.created), ("changed", self.result.updated),
                  ("removed", self.result.withdrawn))
                 for kind, n in sorted(counts.items())]
        what = "created" if self.created else "saved"
        return (f"{self.campaign_key} {what} ({', '.join(parts)}). "
                + NEXT_STEPS.format(key=self.campaign_key))


# ---- checking and saving ------------------------------------------------------------------


def check_campaign(
    document: Mapping[str, Any],
    *,
    session: Session,
    content_dir: Path,
    default_timezone: str,
    original_key: str | None = None,
    rules: Rules | None = None,
) -> Checked:
    """Every problem the file validator would report for `document` as a campaign file, what
    the planner would refuse or move with `rules` (formats.plan_check.check_plan, as `chorus
    plan` runs it, against the database's accounts, consent and other campaigns' posts), and
    what only the database can tell (a new campaign's key already in use, a key changed).

    `original_key` names the stored campaign being edited; None means a new campaign.
    `rules` are the installation's (storage.plans.rules_from); None means the defaults.
    """
    library = library_from_db(session=session, root=content_dir)
    key = _campaign_key(document)
    name = f"{CAMPAIGNS_DIR}/{key if key and _KEY.match(key) else 'new-campaign'}.yaml"
    with tempfile.TemporaryDirectory(prefix="chorus-compose-") as scratch:
        file = Path(scratch) / name
        file.parent.mkdir(parents=True)
        file.write_text(dump_yaml(dict(document)), encoding="utf-8")
        content._read_campaign(library, file, default_timezone)
        located = load_located(file)
    problems = [_renamed(p, name) for p in library.problems]

    def report(path: PathKey, message: str) -> None:
        problems.append(Problem(name, located.line_of(path), content.field_name(path), message))

    _check_key(session, key, original_key, report)
    found = replace(library.campaigns[0], file=name) if library.campaigns else None
    if found is None and not any(p.severity == "error" for p in problems):
        report(("campaign", "event"), "the campaign's event could not be read; choose another")
    if found is not None:
        problems.extend(_planner_problems(found, session, default_timezone, rules or Rules()))
    problems.sort(key=lambda p: (p.line, p.severity))
    return Checked(tuple(problems), found)


def save_campaign(
    document: Mapping[str, Any],
    *,
    session: Session,
    content_dir: Path,
    default_timezone: str,
    editor: str,
    now: datetime,
    original_key: str | None = None,
    rules: Rules | None = None,
) -> Saved:
    """Check `document` and, if it has no errors, store it in the caller's transaction.

    A new campaign's author is `editor`; an edited one keeps its author, so that the person
    who approves it is still someone other than the person who wrote it. Raises
    AuthoringInvalid (nothing written) when there are errors.
    """
    author = editor if original_key is None else _stored_author(session, original_key)
    head = document.get("campaign")
    if isinstance(head, Mapping):
        document = {**document, "campaign": {**head, "author": author or editor}}
    checked = check_campaign(document, session=session, content_dir=content_dir,
                             default_timezone=default_timezone, original_key=original_key,
                             rules=rules)
    if checked.errors or checked.content is None:
        raise AuthoringInvalid(checked.problems)
    result = LoadResult()
    campaign = _load_campaign(checked.content, session, result, default_timezone)
    if result.changed:
        campaign.edited_at, campaign.edited_by = now, editor
        editors = campaign.editors or []  # None on a campaign not yet flushed
        if editor not in editors:  # a new list, so that the JSON column is written
            campaign.editors = [*editors, editor]
    session.flush()
    return Saved(campaign.key, original_key is None, result, tuple(checked.warnings))


def library_from_db(*, session: Session, root: Path) -> Library:
    """The database's events, reporting channels, partners and accounts, as a content library
    the file validator checks a campaign against (images are looked for under `root`)."""
    library = Library(root=root)
    for event in session.scalars(select(Event).order_by(Event.id)):
        try:
            library.events.append(calendar.parse_event(event.definition))
        except calendar.RuleError:
            continue  # it was valid when loaded; if not, the campaign says it cannot be read
        library.event_data[event.key] = event.definition
    library.channels = [ChannelIn.model_validate(c)
                        for c in channels_document(session=session)["channels"]]
    library.declared = {
        "events": set(session.scalars(select(Event.key))),
        "channels": {c.key for c in library.channels},
        "partners": set(session.scalars(select(Organisation.key))),
        "accounts": set(session.scalars(select(Account.key).where(Account.withdrawn.is_(False)))),
        "campaigns": set(session.scalars(select(Campaign.key))),
    }
    return library


def where(problem: Problem, document: Mapping[str, Any],
          names: Mapping[str, str] | None = None) -> str:
    """A problem's place as a person reads it: 'post launch, X wording' for
    'posts[1].variants.x' (`names`: partner keys to names)."""
    found = re.match(r"^posts\[(\d+)\]\.?(.*)$", problem.field)
    if found is None:
        head = problem.field.removeprefix("campaign.")
        return f"campaign {field_words(head)}" if problem.field else "the campaign"
    posts = document.get("posts") or []
    index = int(found[1])
    post = posts[index] if index < len(posts) and isinstance(posts[index], Mapping) else {}
    name = f"post {post.get('key')}" if post.get("key") else f"post {index + 1}"
    return f"{name}, {field_words(found[2], names)}" if found[2] else name


def _planner_problems(
    found: CampaignContent, session: Session, default_timezone: str, rules: Rules
) -> list[Problem]:
    consenting = frozenset(session.scalars(
        select(Organisation.key).join(Consent, Consent.organisation_id == Organisation.id)
        .join(Consent.campaign).where(Campaign.key == found.key, Consent.mode == "accounts")))
    spec = campaign_spec_of(found, consenting, default_timezone)
    check = check_plan(spec, account_specs(session=session), rules,
                       booked=booked_for(found.key, spec, session=session))
    return as_problems(check, found)


def _campaign_key(document: Mapping[str, Any]) -> str | None:
    campaign = document.get("campaign")
    key = campaign.get("key") if isinstance(campaign, Mapping) else None
    return key if isinstance(key, str) else None


def _renamed(problem: Problem, name: str) -> Problem:
    return Problem(name, problem.line, problem.field, problem.message, problem.severity)


def _check_key(session: Session, key: str | None, original_key: str | None,
               report: Callable[[PathKey, str], None]) -> None:
    if original_key is not None:
        stored = _campaign(session, original_key)
        if stored is None or stored.event_key is None:
            report(("campaign", "key"), f"there is no campaign {original_key!r} to edit")
        elif key != original_key:
            report(("campaign", "key"), f"keys never change once used: this campaign's key is "
                                        f"{original_key!r}")
        return
    existing = _campaign(session, key) if key else None
    if existing is not None:
        state = " (withdrawn)" if existing.withdrawn else ""
        report(("campaign", "key"), f"campaign key {key!r} is already used by "
                                    f"{existing.name}{state}; choose another")


def _campaign(session: Session, key: str) -> Campaign | None:
    return session.scalars(select(Campaign).where(Campaign.key == key)).one_or_none()


def _stored_author(session: Session, key: str) -> str | None:
    stored = _campaign(session, key)
    return stored.author if stored is not None else None


# ---- what the Compose page needs ----------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    """What a campaign may refer to, as (key, label) pairs, in the order people expect."""

    campaigns: list[tuple[str, str]] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)
    channels: list[tuple[str, str]] = field(default_factory=list)
    partners: list[tuple[str, str]] = field(default_factory=list)
    accounts: list[tuple[str, str]] = field(default_factory=list)
    event_rules: dict[str, calendar.EventDef] = field(default_factory=dict)


def choices(*, session: Session) -> Choices:
    found = Choices()
    for campaign in session.scalars(
            select(Campaign).where(Campaign.withdrawn.is_(False), Campaign.event_key.is_not(None))
            .order_by(Campaign.year, Campaign.key)):
        found.campaigns.append((campaign.key, f"{campaign.name} ({campaign.key})"))
    for event in session.scalars(select(Event).order_by(Event.name)):
        found.events.append((event.key, event.name))
        try:
            found.event_rules[event.key] = calendar.parse_event(event.definition)
        except calendar.RuleError:
            continue
    for channel in channels_document(session=session)["channels"]:
        contact = " or ".join(c for c in (channel.get("url"), channel.get("phone")) if c)
        found.channels.append((channel["key"], f"{channel['name']} ({contact})"))
    for key, name in session.execute(select(Organisation.key, Organisation.name)
                                     .where(Organisation.is_lead.is_(False))
                                     .order_by(Organisation.name)):
        found.partners.append((key, name))
    for key, network, handle in session.execute(
            select(Account.key, Account.network, Account.handle)
            .where(Account.withdrawn.is_(False)).order_by(Account.key)):
        found.accounts.append((key, f"{key}: {handle} on {network}"))
    return found


def stored_document(key: str, *, session: Session) -> dict[str, Any] | None:
    """A stored campaign as a plain document to edit (None if there is none to edit)."""
    campaign = _campaign(session, key)
    if campaign is None or campaign.event_key is None:
        return None
    return _plain(campaign_document(campaign, session=session))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def new_document(*, key: str, name: str, event: str, year: int, timezone: str, author: str,
                 summary: str = "") -> dict[str, Any]:
    head = {"key": key, "name": name, "event": event, "year": year, "timezone": timezone,
            "author": author}
    if summary.strip():
        head["summary"] = summary.strip()
    return {"campaign": head, "posts": []}


def with_post(document: Mapping[str, Any], post: Mapping[str, Any],
              replacing: str | None = None) -> dict[str, Any]:
    """`document` with `post` in place of the post keyed `replacing` (or added at the end)."""
    posts = [dict(p) for p in document.get("posts", [])]
    index = next((i for i, p in enumerate(posts) if replacing and p.get("key") == replacing),
                 None)
    if index is None:
        posts.append(dict(post))
    else:
        posts[index] = dict(post)
    return {**document, "posts": posts}


def without_post(document: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {**document, "posts": [p for p in document.get("posts", []) if p.get("key") != key]}


#: How a send time is given (docs/content.md "When"), as the page offers them.
SEND_MODES = {"day": "On a day of the event", "days_before": "Days before the event starts",
              "days_after": "Days after the event ends"}


def send_document(mode: str, days: int, at: time) -> dict[str, Any]:
    """{day: 1, at: '09:00'} and its like, from the page's three inputs."""
    if mode not in SEND_MODES:
        raise ValueError(f"unknown send mode {mode!r}")
    return {mode: int(days), "at": f"{at:%H:%M}"}


def send_parts(send: Mapping[str, Any]) -> tuple[str, int, time]:
    """The page's three inputs from a stored send time (the inverse of send_document)."""
    mode = next((m for m in SEND_MODES if send.get(m) is not None), "day")
    days = int(send.get(mode) or (1 if mode == "day" else 0))
    hours, _, minutes = str(send.get("at", "09:00")).partition(":")
    try:
        at = time(int(hours), int(minutes))
    except ValueError:
        at = time(9, 0)
    return mode, days, at


def send_day(event: calendar.EventDef, year: int, send: Mapping[str, Any]) -> datetime:
    """The naive local date and time a send time asks for, in `year`'s occurrence."""
    mode, days, at = send_parts(send)
    occurrence = calendar.occurrence(event, year)
    anchor = occurrence.end if mode == "days_after" else occurrence.start
    offset = {"day": days - 1, "days_before": -days, "days_after": days}[mode]
    return datetime.combine(anchor + timedelta(days=offset), at)


@dataclass(frozen=True)
class VariantLength:
    """One variant as it will be sent (link added), measured as its network measures it."""

    network: str
    owner: str  # "" for the shared wording, else the partner's key
    text: str
    length: int
    limit: int
    problem: str | None

    @property
    def fits(self) -> bool:
        return self.problem is None

    def counter(self) -> str:
        """For people, not colour: 'X: 187 of 280 characters, fits'."""
        unit = "graphemes" if self.network == "bluesky" else "characters"
        verdict = "fits" if self.fits else f"does not fit: {self.problem}"
        return f"{self.length} of {self.limit} {unit}, {verdict}"


def measure_post(post: Mapping[str, Any]) -> list[VariantLength]:
    """Every variant of a post, shared wording first, measured with its link added."""
    link = post.get("link") or None
    wordings: list[tuple[str, str, str]] = [
        ("", n, t) for n, t in (post.get("variants") or {}).items() if t]
    for owner, by_network in (post.get("partner_variants") or {}).items():
        wordings.extend((owner, n, t) for n, t in by_network.items() if t)
    found = []
    for owner, network, wording in wordings:
        if network not in NETWORKS:
            continue
        composed = compose(wording.strip(), link)
        measured = text.measure(composed, network)
        found.append(VariantLength(network, owner, composed, measured.length, measured.limit,
                                   None if measured.valid else measured.problem))
    return found
