"""The exceptions orgplane raises on purpose.

Every error a user can meet is an :class:`OrgplaneError`; its message is one line that names
the place and the fix. Surfaces turn it into exit code 2 (bad input) or 1 (a finding) and never
show a traceback unless asked with ``--debug``. Driver errors (SQLAlchemy, psycopg, OS) are
wrapped at the boundary that meets them.
"""

from __future__ import annotations

from dataclasses import dataclass


class OrgplaneError(Exception):
    """Base of every error orgplane raises on purpose."""

    exit_code = 2


class UsageError(OrgplaneError):
    """A command-line argument or API request that cannot be acted on."""


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

    exit_code = 2


class NotFoundError(UsageError):
    """A name given by the user (seat, output, run, ...) does not exist."""
