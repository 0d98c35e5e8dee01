"""The exceptions orgplane raises on purpose.

Every error a user can meet is an :class:`OrgplaneError`; its message is one line that names
the place and the fix, and its attributes carry the data a surface may want to show or map
(the path and line, the run, the database URL). The core knows nothing of exit codes or HTTP
statuses: each surface maps these types in one place (the CLI in ``surfaces/cli/errors.py``).
Driver errors (SQLAlchemy, psycopg, sqlite3, OS) are wrapped at the boundary that meets them.

The tree::

    OrgplaneError
    ├── UsageError              an argument or request that cannot be acted on
    │   ├── NotFoundError       a named seat, output, run, ... does not exist
    │   ├── DatabaseUrlError    --db / ORGPLANE_DB is not a URL orgplane can use
    │   ├── InputFileError      a batch, state or content file given by the user is unusable
    │   └── PermissionDenied    the acting seat may not do this (another seat's data, ...)
    ├── OrgFileError            the org file has problems (each a Problem with path and line)
    ├── StoreError              the store cannot be used
    │   ├── StoreUnreachable    no answer, refused, timed out
    │   ├── StoreAuthFailed     bad credentials
    │   ├── StoreLocked         another process holds the database too long
    │   ├── NotADatabase        the file or server is not an orgplane store at all
    │   ├── StoreCorrupt        the database is damaged (integrity check failed)
    │   └── StoreSchemaError    the schema is not the one this version expects
    └── RunError                a run cannot go on as asked
        └── LeaseLost           another worker took over records this one held
"""

from __future__ import annotations

from dataclasses import dataclass


class OrgplaneError(Exception):
    """Base of every error orgplane raises on purpose."""


class UsageError(OrgplaneError):
    """A command-line argument or API request that cannot be acted on."""


class NotFoundError(UsageError):
    """A name given by the user (seat, output, run, ...) does not exist."""

    def __init__(self, message: str, *, kind: str | None = None, name: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.name = name


class PermissionDenied(UsageError):
    """The acting seat may not do what it asked: write another seat's run, output or metric,
    or acknowledge a decision without being a person. ``actor`` is the seat that asked."""

    def __init__(self, message: str, *, actor: str) -> None:
        super().__init__(message)
        self.actor = actor


class DatabaseUrlError(UsageError):
    """``--db`` / ``ORGPLANE_DB`` is malformed, names an unsupported backend or lacks a part."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class InputFileError(UsageError):
    """A file the user handed in (batch, state, content) cannot be used as it is."""

    def __init__(self, message: str, *, path: str, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


@dataclass(frozen=True)
class Problem:
    """One mistake in a declared file: where it is and how to fix it."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class OrgFileError(OrgplaneError):
    """The org file cannot be used; carries every problem found in one pass."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.path, p.line, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


class StoreError(OrgplaneError):
    """The store cannot be reached or is not in the shape this version expects."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class StoreUnreachable(StoreError):
    """The database server refused, did not answer in time, or the file cannot be opened."""


class StoreAuthFailed(StoreError):
    """The database refused the credentials (user, password) in the URL."""


class StoreLocked(StoreError):
    """Another process held the database longer than orgplane waits."""


class NotADatabase(StoreError):
    """The URL points at something that is not a database orgplane can use."""


class StoreCorrupt(StoreError):
    """The database is damaged; orgplane stops writing to it."""


class StoreSchemaError(StoreError):
    """The schema is newer or other than the one this version of orgplane knows."""


class RunError(OrgplaneError):
    """A run cannot go on as asked."""

    def __init__(self, message: str, *, run_id: str | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id


class LeaseLost(RunError):
    """Another worker took over records this worker was holding (its lease had run out)."""

    def __init__(
        self, message: str, *, run_id: str | None = None, seqs: tuple[int, ...] = ()
    ) -> None:
        super().__init__(message, run_id=run_id)
        self.seqs = seqs
