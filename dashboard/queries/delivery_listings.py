"""Deliveries, the headline figures counted from them, and the accounts that send them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from campaigns.storage.accounts import (
    CONNECTED,
    NEEDS_RECONNECT,
    NOT_CONNECTED,
    AccountSummary,
    list_accounts,
)
from campaigns.storage.control import pause_state
from campaigns.storage.models import (
    Account,
    Campaign,
    Delivery,
    Organisation,
    Post,
)
from campaigns.storage.users import Viewer
from dashboard.queries.common import (
    MAX_ROWS,
    NEEDS_ATTENTION,
    SANDBOX_LABEL,
    STATUS_ORDER,
    WAITING,
    S,
    _frame,
    _organisation_names,
    _own_organisation,
    account_label,
    local_text,
)

# ---- deliveries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryFilter:
    statuses: tuple[str, ...] = ()
    campaign_key: str | None = None
    account_key: str | None = None
    since: datetime | None = None
    until: datetime | None = None


#: What a person reads first, then the keys and ids (for details and exports).
DELIVERY_COLUMNS = ("when", "campaign", "post", "account", "status", "reason", "approved by",
                    "sandbox", "text", "id", "campaign key", "account key", "remote id")
IDS = ("id", "campaign key", "account key", "remote id")


def _deliveries_query(viewer: Viewer, wanted: DeliveryFilter) -> Select[*tuple[Any, ...]]:
    query = (
        select(Delivery.id, Delivery.local_time, Campaign.key.label("campaign"),
               Campaign.name.label("campaign_name"), Post.key.label("post"),
               Organisation.name.label("organisation"), Account.key.label("account"),
               Account.handle, Delivery.network, Delivery.status,
               Delivery.status_reason, Delivery.approved_by, Delivery.remote_id,
               Account.is_sandbox, Delivery.text)
        .select_from(Delivery)
        .join(Delivery.campaign).join(Delivery.post).join(Delivery.account)
        .join(Account.organisation)
        .where(_own_organisation(viewer))
        .order_by(Delivery.send_at, Account.key)
    )
    if wanted.statuses:
        query = query.where(Delivery.status.in_([S(s) for s in wanted.statuses]))
    if wanted.campaign_key is not None:
        query = query.where(Campaign.key == wanted.campaign_key)
    if wanted.account_key is not None:
        query = query.where(Account.key == wanted.account_key)
    if wanted.since is not None:
        query = query.where(Delivery.send_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(Delivery.send_at < wanted.until)
    return query


def deliveries(
    *, session: Session, viewer: Viewer, wanted: DeliveryFilter = DeliveryFilter()
) -> pd.DataFrame:
    """Deliveries in send order (at most MAX_ROWS), the viewer's organisation only."""
    rows = session.execute(_deliveries_query(viewer, wanted).limit(MAX_ROWS))
    return _frame([_delivery_row(r) for r in rows], DELIVERY_COLUMNS)


def _delivery_row(row: Any) -> dict[str, Any]:
    return {
        "when": row.local_time, "campaign": row.campaign_name, "post": row.post,
        "account": account_label(row.organisation, row.network, row.handle),
        "status": row.status.value, "reason": row.status_reason,
        "approved by": row.approved_by or ("awaiting sign-off" if row.status == S.DRAFT else ""),
        "sandbox": SANDBOX_LABEL if row.is_sandbox else "", "text": row.text, "id": row.id,
        "campaign key": row.campaign, "account key": row.account,
        "remote id": row.remote_id or "",
    }


def needs_attention(*, session: Session, viewer: Viewer) -> pd.DataFrame:
    """Failed, unconfirmed, missed and expired posts, each with what to do next."""
    wanted = DeliveryFilter(statuses=tuple(s.value for s in NEEDS_ATTENTION))
    frame = deliveries(session=session, viewer=viewer, wanted=wanted)
    frame["what to do next"] = [next_step(s, r) for s, r in
                                zip(frame["status"], frame["reason"], strict=True)]
    return frame[list(ATTENTION_COLUMNS)]


ATTENTION_COLUMNS = ("when", "account", "campaign", "post", "status", "reason",
                     "what to do next", "sandbox", "text", *IDS)


#: A person's answers for an unconfirmed post (campaigns.storage.deliveries.resolve_unconfirmed).
RESOLUTIONS = ("It is there: record it as posted", "It is not there: send it again",
               "It is not there: do not send it")


def next_step(status: str, reason: str) -> str:
    """Plain advice for a post that did not go out as planned."""
    folded = reason.casefold()
    if status == S.UNCONFIRMED:
        return ("Look at the account's timeline. If the post is there, record its id below; "
                "if not, send it again or cancel it.")
    if status == S.FAILED and any(w in folded for w in ("token", "401", "reconnect", "revoked")):
        return "Reconnect the account (chorus accounts connect), then re-plan the campaign."
    if status == S.FAILED and any(w in folded for w in ("duplicate", "too long", "400")):
        return "The network refused the text: change the post's wording, load and re-plan."
    if status == S.FAILED:
        return "Read the reason; if it has passed (e.g. an outage), re-plan to send it again."
    if status == S.MISSED:
        return ("Chorus was not running when it was due. Post it by hand if it is still "
                "timely; otherwise leave it.")
    if status == S.EXPIRED:
        return ("Nobody signed it off before its time, so it was not sent. If it still "
                "matters, have the campaign signed off and plan it again, or post it by hand.")
    return ""


# ---- headline figures -------------------------------------------------------------------------


def status_counts(*, session: Session, viewer: Viewer) -> pd.DataFrame:
    """Posts in each state, in life-cycle order (zeros included), and how many are sandbox."""
    query = (select(Delivery.status, func.count(), func.count().filter(Account.is_sandbox))
             .select_from(Delivery).join(Delivery.account).join(Account.organisation)
             .where(_own_organisation(viewer)).group_by(Delivery.status))
    found = {status: (total, sandbox) for status, total, sandbox in session.execute(query)}
    rows = [{"status": s.value, "posts": found.get(s, (0, 0))[0],
             "of which sandbox": found.get(s, (0, 0))[1]} for s in STATUS_ORDER]
    return _frame(rows, ("status", "posts", "of which sandbox"))


@dataclass(frozen=True)
class Headline:
    posted: int
    waiting: int
    awaiting_sign_off: int
    needs_attention: int
    sandbox: int


def headline(counts: pd.DataFrame) -> Headline:
    """The board's headline figures from `status_counts`."""
    by_status = dict(zip(counts["status"], counts["posts"], strict=True))

    def total(statuses: Sequence[S]) -> int:
        return int(sum(by_status.get(s.value, 0) for s in statuses))

    return Headline(posted=total([S.POSTED]), waiting=total(WAITING),
                    awaiting_sign_off=total([S.DRAFT]), needs_attention=total(NEEDS_ATTENTION),
                    sandbox=int(counts["of which sandbox"].sum()))


def status_summary(counts: pd.DataFrame) -> str:
    """One sentence for screen-reader users (and everyone) beside the status chart."""
    nonzero = [(s, int(n)) for s, n in zip(counts["status"], counts["posts"], strict=True) if n]
    if not nonzero:
        return "No posts are planned yet."
    listed = ", ".join(f"{n:,} {s}" for s, n in nonzero)
    largest = max(nonzero, key=lambda pair: pair[1])
    return (f"{sum(n for _, n in nonzero):,} posts in all: {listed}. "
            f"The largest group is {largest[0]} ({largest[1]:,}).")


# ---- accounts ---------------------------------------------------------------------------------


#: The account and where its connection stands in words first; its key last (for exports).
ACCOUNT_COLUMNS = ("account", "state", "what to do next", "last error", "back-off until",
                   "token stored", "sandbox", "account key")
#: Each connection state (campaigns.storage.accounts) as people say it.
ACCOUNT_STATES = {NOT_CONNECTED: "Not connected yet", CONNECTED: "Connected",
                  NEEDS_RECONNECT: "Needs reconnecting"}


def account_health(*, session: Session, viewer: Viewer, zone: str) -> pd.DataFrame:
    """Connection state in words, what to do about it, back-off and last error of each
    account. Never a token: only whether one is stored (campaigns.storage.accounts never
    hands one out)."""
    names = _organisation_names(session)
    rows = [
        {"account": account_label(names.get(a.organisation, a.organisation), a.network, a.handle),
         "state": ACCOUNT_STATES.get(a.state, a.state),
         "what to do next": account_next_step(a, local_text(a.backoff_until, zone)),
         "last error": a.last_error, "back-off until": local_text(a.backoff_until, zone),
         "token stored": "yes" if a.token_stored else "no",
         "sandbox": SANDBOX_LABEL if a.sandbox else "", "account key": a.key}
        for a in list_accounts(session=session)
        if viewer.sees_everything or a.organisation == viewer.organisation_key
    ]
    return _frame(rows, ACCOUNT_COLUMNS)


def account_next_step(account: AccountSummary, backoff_until: str) -> str:
    """What a person does about an account's connection: the command that connects it (the
    only place its key is needed), or nothing."""
    command = f"chorus accounts connect {account.network} --account {account.key}"
    if account.sandbox:
        command += f" --sandbox {account.handle.lstrip('@')}"
    if account.state == NOT_CONNECTED:
        return f"Connect it: {command}"
    if account.state == NEEDS_RECONNECT:
        return f"Reconnect it: {command}"
    if backoff_until:
        return f"Nothing: the network asked Chorus to wait; it tries again at {backoff_until}."
    return ""


def account_keys(*, session: Session, viewer: Viewer) -> list[str]:
    query = (select(Account.key).join(Account.organisation)
             .where(Account.withdrawn.is_(False), _own_organisation(viewer))
             .order_by(Account.key))
    return list(session.scalars(query))


def posting_pause(*, session: Session) -> dict[str, object]:
    """The partnership-wide pause: {"active": bool, "reason", "since", "by"}."""
    return pause_state(session=session)
