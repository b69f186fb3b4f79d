"""The Data page's preview of an uploaded reporting file: what importing it would store, or
every problem with it, writing nothing."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.core.clock import utcnow
from campaigns.formats.reports.reading import read_sheets
from campaigns.formats.reports.rows import ParsedFile, parse_sheets
from campaigns.formats.reports.values import (
    CellError,
    Problem,
    ReportsInvalid,
    parse_source,
)
from campaigns.storage.models import ReportDataset
from campaigns.storage.reports import find_conflicts
from dashboard.queries import local_text

PROBLEM_COLUMNS = ("file", "sheet", "row", "column", "message")
PREVIEW_COLUMNS = ("sheet", "row", "period_start", "period_end", "area", "strand", "source",
                   "measure", "count")
#: Most parsed counts the preview lists; the page says how many there are in all.
MAX_PREVIEW_ROWS = 500
SUFFIXES = (".csv", ".xlsx", ".ods")


@dataclass(frozen=True)
class UploadPreview:
    """What importing an uploaded file would store, or every problem with it."""

    name: str
    problems: pd.DataFrame
    counts: pd.DataFrame
    total_counts: int = 0
    data_rows: int = 0
    layouts: tuple[str, ...] = ()
    synthetic: bool = False
    citation: str = ""
    skipped_sheets: tuple[str, ...] = ()
    #: How the same file was imported before ('' if it was not).
    imported_before: str = ""

    @property
    def importable(self) -> bool:
        return self.problems.empty and self.total_counts > 0 and not self.imported_before

    def summary(self) -> str:
        if self.imported_before:
            return (f"{self.name} was imported before ({self.imported_before}); importing it "
                    "again would change nothing.")
        if not self.problems.empty:
            return (f"{len(self.problems)} problem(s) in {self.name}: nothing can be imported "
                    "until every one is put right. Nothing has been written.")
        layouts = " and ".join(self.layouts)
        skipped = (f" Sheets without a recognised header were skipped: "
                   f"{', '.join(self.skipped_sheets)}." if self.skipped_sheets else "")
        return (f"{self.name} is valid: {self.data_rows:,} data rows give {self.total_counts:,} "
                f"counts ({layouts} layout). Nothing has been written yet.{skipped}")


def upload_file_name(name: str) -> str:
    """The uploaded file's own name, without any folders, safe to write in a scratch folder."""
    base = Path(name.replace("\\", "/")).name.strip() or "upload"
    cleaned = re.sub(r"[^\w.\- ()]+", "_", base).lstrip(".") or "upload"
    return cleaned[-200:]


def preview_upload(
    content: bytes, *, name: str, source: str | None, session: Session, zone: str,
    today: date | None = None,
) -> UploadPreview:
    """Read and check an uploaded file as `import_report_file` would, writing nothing."""
    name = upload_file_name(name)
    today = today or utcnow().date()
    earlier = session.scalars(select(ReportDataset).where(
        ReportDataset.file_hash == hashlib.sha256(content).hexdigest())).one_or_none()
    if earlier is not None:
        when = f"as {earlier.file_name} on {local_text(earlier.imported_at, zone)}"
        by = f" by {earlier.imported_by}" if earlier.imported_by else ""
        return UploadPreview(name, _problems([]), _counts(None), imported_before=when + by)
    try:
        source = parse_source(source) if source else None
        parsed = parse_sheets(read_sheets(content, name=name, suffix=Path(name).suffix),
                              name=name, source=source, today=today)
    except CellError as exc:
        return UploadPreview(name, _problems([Problem(name, f"source: {exc}")]), _counts(None))
    except ReportsInvalid as invalid:
        return UploadPreview(name, _problems(invalid.problems), _counts(None))
    problems = parsed.problems or find_conflicts(parsed, session=session)
    return UploadPreview(
        name, _problems(problems), _counts(parsed), total_counts=len(parsed.counts),
        data_rows=parsed.data_rows, layouts=tuple(parsed.layouts), synthetic=parsed.synthetic,
        citation=parsed.citation, skipped_sheets=tuple(parsed.skipped_sheets))


def _problems(problems: Sequence[Problem]) -> pd.DataFrame:
    rows = [{"file": p.file, "sheet": p.sheet or "", "row": p.row or "", "column": p.column,
             "message": p.message} for p in problems]
    return pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS)).astype({"row": str})


def _counts(parsed: ParsedFile | None) -> pd.DataFrame:
    items = list(parsed.counts.items())[:MAX_PREVIEW_ROWS] if parsed is not None else []
    rows = [{"sheet": tally.places[0].sheet or "", "row": tally.places[0].row,
             "period_start": key.period_start, "period_end": key.period_end, "area": key.area,
             "strand": key.strand, "source": key.source, "measure": key.measure,
             "count": tally.count} for key, tally in items]
    return pd.DataFrame(rows, columns=list(PREVIEW_COLUMNS))
