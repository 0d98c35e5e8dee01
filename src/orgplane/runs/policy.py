"""Handled errors: matching an error against a process's declared list, and what follows.

``match`` in org.yaml is an exception class name (the class or any base class, e.g.
``TimeoutError``) or an error code: the exception's ``code`` attribute, or the code a non-Python
agent reports with ``orgplane checkpoint --failed CODE``.

:func:`decide` is the one policy: the runner (a stage raised) and ``orgplane checkpoint
--failed`` (an agent reported a code) both ask it, with the same count of attempts: the stored
attempts of that (record, stage), this one included. ``retries: N`` therefore gives a (record,
stage) N retries over the life of its run; once they are spent, every further failure stops the
run again (a resume tries it once more). A retry entry with ``when_exhausted: pause`` declares
the error transient: when its retries are spent the run *pauses* at that record instead of
failing, and the paused record's attempts start again from zero, so a resume (once the
connection is back) gets the full retries again.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Literal

from orgplane.org.models import HandledError, Process


@dataclass(frozen=True)
class Failure:
    """An error a stage raised (or an agent reported), in the form the store keeps."""

    error_type: str
    message: str
    code: str | None
    traceback: str | None
    names: tuple[str, ...] = ()
    """Every name it answers to (:func:`names_of`): kept with a run's stop, so a resume can
    tell whether a handled error declared since (say, ``match: OSError``) classifies it."""

    @classmethod
    def from_exception(cls, exc: BaseException) -> Failure:
        code = getattr(exc, "code", None)
        return cls(
            error_type=type(exc).__name__,
            message=str(exc),
            code=None if code is None else str(code),
            traceback="".join(traceback.format_exception(exc)),
            names=tuple(sorted(names_of(exc))),
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
    """Seconds to wait before retry number ``attempt`` (1-based): the backoff, doubled each time
    (the doubling stops after 20, so a large ``retries`` cannot overflow the wait)."""
    return float(handled.backoff.total_seconds() * (2 ** min(max(attempt, 1) - 1, 20)))


Action = Literal["retry", "skip", "hold", "fail", "pause"]


@dataclass(frozen=True)
class Decision:
    """What follows a failure: ``retry`` (after ``delay`` seconds), ``skip`` the record, ``hold``
    it for a person (escalate), ``fail`` the run, or ``pause`` it (a transient error whose
    retries are spent); ``handled`` is the matching declaration."""

    action: Action
    handled: HandledError | None
    delay: float = 0.0

    @property
    def event_kind(self) -> Literal["handled_error", "unhandled_error", "paused"]:
        if self.action == "pause":
            return "paused"
        return "unhandled_error" if self.handled is None else "handled_error"

    def message(self, failure: Failure, process_id: str, record_key: str, stage: str) -> str:
        """The one-line account of this decision, for the run's failure record and its event."""
        handled = self.handled
        if handled is None:
            return (
                f"unhandled {failure.summary()} at record {record_key}, stage {stage}; add it "
                f"to the handled errors of {process_id} or fix the stage, then resume"
            )
        if self.action == "hold":
            reason = f"held for {handled.escalate_to}"
        elif self.action == "fail":
            reason = "retries exhausted" if handled.action == "retry" else "fail_run"
        elif self.action == "pause":
            reason = "retries exhausted; the run paused here: resume it to continue"
        else:
            reason = "retried" if self.action == "retry" else "skipped"
        return f"{handled.message} (record {record_key}, stage {stage}; {reason})"


def decide(process: Process, names: set[str], attempt: int) -> Decision:
    """The policy for a failure answering to ``names`` on ``attempt`` (1-based: the stored
    attempts of that record's stage, this one included). Pure: reads only its arguments.

    A ``retry`` declaration retries while ``attempt <= retries``, waiting its backoff doubled
    per attempt; after that the run fails ("retries exhausted"), or pauses when the entry says
    ``when_exhausted: pause``. No match fails the run."""
    handled = match_handled(process, names)
    if handled is None:
        return Decision("fail", None)
    if handled.action == "retry":
        if attempt <= handled.retries:
            return Decision("retry", handled, backoff_seconds(handled, attempt))
        return Decision("pause" if handled.when_exhausted == "pause" else "fail", handled)
    if handled.action == "skip_record":
        return Decision("skip", handled)
    if handled.action == "escalate":
        return Decision("hold", handled)
    return Decision("fail", handled)
