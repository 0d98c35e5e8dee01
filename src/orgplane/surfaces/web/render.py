"""Jinja2 for the dashboard: autoescape on for every value, a misspelt name an error.

Every value that reaches a page (seat titles, holder names, reasons, notes) comes from outside
and is escaped; the SVG of the chart is drawn by the template too, so it is escaped the same
way. Links are built with the request's ``url_for`` so the router works mounted anywhere.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("orgplane.surfaces.web", "templates"),
        autoescape=True,  # whatever the template's name: .j2 is not a known HTML suffix
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["stamp"] = _stamp
    env.filters["number"] = _number
    return env


def _stamp(value: datetime | None) -> str:
    """``2026-06-21 07:00 UTC``: minutes are what a person reads on a dashboard."""
    if value is None:
        return "never"
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _number(value: float | None) -> str:
    return "none" if value is None else f"{value:g}"


def render(template: str, *, request: Request, **context: Any) -> str:
    """``template`` rendered with ``context``, ``request`` and ``url(name, **params)`` (the
    path of a named route)."""

    def url(name: str, **params: Any) -> str:
        return request.url_for(name, **{k: str(v) for k, v in params.items()}).path

    return _environment().get_template(template).render(request=request, url=url, **context)
