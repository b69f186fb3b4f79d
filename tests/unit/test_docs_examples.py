"""The content guide's YAML examples pass the real content checks, so the guide cannot drift.

Every ```yaml block in docs/content.md follows an HTML comment that says what it is:

    <!-- example: campaigns/windrush-day-2027.yaml -->                 a content file
    <!-- example: campaigns/tdov-2027.yaml fails: does not exist -->    refused with that error
    <!-- fragment -->                                                   part of a file

Examples are applied in the guide's order to a copy of the shipped content/. A campaign file
is written as it stands. Entries of events.yaml, reporting-channels.yaml or partners.yaml
replace the shipped entry with the same key, or are added, since the guide shows the entries
it is about rather than whole files. After each example, `check_content` (what `chorus content
validate` and `chorus content load` run, the planner's refusals included) must find no error
anywhere; a `fails:` example must produce its error, and is then taken away again.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from campaigns.core import calendar
from campaigns.core.planning import Rules
from campaigns.formats import schema
from campaigns.formats.plan_check import check_content
from tests.conftest import CONTENT, ROOT

GUIDE = ROOT / "docs" / "content.md"
#: Content files that hold a list of keyed entries, and the name of that list.
LISTS = {"events.yaml": "events", "reporting-channels.yaml": "channels",
         "partners.yaml": "partners"}

_BLOCK = re.compile(r"^```yaml\n(?P<body>.*?)^```", re.DOTALL | re.MULTILINE)
_MARK = re.compile(
    r"<!--\s*(?:example:\s*(?P<path>\S+)(?:\s+fails:\s*(?P<fails>.+?))?|(?P<fragment>fragment))"
    r"\s*-->"
)


@dataclass(frozen=True)
class Block:
    line: int
    text: str
    mark: str  # the comment before the block, "" when there is none
    path: str | None = None
    fails: str | None = None

    @property
    def name(self) -> str:
        return f"{self.path or 'fragment'} (docs/content.md:{self.line})"


def blocks(markdown: str) -> list[Block]:
    """Every ```yaml block, with the marker comment on the line before it (if any)."""
    found = []
    for match in _BLOCK.finditer(markdown):
        before = markdown[: match.start()].rstrip().rsplit("\n", 1)[-1].strip()
        line = markdown.count("\n", 0, match.start()) + 2
        mark = _MARK.fullmatch(before)
        if mark is None:
            found.append(Block(line, match["body"], ""))
        else:
            found.append(Block(line, match["body"], before, mark["path"], mark["fails"]))
    return found


BLOCKS = blocks(GUIDE.read_text(encoding="utf-8"))
EXAMPLES = [b for b in BLOCKS if b.path is not None]


def apply(root: Path, example: Block) -> None:
    """Add one example to the content directory at `root`."""
    assert example.path is not None
    target = root / example.path
    list_name = LISTS.get(example.path)
    if list_name is None or not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(example.text, encoding="utf-8")
        return
    shown = yaml.safe_load(example.text)[list_name]
    entries = {e["key"]: e for e in yaml.safe_load(target.read_text(encoding="utf-8"))[list_name]}
    entries.update({e["key"]: e for e in shown})
    target.write_text(yaml.safe_dump({list_name: list(entries.values())}, sort_keys=False,
                                     allow_unicode=True), encoding="utf-8")


def shipped_content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root, ignore=shutil.ignore_patterns("reports"))
    return root


def test_every_yaml_block_in_the_guide_says_what_it_is() -> None:
    unmarked = [b.line for b in BLOCKS if not b.mark]
    assert not unmarked, (
        f"docs/content.md: the yaml blocks at lines {unmarked} need an "
        "<!-- example: PATH --> or <!-- fragment --> comment on the line before")


def test_the_guide_has_an_example_of_every_content_file() -> None:
    shown = {"campaigns/" if e.path and e.path.startswith("campaigns/") else e.path
             for e in EXAMPLES}
    assert {*LISTS, "campaigns/"} <= shown
    assert any(e.fails for e in EXAMPLES), "the guide shows what an error looks like"


@pytest.mark.parametrize("index", range(len(EXAMPLES)), ids=[e.name for e in EXAMPLES])
def test_each_example_passes_the_content_checks(tmp_path: Path, index: int) -> None:
    root = shipped_content(tmp_path)
    for earlier in EXAMPLES[:index]:
        if earlier.fails is None:
            apply(root, earlier)
    example = EXAMPLES[index]
    apply(root, example)
    library = check_content(root, rules=Rules(), default_timezone="Europe/London")
    errors = [str(p) for p in library.errors]
    if example.fails is None:
        assert not errors, f"{example.name} does not pass `chorus content validate`:\n" + \
            "\n".join(errors)
    else:
        assert any(example.fails in e for e in errors), (
            f"{example.name} should be refused with {example.fails!r}; got: {errors}")


def test_fragments_are_yaml_mappings() -> None:
    for fragment in (b for b in BLOCKS if b.mark and b.path is None):
        assert isinstance(yaml.safe_load(fragment.text), dict), fragment.name


def test_the_guide_shows_every_kind_of_rule() -> None:
    kinds: set[str] = set()
    for example in EXAMPLES:
        if example.path == "events.yaml":
            for item in yaml.safe_load(example.text)["events"]:
                kinds |= _rule_kinds(calendar.parse_event(item).rule)
    assert kinds >= {"FixedDate", "NthWeekday", "WeekContaining", "WholeMonth", "NextWeekday",
                     "Range with days", "Range with to"}


def _rule_kinds(rule: Any) -> set[str]:
    if isinstance(rule, calendar.Range):
        own = {f"Range with {'days' if rule.days is not None else 'to'}"}
        return own | _rule_kinds(rule.start) | (_rule_kinds(rule.end) if rule.end else set())
    if isinstance(rule, calendar.NextWeekday):
        return {"NextWeekday"} | _rule_kinds(rule.after)
    return {type(rule).__name__}


@pytest.mark.parametrize("fields", [
    calendar._EVENT_FIELDS,
    calendar._OVERRIDE_FIELDS,
    tuple(schema.ChannelIn.model_fields),
    tuple(schema.PartnerIn.model_fields),
    tuple(schema.AccountIn.model_fields),
    tuple(schema.CampaignIn.model_fields),
    tuple(schema.PostIn.model_fields),
    tuple(schema.SendIn.model_fields),
    tuple(schema.ImageIn.model_fields),
], ids=["event", "override", "channel", "partner", "account", "campaign", "post", "send",
        "image"])
def test_every_field_of_the_content_files_is_in_the_guide(fields: tuple[str, ...]) -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    missing = [f for f in fields if f"`{f}`" not in guide and f"{f}:" not in guide]
    assert not missing, f"docs/content.md does not mention {missing}"
