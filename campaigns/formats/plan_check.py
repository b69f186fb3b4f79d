"""The planner's verdict on a campaign, as problems of the content check.

`check_plan` is the one check that Compose (campaigns.storage.authoring), `chorus content
validate` (`check_content` here) and `chorus plan` (campaigns.storage.plans) all run: it plans
the campaign with the planner's own rules and turns what the planner refuses (the same or
nearly the same words on several X accounts) into errors, and what it moves (quiet hours,
daily caps, clock changes) into warnings, each at the post and field it concerns.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from campaigns.config.settings import Settings
from campaigns.core.planning import (
    NETWORK_NAMES,
    AccountSpec,
    CampaignSpec,
    DuplicateText,
    Plan,
    PostSpec,
    Rules,
    plan_campaign,
)
from campaigns.formats.content import (
    CampaignContent,
    Library,
    Problem,
    Severity,
    compose,
    field_name,
    read_library,
    send_local,
)
from campaigns.formats.schema import PartnerIn
from campaigns.formats.sourcemap import PathKey


@dataclass(frozen=True)
class PlanFinding:
    """One thing the planner says about one post; `path` is the field inside the post."""

    post_key: str
    path: PathKey
    message: str
    severity: Severity = "error"


@dataclass
class PlanCheck:
    plan: Plan
    findings: list[PlanFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def rules_from(settings: Settings) -> Rules:
    """The planning rules an installation's settings set."""
    return Rules(
        quiet_start=settings.quiet_hours_start,
        quiet_end=settings.quiet_hours_end,
        daily_cap=settings.daily_cap,
        stagger_minutes=settings.stagger_minutes,
        near_duplicate_threshold=settings.near_duplicate_threshold,
    )


def check_plan(
    campaign: CampaignSpec,
    accounts: Sequence[AccountSpec],
    rules: Rules,
    *,
    booked: Mapping[tuple[str, date], int] | None = None,
) -> PlanCheck:
    """Plan `campaign` and say, post by post, what the planner refuses and what it moves."""
    plan = plan_campaign(campaign, accounts, rules, booked=booked)
    by_key = {a.key: a for a in accounts}
    posts = {p.key: p for p in campaign.posts}
    found = PlanCheck(plan, [_refusal(r, posts, by_key) for r in plan.refusals])
    seen = set()
    for delivery in plan.deliveries:
        for note in delivery.notes:
            message = f"{by_key[delivery.account_key].label}: {note}"
            if (delivery.post_key, message) not in seen:
                seen.add((delivery.post_key, message))
                found.findings.append(
                    PlanFinding(delivery.post_key, ("send", "at"), message, "warning"))
    return found


def _refusal(
    refusal: DuplicateText, posts: Mapping[str, PostSpec], accounts: Mapping[str, AccountSpec]
) -> PlanFinding:
    first, second = accounts[refusal.first], accounts[refusal.second]
    post = posts[refusal.post_key]
    if not refusal.first_post and _own_wording(post, first) and not _own_wording(post, second):
        first, second = second, first  # the partner's own wording is what to change
    elif not refusal.first_post and second.is_lead and not first.is_lead:
        first, second = second, first
    alike = ("the same words" if refusal.similarity >= 1
             else f"nearly the same words ({refusal.similarity:.0%} alike)")
    if refusal.first_post:
        what = (f"{second.label} would post {alike} as {first.label} does in post "
                f"'{refusal.first_post}'")
    else:
        what = f"{first.label} and {second.label} would post {alike}"
    name = second.organisation_name or second.organisation
    fix = (f"reword {name}'s own X wording" if _own_wording(post, second)
           else f"give {name} its own X wording" if not second.is_lead
           else "give one of them its own X wording, or leave one out of this post")
    return PlanFinding(post.key, _wording_path(post, second),
                       f"{what}. X does not allow the same text on several accounts: {fix}.")


def _own_wording(post: PostSpec, account: AccountSpec) -> bool:
    return (account.network, account.organisation) in post.variants


def _wording_path(post: PostSpec, account: AccountSpec) -> PathKey:
    if _own_wording(post, account):
        return ("partner_variants", account.organisation, account.network)
    return ("variants", account.network)


# ---- content files ------------------------------------------------------------------------


def accounts_of(partners: Sequence[PartnerIn]) -> list[AccountSpec]:
    """The planner's accounts from partners.yaml, in the order the database gives them."""
    found = [
        AccountSpec(a.key, p.key, a.network, a.handle, p.lead, a.daily_cap, p.name)
        for p in partners for a in p.accounts
    ]
    return sorted(found, key=lambda a: (a.organisation, a.key))


def consenting_of(partners: Sequence[PartnerIn], campaign_key: str) -> frozenset[str]:
    """Partners that post a campaign from their own accounts."""
    return frozenset(p.key for p in partners if p.consent.get(campaign_key) == "accounts")


def campaign_spec_of(
    content: CampaignContent, consenting: frozenset[str], default_timezone: str
) -> CampaignSpec:
    """The planner's view of a campaign file (as storage.plans.campaign_spec is of a stored one)."""
    posts = []
    for post in content.spec.posts:
        variants: dict[tuple[str, str], str] = {
            (n, ""): compose(t, post.link) for n, t in post.variants.items()}
        for owner, by_network in post.partner_variants.items():
            variants.update({(n, owner): compose(t, post.link) for n, t in by_network.items()})
        audience = post.audience if isinstance(post.audience, str) else tuple(post.audience)
        posts.append(PostSpec(post.key, send_local(post.send, content.occurrence), audience,
                              variants))
    zone = content.spec.campaign.timezone or default_timezone
    return CampaignSpec(content.key, zone, posts, consenting)


def as_problems(check: PlanCheck, content: CampaignContent) -> list[Problem]:
    """The findings at the file, line and field of the campaign file they concern."""
    index = {post.key: i for i, post in enumerate(content.spec.posts)}
    problems = []
    for finding in check.findings:
        path: PathKey = ("posts", index[finding.post_key], *finding.path)
        line = content.source.line_of(path) if content.source is not None else 1
        problems.append(Problem(content.file, line, field_name(path), finding.message,
                                finding.severity))
    return problems


def check_content(root: Path, *, rules: Rules, default_timezone: str) -> Library:
    """Every problem of a content directory: the file checks, then each campaign planned with
    `rules` (other campaigns' posts counting towards each account's daily cap)."""
    library = read_library(root, default_timezone=default_timezone)
    accounts = accounts_of(library.partners)
    if not accounts:
        return library
    planned: list[tuple[str, datetime]] = []
    for content in sorted(library.campaigns, key=lambda c: (c.spec.campaign.year, c.key)):
        spec = campaign_spec_of(content, consenting_of(library.partners, content.key),
                                default_timezone)
        check = check_plan(spec, accounts, rules, booked=_booked(planned, spec.timezone))
        library.problems.extend(as_problems(check, content))
        planned.extend((d.account_key, d.send_at) for d in check.plan.deliveries)
    library.problems.sort(key=lambda p: (p.file, p.line, p.severity))
    return library


def _booked(planned: Sequence[tuple[str, datetime]], zone_name: str) -> dict[tuple[str, date], int]:
    zone = ZoneInfo(zone_name)
    booked: dict[tuple[str, date], int] = defaultdict(int)
    for account_key, send_at in planned:
        booked[(account_key, send_at.astimezone(zone).date())] += 1
    return booked


# ---- fields in plain words ----------------------------------------------------------------

_FIELDS = {
    "key": "key", "name": "name", "event": "awareness event", "year": "year",
    "timezone": "time zone", "author": "author", "summary": "summary", "send": "send time",
    "send.at": "send time", "audience": "who posts it", "link": "link",
    "reporting_channel": "reporting channel", "images": "images",
}


def field_words(tail: str, names: Mapping[str, str] | None = None) -> str:
    """A field inside a post or campaign, for people: 'variants.x' is 'X wording'."""
    names = names or {}
    parts = [p for p in re.split(r"[.\[\]]+", tail) if p]
    if parts[:1] == ["variants"] and len(parts) > 1:
        return f"{NETWORK_NAMES.get(parts[1], parts[1])} wording"
    if parts[:1] == ["variants"]:
        return "wording for each network"
    if parts[:1] == ["partner_variants"] and len(parts) > 2:
        owner = names.get(parts[1], parts[1])
        return f"{owner}'s own {NETWORK_NAMES.get(parts[2], parts[2])} wording"
    if parts[:1] == ["partner_variants"]:
        return "partners' own wording"
    if parts[:1] == ["images"] and len(parts) > 1 and parts[1].isdigit():
        what = {"alt": "alt text", "file": "file"}.get(parts[2] if len(parts) > 2 else "", "")
        return f"image {int(parts[1]) + 1}" + (f" {what}" if what else "")
    if parts[:1] == ["audience"]:
        return "who posts it"
    return _FIELDS.get(".".join(parts[:2]), _FIELDS.get(parts[0], tail.replace("_", " ")))
