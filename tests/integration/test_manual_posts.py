"""Posts a partner made by hand, recorded from their links: strict parsing of X addresses, and
a posted delivery that the engagement collector reads like any other."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.config.secrets import Credentials, Vault
from campaigns.core.planning import Rules
from campaigns.formats.content import read_library
from campaigns.storage import db
from campaigns.storage.accounts import store_connection
from campaigns.storage.loader import load_library
from campaigns.storage.manual_posts import (
    X_EPOCH,
    ManualPostError,
    campaign_posts,
    parse_post_url,
    record_manual_post,
    snowflake_time,
)
from campaigns.storage.models import (
    Account,
    AuditEntry,
    Campaign,
    Delivery,
    DeliveryStatus,
    EngagementSnapshot,
)
from campaigns.storage.plans import plan_and_store
from scheduler.collect_schedule import CollectorConfig, parse_schedule
from scheduler.collector import Collector
from scheduler.publishers.base import MetricsResult, PostMetrics, ReadOutcome
from tests.conftest import NOW

POSTED = NOW - timedelta(hours=3)
SHARE_KIT_CAMPAIGN = "disability-history-month-2026"  # the police post it by hand


def snowflake(moment: datetime, sequence: int = 7) -> str:
    return str((int((moment - X_EPOCH) / timedelta(milliseconds=1)) << 22) | sequence)


POLICE_POST = f"https://x.com/NYP_YorkHate/status/{snowflake(POSTED)}?s=46&t=abc"


# ---- reading an address -------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "remote_id", "handle"), [
    ("https://x.com/NYP_YorkHate/status/1850000000000000000", "1850000000000000000",
     "NYP_YorkHate"),
    ("https://twitter.com/NYP_YorkHate/status/1850000000000000000", "1850000000000000000",
     "NYP_YorkHate"),
    ("http://www.x.com/a_b/status/20", "20", "a_b"),
    ("https://mobile.twitter.com/someone/status/123/", "123", "someone"),
    ("https://X.COM/someone/status/123?s=20&t=xyz#reply", "123", "someone"),
    ("https://x.com/someone/status/123/photo/1", "123", "someone"),
    ("https://x.com/i/web/status/123", "123", None),
    ("https://x.com/i/status/123", "123", None),
    ("https://x.com/isabel/status/123", "123", "isabel"),
    ("  https://x.com/someone/status/123\n", "123", "someone"),
    ("https://x.com/someone/status/9223372036854775807", "9223372036854775807", "someone"),
])
def test_an_x_post_address_gives_its_id_and_author(
    url: str, remote_id: str, handle: str | None
) -> None:
    link = parse_post_url(url)
    assert (link.network, link.remote_id, link.handle) == ("x", remote_id, handle)


@pytest.mark.parametrize(("url", "reason"), [
    ("", "paste the post's address"),
    ("x.com/someone/status/123", "starting https://"),
    ("ftp://x.com/someone/status/123", "starting https://"),
    ("javascript:alert(1)//x.com/a/status/1", "starting https://"),
    ("https://x.com.evil.example/someone/status/123", "is not X"),
    ("https://evilx.com/someone/status/123", "is not X"),
    ("https://mastodon.social/@someone/111", "is not X"),
    ("https://bsky.app/profile/someone/post/3k", "is not X"),
    ("https://x.com@evil.example/someone/status/123", "user name or port"),
    ("https://user@x.com/someone/status/123", "user name or port"),
    ("https://x.com:8443/someone/status/123", "user name or port"),
    ("https://x.com/someone", "not the address of one X post"),
    ("https://x.com/someone/status/", "not the address of one X post"),
    ("https://x.com/someone/status/abc", "not the address of one X post"),
    ("https://x.com/someone/status/0123", "not the address of one X post"),
    ("https://x.com/someone/status/9223372036854775808", "not the address of one X post"),
    ("https://x.com/someone/status/123/likes", "not the address of one X post"),
    ("https://x.com/a-b/status/123", "not the address of one X post"),
    ("https://x.com/sixteen_letters_/status/123", "not the address of one X post"),
    ("https://x.com/someone/status/123 and more", "paste the post's address alone"),
    ("https://x.com/søme/status/123", "paste the post's address alone"),
])
def test_anything_but_one_x_post_address_is_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(ManualPostError, match=reason):
        parse_post_url(url)


def test_an_x_id_says_when_the_post_was_made() -> None:
    assert snowflake_time(snowflake(POSTED)) == POSTED
    assert snowflake_time("1") == X_EPOCH


# ---- recording it -------------------------------------------------------------------------------


@pytest.fixture
def loaded(sessions: sessionmaker[Session], content_dir: Path) -> sessionmaker[Session]:
    with db.transaction(sessions) as session:
        load_library(read_library(content_dir), session=session,
                     default_timezone="Europe/London")
    return sessions


def record(sessions: sessionmaker[Session], url: str = POLICE_POST,
           partner: str = "north-yorkshire-police", campaign: str = SHARE_KIT_CAMPAIGN,
           post: str = "what-it-is") -> int:
    with db.transaction(sessions) as session:
        return record_manual_post(url, session=session, organisation_key=partner,
                                  campaign_key=campaign, post_key=post, by="Olu Officer",
                                  now=NOW).id


def test_a_hand_made_post_becomes_a_posted_delivery_of_the_partners_account(
    loaded: sessionmaker[Session],
) -> None:
    delivery_id = record(loaded)
    with loaded() as session:
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None
        assert (delivery.status, delivery.account.key, delivery.network, delivery.remote_id) == (
            DeliveryStatus.POSTED, "police-x", "x", snowflake(POSTED))
        assert (delivery.posted_at, delivery.send_at, delivery.metrics_due_at) == (
            POSTED, POSTED, NOW)
        assert delivery.campaign.key == SHARE_KIT_CAMPAIGN and delivery.post.key == "what-it-is"
        assert delivery.local_time == "2026-09-01 10:00 BST"
        assert "posted by hand by North Yorkshire Police (York)" in delivery.status_reason
        assert "recorded by Olu Officer" in delivery.status_reason
        assert delivery.text  # the words the share kit gave it
        audit = session.scalars(select(AuditEntry).where(AuditEntry.delivery_id == delivery_id))
        assert [(a.old_status, a.new_status, a.actor) for a in audit] == [
            (None, "posted", "Olu Officer")]


@dataclass
class Reader:
    """A network that answers every read with growing counts."""

    calls: list[list[str]] = field(default_factory=list)

    def read_metrics(self, credentials: Credentials, ids: Sequence[str], *,
                     non_public: bool) -> MetricsResult:
        self.calls.append(list(ids))
        return MetricsResult(ReadOutcome.OK, metrics={
            i: PostMetrics(i, impressions=100, likes=5, reposts=2) for i in ids})


def test_the_collector_reads_a_recorded_post_like_any_other(
    loaded: sessionmaker[Session],
) -> None:
    vault = Vault(Fernet.generate_key())
    with db.transaction(loaded) as session:  # the lead's account reads public metrics
        lead = session.scalars(select(Account).where(Account.key == "lead-x")).one()
        store_connection(lead, Credentials("oauth2", {"access_token": "t"}), vault=vault,
                         remote_user_id="1", sandbox=True, session=session)
    delivery_id = record(loaded)
    reader = Reader()
    collector = Collector(loaded, {"x": reader}, vault,
                          CollectorConfig(parse_schedule("15m/6h,1h/48h,1d/30d"), 100))
    report = collector.sweep(NOW)
    assert (report.due, report.read) == (1, 1)
    assert reader.calls == [[snowflake(POSTED)]]
    with loaded() as session:
        [snapshot] = session.scalars(select(EngagementSnapshot)
                                     .where(EngagementSnapshot.delivery_id == delivery_id))
        assert (snapshot.impressions, snapshot.likes, snapshot.read_at) == (100, 5, NOW)
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None
        assert delivery.metrics_due_at == NOW + timedelta(minutes=15)  # on the 15-minute grid


def test_a_partner_without_an_account_on_that_network_is_told_so(
    loaded: sessionmaker[Session],
) -> None:
    with pytest.raises(ManualPostError, match="Citizens Advice York has no X account in Chorus"):
        record(loaded, partner="citizens-advice-york", campaign="nhcaw-2026", post="launch")


@pytest.mark.parametrize(("options", "reason"), [
    ({"url": "https://x.com/SomeoneElse/status/123"},
     r"that post is by @SomeoneElse, not by North Yorkshire Police \(York\)'s X account"),
    ({"partner": "nobody"}, "no partner 'nobody'"),
    ({"campaign": "no-such-campaign"}, "no campaign 'no-such-campaign'"),
    ({"post": "no-such-post"}, "has no post 'no-such-post'"),
    ({"url": "https://x.com/NYP_YorkHate"}, "not the address of one X post"),
])
def test_what_does_not_fit_is_refused_and_nothing_is_written(
    loaded: sessionmaker[Session], options: dict[str, str], reason: str
) -> None:
    with pytest.raises(ManualPostError, match=reason):
        record(loaded, **options)
    with loaded() as session:
        assert session.scalars(select(Delivery)).first() is None


def test_a_post_is_recorded_only_once(loaded: sessionmaker[Session]) -> None:
    first = record(loaded)
    with pytest.raises(ManualPostError, match=f"already recorded \\(delivery {first}\\)"):
        record(loaded, post="easy-read")


def test_a_post_chorus_sends_itself_is_not_recorded_twice(loaded: sessionmaker[Session]) -> None:
    with db.transaction(loaded) as session:
        nhcaw = session.scalars(select(Campaign).where(Campaign.key == "nhcaw-2026")).one()
        assert plan_and_store(nhcaw, Rules(), session=session, now=NOW).ok
    with pytest.raises(ManualPostError, match="police-x already has a delivery of 'launch'"):
        record(loaded, campaign="nhcaw-2026", post="launch")


def test_planning_later_keeps_a_recorded_post_as_sent(loaded: sessionmaker[Session]) -> None:
    record(loaded, campaign="nhcaw-2026", post="launch")
    with db.transaction(loaded) as session:
        nhcaw = session.scalars(select(Campaign).where(Campaign.key == "nhcaw-2026")).one()
        result = plan_and_store(nhcaw, Rules(), session=session, now=NOW)
    assert result.ok and result.kept_sent == 1


def test_the_campaigns_and_posts_offered_are_those_in_use(loaded: sessionmaker[Session]) -> None:
    with loaded() as session:
        offered = campaign_posts(session=session)
    assert offered["nhcaw-2026"] == ("National Hate Crime Awareness Week 2026", [
        "countdown", "launch", "reporting-centres", "stop-hate-helpline", "thank-you"])
