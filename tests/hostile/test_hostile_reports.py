"""Hostile and malformed reporting files, for `chorus reports import` and the Data page's upload.

Whatever the file (random bytes, a damaged or mutated workbook, a far cell, a huge repeat, a long
cell, another encoding, formulas), it is imported, or it is refused with a message naming it:
a non-zero exit, no traceback, the database as it was, within the bounds of `bounded()`.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from campaigns.cli import app
from campaigns.storage import db
from campaigns.storage.models import ReportCount, ReportDataset
from dashboard.insights.uploads import preview_upload
from tests.hostile.conftest import bounded
from tests.hostile.database import damaged, database

__all__ = ["database"]  # the fixture, used by name

ROOT = Path(__file__).parents[2]
SEEDS = sorted([*(ROOT / "tests" / "fixtures" / "reports").glob("*.csv"),
                *(ROOT / "content" / "reports").glob("*.csv")])
SUFFIXES = (".csv", ".xlsx", ".ods")
ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
LONG_HEADER = ("period_start", "period_end", "area", "strand", "source", "count")

runner = CliRunner()


@dataclass(frozen=True)
class Upload:
    suffix: str
    data: bytes


# ---- the files ----------------------------------------------------------------------------------


@cache
def seed(path: Path, suffix: str) -> bytes:
    """A shipped CSV file as `suffix`, its cells typed as a spreadsheet would hold them."""
    if suffix == ".csv":
        return path.read_bytes()
    text = path.read_text(encoding="utf-8", errors="replace")
    rows = [line.split(",") for line in text.splitlines()] or [[""]]
    width = max(len(r) for r in rows)
    frame = pd.DataFrame([[_typed(c) for c in r] + [None] * (width - len(r)) for r in rows])
    out = io.BytesIO()
    frame.to_excel(out, header=False, index=False,
                   engine="openpyxl" if suffix == ".xlsx" else "odf")
    return out.getvalue()


def _typed(text: str) -> object:
    return int(text) if text.isdigit() and len(text) < 10 else text or None


def xlsx(cells: dict[tuple[int, int], object]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for (row, column), value in cells.items():
        sheet.cell(row=row, column=column, value=value)  # type: ignore[arg-type]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ods(rows: str) -> bytes:
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NS}>'
               "<office:body><office:spreadsheet><table:table table:name=\"Data\">"
               f"{rows}</table:table></office:spreadsheet></office:body>"
               "</office:document-content>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    return out.getvalue()


def ods_cell(value: str, columns: int) -> str:
    if not value:
        return f'<table:table-cell table:number-columns-repeated="{columns}"/>'
    return (f'<table:table-cell table:number-columns-repeated="{columns}" '
            f'office:value-type="string"><text:p>{value}</text:p></table:table-cell>')


suffixes = st.sampled_from(SUFFIXES)
cell_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["=HYPERLINK(\"http://x\",\"y\")", "+1", "-1", "@SUM(A1)", "=1/0", "..",
                     "[x]", "2024-01-01 09:30:00", "0001-01-01", "9999-12-31", "9999/00",
                     "1,466", "York", "all", "police-recorded", "\ufeff", "#synthetic"]))
repeats = st.one_of(st.integers(1, 5), st.sampled_from([520, 521, 100_000, 100_001,
                                                       1_048_576, 50_000_000, 2**40]))


@st.composite
def random_bytes(draw: st.DrawFn) -> Upload:
    return Upload(draw(suffixes), draw(st.binary(max_size=2000)))


@st.composite
def mutated(draw: st.DrawFn) -> Upload:
    """A shipped file, as CSV, XLSX or ODS, with bytes changed, cut, inserted or its zip
    entries damaged."""
    suffix = draw(suffixes)
    return Upload(suffix, damaged(draw, seed(draw(st.sampled_from(SEEDS)), suffix)))


@st.composite
def far_cells(draw: st.DrawFn) -> Upload:
    """A workbook with a header and values anywhere, up to XFD1048576."""
    cells: dict[tuple[int, int], object] = {
        (1, n): h for n, h in enumerate(LONG_HEADER, start=1)}
    for _ in range(draw(st.integers(1, 3))):
        place = (draw(st.one_of(st.integers(1, 20), st.integers(1, 1_048_576))),
                 draw(st.one_of(st.integers(1, 8), st.integers(1, 16_384))))
        cells[place] = draw(st.one_of(cell_text.filter(lambda t: t.isprintable()),
                                      st.integers(-10, 10**12)))
    return Upload(".xlsx", xlsx(cells))


@st.composite
def ods_repeats(draw: st.DrawFn) -> Upload:
    """An ODS table of rows and cells repeated any number of times, blank or not."""
    rows = []
    for _ in range(draw(st.integers(1, 4))):
        cells = "".join(ods_cell(draw(st.sampled_from(["", "York", "1", "2024-01-01"])),
                                 draw(repeats)) for _ in range(draw(st.integers(1, 3))))
        rows.append(f'<table:table-row table:number-rows-repeated="{draw(repeats)}">{cells}'
                    "</table:table-row>")
    header = "".join(ods_cell(h, 1) for h in LONG_HEADER)
    return Upload(".ods", ods(f"<table:table-row>{header}</table:table-row>" + "".join(rows)))


@st.composite
def odd_csv(draw: st.DrawFn) -> Upload:
    """A long-format CSV with long cells, stray quotes, formulas, odd dates, another encoding."""
    rows = [",".join(LONG_HEADER)]
    for _ in range(draw(st.integers(0, 4))):
        cells = [draw(cell_text) for _ in LONG_HEADER]
        if draw(st.booleans()):
            cells[draw(st.integers(0, 5))] = "x" * draw(st.sampled_from([32_767, 32_768,
                                                                         131_073, 300_000]))
        if draw(st.booleans()):
            cells[draw(st.integers(0, 5))] += '"'
        rows.append(",".join(cells))
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"]))
    return Upload(".csv", text.encode(encoding, errors="replace"))


hostile = st.one_of(random_bytes(), mutated(), far_cells(), ods_repeats(), odd_csv())


# ---- the property -------------------------------------------------------------------------------


def snapshot(engine: Engine) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with db.session_factory(engine)() as session:
        return ([(d.id, d.file_hash, d.rows) for d in session.scalars(select(ReportDataset))],
                [(c.dataset_id, c.area, c.period_start, c.strand, c.source, c.measure, c.count)
                 for c in session.scalars(select(ReportCount))])


def write(folder: Path, upload: Upload) -> Path:
    path = folder / f"hostile{upload.suffix}"
    path.write_bytes(upload.data)
    return path


def assert_import_or_message(engine: Engine, path: Path) -> None:
    before = snapshot(engine)
    with bounded():
        result = runner.invoke(app, ["reports", "import", str(path)])
    said = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), said
    assert "Traceback" not in said
    if result.exit_code == 0:
        assert path.name in result.stdout
        return
    assert path.name in result.stderr, said
    assert snapshot(engine) == before


@given(upload=hostile)
def test_reports_import_imports_or_names_the_file_and_writes_nothing(
    upload: Upload, database: Engine, tmp_path: Path
) -> None:
    assert_import_or_message(database, write(tmp_path, upload))


@given(upload=hostile)
def test_the_data_page_preview_accepts_or_names_the_file_and_writes_nothing(
    upload: Upload, database: Engine
) -> None:
    name = f"hostile{upload.suffix}"
    before = snapshot(database)
    with bounded(), db.session_factory(database)() as session:
        preview = preview_upload(upload.data, name=name, source=None, session=session,
                                 zone="Europe/London")
    assert snapshot(database) == before
    if not preview.problems.empty:
        assert set(preview.problems["file"]) == {name}
        assert name in preview.summary() and "Nothing has been written" in preview.summary()
    elif not preview.imported_before:
        assert preview.summary().startswith(f"{name} is valid: ")


@pytest.mark.parametrize("upload", [
    Upload(".xlsx", xlsx({(1, 1): "period_start", (1_048_576, 16_384): 1})),
    Upload(".ods", ods('<table:table-row table:number-rows-repeated="50000000">'
                       f'{ods_cell("York", 1)}</table:table-row>')),
    Upload(".ods", ods(f"<table:table-row>{ods_cell('York', 50_000_000)}</table:table-row>")),
    Upload(".csv", (",".join(LONG_HEADER) + "\n" + "x" * 131_073 + ",,,,,\n").encode()),
], ids=["far-xlsx-cell", "ods-rows-repeated", "ods-columns-repeated", "csv-long-cell"])
def test_the_probes_of_issue_12_are_refused_within_bounds(
    upload: Upload, database: Engine, tmp_path: Path
) -> None:
    before = snapshot(database)
    with bounded():
        result = runner.invoke(app, ["reports", "import", str(write(tmp_path, upload))])
    assert result.exit_code == 1 and "Traceback" not in result.stdout + result.stderr
    assert f"hostile{upload.suffix}: " in result.stderr
    assert snapshot(database) == before
