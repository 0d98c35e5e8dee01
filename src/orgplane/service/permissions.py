"""What the acting seat may do: the one place the rules of who writes what live.

Every write use case takes ``actor``: the seat on whose behalf it acts (the HTTP API passes
the seat of the request's token, the MCP server the seat it was started for). ``None`` is the
local operator (the CLI, run by whoever can open the org file and the store) and may do
everything. A seat writes only its own runs, outputs, metrics and heartbeats and gates only its
own inputs; acknowledging a decision takes a person (a human seat). Reads need no actor here:
who may read at all is the surface's to decide (a token, or ``--public-read``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orgplane.errors import NotFoundError, PermissionDenied

if TYPE_CHECKING:
    from orgplane.org.models import Org, Seat


def acting_seat(org: Org, actor: str) -> Seat:
    """The active seat ``actor`` names; PermissionDenied if it is unknown or retired."""
    seat = org.seats.get(actor)
    if seat is None or seat.status != "active":
        raise PermissionDenied(
            f"seat {actor!r} is not an active seat of {org.name}; act as a seat on the chart",
            actor=actor,
        )
    return seat


def require_own(org: Org, actor: str | None, owner: str, what: str) -> None:
    """Allow the operator, or the seat ``owner`` itself; PermissionDenied for any other seat.
    ``what`` names the thing in the message (``run nick-prospecting:2026-06-21``)."""
    if actor is None:
        return
    seat = acting_seat(org, actor)
    if seat.id != owner:
        raise PermissionDenied(
            f"seat {actor} may not write {what}: it belongs to seat {owner}; "
            f"use {owner}'s token (or run the command locally)",
            actor=actor,
        )


def require_person(org: Org, actor: str | None, what: str) -> None:
    """Allow the operator, or any active human seat; PermissionDenied for an agent seat."""
    if actor is None:
        return
    seat = acting_seat(org, actor)
    if seat.kind != "human":
        raise PermissionDenied(
            f"seat {actor} is an agent: {what} takes a person; use a human seat's token",
            actor=actor,
        )


def process_seat(org: Org, process_id: str) -> str:
    """The seat a process belongs to; NotFoundError if the org no longer declares it."""
    process = org.processes.get(process_id)
    if process is None:
        raise NotFoundError(
            f"process {process_id!r} is not declared in the org file",
            kind="process",
            name=process_id,
        )
    return process.seat


def require_reporter(org: Org, actor: str | None, failing: str | None, output: str | None) -> None:
    """Allow the operator, the seat whose thing failed (``failing``), or a seat that reads the
    failed ``output`` (a consumer reporting bad input); PermissionDenied for any other seat."""
    if actor is None:
        return
    seat = acting_seat(org, actor)
    if seat.id == failing or (output is not None and output in seat.inputs):
        return
    raise PermissionDenied(
        f"seat {actor} may report failures of its own outputs, runs, processes and metrics, "
        f"or of an output it reads; this one belongs to seat {failing or 'nobody declared'}",
        actor=actor,
    )
