"""The dashboard's pages: a FastAPI router that parses, calls the service, renders a template.

``router(session_factory, reader=..., actor=...)`` is the whole dashboard. ``orgplane serve``
mounts it at ``/`` and injects its authentication as two FastAPI dependencies: ``reader``
runs before every page (raise ``HTTPException`` to refuse; its return value is ignored) and
``actor`` gives the seat a write acts as (``None``: the local operator). Both default to
allowing everything, for a dashboard served to its own operator and for the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from orgplane.errors import OrgplaneError, UsageError
from orgplane.service.session import Session
from orgplane.surfaces.web.errors import message_lines, status_for
from orgplane.surfaces.web.render import render

REFRESH_SECONDS = 30
"""How often a page reloads itself (a meta refresh: no script)."""

FORM_BYTES = 4096
"""The most a form post may carry; a note longer than that is refused unread."""


def allow_all() -> None:
    """The default ``reader``: every request may read."""


def local_operator() -> str | None:
    """The default ``actor``: writes act as the local operator (``None``), who may do all."""
    return None


def router(
    session_factory: Callable[[], Session],
    *,
    reader: Callable[..., Any] = allow_all,
    actor: Callable[..., str | None] = local_operator,
    refresh: int = REFRESH_SECONDS,
) -> APIRouter:
    """The dashboard's routes. ``session_factory()`` gives a new :class:`Session` for each
    request (the router closes it afterwards); ``reader`` and ``actor`` are FastAPI
    dependencies (they may take ``Request`` and any other dependency) as described in the
    module. Route names start with ``web_`` so the app can hold other routers."""
    pages = APIRouter(dependencies=[Depends(reader)], default_response_class=HTMLResponse)

    def session() -> Iterator[Session]:
        opened = session_factory()
        try:
            yield opened
        finally:
            opened.close()

    def page(
        request: Request, template: str, build: Callable[[], dict[str, Any]], **extra: Any
    ) -> HTMLResponse:
        """Render ``template`` with what ``build`` returns; an orgplane error becomes a page
        with the error's status and message, never a 500."""
        try:
            context = build()
        except OrgplaneError as exc:
            return _error_page(request, exc, refresh)
        return HTMLResponse(render(template, request=request, refresh=refresh, **context, **extra))

    @pages.get("/", name="web_chart")
    def chart_page(request: Request, s: Session = Depends(session)) -> HTMLResponse:
        from orgplane.service.health import seat_health
        from orgplane.service.org import chart
        from orgplane.surfaces.web.picture import picture

        def build() -> dict[str, Any]:
            drawn, health = chart(s), seat_health(s)
            return {"chart": drawn, "health": health, "picture": picture(drawn, health)}

        return page(request, "chart.html.j2", build)

    @pages.get("/seats/{seat_id}", name="web_seat")
    def seat_page(request: Request, seat_id: str, s: Session = Depends(session)) -> HTMLResponse:
        from orgplane.service.health import show_seat

        return page(request, "seat.html.j2", lambda: {"seat": show_seat(s, seat_id)})

    @pages.get("/runs", name="web_runs")
    def runs_page(request: Request, s: Session = Depends(session)) -> HTMLResponse:
        from orgplane.service.runs import list_runs

        return page(request, "runs.html.j2", lambda: {"runs": list_runs(s)})

    @pages.get("/runs/{run_id:path}", name="web_run")
    def run_page(request: Request, run_id: str, s: Session = Depends(session)) -> HTMLResponse:
        from orgplane.service.runs import run_status

        return page(request, "run.html.j2", lambda: {"run": run_status(s, run_id)})

    @pages.get("/checks", name="web_checks")
    def checks_page(request: Request, s: Session = Depends(session)) -> HTMLResponse:
        from orgplane.service.health import current_findings

        return page(request, "checks.html.j2", lambda: {"report": current_findings(s)})

    @pages.get("/scorecard", name="web_scorecard")
    def scorecard_page(request: Request, s: Session = Depends(session)) -> HTMLResponse:
        from orgplane.service.watch import scorecard

        return page(request, "scorecard.html.j2", lambda: {"card": scorecard(s)})

    @pages.get("/decisions", name="web_decisions")
    def decisions_page(
        request: Request, acked: int | None = None, s: Session = Depends(session)
    ) -> HTMLResponse:
        from orgplane.service.decisions import list_decisions

        return page(
            request,
            "decisions.html.j2",
            lambda: {"decisions": list_decisions(s), "acked": acked, "denied": None},
        )

    @pages.post("/decisions/{decision_id}/ack", name="web_ack", response_model=None)
    async def ack(
        request: Request,
        decision_id: int,
        s: Session = Depends(session),
        seat: str | None = Depends(actor),
    ) -> Response:
        from orgplane.service.decisions import ack_decision, list_decisions

        try:
            _same_origin(request)
            note = await _note(request)
            await run_in_threadpool(ack_decision, s, decision_id, note, actor=seat)
        except OrgplaneError as refused:
            # Shown on the decisions page itself, so the person sees what stays to be done.
            try:
                listed = await run_in_threadpool(list_decisions, s)
            except OrgplaneError as exc:
                return _error_page(request, exc, refresh)
            body = render(
                "decisions.html.j2",
                request=request,
                refresh=0,
                decisions=listed,
                acked=None,
                denied=str(refused),
            )
            return HTMLResponse(body, status_code=status_for(refused))
        target = request.url_for("web_decisions").include_query_params(acked=decision_id)
        return RedirectResponse(str(target.path) + "?" + target.query, status_code=303)

    @pages.get("/briefings", name="web_briefings")
    def briefings_page(request: Request, s: Session = Depends(session)) -> HTMLResponse:
        from orgplane.service.briefing import briefing_seats

        return page(request, "briefings.html.j2", lambda: {"readers": briefing_seats(s).seats})

    @pages.get("/briefings/{seat_id}", name="web_briefing")
    def briefing_page(
        request: Request, seat_id: str, s: Session = Depends(session)
    ) -> HTMLResponse:
        from orgplane.service.briefing import compile_briefing
        from orgplane.surfaces.briefing.html import render_html

        try:
            html = render_html(compile_briefing(s, seat_id))
        except OrgplaneError as exc:
            return _error_page(request, exc, refresh)
        # The briefing is one self-contained page; only a reload and a way back are added.
        back = request.url_for("web_chart").path
        head = (
            f'<head>\n<meta http-equiv="refresh" content="{int(refresh)}">' if refresh else "<head>"
        )
        nav = f'<body>\n<p><a href="{back}">← orgplane dashboard</a></p>'
        return HTMLResponse(html.replace("<head>", head, 1).replace("<body>", nav, 1))

    return pages


def _error_page(request: Request, exc: OrgplaneError, refresh: int) -> HTMLResponse:
    body = render(
        "error.html.j2",
        request=request,
        refresh=refresh,
        status=status_for(exc),
        lines=message_lines(exc),
    )
    return HTMLResponse(body, status_code=status_for(exc))


def _same_origin(request: Request) -> None:
    """Refuse a form posted from another site (a browser names the page's origin): a cookie
    or a remembered login must not let a foreign page acknowledge a decision."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return
    expected = urlsplit(str(request.base_url))
    given = urlsplit(origin)
    if (given.scheme, given.netloc) != (expected.scheme, expected.netloc):
        raise UsageError(
            f"the acknowledgement came from {origin}, not from this dashboard; "
            "acknowledge it from the dashboard's own decisions page"
        )


async def _note(request: Request) -> str | None:
    """The ``note`` of an acknowledgement form (url-encoded), refused past :data:`FORM_BYTES`."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > FORM_BYTES:
        raise UsageError(f"the form is over {FORM_BYTES} bytes; shorten the note")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_BYTES:
            raise UsageError(f"the form is over {FORM_BYTES} bytes; shorten the note")
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        raise UsageError("the form is not url-encoded UTF-8; post it from the page") from None
    note = (fields.get("note") or [""])[0].strip()
    return note or None
