"""The web dashboard: server-rendered pages over the service layer (docs/dashboard.md).

``router(session_factory, *, reader=..., actor=...)`` gives the FastAPI router of every page;
``orgplane serve`` mounts it at ``/``.
"""

from orgplane.surfaces.web.routes import router

__all__ = ["router"]
