"""How the HTTP API turns errors into responses: the one place that maps them to statuses.

NotFoundError 404, PermissionDenied 403, any other UsageError 400, a request the schema refuses
422, StoreError and a broken org file 503 (the server's state, not the request's), RunError 409:
the statuses of ``surfaces/web/errors.status_for``, so the API and the dashboard agree.
Every error body is ``{"error": TYPE, "message": ONE LINE}``; a bug of ours is a 500 with a
line that says so, never a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from orgplane.errors import OrgFileError, OrgplaneError

log = logging.getLogger("orgplane.http")


KINDS = {400: "bad_request", 403: "forbidden", 404: "not_found", 409: "conflict"}


def status_for(exc: OrgplaneError) -> tuple[int, str]:
    """The HTTP status of an orgplane error (the dashboard's mapping, so both surfaces answer
    one error alike) and the API's name for it."""
    from orgplane.surfaces.web.errors import status_for as web_status

    status = web_status(exc)
    if status == 503:
        return 503, "org_file" if isinstance(exc, OrgFileError) else "store_unavailable"
    return status, KINDS.get(status, "bad_request")


def error_response(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one shape of every error the API returns."""
    return JSONResponse({"error": kind, "message": message}, status_code=status, headers=headers)


def _one_line(exc: OrgplaneError) -> str:
    if isinstance(exc, OrgFileError):
        first = str(exc.problems[0]) if exc.problems else "unknown problem"
        more = len(exc.problems) - 1
        return (
            f"the org file has problems: {first}"
            + (f" (and {more} more)" if more else "")
            + "; fix it ('orgplane validate' lists them)"
        )
    return " ".join(str(exc).split())


def _validation_message(exc: RequestValidationError) -> str:
    problems = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    more = len(exc.errors()) - 3
    tail = f" (and {more} more)" if more > 0 else ""
    return "; ".join(problems) + tail + "; see /openapi.json for the request's shape"


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(OrgplaneError)
    async def orgplane_error(_request: Request, exc: OrgplaneError) -> JSONResponse:
        status, kind = status_for(exc)
        return error_response(status, kind, _one_line(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_request", _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers: dict[str, Any] | None = getattr(exc, "headers", None)
        kind = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return error_response(exc.status_code, kind, str(exc.detail), headers)

    @app.exception_handler(Exception)
    async def bug(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_response(
            500, "internal", f"unexpected {type(exc).__name__}: a bug in orgplane; see its log"
        )
