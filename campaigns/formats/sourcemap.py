"""YAML that remembers where each value came from, so errors can name the file and line.

Content files are written by people and may come from anyone, so the loader is strict and
bounded: it refuses a key given twice (YAML keeps the last one silently), reads `9:30` as the
text written rather than YAML 1.1's base-60 number 570, accepts only YAML's plain tags (no
`!!python/...`), and refuses files over MAX_BYTES, nesting past MAX_DEPTH and aliases that
expand past MAX_NODES (a "billion laughs" file is a few hundred bytes). Every refusal is a
YamlSyntaxError naming the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PathKey = tuple[str | int, ...]

#: Far beyond any real content file (the largest shipped file is 12 KB).
MAX_BYTES = 1024 * 1024
#: Content files nest about six levels deep.
MAX_DEPTH = 40
#: Values built from one file, counting each use of an alias in full (the shipped calendar,
#: the largest file, has about 1,500).
MAX_NODES = 20_000

_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
)


class YamlSyntaxError(ValueError):
    def __init__(self, file: Path, line: int, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.file = file
        self.line = line
        self.message = message


class _Refused(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.1's implicit types without base 60: `9:30` stays the text "9:30"."""


_Resolver.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)


if yaml.__with_libyaml__:  # libyaml parses ten times faster than PyYAML's own parser
    from yaml._yaml import CParser

    class _Loader(CParser, yaml.constructor.SafeConstructor, _Resolver):
        """PyYAML's safe loader, on libyaml, with the resolver above."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            _Resolver.__init__(self)
else:  # pragma: no cover - PyYAML built without libyaml
    class _Loader(yaml.reader.Reader, yaml.scanner.Scanner,  # type: ignore[no-redef]
                  yaml.parser.Parser, yaml.composer.Composer,
                  yaml.constructor.SafeConstructor, _Resolver):
        """PyYAML's safe loader with the resolver above."""

        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            _Resolver.__init__(self)


def _check_nesting(text: str) -> None:
    """Refuse nesting past MAX_DEPTH before composing, which recurses once per level. The
    parser reads events with a stack of its own, so this pass is safe on any depth."""
    loader = _Loader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _Refused(event.start_mark.line + 1 if event.start_mark else 1,
                                   f"nested more than {MAX_DEPTH} levels deep")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        loader.dispose()


@dataclass
class Located:
    """Plain data from one YAML file, with the line of every key and item in it."""

    file: Path
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: PathKey) -> int:
        """The line of `path`, or of its nearest ancestor that has one (1 for the root)."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1


def load_located(file: Path) -> Located:
    """Parse `file`; raises YamlSyntaxError naming the line of anything it refuses.

    OSError (missing, a folder, unreadable) and UnicodeDecodeError pass to the caller, which
    knows how to name the file to its reader.
    """
    with file.open("rb") as stream:
        raw = stream.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise YamlSyntaxError(file, 1, f"file is larger than {MAX_BYTES // 1024 // 1024} MB; "
                                       "content files are a few kilobytes")
    return parse_located(raw.decode("utf-8"), file)


def load_data(text: str, file: Path) -> Any:
    """Only the data of a YAML text, read as strictly as load_located."""
    return parse_located(text, file).data


def parse_located(text: str, file: Path) -> Located:
    """As load_located, for text already read."""
    try:
        return _parse(text, file)
    except _Refused as refused:
        raise YamlSyntaxError(file, refused.line, refused.message) from None
    except yaml.reader.ReaderError as exc:  # a control character: this error has no mark
        line = text.count("\n", 0, exc.position) + 1
        raise YamlSyntaxError(file, line, f"a control character (#x{exc.character:04x}) is "
                                          "not allowed; remove it") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntaxError(file, line, f"invalid YAML: {exc.problem or exc}") from None


def _parse(text: str, file: Path) -> Located:
    _check_nesting(text)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        located = Located(file=file, data=None)
        if node is not None:
            located.data = _Builder(loader, located.lines).build(node, ())
        return located
    finally:
        loader.dispose()


class _Builder:
    """Plain Python values from composed nodes, recording lines and enforcing the bounds."""

    def __init__(self, loader: _Loader, lines: dict[PathKey, int]) -> None:
        self.loader = loader
        self.lines = lines
        self.nodes = 0

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        line = node.start_mark.line + 1
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Refused(line, f"more than {MAX_NODES:,} values once aliases (*name) are "
                                 "expanded; write the values out instead")
        if node.tag not in _PLAIN_TAGS:
            raise _Refused(line, f"the tag {node.tag!r} is not allowed in content files; "
                                 "remove it (values are plain text, numbers, lists and "
                                 "mappings)")
        self.lines[path] = line
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        # An explicit tag on a value that is not of that type (`!!timestamp 2026-02-30`,
        # `!!bool maybe`, `!!timestamp ''`): PyYAML's constructors then fail in several ways.
        except Exception as exc:
            kind = str(node.tag).rsplit(":", 1)[-1]
            detail = f" ({exc})" if isinstance(exc, ValueError) else ""
            raise _Refused(line, f"{str(node.value)[:80]!r} cannot be read as {kind}"
                                 f"{detail}") from None

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused(line, "merge keys (<<) are not supported in content files; "
                                     "write the values out")
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused(line, "a key must be plain text, not a list or mapping")
            key = self.build(key_node, (*path, "\0key"))
            if key in first_line:
                raise _Refused(line, f"{key!r} is given twice (first on line "
                                     f"{first_line[key]}); keep one")
            first_line[key] = line
            result[key] = self.build(value_node, (*path, key))
            self.lines[(*path, key)] = line
        self.lines.pop((*path, "\0key"), None)
        return result
