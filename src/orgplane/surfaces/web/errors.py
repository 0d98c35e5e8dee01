"""The one place the dashboard turns an orgplane error into an HTTP status and a message."""

from __future__ import annotations

from orgplane.errors import (
    NotFoundError,
    OrgFileError,
    OrgplaneError,
    PermissionDenied,
    RunError,
    StoreError,
    UsageError,
)


def status_for(exc: OrgplaneError) -> int:
    """The HTTP status of an error: 404 not found, 403 not allowed, 400 any other bad request,
    409 a run in the way, 503 what the server cannot serve until fixed (its org file, its
    store). Nothing orgplane raises on purpose is a 500."""
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, UsageError):
        return 400
    if isinstance(exc, RunError):
        return 409
    if isinstance(exc, OrgFileError | StoreError):
        return 503
    return 400


def message_lines(exc: OrgplaneError) -> list[str]:
    """What the page says: the error's line, then every problem of a broken org file."""
    lines = [str(exc)]
    if isinstance(exc, OrgFileError):
        lines = [f"{p.path}:{p.line}: {p.message}" for p in exc.problems] or lines
    return lines
