"""Data freshness: when engagement was last read, and how recent the reporting figures and their
last import are. The latest reporting figures are those of the latest period that has ended:
a file can hold figures dated after today (the demo's synthetic one does), which are no one's
latest figures."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.storage.models import EngagementSnapshot, ReportCount, ReportDataset
from dashboard.insights.periods import local_today, long_date
from dashboard.queries import local_text


def freshness(
    *, session: Session, zone: str, area: str | None, today: date | None = None
) -> pd.DataFrame:
    """How up to date the figures are: engagement readings, reporting figures (of periods
    ended before `today`, default today in `zone`), imports."""
    today = today if today is not None else local_today(zone)
    ended = ReportCount.period_end < today
    detail = "end of the latest period with a count that has ended"
    read = session.scalar(select(func.max(EngagementSnapshot.read_at)))
    rows = [{"what": "Engagement last read", "latest": local_text(read, zone) or "never",
             "detail": "the collector reads each post's public counts for 30 days after "
                       "posting"}]
    latest_any = session.scalar(select(func.max(ReportCount.period_end)).where(ended))
    if area is not None:
        latest = session.scalar(select(func.max(ReportCount.period_end))
                                .where(ReportCount.area == area, ended))
        rows.append({"what": f"Latest reporting figures for {area}",
                     "latest": long_date(latest) if latest else "none", "detail": detail})
    rows.append({"what": "Latest reporting figures, any area",
                 "latest": long_date(latest_any) if latest_any else "none", "detail": detail})
    last = session.execute(select(ReportDataset.imported_at, ReportDataset.file_name,
                                  ReportDataset.imported_by)
                           .order_by(ReportDataset.imported_at.desc()).limit(1)).one_or_none()
    rows.append({"what": "Last import of reporting figures",
                 "latest": local_text(last[0], zone) if last else "never",
                 "detail": f"{last[1]}, by {last[2] or 'the command line'}" if last else ""})
    return pd.DataFrame(rows, columns=["what", "latest", "detail"])
