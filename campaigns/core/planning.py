"""Expanding a campaign into deliveries: one variant x one account x one send time (UTC).

Pure: plain dataclasses in, plain dataclasses out. Storage is campaigns.storage.plans.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from difflib import SequenceMatcher
from itertools import combinations
from zoneinfo import ZoneInfo

from campaigns.core.timezones import resolve_local

NETWORK_NAMES = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}


@dataclass(frozen=True)
class AccountSpec:
    key: str
    organisation: str
    network: str
    handle: str
    is_lead: bool
    daily_cap: int | None = None
    #: The organisation's name, for people; its key when not given.
    organisation_name: str = ""

    @property
    def label(self) -> str:
        """The account as a person names it: 'City of York Council on X (@YorkCouncil)'."""
        network = NETWORK_NAMES.get(self.network, self.network)
        return f"{self.organisation_name or self.organisation} on {network} ({self.handle})"


@dataclass(frozen=True)
class PostSpec:
    key: str
    local_time: datetime  # naive wall-clock time in the campaign's zone
    #: "all", "lead", or a tuple of account keys
    audience: str | tuple[str, ...]
    #: (network, organisation key or "") -> composed text
    variants: Mapping[tuple[str, str], str]


@dataclass(frozen=True)
class CampaignSpec:
    key: str
    timezone: str
    posts: Sequence[PostSpec]
    #: organisations that consented to post from their own accounts
    consenting: frozenset[str]


@dataclass(frozen=True)
class Rules:
    quiet_start: int = 21
    quiet_end: int = 7
    daily_cap: int = 4
    stagger_minutes: int = 10
    near_duplicate_threshold: float = 0.7


@dataclass(frozen=True)
class PlannedDelivery:
    post_key: str
    account_key: str
    network: str
    text: str
    send_at: datetime  # aware UTC
    local_time: str  # as sent, in the campaign's zone, e.g. "2026-10-10 09:00 BST"
    notes: tuple[str, ...] = ()

    @property
    def content_hash(self) -> str:
        """What an approver signs off: the words, the account and the moment."""
        raw = f"{self.account_key}\x1f{self.send_at.isoformat()}\x1f{self.text}"
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class DuplicateText:
    post_key: str
    first: str  # account key
    second: str
    similarity: float
    #: For the same words in two posts: the earlier post, where `first` posts them.
    first_post: str = ""

    def __str__(self) -> str:
        kind = "identical" if self.similarity >= 1 else "near-identical"
        posts = f"{self.first_post}' and '{self.post_key}" if self.first_post else self.post_key
        return (f"post {posts!r}: X accounts {self.first} and {self.second} would post "
                f"{kind} text (similarity {self.similarity:.2f}); X's automation rules forbid "
                "this: give one of them its own wording in partner_variants")


@dataclass
class Plan:
    campaign_key: str
    deliveries: list[PlannedDelivery] = field(default_factory=list)
    refusals: list[DuplicateText] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refusals


def plan_campaign(
    campaign: CampaignSpec,
    accounts: Sequence[AccountSpec],
    rules: Rules,
    *,
    booked: Mapping[tuple[str, date], int] | None = None,
) -> Plan:
    """Every delivery of `campaign`, or the X duplicate-text refusals that block it.

    `booked` counts deliveries each account already has on each local date from other
    campaigns, so the per-account daily cap holds across campaigns.
    """
    zone = ZoneInfo(campaign.timezone)
    counts: dict[tuple[str, date], int] = defaultdict(int, booked or {})
    plan = Plan(campaign.key)
    offsets = _stagger_offsets(accounts, campaign.consenting, rules.stagger_minutes)
    for post in sorted(campaign.posts, key=lambda p: (p.local_time, p.key)):
        targets = list(_targets(post, accounts, campaign.consenting))
        plan.refusals.extend(_duplicates(post.key, targets, rules.near_duplicate_threshold))
        for account, wording in targets:
            local = post.local_time + timedelta(minutes=offsets[account.organisation])
            plan.deliveries.append(_place(post.key, account, wording, local, zone, rules, counts))
    plan.refusals.extend(_repeated_across_posts(plan.deliveries))
    return plan


def _targets(
    post: PostSpec, accounts: Sequence[AccountSpec], consenting: frozenset[str]
) -> Iterable[tuple[AccountSpec, str]]:
    for account in accounts:
        if not _in_audience(post.audience, account, consenting):
            continue
        wording = post.variants.get((account.network, account.organisation))
        if wording is None:
            wording = post.variants.get((account.network, ""))
        if wording is not None:
            yield account, wording


def _in_audience(
    audience: str | tuple[str, ...], account: AccountSpec, consenting: frozenset[str]
) -> bool:
    if isinstance(audience, tuple):
        return account.key in audience and (account.is_lead or account.organisation in consenting)
    if account.is_lead:
        return True
    return audience == "all" and account.organisation in consenting


def _stagger_offsets(
    accounts: Sequence[AccountSpec], consenting: frozenset[str], minutes: int
) -> dict[str, int]:
    """The lead posts first; each consenting partner follows `minutes` after the one before."""
    offsets: dict[str, int] = {}
    partners = sorted({a.organisation for a in accounts if not a.is_lead})
    for account in accounts:
        if account.is_lead:
            offsets[account.organisation] = 0
    for index, organisation in enumerate(p for p in partners if p in consenting):
        offsets[organisation] = (index + 1) * minutes
    for organisation in partners:
        offsets.setdefault(organisation, 0)
    return offsets


def _place(
    post_key: str,
    account: AccountSpec,
    wording: str,
    local: datetime,
    zone: ZoneInfo,
    rules: Rules,
    counts: dict[tuple[str, date], int],
) -> PlannedDelivery:
    notes: list[str] = []
    local = _out_of_quiet_hours(local, rules, notes)
    cap = account.daily_cap or rules.daily_cap
    while counts[(account.key, local.date())] >= cap:
        notes.append(f"{account.label} already has {cap} posts on {local:%Y-%m-%d} "
                     "(daily cap); moved to the next day")
        local = _out_of_quiet_hours(local + timedelta(days=1), rules, notes)
    counts[(account.key, local.date())] += 1
    send_at, clock_note = resolve_local(local, zone)
    if clock_note:
        notes.append(clock_note)
    shown = send_at.astimezone(zone)
    return PlannedDelivery(
        post_key=post_key,
        account_key=account.key,
        network=account.network,
        text=wording,
        send_at=send_at,
        local_time=f"{shown:%Y-%m-%d %H:%M %Z}",
        notes=tuple(notes),
    )


def _out_of_quiet_hours(local: datetime, rules: Rules, notes: list[str]) -> datetime:
    if not in_quiet_hours(local.time(), rules):
        return local
    quiet_end = datetime.combine(local.date(), time(rules.quiet_end))
    moved = quiet_end if local < quiet_end else quiet_end + timedelta(days=1)
    notes.append(f"{local:%Y-%m-%d %H:%M} is in quiet hours "
                 f"({rules.quiet_start:02d}:00-{rules.quiet_end:02d}:00); "
                 f"moved to {moved:%Y-%m-%d %H:%M}")
    return moved


def in_quiet_hours(clock: time, rules: Rules) -> bool:
    start, end = time(rules.quiet_start), time(rules.quiet_end)
    if start == end:
        return False
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


# ---- X duplicate text ----------------------------------------------------------------------

_URL = re.compile(r"https?://\S+|\bwww\.\S+", re.IGNORECASE)
_WORD = re.compile(r"\w+")


def words(text: str) -> tuple[str, ...]:
    """The words of a text, with links and case ignored: what a reader would call 'the same'."""
    return tuple(_WORD.findall(_URL.sub(" ", text).casefold()))


def similarity(a: tuple[str, ...], b: tuple[str, ...], floor: float = 0.0) -> float:
    """How alike two word sequences are, 0 to 1 (difflib's ratio over words).

    Below `floor` a cheap upper bound answers 0 without the full comparison: the words two
    texts can match are at most their shared distinct words plus the fewer repeats of either.
    """
    if a == b:
        return 1.0
    total = len(a) + len(b)
    distinct_a, distinct_b = frozenset(a), frozenset(b)
    repeats = min(len(a) - len(distinct_a), len(b) - len(distinct_b))
    if 2 * (len(distinct_a & distinct_b) + repeats) < floor * total:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _duplicates(
    post_key: str, targets: Sequence[tuple[AccountSpec, str]], threshold: float
) -> list[DuplicateText]:
    on_x = [(account, wording) for account, wording in targets if account.network == "x"]
    if len(on_x) < 2:
        return []
    tokens = {account.key: words(wording) for account, wording in on_x}
    found = []
    for (first, _), (second, _) in combinations(on_x, 2):
        score = similarity(tokens[first.key], tokens[second.key], floor=threshold)
        if score >= threshold:
            found.append(DuplicateText(post_key, first.key, second.key, round(score, 2)))
    return found


def _repeated_across_posts(deliveries: Sequence[PlannedDelivery]) -> list[DuplicateText]:
    """The same words on two X accounts in different posts of one campaign."""
    first_seen: dict[tuple[str, ...], PlannedDelivery] = {}
    found = []
    for delivery in deliveries:
        if delivery.network != "x":
            continue
        earlier = first_seen.setdefault(words(delivery.text), delivery)
        if earlier.account_key != delivery.account_key and earlier.post_key != delivery.post_key:
            found.append(DuplicateText(delivery.post_key, earlier.account_key,
                                       delivery.account_key, 1.0, first_post=earlier.post_key))
    return found
