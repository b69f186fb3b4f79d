"""SQLAlchemy 2.0 models: the stored shape of content, plans and their history.

Every datetime column is timezone-aware and holds UTC. Natural keys (`key`) come from the
content files, so loading the same files again updates rows in place instead of adding new ones.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from campaigns.core.states import DeliveryStatus

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware-UTC datetime on every backend (SQLite forgets the zone; this restores it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500))
    strands: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The rule and per-year overrides as written in content (see campaigns.core.calendar).
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)


class ReportingChannel(Base):
    __tablename__ = "reporting_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text, default="")


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(50))
    is_lead: Mapped[bool] = mapped_column(default=False)
    website: Mapped[str | None] = mapped_column(String(500))

    accounts: Mapped[list[Account]] = relationship(back_populates="organisation")


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    network: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(200))
    daily_cap: Mapped[int | None] = mapped_column(Integer)
    #: Credentials as Fernet-encrypted JSON (campaigns.config.secrets); never logged or rendered.
    token_encrypted: Mapped[bytes | None] = mapped_column()
    #: not-connected, connected or needs-reconnect
    state: Mapped[str] = mapped_column(String(30), default="not-connected")
    remote_user_id: Mapped[str | None] = mapped_column(String(100))
    #: Connected to the project's sandbox, not the real network: its data is labelled so.
    is_sandbox: Mapped[bool] = mapped_column(default=False)
    #: No claims for this account before this moment (a 429's reset, or a server error).
    backoff_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rate_remaining: Mapped[int | None] = mapped_column(Integer)
    rate_reset: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: No longer in the content files; kept for the history of what it sent.
    withdrawn: Mapped[bool] = mapped_column(default=False)

    organisation: Mapped[Organisation] = relationship(back_populates="accounts")


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: None for one-off posts imported in bulk.
    event_key: Mapped[str | None] = mapped_column(ForeignKey("events.key"))
    year: Mapped[int]
    timezone: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused: Mapped[bool] = mapped_column(default=False)
    withdrawn: Mapped[bool] = mapped_column(default=False)
    #: Last changed in the dashboard (Compose) since it was last loaded from its file; loading
    #: a file that differs is then a conflict, never a silent overwrite (campaigns.storage.loader).
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    edited_by: Mapped[str | None] = mapped_column(String(200))
    #: Everyone who has changed it in the dashboard, ever (loading files does not clear it):
    #: none of them may approve it, as its author may not (campaigns.storage.approval).
    editors: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    #: sha256 of the campaign as last loaded from its file (campaigns.storage.export.digest).
    loaded_hash: Mapped[str | None] = mapped_column(String(64))

    event: Mapped[Event | None] = relationship()
    posts: Mapped[list[Post]] = relationship(back_populates="campaign", order_by="Post.key")
    consents: Mapped[list[Consent]] = relationship(back_populates="campaign")


class Consent(Base):
    """Whether a partner takes part in a campaign, and how."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("campaign_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    #: "accounts" (post from its connected accounts), "share-kit" (a person posts) or "declined".
    mode: Mapped[str] = mapped_column(String(20))
    recorded_on: Mapped[date | None] = mapped_column(Date)

    campaign: Mapped[Campaign] = relationship(back_populates="consents")
    organisation: Mapped[Organisation] = relationship()


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    #: When to send, relative to the event: {"anchor": "start"|"end", "days": int, "time": "HH:MM"}.
    send: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: "lead" (the partnership's accounts only) or "all" (lead and consenting partners).
    audience: Mapped[str] = mapped_column(Text, default="all")
    link: Mapped[str | None] = mapped_column(String(500))
    reporting_channel_key: Mapped[str] = mapped_column(ForeignKey("reporting_channels.key"))
    images: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    withdrawn: Mapped[bool] = mapped_column(default=False)

    campaign: Mapped[Campaign] = relationship(back_populates="posts")
    reporting_channel: Mapped[ReportingChannel] = relationship()
    variants: Mapped[list[Variant]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="Variant.id"
    )


class Variant(Base):
    """A post's text for one network; `organisation_id` set for a partner's own wording."""

    __tablename__ = "variants"
    __table_args__ = (UniqueConstraint("post_id", "network", "organisation_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(20))
    #: "" for the default wording, otherwise the partner organisation's key.
    organisation_key: Mapped[str] = mapped_column(String(100), default="")
    text: Mapped[str] = mapped_column(Text)

    post: Mapped[Post] = relationship(back_populates="variants")


class Delivery(Base):
    """One post variant, sent by one account, at one time."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("post_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    network: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: The wall-clock time the author asked for, in the campaign's zone, for display.
    local_time: Mapped[str] = mapped_column(String(40))
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=20,
             values_callable=lambda e: [m.value for m in e]),
        index=True,
    )
    status_reason: Mapped[str] = mapped_column(Text, default="")
    #: What the planner adjusted (quiet hours, daily cap, clock change), for people to see.
    plan_notes: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    #: The words and the time last signed off, kept when a re-plan sends the delivery back to
    #: draft, so the sign-off queue shows what changed since (None: never signed off).
    signed_off_text: Mapped[str | None] = mapped_column(Text)
    signed_off_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    remote_id: Mapped[str | None] = mapped_column(String(100))
    #: The worker holding the claim and until when; a lapsed lease means the worker died.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: A retry that is safe (nothing was sent) waits until this moment.
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the engagement collector should next read this post (None: no longer tracked).
    metrics_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: live, deleted or unavailable, as the network last said.
    remote_state: Mapped[str | None] = mapped_column(String(20))
    remote_gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship()
    post: Mapped[Post] = relationship()
    campaign: Mapped[Campaign] = relationship()


class AuditEntry(Base):
    """An append-only record of every delivery state change."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    old_status: Mapped[str | None] = mapped_column(String(20))
    new_status: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")

    delivery: Mapped[Delivery | None] = relationship()


class Alert(Base):
    """One alert per incident (not per retry): the incident key is unique."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_key: Mapped[str] = mapped_column(String(200), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(30))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    email_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    webhook_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")


class Control(Base):
    """Switches that every worker reads, such as the partnership-wide pause."""

    __tablename__ = "controls"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(200))


class WorkerHeartbeat(Base):
    __tablename__ = "workers"

    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EngagementSnapshot(Base):
    """One reading of one post's metrics. Append-only: history is never overwritten."""

    __tablename__ = "engagement_snapshots"
    __table_args__ = (
        # Readings by time, with the counters the board adds up (dashboard.insights): the
        # reach of a period is read from this index alone, never from the table's rows.
        Index("ix_engagement_snapshots_read_at_counters", "read_at", "delivery_id",
              "impressions", "likes", "reposts", "replies", "quotes"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())
    impressions: Mapped[int] = mapped_column(Integer, default=0)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    reposts: Mapped[int] = mapped_column(Integer, default=0)
    replies: Mapped[int] = mapped_column(Integer, default=0)
    quotes: Mapped[int] = mapped_column(Integer, default=0)
    bookmarks: Mapped[int] = mapped_column(Integer, default=0)
    #: Non-public metrics: only the author can read them, for posts younger than 30 days.
    link_clicks: Mapped[int | None] = mapped_column(Integer)
    profile_clicks: Mapped[int | None] = mapped_column(Integer)


class ApiUsage(Base):
    """Network reads spent per day and purpose, against the configured read budget."""

    __tablename__ = "api_usage"
    __table_args__ = (UniqueConstraint("day", "network", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    network: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(50))
    calls: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=0)


class ReportDataset(Base):
    """One imported reporting file: where it came from, and whether it is synthetic."""

    __tablename__ = "report_datasets"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: sha256 of the file's bytes: importing the same file twice changes nothing.
    file_hash: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(100))
    #: Where the figures were published, for the board's list of sources.
    citation: Mapped[str] = mapped_column(Text, default="")
    synthetic: Mapped[bool] = mapped_column(default=False)
    layout: Mapped[str] = mapped_column(String(40))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    imported_by: Mapped[str] = mapped_column(String(200), default="")


class ReportCount(Base):
    """A count of hate crime reports for one period, area, strand and source.

    `measure` keeps offences apart from motivating factors: one offence can have several
    motivating factors, so strands add up to more than the offences and are never summed as
    offences.
    """

    __tablename__ = "report_counts"
    __table_args__ = (
        UniqueConstraint("period_start", "period_end", "area", "strand", "source", "measure"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("report_datasets.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date, index=True)
    period_end: Mapped[date] = mapped_column(Date)
    area: Mapped[str] = mapped_column(String(100))
    #: race, religion, sexual-orientation, disability, transgender, or all
    strand: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(100))
    #: offences or motivating-factors
    measure: Mapped[str] = mapped_column(String(30))
    count: Mapped[int] = mapped_column(Integer)


class User(Base):
    """Someone who signs in to the dashboard, and what they may see and do."""

    __tablename__ = "users"
    #: SQLite would otherwise hand a removed user's id to the next user added (PostgreSQL's
    #: sequences never reuse one).
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: officer (everything), partner (its own organisation only) or board (read-only)
    role: Mapped[str] = mapped_column(String(20))
    organisation_key: Mapped[str | None] = mapped_column(ForeignKey("organisations.key"))
    #: argon2 hash for local sign-in; None for users who sign in through OIDC only.
    password_hash: Mapped[str | None] = mapped_column(String(300))
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: A random secret that every dashboard session of this user holds with the user's id; a
    #: new one (campaigns.storage.users.end_sessions) ends all of them. Never shown.
    session_secret: Mapped[str] = mapped_column(String(64))


class SignInFailure(Base):
    """A failed dashboard sign-in, kept a day for throttling (campaigns.storage.throttle).

    It is filed under a digest of what it counts against, the e-mail address typed or the
    client's network address, never the address itself: addresses tried by a stranger are
    not personal data to keep.
    """

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_scope_key_at", "scope", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "account" (the e-mail address typed) or "client" (the network address it came from)
    scope: Mapped[str] = mapped_column(String(10))
    #: SHA-256 of the scope and the normalised address, in hex
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class StoredEffectEstimate(Base):
    """An awareness window's effect estimate (campaigns.analysis.effect), fitted once and kept
    under the fingerprint of the weekly figures it was fitted on, so that the board page can
    show it again without fitting. Derived data: new figures have a new fingerprint, and an
    emptied table costs only the time to fit again."""

    __tablename__ = "effect_estimates"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: campaigns.analysis.effect.fingerprint of the figures, the window and the model version.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    estimate: Mapped[dict[str, Any]] = mapped_column(JSON)
    fitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
