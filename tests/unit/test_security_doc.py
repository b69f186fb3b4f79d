"""docs/security.md states the limits and throttling rules the code applies, and names tests
that exist: change a limit or rename a test, and this says which sentence to change."""

from __future__ import annotations

import re

from campaigns.formats import bulk, images, sourcemap
from campaigns.formats.reports import grid
from campaigns.storage import throttle
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
FLAT = " ".join(DOC.split())


def test_the_limits_stated_are_the_limits_applied() -> None:
    stated = [
        f"{sourcemap.MAX_BYTES // 2**20} MB per file; nesting {sourcemap.MAX_DEPTH} levels deep; "
        f"{sourcemap.MAX_NODES:,} values once aliases are expanded",
        f"{bulk.MAX_CHARACTERS // 1_000_000} million characters and {bulk.MAX_ROWS:,} posts",
        f"at most {images.MAX_IMAGE_BYTES // 2**20} MB",
        f"{grid.MAX_FILE_BYTES // 2**20} MB per file",
        f"{grid.MAX_UNPACKED_BYTES // 2**20} MB unpacked",
        f"{grid.MAX_ROWS:,} rows, {grid.MAX_COLUMNS} columns",
        f"{grid.MAX_CELLS:,} cells per file; {grid.MAX_CELL_CHARS:,} characters per cell; "
        f"{grid.MAX_AREAS:,} areas",
    ]
    for sentence in stated:
        assert sentence in FLAT, sentence


def test_the_throttling_stated_is_the_throttling_applied() -> None:
    account, client = throttle.ACCOUNT_RULE, throttle.CLIENT_RULE
    minutes = int(account.window.total_seconds() // 60)
    assert (f"{account.limit} failed sign-ins for one e-mail address within {minutes} minutes, "
            f"or {client.limit} from one network address") in FLAT
    assert f"pause sign-in there for {int(account.first_lock.total_seconds() // 60)} minutes" \
        in FLAT
    assert f"up to {int(account.longest_lock.total_seconds() // 3600)} hours" in FLAT


def test_every_test_named_exists() -> None:
    named = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", DOC)
    assert len(named) > 15
    for path, test in named:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert not test or f"def {test}(" in source, f"{path}::{test}"
