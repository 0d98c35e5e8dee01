"""``orgplane serve`` (the HTTP API) and ``orgplane token create|list|revoke`` (its seat tokens).

Exit codes: 0 ok; 2 bad input (an unknown seat or token prefix, a port in use, a broken org).
"""

from __future__ import annotations

import typer

from orgplane.surfaces.cli import app

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")

token_app = typer.Typer(
    help="Seat tokens for the HTTP API: create one (shown once), list them, revoke one.",
    no_args_is_help=True,
)
app.add_typer(token_app, name="token")


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8077, "--port", min=0, max=65535, help="Port to listen on."),
    public_read: bool = typer.Option(
        False, "--public-read", help="Let reads through without a token (writes still need one)."
    ),
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, Prometheus at /metrics) until Ctrl-C."""
    from orgplane.service.tokens import list_tokens
    from orgplane.surfaces.cli.output import console, err_console, esc
    from orgplane.surfaces.http.serve import run

    session = ctx.obj
    active = [t for t in list_tokens(session).tokens if not t.revoked]
    where = f"http://{host}:{port}"
    console().print(f"orgplane API at {esc(where)}/api (OpenAPI at {esc(where)}/openapi.json)")
    if not active and not public_read:
        err_console().print(
            "no seat has a token yet: create one with "
            + esc(session.command("token", "create", "SEAT")),
            soft_wrap=True,
        )
    run(session.org_path, session.db, host=host, port=port, public_read=public_read)


@token_app.command("create")
def create(
    ctx: typer.Context,
    seat: str = typer.Argument(..., help="The seat the token acts as."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a token for SEAT and print it once (only its hash is kept)."""
    from orgplane.service.tokens import create_token
    from orgplane.surfaces.cli.output import console, emit_json, err_console, esc

    made = create_token(ctx.obj, seat)
    if as_json:
        emit_json(made)
        return
    console().print(made.token, markup=False, highlight=False)
    err_console().print(
        f"token {esc(made.prefix)} for seat {esc(made.seat)}: shown once, store it now "
        f"(revoke with {esc(ctx.obj.command('token', 'revoke', made.prefix))})",
        soft_wrap=True,
    )


@token_app.command("list")
def list_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Every token: seat, prefix, created, last used, revoked (never the token itself)."""
    from rich.table import Table

    from orgplane.service.tokens import list_tokens
    from orgplane.surfaces.cli.output import console, emit_json, esc

    found = list_tokens(ctx.obj)
    if as_json:
        emit_json(found)
        return
    if not found.tokens:
        console().print(
            "no tokens; create one with " + esc(ctx.obj.command("token", "create", "SEAT"))
        )
        return
    table = Table(box=None, pad_edge=False)
    for header in ("prefix", "seat", "created (UTC)", "last used (UTC)", "revoked (UTC)"):
        table.add_column(header, no_wrap=True)
    stamp = "%Y-%m-%d %H:%M"
    for t in found.tokens:
        table.add_row(
            esc(t.prefix),
            esc(t.seat),
            t.created_at.strftime(stamp),
            t.last_used_at.strftime(stamp) if t.last_used_at else "-",
            t.revoked_at.strftime(stamp) if t.revoked_at else "-",
        )
    console().print(table)


@token_app.command("revoke")
def revoke(
    ctx: typer.Context,
    prefix: str = typer.Argument(..., help="The token's prefix (see 'token list')."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Revoke the token with PREFIX: requests carrying it are refused from now on."""
    from orgplane.service.tokens import revoke_token
    from orgplane.surfaces.cli.output import console, emit_json, esc

    done = revoke_token(ctx.obj, prefix)
    if as_json:
        emit_json(done)
        return
    console().print(f"token {esc(done.prefix)} of seat {esc(done.seat)} revoked")
