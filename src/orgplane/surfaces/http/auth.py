"""Who a request acts as: the seat of its bearer token (``Authorization: Bearer orgplane_…``).

Reads need any valid token unless the app was made with ``public_read``; writes always need
one, and act as its seat through the service's ``actor=`` (the service decides what that seat
may write). A token that is given but unknown or revoked is refused even for public reads, so
a client learns at once that its token stopped working.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from orgplane.service.session import Session

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="orgplane"'}


def seat_for_token(session: Session, token: str) -> str | None:
    """The seat ``token`` acts as, or None (malformed, unknown, revoked, seat retired).
    The MCP server's streamable HTTP app resolves its requests' tokens through this too."""
    from orgplane.service.tokens import seat_for_token as resolve

    return resolve(session, token)


COOKIE = "orgplane_token"
"""The cookie a browser signed in to the dashboard carries its token in (HttpOnly, SameSite
Strict: never sent by another site's page, so it cannot be used to forge a write)."""


def bearer_token(request: Request) -> str | None:
    """The token of ``Authorization: Bearer …``, else of the dashboard's sign-in cookie; None
    when there is neither; 401 for an Authorization header of another scheme."""
    header = request.headers.get("authorization")
    if header is None:
        return request.cookies.get(COOKIE) or None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            401,
            "Authorization must be 'Bearer <token>'; create one with 'orgplane token create SEAT'",
            headers=CHALLENGE,
        )
    return token.strip()


def resolve_seat(session: Session, request: Request, *, required: bool) -> str | None:
    """The acting seat of ``request``: None for an anonymous read when ``required`` is False;
    401 for a missing (when required), unknown or revoked token."""
    token = bearer_token(request)
    if token is None:
        if not required:
            return None
        raise HTTPException(
            401,
            "this needs a seat's token: send 'Authorization: Bearer <token>', or sign in at "
            "/signin in a browser (create one with 'orgplane token create SEAT')",
            headers=CHALLENGE,
        )
    seat = seat_for_token(session, token)
    if seat is None:
        raise HTTPException(
            401,
            "the token is unknown, revoked or its seat retired; "
            "see 'orgplane token list' and create a new one",
            headers=CHALLENGE,
        )
    return seat
