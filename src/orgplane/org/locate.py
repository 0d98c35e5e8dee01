"""Finding the line of a key in a parsed YAML document, so every problem names ``file:line``."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq


class Locator:
    """Answers 'which line holds this key path?' for a round-trip-loaded YAML document."""

    def __init__(self, document: Any) -> None:
        self.document = document

    def line(self, *path: str | int) -> int:
        """1-based line of the deepest part of ``path`` that exists (the document's top if none)."""
        node = self.document
        line = 1
        for part in path:
            if isinstance(node, CommentedMap) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line = node.lc.item(part)[0] + 1
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
        if isinstance(node, CommentedMap) and last in node:
            return int(node.lc.value(last)[0]) + 1
        return self.line(*path)


def to_plain(node: Any) -> Any:
    """Turn ruamel's commented containers into plain dicts and lists for validation."""
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, str) else k: to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    return node


def did_you_mean(word: str, choices: list[str]) -> str:
    """A suffix suggesting the closest known name, or listing the names when none is close."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; expected one of: {', '.join(choices)}" if choices else ""
