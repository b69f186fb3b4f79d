"""Telling people when something needs them: one alert per incident, by e-mail and webhook.

The worker calls `raise_alert` inside its own transaction, so an alert exists exactly when the
state change it reports was committed; the incident key makes repeats of one incident (every
retry of a failing send, every worker that notices it) into a single alert. `send_pending_alerts`
then delivers what has not yet gone out, records what was sent, and keeps any error for the
next call: it never raises, because a broken mail server must not stop posts going out.

Alerts never carry a secret: the describe_* helpers use only an account's key, network and
handle, and every subject, body and stored error passes through `redact` as well.

Standard library only for the delivery: smtplib, email and urllib.
"""

from __future__ import annotations

import json
import re
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from campaigns.config.settings import Settings
from campaigns.storage.models import Account, Alert, Campaign, Delivery

FAILED = "failed"
UNCONFIRMED = "unconfirmed"
MISSED = "missed"
RECONNECT = "reconnect"
SIGN_OFF_DUE = "sign-off-due"
EXPIRED = "expired"

#: What people are told to run. Kept here, in one place, to match the CLI's commands.
LIST_FAILED_COMMAND = "chorus deliveries list --status failed"
RECONNECT_COMMAND = "chorus accounts connect {network} --account {account}"
RESOLVE_POSTED_COMMAND = "chorus deliveries resolve {delivery} --posted REMOTE_ID"
RESOLVE_NOT_POSTED_COMMAND = "chorus deliveries resolve {delivery} --not-posted"
IMPORT_COMMAND = "chorus posts import FILE.csv"

SUBJECT_LENGTH = 300  # the alerts.subject column
_NETWORK_NAMES = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}
#: Incoming webhooks of Teams' Workflows app take Adaptive Cards only; Slack takes {"text"}.
_ADAPTIVE_CARD_HOSTS = (".logic.azure.com", ".powerplatform.com", ".powerautomate.com")


# ---- raising ---------------------------------------------------------------------------------


def raise_alert(
    *,
    session: Session,
    kind: str,
    incident_key: str,
    subject: str,
    body: str,
    delivery_id: int | None = None,
    account_id: int | None = None,
    now: datetime,
) -> bool:
    """Record an alert unless one exists for `incident_key`; True if this one is new.

    Safe when several workers raise the same incident at once: the insert yields to the
    unique incident key instead of failing the caller's transaction.
    """
    values = {
        "incident_key": incident_key, "at": now, "kind": kind,
        "subject": _one_line(redact(subject))[:SUBJECT_LENGTH], "body": redact(body),
        "delivery_id": delivery_id, "account_id": account_id, "last_error": "",
    }
    # ON CONFLICT DO NOTHING on both supported backends (SQLite, PostgreSQL).
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement: Insert = module.insert(Alert).values(**values).on_conflict_do_nothing(
        index_elements=["incident_key"]).returning(Alert.id)
    # RETURNING, not rowcount: psycopg reports -1 for this statement through the ORM.
    return session.execute(statement).scalar_one_or_none() is not None


# ---- sending ---------------------------------------------------------------------------------


def send_pending_alerts(
    *, session: Session, settings: Settings, now: datetime, smtp_timeout: float = 10
) -> int:
    """E-mail and post every alert not yet sent that way; how many alerts went out.

    An alert counts once however many of its channels succeeded in this call. A channel that
    fails leaves its `*_sent_at` empty and its reason in `last_error`, and is tried again on
    the next call; a channel that succeeded is never repeated. Never raises.
    """
    email_on = bool(settings.smtp_host and settings.alert_to)
    webhook_on = bool(settings.alert_webhook_url)
    waiting = ([Alert.email_sent_at.is_(None)] if email_on else []) + (
        [Alert.webhook_sent_at.is_(None)] if webhook_on else [])
    if not waiting:
        return 0
    # SKIP LOCKED (PostgreSQL): two workers sending at once do not both send one alert.
    query = (select(Alert).where(or_(*waiting)).order_by(Alert.at, Alert.id)
             .with_for_update(skip_locked=True))
    sent = 0
    for alert in session.scalars(query).all():
        sent += _send_one(alert, settings, now=now, smtp_timeout=smtp_timeout)
    return sent


def send_unstored(subject: str, body: str, *, settings: Settings, now: datetime,
                  smtp_timeout: float = 10) -> str:
    """Send an alert that cannot be stored first (the database is full, read-only or gone);
    returns what went wrong sending it ("" if nothing did). Never raises."""
    alert = Alert(incident_key=f"unstored:{_one_line(subject)}", at=now, kind="worker",
                  subject=_one_line(redact(subject))[:SUBJECT_LENGTH], body=redact(body),
                  last_error="")
    _send_one(alert, settings, now=now, smtp_timeout=smtp_timeout)
    return alert.last_error


def _send_one(alert: Alert, settings: Settings, *, now: datetime, smtp_timeout: float) -> bool:
    errors = []
    delivered = False
    if settings.smtp_host and settings.alert_to and alert.email_sent_at is None:
        try:
            refused = send_email(alert, settings, now=now, timeout=smtp_timeout)
        except Exception as exc:  # whatever the mail server does, the worker carries on
            errors.append(f"e-mail: {_error_text(exc, settings)}")
        else:
            alert.email_sent_at = now
            delivered = True
            if refused:
                errors.append(f"e-mail: refused for {', '.join(sorted(refused))}")
    if settings.alert_webhook_url and alert.webhook_sent_at is None:
        try:
            post_webhook(alert, settings.alert_webhook_url, timeout=settings.http_timeout)
        except Exception as exc:  # as above: record, retry on the next call
            errors.append(f"webhook: {_error_text(exc, settings)}")
        else:
            alert.webhook_sent_at = now
            delivered = True
    alert.last_error = "; ".join(errors)
    return delivered


def send_email(
    alert: Alert, settings: Settings, *, now: datetime, timeout: float
) -> dict[str, Any]:
    """Send one alert by SMTP; the recipients the server refused (if it took the others)."""
    message = email_message(alert, settings, now=now)
    host = settings.smtp_host or ""
    # Port 465 speaks TLS from the first byte (RFC 8314); other ports may upgrade with STARTTLS.
    if settings.smtp_port == 465:
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            host, settings.smtp_port, timeout=timeout, context=ssl.create_default_context())
    else:
        connection = smtplib.SMTP(host, settings.smtp_port, timeout=timeout)
    with connection as smtp:
        if settings.smtp_starttls and settings.smtp_port != 465:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            password = settings.smtp_password
            smtp.login(settings.smtp_username, password.get_secret_value() if password else "")
        return dict(smtp.send_message(message))


def email_message(alert: Alert, settings: Settings, *, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["From"] = settings.alert_from
    message["To"] = ", ".join(settings.alert_to)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("chorus-alert", domain="chorus.invalid")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message["X-Chorus-Incident"] = _one_line(alert.incident_key)
    message.set_content(alert.body, cte="quoted-printable")
    return message


def post_webhook(alert: Alert, url: str, *, timeout: float) -> None:
    """POST one alert as JSON; raises on anything but a 2xx answer."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("the alert webhook URL must start with https:// (or http://)")
    payload = json.dumps(webhook_payload(url, alert.subject, alert.body)).encode("utf-8")
    request = urllib.request.Request(
        url, data=payload, method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "chorus"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()


def webhook_payload(url: str, subject: str, body: str) -> dict[str, Any]:
    """The JSON body for an incoming webhook.

    Slack and the classic Teams connectors show `text`. Teams' Workflows webhooks (hosted on
    Azure Logic Apps / Power Platform) accept only an Adaptive Card, so those get one as well.
    """
    text = f"{subject}\n\n{body}"
    host = (urlsplit(url).hostname or "").lower()
    if not host.endswith(_ADAPTIVE_CARD_HOSTS):
        return {"text": text}
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": subject, "weight": "Bolder", "size": "Medium",
             "wrap": True},
            {"type": "TextBlock", "text": body, "wrap": True},
        ],
    }
    return {"type": "message", "text": text, "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]}


def _error_text(exc: BaseException, settings: Settings) -> str:
    """A short reason, with the webhook URL (a secret for Slack and Teams) and password out."""
    if isinstance(exc, urllib.error.HTTPError):
        text = f"HTTP {exc.code} {exc.reason}"
    elif isinstance(exc, urllib.error.URLError):
        text = str(exc.reason)
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
    return redact(text, also=(settings.alert_webhook_url or "", password))[:500]


# ---- what the alerts say ---------------------------------------------------------------------


def describe_failed(delivery: Delivery, account: Account, reason: str) -> tuple[str, str]:
    """A post that will not be sent as it is."""
    subject = f"Chorus: a post failed on {account.handle} ({_post_label(delivery)})"
    body = _compose(
        "A post could not be sent, and Chorus will not try it again as it is.",
        _facts(delivery, account),
        reason,
        f"Read the reason above. If the network refused the words or the image, change them "
        f"and plan (or import) the post again; if the account's access was refused, reconnect "
        f"it with `{_reconnect(account)}`. `{LIST_FAILED_COMMAND}` lists every failed post "
        "with its reason.",
    )
    return subject, body


def describe_unconfirmed(delivery: Delivery, account: Account, reason: str) -> tuple[str, str]:
    """A send whose outcome is unknown: it may or may not be on the account's timeline."""
    subject = f"Chorus: check whether a post went out on {account.handle} " \
              f"({_post_label(delivery)})"
    body = _compose(
        "Chorus cannot tell whether this post was published, so it will not send it again by "
        "itself (that could post it twice).",
        _facts(delivery, account),
        reason,
        f"Check the account's timeline ({profile_url(account.network, account.handle)}) for "
        f"this post around its send time. If it is there, resolve it with "
        f"`{RESOLVE_POSTED_COMMAND.format(delivery=delivery.id)}` (the post's id from its "
        f"address); if it is not, resolve it with "
        f"`{RESOLVE_NOT_POSTED_COMMAND.format(delivery=delivery.id)}` so that it is sent again.",
    )
    return subject, body


def describe_missed(delivery: Delivery, account: Account, reason: str) -> tuple[str, str]:
    """A post that was not sent because no worker was running in time."""
    subject = f"Chorus: a post was missed on {account.handle} ({_post_label(delivery)})"
    body = _compose(
        "This post was not sent: no worker was running at its send time, and it is now too "
        "late to send it without it looking out of place.",
        _facts(delivery, account),
        reason,
        "Check that the worker (`chorus run`) is running and find out why it stopped. If the "
        "post still matters, post it by hand or schedule it again as a one-off post with "
        f"`{IMPORT_COMMAND}`.",
    )
    return subject, body


def describe_sign_off_due(campaign: Campaign, first: Delivery, waiting: int,
                          hours: float) -> tuple[str, str]:
    """A campaign with posts due soon that nobody has signed off yet."""
    subject = f"Chorus: {campaign.name} needs sign-off before {first.local_time}"
    body = _compose(
        f"{waiting} posts of this campaign due within {hours:g} hours still await sign-off. "
        "A post not signed off by its send time is not sent: it ends as expired.",
        [f"Campaign: {campaign.name} ({campaign.key})",
         f"First due: {first.local_time} ({first.send_at:%Y-%m-%d %H:%M} UTC)"],
        "not signed off yet",
        "An approver, or a communications officer who neither wrote nor edited the campaign, "
        "should open it on the dashboard's Calendar and campaigns page and approve it or send "
        f"it back (or run `chorus approve --campaign {campaign.key} --as NAME`).",
    )
    return subject, body


def describe_expired(campaign: Campaign, expired: int, reason: str) -> tuple[str, str]:
    """Posts whose send time came before anyone signed them off: they were not sent."""
    subject = f"Chorus: {expired} posts of {campaign.name} expired unsent (not signed off)"
    body = _compose(
        "These posts reached their send time without sign-off, so Chorus did not send them "
        "and marked them expired.",
        [f"Campaign: {campaign.name} ({campaign.key})"],
        reason,
        "`chorus deliveries list --status expired` lists them. If they still matter, sign the "
        "campaign off and plan it again with later times, or post them by hand.",
    )
    return subject, body


def describe_reconnect(account: Account, reason: str) -> tuple[str, str]:
    """An account whose access was refused: its posts wait until someone reconnects it."""
    network = _NETWORK_NAMES.get(account.network, account.network)
    subject = f"Chorus: reconnect {account.handle} on {network}; its posts are on hold"
    body = _compose(
        f"{network} refused Chorus's access to {account.handle} (account {account.key}). Its "
        "posts are held, not lost, and other accounts carry on as normal.",
        [],
        reason,
        f"Someone who can sign in as {account.handle} should reconnect it with "
        f"`{_reconnect(account)}`. Held posts then go out; any whose send time has passed by "
        "more than the grace window are marked missed.",
    )
    return subject, body


def profile_url(network: str, handle: str) -> str:
    """Where a person can see an account's recent posts."""
    name = handle.strip().lstrip("@")
    if network == "x":
        return f"https://x.com/{name}"
    if network == "mastodon" and "@" in name:
        user, _, host = name.partition("@")
        return f"https://{host}/@{user}"
    if network == "bluesky":
        return f"https://bsky.app/profile/{name}"
    return handle


def _post_label(delivery: Delivery) -> str:
    return f"{delivery.campaign.key} / {delivery.post.key}"


def _facts(delivery: Delivery, account: Account) -> list[str]:
    network = _NETWORK_NAMES.get(account.network, account.network)
    return [
        f"Campaign: {delivery.campaign.name} ({delivery.campaign.key})",
        f"Post: {delivery.post.key} (delivery {delivery.id})",
        f"Account: {account.handle} on {network} ({account.key})",
        f"Send time: {delivery.local_time} ({delivery.send_at:%Y-%m-%d %H:%M} UTC)",
        f"Text: {_shorten(delivery.text)}",
    ]


def _compose(summary: str, facts: list[str], reason: str, next_step: str) -> str:
    parts = [summary, "\n".join(facts), f"Reason: {reason.strip() or 'not given'}",
             f"What to do next: {next_step}"]
    return "\n\n".join(part for part in parts if part)


def _reconnect(account: Account) -> str:
    return RECONNECT_COMMAND.format(network=account.network, account=account.key)


def _shorten(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---- keeping secrets out ---------------------------------------------------------------------

_REDACTED = "[redacted]"
_SECRET_PATTERNS = (
    # Authorization: Bearer xyz / Basic xyz
    re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"),
    # access_token=xyz, "refresh_token": "xyz", oauth_token_secret: xyz, password=xyz ...
    re.compile(r"(?i)\b((?:access|refresh|bearer|oauth|auth|id)?_?token(?:_secret)?|secret"
               r"|client_secret|consumer_(?:key|secret)|api_key|password|oauth_signature)"
               r"(\"?'?\s*[:=]\s*\"?'?)[^\s&\"',;}]+"),
    # Fernet ciphertext, as stored in accounts.token_encrypted
    re.compile(r"gAAAAA[A-Za-z0-9_=-]{20,}"),
)


def redact(text: str, *, also: Iterable[str] = ()) -> str:
    """`text` with anything that looks like a credential replaced by [redacted]."""
    for secret in also:
        if secret:
            text = text.replace(secret, _REDACTED)
    for pattern in _SECRET_PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{_REDACTED}", text)
        else:
            text = pattern.sub(_REDACTED, text)
    return text
