"""Alerts: one per incident, delivered by e-mail and webhook to local test servers."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from campaigns.config.secrets import Credentials, Vault
from campaigns.config.settings import Settings
from campaigns.storage import db
from campaigns.storage.models import Account, Alert, Delivery
from scheduler.alerts import (
    FAILED,
    RECONNECT,
    describe_failed,
    describe_missed,
    describe_reconnect,
    describe_unconfirmed,
    raise_alert,
    send_pending_alerts,
    webhook_payload,
)
from tests.conftest import NOW
from tests.integration.test_load_and_plan import load, plan

TOKEN = "SECRET-access-token-0123456789"

# ---- a tiny SMTP server: just enough of RFC 5321 to receive messages -----------------------


class SMTPReceiver(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPSession)
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _SMTPSession(socketserver.StreamRequestHandler):
    server: SMTPReceiver

    def handle(self) -> None:
        self.reply("220 localhost test SMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 localhost")
            elif verb == "MAIL":
                sender, recipients = command.partition(":")[2].strip(" <>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.partition(":")[2].strip(" <>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                self.server.messages.append((sender, recipients, self.read_data()))
                self.reply("250 OK: queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def read_data(self) -> EmailMessage:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)  # undo dot-stuffing
        message = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message

    def reply(self, text: str) -> None:
        self.wfile.write(f"{text}\r\n".encode("ascii"))


# ---- a webhook receiver ------------------------------------------------------------------------


class WebhookReceiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _WebhookHandler)
        self.received: list[dict[str, Any]] = []
        self.status = 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/T000/B000/XXXX"


class _WebhookHandler(BaseHTTPRequestHandler):
    server: WebhookReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.server.status < 300:
            self.server.received.append(json.loads(body))
        self.send_response(self.server.status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(server: socketserver.BaseServer) -> Iterator[Any]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def smtp() -> Iterator[SMTPReceiver]:
    yield from serve(SMTPReceiver())


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    yield from serve(WebhookReceiver())


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def settings_for(smtp_port: int | None, webhook_url: str | None) -> Settings:
    return Settings(
        smtp_host="127.0.0.1" if smtp_port else None, smtp_port=smtp_port or 25,
        alert_from="chorus@example.org", alert_to=["comms@example.org", "duty@example.org"],
        alert_webhook_url=webhook_url, http_timeout=5,
    )


# ---- the database side -------------------------------------------------------------------------


@pytest.fixture
def planned(sessions: sessionmaker[Session], content_dir: Path) -> sessionmaker[Session]:
    load(sessions, content_dir)
    plan(sessions)
    return sessions


def a_delivery(session: Session, account_key: str = "lead-x") -> Delivery:
    query = (select(Delivery).join(Delivery.account).where(Account.key == account_key)
             .options(joinedload(Delivery.campaign), joinedload(Delivery.post),
                      joinedload(Delivery.account))
             .order_by(Delivery.send_at))
    return session.scalars(query).first()  # type: ignore[return-value]


def raise_failed(sessions: sessionmaker[Session], reason: str = "403: the image was refused",
                 key: str = "failed:1") -> bool:
    with db.transaction(sessions) as session:
        delivery = a_delivery(session)
        subject, body = describe_failed(delivery, delivery.account, reason)
        return raise_alert(session=session, kind=FAILED, incident_key=key, subject=subject,
                           body=body, delivery_id=delivery.id, account_id=delivery.account_id,
                           now=NOW)


def send(sessions: sessionmaker[Session], settings: Settings, minutes: int = 0) -> int:
    with db.transaction(sessions) as session:
        return send_pending_alerts(session=session, settings=settings,
                                   now=NOW + timedelta(minutes=minutes), smtp_timeout=5)


def alerts(sessions: sessionmaker[Session]) -> list[Alert]:
    with sessions() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


# ---- tests -----------------------------------------------------------------------------------


def test_one_alert_per_incident_however_often_it_is_raised(
    planned: sessionmaker[Session],
) -> None:
    assert raise_failed(planned) is True
    assert [raise_failed(planned) for _ in range(5)] == [False] * 5
    with db.transaction(planned) as session:  # repeats within one transaction, too
        assert not raise_alert(session=session, kind=FAILED, incident_key="failed:1",
                               subject="again", body="again", now=NOW)
        assert raise_alert(session=session, kind=FAILED, incident_key="failed:2",
                           subject="other", body="other", now=NOW)
        assert not raise_alert(session=session, kind=FAILED, incident_key="failed:2",
                               subject="other", body="other", now=NOW)
    with planned() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 2


def test_two_workers_raising_one_incident_at_once_make_one_alert(
    planned: sessionmaker[Session],
) -> None:
    outcomes: dict[str, bool] = {}

    def second_worker() -> None:
        with db.transaction(planned) as session:
            outcomes["second"] = raise_alert(session=session, kind=FAILED, incident_key="x:9",
                                             subject="s", body="b", now=NOW)

    with db.transaction(planned) as session:
        outcomes["first"] = raise_alert(session=session, kind=FAILED, incident_key="x:9",
                                        subject="s", body="b", now=NOW)
        other = threading.Thread(target=second_worker)
        other.start()  # its insert waits for this transaction, then yields to its row
    other.join(30)
    assert outcomes == {"first": True, "second": False}
    assert len(alerts(planned)) == 1


def test_email_and_webhook_both_carry_the_subject_and_what_to_do(
    planned: sessionmaker[Session], smtp: SMTPReceiver, webhook: WebhookReceiver
) -> None:
    raise_failed(planned)
    settings = settings_for(smtp.port, webhook.url)
    assert send(planned, settings) == 1

    [alert] = alerts(planned)
    assert "a post failed on @YorkAgainstHate" in alert.subject
    assert (alert.email_sent_at, alert.webhook_sent_at, alert.last_error) == (NOW, NOW, "")

    [(sender, recipients, message)] = smtp.messages
    assert sender == "chorus@example.org"
    assert recipients == ["comms@example.org", "duty@example.org"]
    assert message["Subject"] == alert.subject
    text = message.get_content()
    assert "What to do next:" in text and "403: the image was refused" in text
    assert "nhcaw-2026" in text and "@YorkAgainstHate" in text

    [payload] = webhook.received
    assert payload["text"].startswith(alert.subject + "\n\n")
    assert "What to do next:" in payload["text"]

    assert send(planned, settings, minutes=1) == 0  # nothing is sent twice
    assert len(smtp.messages) == len(webhook.received) == 1


@pytest.mark.parametrize("failure", ["status 500", "connection refused"])
def test_a_failing_webhook_is_retried_later_without_a_second_email(
    planned: sessionmaker[Session], smtp: SMTPReceiver, webhook: WebhookReceiver, failure: str
) -> None:
    raise_failed(planned)
    url = webhook.url
    if failure == "status 500":
        webhook.status = 500
    else:
        url = f"http://127.0.0.1:{closed_port()}/hooks/T000/B000/XXXX"
    assert send(planned, settings_for(smtp.port, url)) == 1  # the e-mail went

    [alert] = alerts(planned)
    assert alert.email_sent_at == NOW and alert.webhook_sent_at is None
    assert alert.last_error.startswith("webhook: ")
    assert ("HTTP 500" in alert.last_error) if failure == "status 500" else (
        "refused" in alert.last_error.lower())
    assert "/hooks/" not in alert.last_error  # webhook URLs are secrets too

    webhook.status = 200
    assert send(planned, settings_for(smtp.port, webhook.url), minutes=5) == 1
    [alert] = alerts(planned)
    assert alert.webhook_sent_at == NOW + timedelta(minutes=5) and alert.last_error == ""
    assert len(webhook.received) == 1
    assert len(smtp.messages) == 1  # not e-mailed again


def test_an_unreachable_mail_server_is_recorded_not_raised(
    planned: sessionmaker[Session], smtp: SMTPReceiver
) -> None:
    raise_failed(planned)
    assert send(planned, settings_for(closed_port(), None)) == 0
    [alert] = alerts(planned)
    assert alert.email_sent_at is None and alert.last_error.startswith("e-mail: ")

    assert send(planned, settings_for(smtp.port, None), minutes=5) == 1
    assert len(smtp.messages) == 1
    [alert] = alerts(planned)
    assert alert.email_sent_at == NOW + timedelta(minutes=5) and alert.last_error == ""


def test_nothing_is_sent_when_no_channel_is_configured(planned: sessionmaker[Session]) -> None:
    raise_failed(planned)
    assert send(planned, settings_for(None, None)) == 0
    assert alerts(planned)[0].last_error == ""


def test_no_token_text_appears_in_alerts(
    planned: sessionmaker[Session], smtp: SMTPReceiver, webhook: WebhookReceiver
) -> None:
    vault = Vault(Fernet.generate_key())
    sealed = vault.seal(Credentials("oauth2", {"access_token": TOKEN, "refresh_token": TOKEN}))
    with db.transaction(planned) as session:
        account = session.scalars(select(Account).where(Account.key == "lead-x")).one()
        account.token_encrypted = sealed
        account.state = "needs-reconnect"
        reason = (f"401 Unauthorized (Authorization: Bearer {TOKEN}); "
                  f"body: access_token={TOKEN}&x=1")
        subject, body = describe_reconnect(account, reason)
        raise_alert(session=session, kind=RECONNECT, incident_key="reconnect:lead-x:1",
                    subject=subject, body=body, account_id=account.id, now=NOW)
    assert send(planned, settings_for(smtp.port, webhook.url)) == 1

    [alert] = alerts(planned)
    [(_, _, message)] = smtp.messages
    seen = [alert.subject, alert.body, alert.last_error, message.as_string(),
            json.dumps(webhook.received)]
    for text in seen:
        assert TOKEN not in text
        assert sealed.decode()[:20] not in text
    assert "401 Unauthorized" in alert.body
    assert "`chorus accounts connect x --account lead-x`" in alert.body


def test_each_kind_of_alert_names_the_post_and_what_to_do(
    planned: sessionmaker[Session],
) -> None:
    with planned() as session:
        delivery = a_delivery(session, "lead-mastodon")
        account = delivery.account
        unconfirmed = describe_unconfirmed(delivery, account, "timed out after 10 s")
        missed = describe_missed(delivery, account, "the worker was down for 3 hours")
        failed = describe_failed(delivery, account, "422: text too long")
    for subject, body in (unconfirmed, missed, failed):
        assert "@YorkAgainstHate@mastodon.social" in subject
        assert "nhcaw-2026" in body and delivery.post.key in body
        assert delivery.local_time in body and "What to do next:" in body
    assert "https://mastodon.social/@YorkAgainstHate" in unconfirmed[1]
    assert f"chorus deliveries resolve {delivery.id}" in unconfirmed[1]
    assert "timed out after 10 s" in unconfirmed[1]
    assert "`chorus run`" in missed[1]
    assert "chorus deliveries list --status failed" in failed[1]


@pytest.mark.parametrize(("url", "card"), [
    ("https://hooks.slack.com/services/T0/B0/X", False),
    ("https://example.webhook.office.com/webhookb2/abc", False),
    ("https://prod-01.westeurope.logic.azure.com:443/workflows/abc/triggers/manual", True),
    ("https://default1.environment.api.powerplatform.com/powerautomate/automations/x", True),
])
def test_webhook_body_suits_slack_and_teams(url: str, card: bool) -> None:
    payload = webhook_payload(url, "Subject", "Body")
    assert payload["text"] == "Subject\n\nBody"
    assert ("attachments" in payload) is card
    if card:
        content = payload["attachments"][0]["content"]
        assert content["type"] == "AdaptiveCard"
        assert [b["text"] for b in content["body"]] == ["Subject", "Body"]
