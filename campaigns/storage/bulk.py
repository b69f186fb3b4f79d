"""One-off posts from a spreadsheet, into the database: a checked CSV file's rows become one
campaign of approved deliveries, or nothing is written (see campaigns.formats.bulk)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.formats.bulk import (
    AccountInfo,
    BulkImportInvalid,
    BulkRow,
    CheckedFile,
    Limits,
    campaign_key_for,
    check_csv,
    display_name,
    legacy_campaign_key_for,
    read_csv_text,
    read_records,
)
from campaigns.storage.deliveries import change_status
from campaigns.storage.media import store_image
from campaigns.storage.models import (
    Account,
    Campaign,
    Delivery,
    DeliveryStatus,
    Post,
    ReportingChannel,
    Variant,
)


@dataclass
class ImportResult:
    file: str
    campaign_key: str
    #: Deliveries per account key (those already there when `already_imported`).
    per_account: Counter[str] = field(default_factory=Counter)
    already_imported: bool = False

    @property
    def total(self) -> int:
        return sum(self.per_account.values())


def import_csv(
    path: Path,
    *,
    session: Session,
    content_dir: Path,
    approver: str,
    timezone: str,
    near_duplicate_threshold: float,
    now: datetime,
) -> ImportResult:
    """Check `path` and, if every row is valid, add its posts as approved deliveries.

    Works inside the caller's transaction and raises BulkImportInvalid, with every problem,
    before writing anything. A file imported before is recognised and left as it is. Images
    the rows name (checked inside the CSV's folder) are copied into `content_dir`, where the
    worker reads them from.
    """
    approver = " ".join(approver.split())
    name = display_name(path)
    content = read_csv_text(path)
    read = CheckedFile(name)
    records = read_records(content, read)
    if records is None:
        raise BulkImportInvalid(read.problems)
    key = campaign_key_for(records)
    existing = session.scalars(select(Campaign).where(
        Campaign.key.in_([key, legacy_campaign_key_for(content)]))).first()
    if existing is not None:
        return _already_imported(existing, name, session=session)
    zone = ZoneInfo(timezone)
    limits = _limits()
    accounts = {a.key: a for a in session.scalars(select(Account))}
    checked = check_csv(
        content, name=name, folder=path.parent, zone=zone, now=now,
        accounts={k: AccountInfo(k, a.network, a.handle, a.withdrawn) for k, a in accounts.items()},
        near_duplicate_threshold=near_duplicate_threshold, limits=limits,
    )
    if not approver:
        checked.report(0, "", "name the approver with --as")
    elif limits.approver is not None and len(approver) > limits.approver:
        checked.report(0, "", f"the approver's name is longer than {limits.approver} characters")
    channel = session.scalars(select(ReportingChannel).order_by(ReportingChannel.id)).first()
    if channel is None:
        checked.report(0, "", "no reporting channels in the database: load the content first "
                              "(chorus content load)")
    if checked.problems or channel is None:
        raise BulkImportInvalid(checked.problems)
    campaign = _campaign(key, path.name, checked.rows, approver, zone, now)
    session.add(campaign)
    result = ImportResult(name, key)
    for item in checked.rows:
        images = [{"file": store_image(content_dir, item.image.name, item.image.data),
                   "alt": item.image.alt}] if item.image else []
        _add_row(item, images, campaign, accounts[item.delivery.account_key], channel.key,
                 approver, session=session, now=now)
        result.per_account[item.delivery.account_key] += 1
    session.flush()
    return result


def _limits() -> Limits:
    return Limits(
        audience=_length(Post.__table__.c.audience.type),
        link=_length(Post.__table__.c.link.type),
        approver=_length(Delivery.__table__.c.approved_by.type),
    )


def _length(column_type: object) -> int | None:
    length = getattr(column_type, "length", None)
    return length if isinstance(length, int) else None


def _already_imported(campaign: Campaign, name: str, *, session: Session) -> ImportResult:
    result = ImportResult(name, campaign.key, already_imported=True)
    keys = session.scalars(
        select(Account.key).join(Delivery, Delivery.account_id == Account.id)
        .where(Delivery.campaign_id == campaign.id))
    result.per_account.update(keys)
    return result


def _campaign(
    key: str, filename: str, rows: Sequence[BulkRow], approver: str, zone: ZoneInfo,
    now: datetime,
) -> Campaign:
    first = min(item.delivery.send_at for item in rows)
    name = f"Bulk import {filename}"
    return Campaign(
        key=key, name=name if len(name) <= 200 else name[:199] + "…", event_key=None,
        year=first.astimezone(zone).year, timezone=zone.key, author=approver,
        summary=f"{len(rows)} one-off posts imported from {filename}",
        approved_by=approver, approved_at=now,
    )


def _add_row(
    item: BulkRow, images: list[dict[str, str]], campaign: Campaign, account: Account,
    channel_key: str, approver: str, *, session: Session, now: datetime,
) -> None:
    planned = item.delivery
    post = Post(campaign=campaign, key=planned.post_key, send={}, audience=account.key,
                link=item.link, reporting_channel_key=channel_key, images=images)
    post.variants.append(Variant(network=planned.network, organisation_key="", text=item.wording))
    delivery = Delivery(
        campaign=campaign, post=post, account=account, network=planned.network,
        text=planned.text, send_at=planned.send_at, local_time=planned.local_time,
        status=DeliveryStatus.DRAFT, status_reason="", plan_notes=f"bulk import, row {item.row}",
        content_hash=planned.content_hash, approved_by=approver, attempts=0,
        created_at=now, updated_at=now,
    )
    session.add(delivery)
    change_status(delivery, DeliveryStatus.APPROVED, session=session, actor=approver, now=now,
                  reason=f"imported and approved by {approver}")
