"""The shape of the content files, as typed models. Cross-file rules live in formats.content."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

Network = Literal["x", "mastodon", "bluesky"]
ConsentMode = Literal["accounts", "share-kit", "declined"]
PartnerKind = Literal[
    "partnership",
    "police",
    "council",
    "university",
    "reporting-centre",
    "advice",
    "voluntary",
    "other",
]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

_TIME = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelIn(Strict):
    key: Key
    name: Text
    url: str | None = None
    phone: str | None = None
    description: str = ""

    @model_validator(mode="after")
    def _reachable(self) -> ChannelIn:
        if not (self.url or self.phone):
            raise ValueError("a reporting channel needs a url or a phone number")
        return self


class ChannelsFile(Strict):
    channels: list[ChannelIn] = Field(min_length=1)


class AccountIn(Strict):
    key: Key
    network: Network
    handle: Text
    daily_cap: int | None = Field(default=None, ge=1)


class PartnerIn(Strict):
    key: Key
    name: Text
    kind: PartnerKind
    lead: bool = False
    website: str | None = None
    accounts: list[AccountIn] = []
    #: campaign key -> how this partner takes part
    consent: dict[str, ConsentMode] = {}


class PartnersFile(Strict):
    partners: list[PartnerIn] = Field(min_length=1)


class SendIn(Strict):
    """When to send, relative to the event: exactly one of day, days_before, days_after."""

    day: int | None = Field(default=None, ge=1, description="day N of the event (1 = first day)")
    days_before: int | None = Field(default=None, ge=0, description="days before the first day")
    days_after: int | None = Field(default=None, ge=0, description="days after the last day")
    at: str

    @field_validator("at", mode="before")
    @classmethod
    def _clock_time(cls, value: object) -> str:
        # The content loader reads `9:30` as written (not YAML 1.1's base-60 number 570), so a
        # number here is a time written without its colon, such as 930: refuse, never guess.
        if not isinstance(value, str) or not _TIME.match(value.strip()):
            raise ValueError("send time must be a 24-hour clock time such as '09:30'")
        return value.strip().zfill(5)

    @model_validator(mode="after")
    def _one_anchor(self) -> SendIn:
        given = [n for n in ("day", "days_before", "days_after") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of day, days_before or days_after")
        return self

    @property
    def anchor(self) -> Literal["start", "end"]:
        return "end" if self.days_after is not None else "start"

    @property
    def offset_days(self) -> int:
        if self.day is not None:
            return self.day - 1
        if self.days_before is not None:
            return -self.days_before
        assert self.days_after is not None
        return self.days_after

    @property
    def clock(self) -> time:
        hour, minute = self.at.split(":")
        return time(int(hour), int(minute))


class ImageIn(Strict):
    file: Text
    alt: str = Field(max_length=1000)

    @field_validator("alt")
    @classmethod
    def _described(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("every image needs alt text describing it for screen-reader users")
        return value.strip()


class PostIn(Strict):
    key: Key
    send: SendIn
    audience: Literal["all", "lead"] | list[Key] = "all"
    link: str | None = None
    reporting_channel: Key
    images: list[ImageIn] = Field(default=[], max_length=4)
    variants: dict[Network, Text] = Field(min_length=1)
    #: partner key -> network -> that partner's own wording
    partner_variants: dict[Key, dict[Network, Text]] = {}


class CampaignIn(Strict):
    key: Key
    name: Text
    event: Key
    year: int = Field(ge=2000, le=2100)
    timezone: str | None = None
    author: Text
    summary: str = ""


class CampaignFile(Strict):
    campaign: CampaignIn
    posts: list[PostIn] = Field(min_length=1)
