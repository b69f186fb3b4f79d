"""The sign-off queue against a real database: approving keeps the words and time signed off,
a re-plan keeps them while sending a changed post back, the queue shows each post's change since
the last sign-off, and an approval never approves a post that expired or changed between the
approver's read and the write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, sessionmaker

from campaigns.config.secrets import Vault
from campaigns.core.planning import Rules
from campaigns.formats.content import read_library
from campaigns.storage import approval, db
from campaigns.storage.approval import CHANGED_WHILE_READING, ApprovalError, approve_campaign
from campaigns.storage.loader import load_library
from campaigns.storage.models import AuditEntry, Campaign, Delivery, DeliveryStatus
from campaigns.storage.plans import campaigns_to_plan, plan_and_store
from campaigns.storage.sign_off_queue import (
    Change,
    Kind,
    QueuedCampaign,
    Words,
    marked,
    sign_off_queue,
    word_diff,
)
from campaigns.storage.users import Viewer
from scheduler.dispatch import Dispatcher, WorkerConfig

S = DeliveryStatus
KEY = "nhcaw-2026"
PLANNED_AT = datetime(2026, 9, 1, tzinfo=UTC)
#: The campaign's first post, the countdown: 3 October 2026, 10:00 BST.
COUNTDOWN = datetime(2026, 10, 3, 9, 0, tzinfo=UTC)
ZONE = "Europe/London"
APPROVER = Viewer(1, "ama@chorus.example", "Ama Approver", "approver", None)
HELPLINE_MOVE = ('send: {day: 3, at: "12:30"}', 'send: {day: 3, at: "13:30"}')
COUNTDOWN_WORDS = ("Next week is National", "Next week: National")


# ---- the words' difference (pure) ------------------------------------------------------------


@pytest.mark.parametrize(("before", "after", "shown"), [
    ("Report it online today", "Report it online today", "Report it online today"),
    ("Next week is National Week", "Next week: National Week",
     "Next [−week is−] [+week:+] National Week"),
    ("Call 101 now", "Call 101 or 999 now", "Call 101 [+or 999+] now"),
    ("Call 101 or 999 now", "Call 101 now", "Call 101 [−or 999−] now"),
    ("", "A new post", "[+A new post+]"),
    ("Line one\nline two", "Line one line two", "Line one line two"),
])
def test_the_diff_marks_removed_and_added_words_in_signs_not_colour(
    before: str, after: str, shown: str
) -> None:
    assert marked(word_diff(before, after)) == shown


def test_a_replaced_run_reads_removed_then_added() -> None:
    assert word_diff("meet on Monday", "meet on Tuesday") == (
        Words(Kind.SAME, "meet on"), Words(Kind.REMOVED, "Monday"), Words(Kind.ADDED, "Tuesday"))


# ---- against the database -------------------------------------------------------------------


@pytest.fixture
def planned(sessions: sessionmaker[Session], content_dir: Path) -> sessionmaker[Session]:
    """NHCAW 2026 loaded and planned; nobody has signed it off."""
    load(sessions, content_dir)
    plan(sessions)
    return sessions


def load(sessions: sessionmaker[Session], content_dir: Path) -> None:
    with db.transaction(sessions) as session:
        load_library(read_library(content_dir), session=session, default_timezone=ZONE)


def plan(sessions: sessionmaker[Session]) -> None:
    with db.transaction(sessions) as session:
        [campaign] = campaigns_to_plan(session=session, campaign_key=KEY)
        assert plan_and_store(campaign, Rules(), session=session, now=PLANNED_AT).ok


def approve(sessions: sessionmaker[Session], *, seen: dict[int, str] | None = None,
            now: datetime = PLANNED_AT) -> approval.ApprovalResult:
    with db.transaction(sessions) as session:
        return approve_campaign(KEY, "Advisory Group", session=session, now=now, seen=seen)


def edit(content_dir: Path, old: str, new: str) -> None:
    file = content_dir / "campaigns" / f"{KEY}.yaml"
    body = file.read_text()
    assert old in body
    file.write_text(body.replace(old, new))


def queue(sessions: sessionmaker[Session], *, now: datetime = PLANNED_AT,
          viewer: Viewer = APPROVER) -> tuple[QueuedCampaign, ...]:
    with sessions() as session:
        return sign_off_queue(session=session, viewer=viewer, zone=ZONE, now=now,
                              remind_before=timedelta(hours=24))


def deliveries(sessions: sessionmaker[Session]) -> list[Delivery]:
    with sessions() as session:
        return list(session.scalars(select(Delivery).options(joinedload(Delivery.post))
                                    .order_by(Delivery.id)))


def test_approving_keeps_the_words_and_the_time_signed_off(
    planned: sessionmaker[Session],
) -> None:
    approve(planned)
    found = deliveries(planned)
    assert {d.status for d in found} == {S.APPROVED}
    assert all((d.signed_off_text, d.signed_off_send_at) == (d.text, d.send_at) for d in found)


def test_a_re_plan_sends_a_changed_post_back_and_keeps_the_words_signed_off(
    planned: sessionmaker[Session], content_dir: Path
) -> None:
    approve(planned)
    before = {d.id: (d.text, d.send_at) for d in deliveries(planned)}
    edit(content_dir, *COUNTDOWN_WORDS)
    edit(content_dir, *HELPLINE_MOVE)
    load(planned, content_dir)
    plan(planned)
    back = [d for d in deliveries(planned) if d.status is S.DRAFT]
    assert {d.post.key for d in back} == {"countdown", "stop-hate-helpline"}
    for delivery in back:
        assert (delivery.text, delivery.send_at) != before[delivery.id]
        assert (delivery.signed_off_text, delivery.signed_off_send_at) == before[delivery.id]


def test_the_queue_shows_what_changed_since_the_last_sign_off(
    planned: sessionmaker[Session], content_dir: Path
) -> None:
    approve(planned)
    edit(content_dir, *COUNTDOWN_WORDS)
    edit(content_dir, *HELPLINE_MOVE)
    load(planned, content_dir)
    plan(planned)
    [entry] = queue(planned)
    assert (entry.key, entry.awaiting) == (KEY, 6)
    assert entry.last_sign_off == "Advisory Group on 1 September 2026"
    assert entry.written_by() == "Written by Sam Patel (Communications Officer)."
    assert entry.waiting_text() == ("6 posts await sign-off (last signed off by Advisory Group "
                                    "on 1 September 2026).")
    countdown = [p for p in entry.posts if p.post_key == "countdown"]
    helpline = [p for p in entry.posts if p.post_key == "stop-hate-helpline"]
    assert len(countdown) == len(helpline) == 3  # the lead's three networks
    for post in countdown:
        assert post.change is Change.CHANGED and not post.moved
        assert marked(post.diff).startswith("Next [−week is−] [+week:+] National Hate Crime")
        assert post.what_changed() == "Its words changed since the last sign-off."
    for post in helpline:
        assert post.change is Change.CHANGED and not post.words_changed
        assert post.moved == "was Mon 12 Oct 12:30, now Mon 12 Oct 13:30"
        assert post.what_changed() == (
            "Its time moved: was Mon 12 Oct 12:30, now Mon 12 Oct 13:30.")


def test_a_first_sign_off_shows_every_post_as_new_with_its_deadline(
    planned: sessionmaker[Session],
) -> None:
    [entry] = queue(planned, now=COUNTDOWN - timedelta(hours=2))
    assert entry.last_sign_off == ""
    assert {p.change for p in entry.posts} == {Change.NEW}
    assert entry.posts[0].what_changed() == "New since the last sign-off."
    assert (entry.first_due, entry.remind_from) == ("Sat 3 Oct 10:00", "Fri 2 Oct 10:00")
    assert entry.due_soon and not entry.overdue
    assert entry.deadline_text().startswith(
        "Sign off by Sat 3 Oct 10:00, the earliest post's time: a post not signed off by its "
        "time is never sent. A reminder is raised 24 hours before (Fri 2 Oct 10:00).")
    [late] = queue(planned, now=COUNTDOWN + timedelta(minutes=1))
    assert late.overdue == 3
    assert "3 posts' time has passed without sign-off" in late.deadline_text()


def test_the_queue_offers_sign_off_only_to_those_whose_sign_off_counts(
    planned: sessionmaker[Session],
) -> None:
    author = Viewer(2, "sam@chorus.example", "Sam Patel (Communications Officer)", "officer",
                    None)
    [as_author] = queue(planned, viewer=author)
    [as_approver] = queue(planned)
    assert (as_author.may_sign_off, as_approver.may_sign_off) == (False, True)
    assert "not Sam Patel (Communications Officer)" in as_author.who_signs_off()
    board = Viewer(3, "bea@chorus.example", "Bea Board", "board", None)
    assert queue(planned, viewer=board) == ()


def test_an_approval_refuses_posts_that_changed_while_the_approver_was_reading(
    planned: sessionmaker[Session], content_dir: Path
) -> None:
    [shown] = queue(planned)
    edit(content_dir, *COUNTDOWN_WORDS)
    load(planned, content_dir)
    plan(planned)
    with pytest.raises(ApprovalError, match=CHANGED_WHILE_READING):
        approve(planned, seen=shown.seen)
    assert {d.status for d in deliveries(planned)} == {S.DRAFT}
    [again] = queue(planned)
    assert approve(planned, seen=again.seen).approved == again.awaiting


def test_an_approval_refuses_posts_that_came_to_await_sign_off_unseen(
    planned: sessionmaker[Session],
) -> None:
    [shown] = queue(planned)
    unseen = dict(list(shown.seen.items())[1:])
    with pytest.raises(ApprovalError, match=CHANGED_WHILE_READING):
        approve(planned, seen=unseen)
    assert {d.status for d in deliveries(planned)} == {S.DRAFT}


def test_a_post_that_expired_before_the_click_is_neither_approved_nor_counted(
    planned: sessionmaker[Session],
) -> None:
    [shown] = queue(planned)
    expire_due(planned, COUNTDOWN + timedelta(minutes=1))
    result = approve(planned, seen=shown.seen, now=COUNTDOWN + timedelta(minutes=2))
    statuses = [d.status for d in deliveries(planned)]
    assert statuses.count(S.EXPIRED) == 3
    assert result.approved == statuses.count(S.APPROVED) == shown.awaiting - 3
    assert result.not_approved == 0  # read after they expired: never counted as waiting


def expire_due(sessions: sessionmaker[Session], now: datetime) -> None:
    """The worker's sign-off deadlines at `now`, in a session of its own."""
    config = WorkerConfig(worker_id="w1", sign_off_reminder=timedelta(hours=24))
    vault = Vault(Fernet.generate_key().decode())
    Dispatcher(sessions, {}, vault, config, lambda: now).settle_sign_off_deadlines(now)


def between_read_and_write(monkeypatch: pytest.MonkeyPatch,
                           meanwhile: Callable[[], None]) -> None:
    """Run `meanwhile` once approval has read the posts awaiting sign-off, before it writes."""
    read = approval._sign_off_of

    def read_then_wait(*args: object, **kwargs: object) -> object:
        found = read(*args, **kwargs)  # type: ignore[arg-type]
        meanwhile()
        return found

    monkeypatch.setattr(approval, "_sign_off_of", read_then_wait)


def test_an_expiry_between_the_approvers_read_and_write_is_never_overwritten(
    planned: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = COUNTDOWN + timedelta(minutes=1)
    [shown] = queue(planned, now=now)
    between_read_and_write(monkeypatch, lambda: expire_due(planned, now))
    result = approve(planned, seen=shown.seen, now=now)
    found = deliveries(planned)
    approved = [d for d in found if d.status is S.APPROVED]
    expired = [d for d in found if d.status is S.EXPIRED]
    assert result.approved == len(approved)
    assert len(approved) + len(expired) == shown.awaiting
    with planned() as session:
        trail = {(a.delivery_id, a.new_status) for a in session.scalars(select(AuditEntry))}
    assert not any((d.id, "approved") in trail for d in expired)
    assert all((d.id, "approved") in trail and d.signed_off_text == d.text for d in approved)
    if planned.kw["bind"].dialect.name == "postgresql":
        assert not expired  # the approval locked them: the worker skipped them
    else:
        assert {d.post.key for d in expired} == {"countdown"}
        assert result.not_approved == len(expired) == 3


def test_a_change_between_the_approvers_read_and_write_refuses_the_whole_approval(
    planned: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    if planned.kw["bind"].dialect.name == "postgresql":
        pytest.skip("on PostgreSQL the approval locks the posts it read: nothing can change "
                    "them before it writes")
    [shown] = queue(planned)
    changed = next(iter(shown.seen))

    def replanned() -> None:
        with db.transaction(planned) as session:
            session.execute(update(Delivery).where(Delivery.id == changed)
                            .values(text="Other words", content_hash="changed"))

    between_read_and_write(monkeypatch, replanned)
    with pytest.raises(ApprovalError, match=CHANGED_WHILE_READING):
        approve(planned, seen=shown.seen)
    assert {d.status for d in deliveries(planned)} == {S.DRAFT}
    with planned() as session:
        assert session.scalars(select(Campaign.approved_by)).all() == [None] * len(
            session.scalars(select(Campaign.id)).all())


def test_upgrading_an_older_database_keeps_what_was_signed_off_and_unchanged_since(
    planned: sessionmaker[Session], content_dir: Path
) -> None:
    approve(planned)
    edit(content_dir, *HELPLINE_MOVE)
    load(planned, content_dir)
    plan(planned)
    engine = planned.kw["bind"]
    command.downgrade(db.alembic_config(engine), "0007")
    db.upgrade(engine)
    found = deliveries(planned)
    for delivery in found:
        if delivery.status is S.APPROVED:
            assert (delivery.signed_off_text, delivery.signed_off_send_at) == (
                delivery.text, delivery.send_at)
        else:  # changed since: its signed-off words are not known
            assert delivery.signed_off_text is None
    [entry] = queue(planned)
    assert {p.change for p in entry.posts} == {Change.NOT_KEPT}
    assert entry.posts[0].what_changed() == (
        "Signed off before, but the words then signed off were not kept: read it whole.")
