"""The board pack: every table as CSV and every chart as SVG or PNG, singly or in one ZIP.

Pure functions of DataFrames and Altair charts, with no Streamlit. Charts become images through
vl-convert-python (the converter Altair's `chart.save(format="svg"|"png")` uses), which draws
Vega-Lite without a browser; `images_available` says whether it is installed.

Every CSV the dashboard offers is made by `csv_bytes`, which makes it safe to open in a
spreadsheet: a text cell that a spreadsheet would take for a formula is written with a ' first.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from importlib.util import find_spec
from typing import Any

import pandas as pd

from dashboard.charts import described

#: Spreadsheets open UTF-8 CSV correctly only with a byte-order mark.
CSV_ENCODING = "utf-8-sig"
#: What makes a spreadsheet read a cell as a formula (OWASP's CSV injection guidance), which
#: could fetch a web address or run a command when the file is opened.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A number written as text ("-3", "+12%", "1,200.5"): a spreadsheet reads it as a number, so
#: it is left as it is.
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?")
#: A chart in the pack is drawn PACK_WIDTH px wide (a landscape A4 page's text width at about
#: 110 dpi, with words at 11 px, about 10 pt when printed) and saved at PNG_SCALE times that:
#: 1,800 px, which prints sharp at A4.
PACK_WIDTH, PNG_SCALE = 900, 2
#: The pack's charts are printed: their words in black, not the page's text colour.
PRINT_TEXT = "#000000"


class ImagesUnavailable(RuntimeError):
    """vl-convert-python is not installed, so charts cannot be drawn as images here."""


@dataclass(frozen=True)
class PackTable:
    title: str
    frame: pd.DataFrame

    @property
    def file_name(self) -> str:
        return f"{slug(self.title)}.csv"


@dataclass(frozen=True)
class PackChart:
    title: str
    chart: Any  # an Altair top-level chart
    description: str

    def file_name(self, kind: str) -> str:
        return f"{slug(self.title)}.{kind}"


def slug(title: str) -> str:
    """A file name stem from a title: 'Weekly reach & reports' -> 'weekly-reach-reports'."""
    words = re.findall(r"[a-z0-9]+", title.casefold())
    return "-".join(words)[:80] or "table"


def spreadsheet_safe(value: Any) -> Any:
    """A text cell with a ' before it when a spreadsheet would read it as a formula; any other
    value as it is (numbers stay numbers, negative ones too)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(
            value):
        return f"'{value}"
    return value


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as CSV, index left out, readable by spreadsheets and by pandas, and safe to
    open in a spreadsheet (`spreadsheet_safe`, headers included)."""
    safe = frame.rename(columns=lambda name: spreadsheet_safe(str(name)))
    for column in range(safe.shape[1]):
        values = safe.iloc[:, column]
        if not pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_datetime64_any_dtype(
                values):
            safe.isetitem(column, values.astype(object).map(spreadsheet_safe))
    return safe.to_csv(index=False).encode(CSV_ENCODING)


def images_available() -> bool:
    return find_spec("vl_convert") is not None


def _titled(chart: PackChart) -> Any:
    """The chart as a file shows it: PACK_WIDTH wide, with its title and its description
    (accessible name), laid out as the page lays it out (`dashboard.charts.described`)."""
    sized = chart.chart.properties(title=chart.title, width=PACK_WIDTH)
    return described(sized, chart.description, text=PRINT_TEXT)


def svg_bytes(chart: PackChart) -> bytes:
    """The chart as an SVG image that names itself: a <title> and <desc> first inside the root
    element, and role="img" with an aria-label, as a standalone image needs (the converter
    drops the Vega-Lite description)."""
    svg = _save(chart, "svg")
    opening = re.match(r"\s*<svg\b[^>]*>", svg)
    if opening is None:
        raise ValueError("the converter did not return an SVG document")
    tag = opening.group(0).rstrip(">").rstrip()
    named = (f'{tag} role="img" aria-label="{escape(chart.description, quote=True)}">'
             f"<title>{escape(chart.title)}</title><desc>{escape(chart.description)}</desc>")
    return (named + svg[opening.end():]).encode("utf-8")


def png_bytes(chart: PackChart, *, scale: float = PNG_SCALE) -> bytes:
    """The chart as a PNG image, `scale` times its size in pixels (2 for print)."""
    data = _save(chart, "png", scale_factor=scale)
    assert isinstance(data, bytes)
    return data


def _save(chart: PackChart, kind: str, **options: Any) -> Any:
    if not images_available():
        raise ImagesUnavailable("drawing charts as images needs vl-convert-python")
    buffer: io.StringIO | io.BytesIO = io.StringIO() if kind == "svg" else io.BytesIO()
    _titled(chart).save(buffer, format=kind, **options)
    return buffer.getvalue()


def pack_zip(
    tables: Sequence[PackTable], charts: Sequence[PackChart], *, readme: str, stamp: datetime
) -> bytes:
    """Every table as CSV and every chart as SVG and PNG (when images are available), with a
    README.txt saying what the pack holds and how to read it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as pack:
        _write(pack, "README.txt", readme.encode("utf-8"), stamp)
        for table in tables:
            _write(pack, table.file_name, csv_bytes(table.frame), stamp)
        if images_available():
            for chart in charts:
                _write(pack, chart.file_name("svg"), svg_bytes(chart), stamp)
                _write(pack, chart.file_name("png"), png_bytes(chart), stamp)
    return buffer.getvalue()


def _write(pack: zipfile.ZipFile, name: str, data: bytes, stamp: datetime) -> None:
    info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    pack.writestr(info, data)


def readme(
    *, title: str, period: str, tables: Sequence[PackTable], charts: Sequence[PackChart],
    notices: Sequence[str], stamp: str,
) -> str:
    """The pack's README.txt: what it covers, its labels and caveats, and its files."""
    lines = [title, "=" * len(title), "", f"Period: {period}", f"Made: {stamp}", ""]
    if notices:
        lines += ["Please note:", *(f"- {n}" for n in notices), ""]
    lines += ["Tables (CSV):", *(f"- {t.file_name}: {t.title}" for t in tables), ""]
    if images_available():
        lines += ["Charts (SVG and PNG):",
                  *(f"- {c.file_name('svg')} and {c.file_name('png')}: {c.description}"
                    for c in charts), ""]
    else:
        lines += ["Charts are not included: this installation cannot draw them as images "
                  "(vl-convert-python is missing). Their numbers are in the tables.", ""]
    return "\n".join(lines)
