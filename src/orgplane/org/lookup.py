"""Finding a declared item by the id a user typed, or saying which ids there are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from orgplane.errors import NotFoundError

T = TypeVar("T")


def find_declared(items: Mapping[str, T], kind: str, ident: str) -> T:
    """The declared ``kind`` named ``ident``, or a NotFoundError listing the ones there are."""
    if ident not in items:
        raise NotFoundError(
            f"{kind} {ident!r} is not declared in the org file; "
            f"use one of: {', '.join(sorted(items)) or '(none declared)'}"
        )
    return items[ident]
