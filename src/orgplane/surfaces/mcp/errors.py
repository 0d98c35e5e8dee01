"""How the MCP server reports orgplane's errors: the one place that maps them.

A tool error reaches the model as the result's text with ``isError`` set, so it reads as one
line naming what went wrong and the fix, prefixed by the kind of refusal a model can act on
(call another tool first, use another seat, correct an argument, retry later).
"""

from __future__ import annotations

from orgplane.errors import (
    NotFoundError,
    OrgFileError,
    OrgplaneError,
    PermissionDenied,
    RunError,
    StoreError,
)


def tool_message(exc: OrgplaneError) -> str:
    """The one-line (one line per problem for a broken org file) text of a refused call."""
    if isinstance(exc, PermissionDenied):
        return f"not allowed: {exc}"
    if isinstance(exc, NotFoundError):
        return f"not found: {exc}"
    if isinstance(exc, OrgFileError):
        return "the org file has problems (fix them, then call again):\n" + str(exc)
    if isinstance(exc, StoreError):
        return f"the store cannot be used now (retry later): {exc}"
    if isinstance(exc, RunError):
        return f"the run cannot go on as asked: {exc}"
    return f"bad request: {exc}"
