"""What every route depends on: the shared session, the acting seat, the JSON of a result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from orgplane.service.models import Result
from orgplane.service.session import Session
from orgplane.surfaces.http.auth import resolve_seat
from orgplane.surfaces.http.sessions import SharedSession


class ErrorBody(BaseModel):
    """Every error the API returns: a type and one line naming the fix."""

    error: str
    message: str


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "the request cannot be acted on",
        401: "no valid token",
        403: "the token's seat may not do this",
        404: "no such seat, output, run, decision...",
        409: "the run cannot go on as asked",
        422: "the request does not match its schema",
        503: "the store or the org file cannot be used",
    }.items()
}


@dataclass(frozen=True)
class Acting:
    """A write's session and the seat it acts as."""

    session: Session
    seat: str


def shared(request: Request) -> SharedSession:
    """The app's shared session holder."""
    holder: SharedSession = request.app.state.sessions
    return holder


def reader(request: Request) -> Session:
    """The session for a read: any valid token, or none with ``public_read``."""
    session = shared(request).get()
    resolve_seat(session, request, required=not request.app.state.public_read)
    return session


def writer(request: Request) -> Acting:
    """The session and acting seat of a write: a valid token is always needed."""
    session = shared(request).get()
    seat = resolve_seat(session, request, required=True)
    assert seat is not None
    return Acting(session, seat)


def result_json(result: Result, status_code: int = 200) -> JSONResponse:
    """A service result as the JSON the CLI's ``--json`` prints (times with their offset)."""
    return JSONResponse(result.as_json(), status_code=status_code)
