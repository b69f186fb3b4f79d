"""Hostile and malformed content YAML, for `chorus content validate` and `chorus content load`.

Whatever a campaign or partners file holds (random bytes, a damaged copy of a real file, alias
bombs, deep nesting, tags, repeated keys, huge or odd scalars), the commands either accept it
or answer with messages naming the file: a non-zero exit, no traceback, the database as it
was, within the bounds of `bounded()`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from typer.testing import CliRunner

from campaigns.cli import app
from tests.hostile.conftest import bounded
from tests.hostile.database import contents, database

__all__ = ["database"]  # the fixture, used by name

ROOT = Path(__file__).parents[2]
CAMPAIGN = "campaigns/nhcaw-2026.yaml"
TARGETS = (CAMPAIGN, "partners.yaml", "reporting-channels.yaml", "events.yaml")
runner = CliRunner()


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """The shipped content files (not the reporting data), to change one file at a time."""
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target, ignore=shutil.ignore_patterns("reports"))
    return target


def original(name: str) -> bytes:
    return (ROOT / "content" / name).read_bytes()


# ---- the files ----------------------------------------------------------------------------------

scalars = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["9:30", "930", "10:00:00", "yes", "~", "null", ".inf", "0x1F", "0o17",
                     "2026-02-30", "!!python/name:os.system", "<script>x</script>",
                     "![t](http://host.invalid/p.png)", "=HYPERLINK(\"x\")", "\x00", "\ufeff",
                     "x" * 10_000, "../../var/secret.key", "/etc/passwd"]),
)
tags = st.sampled_from(["!!python/object/apply:os.system", "!!python/tuple", "!!binary",
                        "!!timestamp", "!!set", "!!omap", "!custom", "!!str", "!!int",
                        "!!merge", "!<tag:yaml.org,2002:python/none>"])


@st.composite
def random_text(draw: st.DrawFn) -> bytes:
    return draw(st.one_of(st.binary(max_size=2000),
                          st.text(max_size=2000).map(lambda t: t.encode("utf-8", "replace"))))


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """A shipped file with lines swapped, cut, repeated or bytes changed."""
    name = draw(st.sampled_from(TARGETS))
    lines = original(name).splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["repeat", "cut", "indent", "dedent", "flip", "insert"]))
        if action == "repeat":
            lines.insert(at, lines[at])
        elif action == "cut" and len(lines) > 1:
            del lines[at]
        elif action == "indent":
            lines[at] = b"  " + lines[at]
        elif action == "dedent":
            lines[at] = lines[at].lstrip()
        elif action == "flip" and lines[at]:
            line = bytearray(lines[at])
            line[draw(st.integers(0, len(line) - 1))] ^= draw(st.integers(1, 255))
            lines[at] = bytes(line)
        else:
            tag = draw(tags)
            lines.insert(at, f"{'  ' * draw(st.integers(0, 3))}x: {tag} {draw(scalars)!r}\n"
                         .encode("utf-8", "replace"))
    return name, b"".join(lines)


@st.composite
def bombs(draw: st.DrawFn) -> tuple[str, bytes]:
    """Alias bombs, deep nesting, huge documents and repeated keys in a campaign file."""
    kind = draw(st.sampled_from(["aliases", "nesting", "flow-nesting", "wide", "repeated",
                                 "long-scalar", "many-docs"]))
    if kind == "aliases":
        width, depth = draw(st.integers(2, 12)), draw(st.integers(2, 12))
        text = f"a0: &a0 [{', '.join(['x'] * width)}]\n" + "".join(
            f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]\n" for i in range(1, depth))
    elif kind == "nesting":
        depth = draw(st.integers(10, 3000))
        text = "".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + f"{'  ' * depth}v\n"
    elif kind == "flow-nesting":
        depth = draw(st.integers(10, 20_000))
        text = "k: " + "[" * depth + "]" * draw(st.integers(0, depth)) + "\n"
    elif kind == "wide":
        text = "".join(f"k{i}: {i}\n" for i in range(draw(st.integers(1, 50_000))))
    elif kind == "repeated":
        key = draw(st.sampled_from(["campaign", "posts", "year", "key"]))
        text = original(CAMPAIGN).decode() + f"{key}: {draw(scalars)!r}\n"
    elif kind == "long-scalar":
        text = "campaign:\n  name: " + "x" * draw(st.integers(1, 3_000_000)) + "\n"
    else:
        text = "---\na: 1\n" * draw(st.integers(2, 1000))
    return CAMPAIGN, text.encode()


hostile = st.one_of(
    st.tuples(st.sampled_from(TARGETS), random_text()),
    mutated(),
    bombs(),
)


# ---- the property -------------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str]:
    with bounded():
        result = runner.invoke(app, list(args))
    said = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), said[-2000:]
    assert "Traceback" not in said
    return result.exit_code, said


@given(change=hostile)
def test_content_commands_accept_or_name_the_file_and_write_nothing(
    change: tuple[str, bytes], library: Path, database: Engine
) -> None:
    name, data = change
    (library / name).write_bytes(data)
    try:
        checked, said = run("content", "validate", str(library))
        assert checked in (0, 1)
        if checked:
            assert any(line.startswith(str(library)) or "content" in line
                       for line in said.splitlines()), said[-2000:]
        before = contents(database)
        loaded, said = run("content", "load", str(library))
        assert loaded == checked, said[-2000:]
        if loaded:
            assert name.split("/")[-1] in said or "error" in said, said[-2000:]
            assert contents(database) == before
    finally:
        (library / name).write_bytes(original(name))


@pytest.mark.parametrize("text", [
    "campaign: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"b{i}: &a{i} [" + ", ".join([f"*{'a' if i == 0 else f'a{i - 1}'}"] * 9) + "]\n"
        for i in range(9)),
    "campaign:\n  key: nhcaw-2026\n  year: 2026\n  year: 2027\n",
    "campaign: !!python/object/apply:os.system ['true']\n",
    "campaign: " + "[" * 5000 + "]" * 5000 + "\n",
], ids=["alias-bomb", "repeated-key", "python-tag", "deep-nesting"])
def test_the_yaml_probes_of_issue_12_are_refused_within_bounds(
    text: str, library: Path, database: Engine
) -> None:
    (library / CAMPAIGN).write_text(text)
    before = contents(database)
    code, said = run("content", "load", str(library))
    assert code == 1
    assert f"{CAMPAIGN}:" in said
    assert contents(database) == before
