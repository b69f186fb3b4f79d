"""The publishers this installation can use, built from settings at the edge."""

from __future__ import annotations

from pydantic import SecretStr

from campaigns.config.settings import Settings
from scheduler.publishers.base import Publisher


def build_publishers(settings: Settings) -> dict[str, Publisher]:
    from scheduler.publishers.bluesky import BlueskyPublisher
    from scheduler.publishers.mastodon import MastodonPublisher
    from scheduler.publishers.x import XPublisher

    return {
        "x": XPublisher(
            api_url=settings.x_api_url,
            timeout=settings.http_timeout,
            consumer_key=settings.x_consumer_key,
            consumer_secret=_plain(settings.x_consumer_secret),
            client_id=settings.x_client_id,
            client_secret=_plain(settings.x_client_secret),
        ),
        "mastodon": MastodonPublisher(
            settings.http_timeout, visibility=settings.mastodon_visibility,
            language=settings.mastodon_language,
        ),
        "bluesky": BlueskyPublisher(settings.http_timeout),
    }


def _plain(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret else None
