"""Finding the line of a key in a parsed YAML document, so every problem names ``file:line``."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from orgplane.org.document import ItemLines, KeyLines


class Locator:
    """Answers 'which line holds this key path?' for a document read by
    :func:`orgplane.org.document.read_document` (plain dicts and lists with their lines)."""

    def __init__(
        self, document: Any, key_lines: KeyLines | None = None, item_lines: ItemLines | None = None
    ) -> None:
        self.document = document
        self._key_lines = key_lines or {}
        self._item_lines = item_lines or {}

    def line(self, *path: str | int) -> int:
        """1-based line of the deepest part of ``path`` that exists (the document's top if none)."""
        node = self.document
        line = 1
        for part in path:
            if isinstance(node, dict) and part in node:
                line = self.key_position(node, part)[0]
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                line = self.item_line(node, part)
                node = node[part]
            else:
                break
        return line

    def value_line(self, path: Sequence[str | int]) -> int:
        """1-based line of the value at ``path`` (where a list of capabilities starts, say)."""
        *parents, last = path
        node = self.document
        for part in parents:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return self.line(*path)
        if isinstance(node, dict) and last in node:
            return self.key_position(node, last)[1]
        return self.line(*path)

    def key_position(self, mapping: dict[Any, Any], key: Any) -> tuple[int, int]:
        """1-based lines of ``key`` and of its value in ``mapping``."""
        return self._key_lines.get(id(mapping), {}).get(key, (1, 1))

    def item_line(self, sequence: list[Any], index: int) -> int:
        """1-based line of item ``index`` of ``sequence``."""
        lines = self._item_lines.get(id(sequence), [])
        return lines[index] if index < len(lines) else 1


class RoundTripLocator(Locator):
    """The same answers for a document loaded by ruamel.yaml, from its line/column records."""

    def key_position(self, mapping: dict[Any, Any], key: Any) -> tuple[int, int]:
        records = getattr(mapping, "lc", None)
        if records is not None and key in records.data:
            return records.key(key)[0] + 1, int(records.value(key)[0]) + 1
        # A key brought in by '<<: *anchor' is recorded where the anchored mapping wrote it.
        for merged in getattr(mapping, "merge", []):
            source = merged[1] if isinstance(merged, tuple) else merged  # older ruamel: pairs
            if isinstance(source, dict) and key in source:
                return self.key_position(source, key)
        return 1, 1

    def item_line(self, sequence: list[Any], index: int) -> int:
        records = getattr(sequence, "lc", None)
        if records is not None and index in records.data:
            return int(records.item(index)[0]) + 1
        return 1


def to_plain(node: Any) -> Any:
    """Turn ruamel's commented containers into plain dicts and lists for validation."""
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, str) else k: to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    return node


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters: a problem stays one short
    line even when the file holds a megabyte where a word was expected."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-2:]}"


def did_you_mean(word: str, choices: list[str]) -> str:
    """A suffix suggesting the closest known name, or listing the names when none is close."""
    close = difflib.get_close_matches(word[:100], choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; expected one of: {', '.join(choices)}" if choices else ""
