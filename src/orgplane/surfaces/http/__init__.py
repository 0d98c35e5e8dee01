"""The HTTP API of ``orgplane serve``: FastAPI routes over the service layer, seat tokens,
``/metrics``. :func:`create_app` makes the one app; see :mod:`orgplane.surfaces.http.app` for
the hooks the MCP server and the dashboard plug into."""

from __future__ import annotations

from orgplane.surfaces.http.app import create_app

__all__ = ["create_app"]
