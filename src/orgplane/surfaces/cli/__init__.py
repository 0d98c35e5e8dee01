"""The ``orgplane`` command line: ``orgplane [--org PATH] [--db URL] [--debug] COMMAND``.

Thin by design: each command parses its arguments, calls one function of
:mod:`orgplane.service`, and renders the result (a table for people, ``--json`` for programs).
Commands live in one module per concern and register themselves on :data:`app`; those modules
import the service and Rich inside the commands, so ``--help`` loads neither.
Errors become one line and an exit code in :mod:`orgplane.surfaces.cli.errors`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from orgplane.service.session import Session

app = typer.Typer(
    name="orgplane",
    help="The operating platform for organisations whose staff is people and AI agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help text is printed verbatim: "[env: ...]" stays
)


@app.callback()
def global_options(
    ctx: typer.Context,
    org: Path | None = typer.Option(
        None,
        "--org",
        help="The org file. [env: ORGPLANE_ORG; default ./org.yaml]",
        show_default=False,
    ),
    db: str | None = typer.Option(
        None,
        "--db",
        help="Database URL (sqlite:///… or postgresql://…). [env: ORGPLANE_DB; default SQLite beside the org file]",
        show_default=False,
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
) -> None:
    ctx.obj = Session.open(org, db)
    ctx.call_on_close(ctx.obj.close)


def _register() -> None:
    # Imported for their side effect of adding commands to `app`.
    from orgplane.surfaces.cli import (  # noqa: F401
        audit_commands,
        brief_commands,
        decision_commands,
        delegation_commands,
        demo,
        drill_commands,
        gate_commands,
        handoff_commands,
        hearing_commands,
        incident_commands,
        mcp_commands,
        notification_commands,
        org_commands,
        run_commands,
        serve_commands,
        watch_commands,
    )


_register()


def _check_text(args: list[str]) -> None:
    """Refuse an argument that is not text (bytes the locale could not decode, a lone surrogate):
    nothing downstream could store or print it faithfully."""
    from orgplane.errors import UsageError

    for position, arg in enumerate(args, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "backslashreplace").decode("ascii", "replace")
            raise UsageError(
                f"argument {position} ({shown}) is not valid UTF-8 text; pass text in UTF-8"
            ) from None


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning every error into one line and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        _check_text(args)
        # Not standalone: usage errors come out as exceptions too, so they get our one line.
        code = app(args=args, prog_name="orgplane", standalone_mode=False)
    except BaseException as exc:
        if debug and not isinstance(exc, SystemExit):
            raise
        from orgplane.surfaces.cli.errors import report

        sys.exit(report(exc))
    sys.exit(code if isinstance(code, int) else 0)
