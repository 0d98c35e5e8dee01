"""Handled errors: matching an error against a process's declared list, and what follows.

``match`` in org.yaml is an exception class name (the class or any base class, e.g.
``TimeoutError``) or an error code: the exception's ``code`` attribute, or the code a non-Python
agent reports with ``orgplane checkpoint --failed CODE``.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any

from orgplane.org.models import HandledError, Process


@dataclass(frozen=True)
class Failure:
    """An error a stage raised (or an agent reported), in the form the store keeps."""

    error_type: str
    message: str
    code: str | None
    traceback: str | None

    @classmethod
    def from_exception(cls, exc: BaseException) -> Failure:
        code = getattr(exc, "code", None)
        return cls(
            error_type=type(exc).__name__,
            message=str(exc),
            code=None if code is None else str(code),
            traceback="".join(traceback.format_exception(exc)),
        )

    @classmethod
    def from_code(cls, code: str, message: str | None) -> Failure:
        return cls(error_type="reported", message=message or code, code=code, traceback=None)

    def as_dict(self, handled: HandledError | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.error_type,
            "code": self.code,
            "message": self.message,
            "traceback": self.traceback,
        }
        if handled is not None:
            data["handled"] = {"match": handled.match, "action": handled.action}
            data["handled_message"] = handled.message
        return data

    def summary(self) -> str:
        code = f" [{self.code}]" if self.code else ""
        return f"{self.error_type}{code}: {self.message}"


def names_of(exc: BaseException) -> set[str]:
    """The names an exception answers to: its class and base classes, and its ``code``."""
    names = {klass.__name__ for klass in type(exc).__mro__}
    code = getattr(exc, "code", None)
    if code is not None:
        names.add(str(code))
    return names


def match_handled(process: Process, names: set[str]) -> HandledError | None:
    """The first handled error of ``process`` whose ``match`` is one of ``names``, if any."""
    for handled in process.handled_errors:
        if handled.match in names:
            return handled
    return None


def failure_names(failure: Failure) -> set[str]:
    """The names a reported failure answers to (its code and its type)."""
    return {n for n in (failure.code, failure.error_type) if n}


def backoff_seconds(handled: HandledError, attempt: int) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): the backoff, doubled each time."""
    return float(handled.backoff.total_seconds() * (2 ** (attempt - 1)))
