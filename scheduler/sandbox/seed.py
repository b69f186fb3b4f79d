"""Filling a Chorus database with sandbox accounts and synthetic due posts.

Used by the crash test and the dispatch benchmark: real accounts in the sandbox, their
tokens sealed in the vault, and approved one-off deliveries at chosen moments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from campaigns.config.secrets import Credentials, Vault
from campaigns.storage.models import (
    Account,
    Campaign,
    Delivery,
    DeliveryStatus,
    Organisation,
    Post,
    ReportingChannel,
)
from scheduler.sandbox.client import SandboxClient

SYNTHETIC = "synthetic-load"


def sandbox_connection(network: str, created: dict[str, Any],
                       base_url: str) -> tuple[Credentials, str]:
    """What Chorus stores to act as a sandbox account on `network` (as `chorus accounts
    connect NETWORK --sandbox` would), and the account's id there, from the sandbox's answer
    to `POST /_sandbox/accounts` at `base_url`."""
    if network == "x":
        return Credentials("oauth1", {
            "access_token": created["oauth1"]["token"],
            "access_token_secret": created["oauth1"]["secret"],
            "consumer_key": "sandbox", "consumer_secret": "sandbox",
        }), str(created["id"])
    if network == "mastodon":
        issued = created["mastodon"]
        return Credentials("oauth2", {
            "access_token": issued["access_token"], "acct": issued["acct"],
            "instance": base_url + issued["instance"],
        }), str(created["id"])
    if network == "bluesky":
        issued = created["bluesky"]
        return Credentials("app_password", {
            "handle": issued["handle"], "did": issued["did"],
            "app_password": issued["app_password"], "service": base_url + issued["service"],
        }), str(issued["did"])
    raise ValueError(f"the sandbox has no {network!r} accounts")


def connect_accounts(
    client: SandboxClient, vault: Vault, count: int, *, session: Session, prefix: str = "load"
) -> list[Account]:
    """`count` sandbox accounts, created there and connected here with OAuth 1.0a tokens."""
    return _connect("x", "Sandbox load partners", client, vault, count, session=session,
                    prefix=prefix)


def connect_mastodon_accounts(
    client: SandboxClient, vault: Vault, count: int, *, session: Session,
    prefix: str = "masto",
) -> list[Account]:
    """`count` sandbox accounts, connected here on the sandbox's Mastodon instance."""
    return _connect("mastodon", "Sandbox Mastodon partners", client, vault, count,
                    session=session, prefix=prefix)


def connect_bluesky_accounts(
    client: SandboxClient, vault: Vault, count: int, *, session: Session,
    prefix: str = "bsky",
) -> list[Account]:
    """`count` sandbox accounts, connected here on the sandbox's Bluesky service with their
    app passwords (as `chorus accounts connect bluesky --sandbox` stores them)."""
    return _connect("bluesky", "Sandbox Bluesky partners", client, vault, count,
                    session=session, prefix=prefix)


def _connect(network: str, name: str, client: SandboxClient, vault: Vault, count: int, *,
             session: Session, prefix: str) -> list[Account]:
    """`count` accounts of one new organisation `<prefix>-org` on `network`, created in the
    sandbox and connected here (prefixes must differ between calls)."""
    organisation = Organisation(key=f"{prefix}-org", name=name, kind="other", is_lead=False)
    session.add(organisation)
    session.flush()
    accounts = []
    for index in range(count):
        username = f"{prefix}{index:03d}"
        created = client.create_account(username, followers=1000 + 37 * index)
        credentials, remote_id = sandbox_connection(network, created, client.base_url)
        handle = created["bluesky"]["handle"] if network == "bluesky" else f"@{username}"
        account = Account(key=f"{prefix}-{index:03d}", organisation_id=organisation.id,
                          network=network, handle=handle, state="connected",
                          remote_user_id=remote_id, is_sandbox=True,
                          token_encrypted=vault.seal(credentials))
        session.add(account)
        accounts.append(account)
    session.flush()
    return accounts


def schedule(
    accounts: Sequence[Account], times: Sequence[datetime], *, session: Session, now: datetime
) -> list[int]:
    """One approved delivery per time, round-robin over `accounts`, each with unique words."""
    channel = session.scalars(select(ReportingChannel)).first()
    if channel is None:
        channel = ReportingChannel(key="true-vision", name="True Vision",
                                   url="https://www.report-it.org.uk")
        session.add(channel)
    campaign = Campaign(key=SYNTHETIC, name="Synthetic load (sandbox)", event_key=None,
                        year=now.year, timezone="UTC", author="load generator")
    session.add(campaign)
    session.flush()
    rows = []
    for index, when in enumerate(times):
        account = accounts[index % len(accounts)]
        text = f"Load test post {index}: report hate crime at https://www.report-it.org.uk"
        post = Post(campaign_id=campaign.id, key=f"p{index}", send={}, audience=account.key,
                    reporting_channel_key=channel.key)
        session.add(post)
        session.flush()
        rows.append({
            "campaign_id": campaign.id, "post_id": post.id, "account_id": account.id,
            "network": account.network, "text": text, "send_at": when,
            "local_time": f"{when:%H:%M:%S} UTC",
            "status": DeliveryStatus.APPROVED, "status_reason": "synthetic load",
            "content_hash": f"load-{index}", "approved_by": "load generator",
            "created_at": now, "updated_at": now,
        })
    session.execute(insert(Delivery), rows)
    return list(session.scalars(select(Delivery.id).where(Delivery.campaign_id == campaign.id)))
