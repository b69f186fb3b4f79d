"""One typed settings object, read once at the edge and passed in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB_PATH = Path("var") / "chorus.db"
DATABASE_URL_START = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\+[A-Za-z0-9_]+)?://")


class Settings(BaseSettings):
    """Chorus settings, from `CHORUS_*` environment variables or a `.env` file."""

    model_config = SettingsConfigDict(env_prefix="CHORUS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_DB_PATH}",
        description="SQLAlchemy URL; SQLite file under var/ by default.",
    )
    database_busy_seconds: float = Field(
        default=30, gt=0, description="How long a command waits for another's lock (SQLite)."
    )
    timezone: str = Field(default="Europe/London", description="Default IANA zone for planning.")
    secret_key: SecretStr | None = Field(
        default=None, description="Fernet key used to encrypt access tokens at rest."
    )
    quiet_hours_start: int = Field(default=21, ge=0, le=23, description="Local hour quiet starts.")
    quiet_hours_end: int = Field(default=7, ge=0, le=23, description="Local hour quiet ends.")
    daily_cap: int = Field(default=4, ge=1, description="Most posts per account per local day.")
    stagger_minutes: int = Field(default=10, ge=0, description="Gap between partners' posts.")
    near_duplicate_threshold: float = Field(
        default=0.7, gt=0, le=1,
        description="Similarity at which two X texts count as near-identical.",
    )

    session_hours: float = Field(
        default=8, gt=0, le=24 * 30,
        description="How long a dashboard sign-in lasts, across reloads and new tabs.",
    )

    content_dir: Path = Field(
        default=Path("content"), description="The content library (images for share kits)."
    )
    demo: bool = Field(
        default=False,
        description="Demo mode: sandbox networks, and a generated secret key under var/.",
    )
    x_api_url: str = Field(
        default="https://api.twitter.com",
        description="Base URL of the X API; the sandbox's URL in the demo and the tests.",
    )
    x_consumer_key: str | None = Field(default=None, description="X app key (OAuth 1.0a).")
    x_consumer_secret: SecretStr | None = Field(default=None, description="X app secret.")
    x_client_id: str | None = Field(default=None, description="X OAuth 2.0 client id.")
    x_client_secret: SecretStr | None = Field(default=None, description="X OAuth 2.0 secret.")
    x_redirect_uri: str = Field(
        default="http://127.0.0.1:8765/callback", description="OAuth 2.0 redirect URI."
    )
    http_timeout: float = Field(default=10.0, gt=0, description="Seconds per network request.")
    mastodon_visibility: Literal["public", "unlisted", "private", "direct"] = Field(
        default="public", description="Visibility of the statuses Chorus posts on Mastodon."
    )
    mastodon_language: str = Field(
        default="en", pattern=r"^[a-z]{2,3}$",
        description="ISO 639 language code Chorus gives its Mastodon statuses.",
    )
    lease_seconds: int = Field(
        default=120, ge=10, description="How long a claim lasts; must exceed any request."
    )
    missed_grace_minutes: int = Field(
        default=30, ge=0, description="How late a post may still go out after downtime."
    )
    sign_off_reminder_hours: float = Field(
        default=24, ge=0,
        description="How long before a post awaiting sign-off is due its campaign's one "
                    "reminder alert is raised; at its time it expires unsent.",
    )
    read_budget_per_day: int = Field(
        default=10_000, ge=1, description="Most engagement reads (API calls) per day."
    )
    engagement_schedule: str = Field(
        default="15m/6h,1h/48h,1d/30d",
        description="Polling schedule: every 15 min to 6 h, hourly to 48 h, daily to 30 days.",
    )
    suppression_threshold: int = Field(
        default=5, ge=1, description="Counts below this are shown as '<N' (disclosure control)."
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for alerts.")
    smtp_port: int = Field(default=25, description="SMTP port.")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    alert_from: str = Field(default="chorus@localhost", description="Sender of alert e-mails.")
    alert_to: list[str] = Field(default=[], description="Recipients of alert e-mails.")
    alert_webhook_url: str | None = Field(
        default=None, description="Incoming webhook (Teams, Slack) for alerts."
    )

    @field_validator("database_url")
    @classmethod
    def _parseable_url(cls, value: str) -> str:
        # The shape SQLAlchemy's URLs start with (dialect[+driver]://); the rest is the
        # driver's to judge when it connects (configuration stays free of the database layer).
        if not DATABASE_URL_START.match(value):
            raise ValueError("not a database URL: give one such as sqlite:///var/chorus.db or "
                             "postgresql+psycopg://user@host/chorus")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value


def load_settings() -> Settings:
    """Read the settings from the environment (and `.env`)."""
    return Settings()
