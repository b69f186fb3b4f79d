"""The shape of the code: small modules, each of one idea (the layers are import-linter's, in
pyproject.toml, checked by `make test`)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("campaigns", "scheduler", "dashboard")
MOST_LINES = 600


def production_modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_the_packages_are_found() -> None:
    assert len(production_modules()) > 50


@pytest.mark.parametrize("module", production_modules(),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_production_module_is_over_600_lines(module: Path) -> None:
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines <= MOST_LINES, f"{module.relative_to(ROOT)} has {lines} lines; split it"
