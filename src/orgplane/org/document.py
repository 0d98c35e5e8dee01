"""Reading org-file YAML into plain values and the line of every key, fast and bounded.

libyaml (through PyYAML's C parser) turns the text into events; this module builds dicts, lists
and scalars from them in one iterative pass, recording where each key and item starts. Scalars
read as ruamel.yaml reads YAML 1.2 (``no`` and ``on`` are text, ``010`` is ten, ``1:30`` is
text, ``2026-06-21`` is a date): its resolver table decides the type and its constructor builds
every scalar that is not text, so both loaders give the same values.

Anything unusual (a syntax error, a duplicate key, a complex key, an explicit ``!!int``) raises
:class:`NeedsRoundTrip`, and the caller reads the file with ruamel instead, which gives today's
messages. What one input could use to exhaust memory or the stack is refused here with its
line: the nesting depth, the nodes that aliases expand to, and tags that build objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any, NamedTuple

import yaml

from orgplane.errors import OrgFileError, Problem

MAX_DEPTH = 100
"""Containers nested deeper than this are refused (an org file needs fewer than ten)."""

MAX_ALIAS_NODES = 100_000
"""Nodes that all alias uses together may expand to: YAML anchors stay usable, a
"billion laughs" file is refused before it is built."""

# libyaml's parser; PyYAML's own (pure Python, slower, same events) where libyaml is missing.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE = "tag:yaml.org,2002:"
_STR = _CORE + "str"
_MERGE = _CORE + "merge"
_VALUE = _CORE + "value"
_CONTAINER_TAGS = {None, "!", _CORE + "map", _CORE + "seq", _CORE + "omap"}

# Key lines: id(mapping) -> {key: (key line, value line)}; item lines: id(list) -> [line, ...].
KeyLines = dict[int, dict[Any, tuple[int, int]]]
ItemLines = dict[int, list[int]]


class NeedsRoundTrip(Exception):
    """The text needs ruamel's reading (for its exact message, or a rare construct)."""


# ruamel.yaml's YAML 1.2 implicit resolvers (ruamel/yaml/resolver.py), copied so that reading
# an org does not import ruamel; tests/org/test_fast_loader.py checks they are still its own.
YAML_12_RESOLVERS: list[tuple[str, str, str]] = [
    ("bool", "^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        "float",
        r"""^(?:
         [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    (
        "int",
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""",
        "-+0123456789",
    ),
    ("merge", "^(?:<<)$", "<"),
    (
        "null",
        r"""^(?: ~
        |null|Null|NULL
        | )$""",
        "~nN",
    ),
    (
        "timestamp",
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        "0123456789",
    ),
    ("value", "^(?:=)$", "="),
]


def _yaml_12_resolvers() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """The resolvers above, keyed by the first character they apply to ('' for empty text)."""
    table: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for name, pattern, first in YAML_12_RESOLVERS:
        compiled = re.compile(pattern, re.X)
        for char in [*first, ""] if name == "null" else first:
            table.setdefault(char, []).append((_CORE + name, compiled))
    return table


_RESOLVERS: dict[str, list[tuple[str, re.Pattern[str]]]] | None = None


class _Mapping:
    __slots__ = ("anchor", "key", "key_line", "line", "lines", "merges", "value")

    def __init__(self, line: int, anchor: str | None) -> None:
        self.value: dict[Any, Any] = {}
        self.lines: dict[Any, tuple[int, int]] = {}
        self.line = line
        self.anchor = anchor
        self.key: Any = _NO_KEY
        self.key_line = 0
        self.merges: list[tuple[Any, int]] = []


class _Sequence:
    __slots__ = ("anchor", "line", "lines", "value")

    def __init__(self, line: int, anchor: str | None) -> None:
        self.value: list[Any] = []
        self.lines: list[int] = []
        self.line = line
        self.anchor = anchor


_NO_KEY = object()
_MERGE_KEY = object()  # a plain '<<' in key position: merge the mapping(s) it names


class _Builder:
    """One pass over libyaml's events; see :func:`read_document`."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.key_lines: KeyLines = {}
        self.item_lines: ItemLines = {}
        self.anchors: dict[str, tuple[Any, int, int]] = {}  # value, first line, node count
        self.nodes = 0
        self.expanded = 0
        self.scalars: dict[tuple[str, str], Any] = {}
        self.construct: Callable[[str, str], Any] | None = None
        self.text_keys_only = True

    def refuse(self, line: int, message: str) -> OrgFileError:
        return OrgFileError([Problem(self.label, line, message)])

    def build(self, text: str) -> Any:
        global _RESOLVERS
        resolvers = _RESOLVERS or _yaml_12_resolvers()
        _RESOLVERS = resolvers
        loader = _LOADER(text)
        stack: list[_Mapping | _Sequence] = []
        anchor_counts: list[int] = []  # node count when each open container started
        document: Any = None
        documents = 0
        plain: dict[str, Any] = {}  # plain scalar text -> its value, built once
        open_anchors: set[str] = set()  # anchors of the containers being built
        scalar_event = yaml.ScalarEvent
        get_event = loader.get_event
        try:
            while True:
                try:
                    event: Any = get_event()
                except yaml.MarkedYAMLError as exc:
                    if exc.problem and "nesting depth" in exc.problem and exc.problem_mark:
                        raise self.too_deep(exc.problem_mark.line + 1) from None
                    raise NeedsRoundTrip from None  # ruamel's message for a syntax error
                except yaml.YAMLError:
                    raise NeedsRoundTrip from None
                kind = type(event)
                line = event.start_mark.line + 1
                if kind is scalar_event:
                    self.nodes += 1
                    if event.tag is None and not event.style:  # plain: most of a file
                        value = plain.get(event.value, _NO_KEY)
                        if value is _NO_KEY:
                            value = plain[event.value] = self.scalar(event, resolvers, line)
                    else:
                        value = self.scalar(event, resolvers, line)
                    if event.anchor is not None:
                        self.anchors[event.anchor] = (value, line, 1)
                    if not stack:
                        document = value
                        continue
                    frame = stack[-1]
                    if (
                        type(frame) is _Mapping
                        and frame.key is not _NO_KEY
                        and frame.key is not _MERGE_KEY
                        and value is not _MERGE_KEY
                    ):  # the common case of add(), inline: a scalar value of a plain key
                        key, frame.key = frame.key, _NO_KEY
                        if key in frame.value:
                            raise NeedsRoundTrip
                        frame.value[key] = value
                        frame.lines[key] = (frame.key_line, line)
                    else:
                        self.add(frame, value, line)
                elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                    if event.tag not in _CONTAINER_TAGS:
                        raise self.tag_refused(event.tag, line)
                    if len(stack) >= MAX_DEPTH:
                        raise self.too_deep(line)
                    if event.anchor is not None:
                        open_anchors.add(event.anchor)
                    self.nodes += 1
                    anchor_counts.append(self.nodes)
                    if kind is yaml.MappingStartEvent:
                        stack.append(_Mapping(line, event.anchor))
                    else:
                        stack.append(_Sequence(line, event.anchor))
                elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                    frame = stack.pop()
                    started = anchor_counts.pop()
                    if isinstance(frame, _Mapping):
                        self.merge(frame)
                        self.key_lines[id(frame.value)] = frame.lines
                    else:
                        self.item_lines[id(frame.value)] = frame.lines
                    if frame.anchor is not None:
                        open_anchors.discard(frame.anchor)
                        size = self.nodes - started + 1
                        self.anchors[frame.anchor] = (frame.value, frame.line, size)
                    if not stack:
                        document = frame.value
                    else:
                        self.add(stack[-1], frame.value, frame.line)
                elif kind is yaml.AliasEvent:
                    if event.anchor in open_anchors:
                        raise self.refuse(
                            line,
                            f"YAML alias *{event.anchor} is inside the node it names, a loop; "
                            "write the repeated part out instead",
                        )
                    if event.anchor not in self.anchors:
                        raise NeedsRoundTrip  # ruamel names the undefined alias
                    value, first_line, size = self.anchors[event.anchor]
                    self.expanded += size
                    self.nodes += size
                    if self.expanded > MAX_ALIAS_NODES:
                        raise self.refuse(
                            line,
                            f"YAML aliases here expand to more than {MAX_ALIAS_NODES} nodes; "
                            "write the repeated part out instead of nesting aliases",
                        )
                    if not stack:
                        document = value
                    else:
                        self.add(stack[-1], value, first_line)
                elif kind is yaml.DocumentStartEvent:
                    documents += 1
                    if documents > 1:
                        raise NeedsRoundTrip  # ruamel's message for a second document
                elif kind is yaml.StreamEndEvent:
                    return document
        finally:
            loader.dispose()

    def too_deep(self, line: int) -> OrgFileError:
        return self.refuse(
            line,
            f"YAML nested deeper than {MAX_DEPTH} levels; "
            "an org file needs only a few, so flatten this part",
        )

    def tag_refused(self, tag: str, line: int) -> OrgFileError:
        shown = tag.replace(_CORE, "!!")
        return self.refuse(
            line, f"YAML tag {shown!r} is not allowed in an org file; remove the tag"
        )

    def scalar(
        self, event: Any, resolvers: dict[str, list[tuple[str, re.Pattern[str]]]], line: int
    ) -> Any:
        text: str = event.value
        tag = event.tag
        if tag is None or tag == "!":
            if event.style or tag == "!":  # quoted or block: text (libyaml: '' is plain)
                return text
            for candidate, regexp in resolvers.get(text[:1], ()):
                if regexp.match(text):
                    tag = candidate
                    break
            else:
                return text
        elif not tag.startswith(_CORE) or tag[len(_CORE) :] not in (
            "str",
            "int",
            "float",
            "bool",
            "null",
            "timestamp",
        ):
            raise self.tag_refused(tag, line)
        else:
            raise NeedsRoundTrip  # an explicit core tag: ruamel decides what it means
        if tag == _STR:
            return text
        if tag == _MERGE:
            return _MERGE_KEY
        if tag == _VALUE:
            raise NeedsRoundTrip  # '=' is ruamel's tagged scalar
        return self.constructed(tag, text)

    def constructed(self, tag: str, text: str) -> Any:
        cached = self.scalars.get((tag, text), _NO_KEY)
        if cached is not _NO_KEY:
            return cached
        try:
            value = _simple_scalar(tag, text)
            if value is _NO_KEY:
                if self.construct is None:
                    self.construct = _ruamel_constructor()
                value = self.construct(tag, text)
        except Exception:  # e.g. '._' matches ruamel's float pattern but is no float
            raise NeedsRoundTrip from None
        self.scalars[(tag, text)] = value
        return value

    def add(self, frame: _Mapping | _Sequence, value: Any, line: int) -> None:
        if value is _MERGE_KEY and (isinstance(frame, _Sequence) or frame.key is not _NO_KEY):
            raise NeedsRoundTrip  # '<<' as a value is ruamel's tagged scalar
        if isinstance(frame, _Sequence):
            frame.value.append(value)
            frame.lines.append(line)
            return
        if frame.key is _NO_KEY:
            if isinstance(value, dict | list):
                raise NeedsRoundTrip  # a complex key: ruamel builds a frozen one
            if type(value) is not str and value is not _MERGE_KEY:
                self.text_keys_only = False
            else:
                try:
                    hash(value)
                except TypeError:
                    raise NeedsRoundTrip from None
                frame.key = value
            frame.key_line = line
            return
        key, frame.key = frame.key, _NO_KEY
        if key is _MERGE_KEY:
            frame.merges.append((value, frame.key_line))
            return
        if key in frame.value:
            raise NeedsRoundTrip  # ruamel's duplicate-key message names both places
        frame.value[key] = value
        frame.lines[key] = (frame.key_line, line)

    def merge(self, frame: _Mapping) -> None:
        """Apply ``<<`` merge keys: keys written in the mapping win, then earlier merges."""
        for value, line in frame.merges:
            sources = value if isinstance(value, list) else [value]
            for source in sources:
                if not isinstance(source, dict):
                    raise NeedsRoundTrip  # ruamel's message for merging a non-mapping
                source_lines = self.key_lines.get(id(source), {})
                for key, item in source.items():
                    if key not in frame.value:
                        frame.value[key] = item
                        frame.lines[key] = source_lines.get(key, (line, line))


_SURROGATE = re.compile("[\ud800-\udfff]")  # only a str handed in by code can hold one
_RUAMEL_JUDGES = re.compile("[\t\x85\u2028\u2029]")
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_DOTTED = re.compile(r"[-+]?[0-9]+\.[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _simple_scalar(tag: str, text: str) -> Any:
    """The common scalars built here, equal to (and printed as) what ruamel builds, so reading
    an ordinary org never imports ruamel; ``_NO_KEY`` for the rest."""
    suffix = tag[len(_CORE) :]
    if suffix == "null":
        return None
    if suffix == "bool":
        return text.lower() == "true"
    if suffix == "int" and _DECIMAL.fullmatch(text):
        return int(text)
    if suffix == "float" and _DOTTED.fullmatch(text):
        return float(text)
    if suffix == "timestamp" and _DATE.fullmatch(text):
        return date.fromisoformat(text)  # a ValueError (month 13) goes to ruamel's reading
    return _NO_KEY


def _ruamel_constructor() -> Callable[[str, str], Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.tag import Tag

    constructor = YAML(typ="rt").constructor

    def construct(tag: str, text: str) -> Any:
        node = ScalarNode(Tag(suffix=tag), text)
        try:
            return constructor.construct_object(node, deep=True)
        finally:
            constructor.constructed_objects.pop(node, None)

    return construct


class Document(NamedTuple):
    """A YAML document as plain values, with the lines of its keys and items."""

    value: Any
    key_lines: KeyLines
    item_lines: ItemLines
    text_keys_only: bool  # no key is a number, a date, null...: nothing to turn into text


def read_document(text: str, label: str) -> Document:
    """The plain value of YAML ``text`` with the lines of its keys and items.

    Raises OrgFileError (with ``label`` and a line) for input too deep or too alias-heavy to
    build, and NeedsRoundTrip when ruamel must read the text (its messages, rare constructs).
    """
    if _SURROGATE.search(text):  # libyaml cannot even encode it; ruamel reports it at its line
        raise NeedsRoundTrip
    builder = _Builder(label)
    value = builder.build(text)  # first, so that depth and aliases are bounded before ruamel
    if _RUAMEL_JUDGES.search(text):
        # libyaml reads a tab after 'key:' as YAML 1.2 allows, and NEL or U+2028 as YAML 1.1
        # line breaks; ruamel differs. Edits go through ruamel, so it judges such files.
        raise NeedsRoundTrip
    return Document(value, builder.key_lines, builder.item_lines, builder.text_keys_only)
