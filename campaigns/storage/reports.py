"""Storing reporting figures: import a checked file's counts whole, or nothing; summarise what
is stored."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.formats.reports.grid import MAX_FILE_BYTES, file_too_large
from campaigns.formats.reports.reading import read_sheets
from campaigns.formats.reports.rows import CountKey, ParsedFile, describe_key, parse_sheets
from campaigns.formats.reports.values import (
    ALL,
    MAX_SHOWN_LENGTH,
    OFFENCES,
    STRANDS,
    CellError,
    Problem,
    ReportsInvalid,
    parse_source,
)
from campaigns.storage.models import ReportCount, ReportDataset

#: Values bound into one query: well below SQLite's limit on a statement's variables (32,766;
#: 999 before SQLite 3.32), so any number of areas can be looked up.
CHUNK = 500


@dataclass
class ImportResult:
    file: str
    dataset_id: int
    source: str
    layout: str
    synthetic: bool
    counts: int = 0
    data_rows: int = 0
    areas: list[str] = field(default_factory=list)
    first_day: date | None = None
    last_day: date | None = None
    skipped_sheets: list[str] = field(default_factory=list)
    already_imported: bool = False


def import_report_file(
    path: Path,
    *,
    session: Session,
    now: datetime,
    source: str | None = None,
    citation: str | None = None,
    imported_by: str = "",
) -> ImportResult:
    """Check `path` and, if it is valid throughout, store its counts as one dataset.

    Works inside the caller's transaction and raises ReportsInvalid, with every problem, before
    writing anything. The same file imported again is recognised and changes nothing.
    """
    # Imported here: campaigns.formats.bulk loads the content schema, which the dashboard's pages
    # that only read report counts (and the constants above) do not need.
    from campaigns.formats.bulk import display_name

    name = display_name(path)
    data = _read_bytes(path, name)
    digest = hashlib.sha256(data).hexdigest()
    existing = session.scalars(
        select(ReportDataset).where(ReportDataset.file_hash == digest)).one_or_none()
    if existing is not None:
        return _already_imported(existing, name, session=session)
    if source is not None:
        try:
            source = parse_source(source)
        except CellError as exc:
            raise ReportsInvalid([Problem(name, f"--source: {exc}")]) from None
    parsed = parse_sheets(read_sheets(data, name=name, suffix=path.suffix), name=name,
                          source=source, today=now.date())
    if parsed.problems:
        raise ReportsInvalid(parsed.problems)
    conflicts = find_conflicts(parsed, session=session)
    if conflicts:
        raise ReportsInvalid(conflicts)
    sources = sorted({key.source for key in parsed.counts})
    dataset = ReportDataset(
        file_hash=digest, file_name=_shorten(path.name, MAX_SHOWN_LENGTH["file"]),
        source=source or _shorten(", ".join(sources), MAX_SHOWN_LENGTH["source"]),
        citation=(citation if citation is not None else parsed.citation).strip(),
        synthetic=parsed.synthetic, layout="+".join(parsed.layouts), rows=len(parsed.counts),
        imported_at=now, imported_by=imported_by,
    )
    session.add(dataset)
    try:
        session.flush()
        session.execute(insert(ReportCount), [
            {**key._asdict(), "count": tally.count, "dataset_id": dataset.id}
            for key, tally in parsed.counts.items()])
    except IntegrityError:
        raise ReportsInvalid([Problem(name, "another import stored some of the same counts at "
                                            "the same moment; run this import again to see "
                                            "which")]) from None
    keys = parsed.counts.keys()
    return ImportResult(
        name, dataset.id, dataset.source, dataset.layout, dataset.synthetic,
        counts=len(parsed.counts), data_rows=parsed.data_rows,
        areas=sorted({k.area for k in keys}), first_day=min(k.period_start for k in keys),
        last_day=max(k.period_end for k in keys), skipped_sheets=parsed.skipped_sheets,
    )


def find_conflicts(parsed: ParsedFile, *, session: Session) -> list[Problem]:
    """Counts of `parsed` already stored from another file: each is stored once, never twice."""
    keys = parsed.counts.keys()
    if not keys:
        return []
    problems = []
    for count, file_name, imported_at in _stored_like(keys, session=session):
        key = CountKey(count.period_start, count.period_end, count.area, count.strand,
                       count.source, count.measure)
        tally = parsed.counts.get(key)
        if tally is None:
            continue
        place = tally.places[0]
        figure = ("the same figure" if tally.count == count.count
                  else f"{count.count}, not {tally.count}")
        problems.append(Problem(
            parsed.name, f"{describe_key(key)} is already stored from {file_name} (imported "
            f"{imported_at:%Y-%m-%d}) as {figure}; a stored count is never overwritten: "
            "remove it from this file", place.sheet, place.row, tally.column))
    return sorted(problems, key=lambda p: (p.sheet or "", p.row))


def _stored_like(
    keys: Collection[CountKey], *, session: Session
) -> Iterator[tuple[ReportCount, str, datetime]]:
    """Stored counts of the keys' areas and sources over their periods, a few areas a query."""
    sources = sorted({k.source for k in keys})
    first, last = min(k.period_start for k in keys), max(k.period_start for k in keys)
    areas = sorted({k.area for k in keys})
    for chunk in (areas[i:i + CHUNK] for i in range(0, len(areas), CHUNK)):
        yield from session.execute(
            select(ReportCount, ReportDataset.file_name, ReportDataset.imported_at)
            .join(ReportDataset, ReportCount.dataset_id == ReportDataset.id)
            .where(ReportCount.area.in_(chunk), ReportCount.source.in_(sources),
                   ReportCount.period_start.between(first, last)))


def _read_bytes(path: Path, name: str) -> bytes:
    """The file's bytes, refused unread if it is larger than MAX_FILE_BYTES or is not a file
    (a folder, a device or a pipe, which could be read without end)."""
    try:
        if not path.exists():
            raise FileNotFoundError
        if path.is_dir():
            raise IsADirectoryError
        if not path.is_file():
            raise ReportsInvalid([Problem(name, "is not a file (a device or a pipe?)")])
        if (size := path.stat().st_size) > MAX_FILE_BYTES:
            raise file_too_large(name, size)
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        message = "file not found"
    except IsADirectoryError:
        message = "is a folder, not a file"
    except OSError as exc:
        message = f"cannot be read ({exc.strerror or exc})"
    else:
        if len(data) > MAX_FILE_BYTES:  # it grew while being read
            raise file_too_large(name, len(data))
        return data
    raise ReportsInvalid([Problem(name, message)])


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _already_imported(dataset: ReportDataset, name: str, *, session: Session) -> ImportResult:
    first, last = session.execute(
        select(func.min(ReportCount.period_start), func.max(ReportCount.period_end))
        .where(ReportCount.dataset_id == dataset.id)).one()
    stored = session.scalars(select(ReportCount.area).where(
        ReportCount.dataset_id == dataset.id).distinct().order_by(ReportCount.area))
    return ImportResult(name, dataset.id, dataset.source, dataset.layout, dataset.synthetic,
                        counts=dataset.rows, areas=list(stored), first_day=first, last_day=last,
                        already_imported=True)


@dataclass(frozen=True)
class DatasetInfo:
    id: int
    file: str
    source: str
    layout: str
    counts: int
    synthetic: bool
    citation: str
    imported_at: datetime
    imported_by: str

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "file": self.file, "source": self.source, "layout": self.layout,
                "counts": self.counts, "synthetic": self.synthetic, "citation": self.citation,
                "imported_at": self.imported_at.isoformat(), "imported_by": self.imported_by}


@dataclass(frozen=True)
class Total:
    """Counts of one source, area, year, strand and measure added up over their periods.

    `year` is the calendar year a period starts in (a financial year 2018/19 counts as 2018).
    Strands are never added into offences: each strand and measure is its own total.
    """

    source: str
    area: str
    year: int
    strand: str
    measure: str
    count: int
    periods: int
    first_day: date
    last_day: date
    synthetic: bool

    def to_json(self) -> dict[str, object]:
        return {"source": self.source, "area": self.area, "year": self.year,
                "strand": self.strand, "measure": self.measure, "count": self.count,
                "periods": self.periods, "first_day": self.first_day.isoformat(),
                "last_day": self.last_day.isoformat(), "synthetic": self.synthetic}


@dataclass(frozen=True)
class Summary:
    datasets: list[DatasetInfo]
    totals: list[Total]

    def to_json(self) -> dict[str, object]:
        return {"datasets": [d.to_json() for d in self.datasets],
                "totals": [t.to_json() for t in self.totals]}


def summarise(*, session: Session) -> Summary:
    """What is stored: each dataset, and totals by source, area, year, strand and measure."""
    datasets = [
        DatasetInfo(d.id, d.file_name, d.source, d.layout, d.rows, d.synthetic, d.citation,
                    d.imported_at, d.imported_by)
        for d in session.scalars(select(ReportDataset).order_by(ReportDataset.id))]
    year = func.extract("year", ReportCount.period_start)
    rows = session.execute(
        select(ReportCount.source, ReportCount.area, year, ReportCount.strand,
               ReportCount.measure, func.sum(ReportCount.count), func.count(),
               func.min(ReportCount.period_start), func.max(ReportCount.period_end),
               ReportDataset.synthetic)
        .join(ReportDataset, ReportCount.dataset_id == ReportDataset.id)
        .group_by(ReportCount.source, ReportCount.area, year, ReportCount.strand,
                  ReportCount.measure, ReportDataset.synthetic))
    totals = [Total(source, area, int(y), strand, measure, int(total), int(periods), _day(first),
                    _day(last), bool(synthetic))
              for source, area, y, strand, measure, total, periods, first, last, synthetic
              in rows]
    order = {s: i for i, s in enumerate((ALL, *STRANDS))}
    totals.sort(key=lambda t: (t.source, t.area, t.year, t.measure != OFFENCES,
                               order.get(t.strand, len(order)), t.strand, t.synthetic))
    return Summary(datasets, totals)


def _day(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
