"""A workbook's zip archive and XML parts, opened within the limits: how much the archive
unpacks to and how many XML elements its parts hold are checked before a part is read whole."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import IO
from xml.parsers import expat

from campaigns.formats.reports.grid import MAX_UNPACKED_BYTES, MAX_XML_ELEMENTS, too_large
from campaigns.formats.reports.values import Problem, ReportsInvalid

#: Bytes fed to the XML parser at a time.
CHUNK = 64 * 1024

Start = Callable[[str, dict[str, str]], None]
End = Callable[[str], None]
Text = Callable[[str], None]


class Unreadable(ValueError):
    """A workbook's part is not what it should be; the message says what."""


def unreadable(name: str, label: str, exc: BaseException) -> ReportsInvalid:
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return ReportsInvalid([Problem(name, f"not a readable {label} workbook ({detail}); is it "
                                         "damaged, or another kind of file?")])


def open_archive(data: bytes, name: str, label: str) -> zipfile.ZipFile:
    """The workbook's archive, refused if its parts would unpack past MAX_UNPACKED_BYTES.

    A zip member never yields more than the size its entry states, so the stated sizes bound
    what reading the parts can cost.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise unreadable(name, label, exc) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise too_large(name, f"the workbook unpacks to {unpacked / 2**20:,.0f} MB, more than "
                              f"the {MAX_UNPACKED_BYTES // 2**20} MB Chorus reads: is it "
                              "damaged, or does a sheet hold far more than its table?")
    return archive


class ElementCount:
    """The XML elements a file's parts may still hold, over all of them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.left = MAX_XML_ELEMENTS

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise too_large(self.name, f"more than {MAX_XML_ELEMENTS:,} XML elements in the "
                                       "workbook's parts: is it damaged, or does a sheet hold "
                                       "far more than its table?")


def parse_part(source: IO[bytes], count: ElementCount, start: Start | None = None,
               end: End | None = None, text: Text | None = None) -> None:
    """Stream one XML part through the handlers (names without their namespace).

    Each element counts against `count`; entity declarations are refused (so no entity can
    expand), and nothing outside the part is fetched. Raises Unreadable for malformed XML.
    """
    parser = expat.ParserCreate(namespace_separator=" ")

    def _start(tag: str, attrs: dict[str, str]) -> None:
        count.spend()
        if start is not None:
            start(tag.rpartition(" ")[2], {k.rpartition(" ")[2]: v for k, v in attrs.items()})

    def _refuse_entities(*_: object) -> None:
        raise Unreadable("it declares XML entities, which a workbook does not need")

    parser.StartElementHandler = _start
    if end is not None:
        parser.EndElementHandler = lambda tag: end(tag.rpartition(" ")[2])
    if text is not None:
        parser.CharacterDataHandler = text
    parser.EntityDeclHandler = _refuse_entities
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        while chunk := source.read(CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise Unreadable(f"malformed XML: {expat.ErrorString(exc.code)}, line {exc.lineno}") \
            from None


def count_elements(archive: zipfile.ZipFile, count: ElementCount) -> None:
    """Count every XML part's elements, refusing a workbook past the limit before any part is
    read whole; parts that are not XML (images) are left to the reader."""
    for info in archive.infolist():
        if info.is_dir():
            continue
        with archive.open(info) as source:
            try:
                parse_part(source, count)
            except Unreadable:
                continue
