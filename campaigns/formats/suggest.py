"""A "did you mean ...?" for a misspelt key or column, as every file check gives it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def suggest(value: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, sorted(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
