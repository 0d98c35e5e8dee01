"""Use case: what a writer may send before it sends it (the HTTP API refuses oversized content
unread, so it must know the limit, and who may publish, before it reads a body)."""

from __future__ import annotations

from orgplane.service.models import Result
from orgplane.service.permissions import require_own
from orgplane.service.session import Session


class PublishLimit(Result):
    """The most bytes ``output`` accepts in one publish (its ``max_bytes``)."""

    output: str
    max_bytes: int


def publish_limit(session: Session, output_id: str, *, actor: str | None = None) -> PublishLimit:
    """The size limit of ``output_id`` for ``actor``: NotFoundError for an undeclared output,
    PermissionDenied when ``actor`` is not its producer (checked before any content is read)."""
    from orgplane.org.lookup import find_declared

    org = session.org()
    declared = find_declared(org.outputs, "output", output_id)
    require_own(org, actor, declared.producer, f"output {output_id}")
    return PublishLimit(output=output_id, max_bytes=declared.max_bytes)
