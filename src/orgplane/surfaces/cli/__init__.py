"""The ``orgplane`` command line: ``orgplane [--org PATH] [--db URL] [--debug] COMMAND``.

Exit codes: 0 ok, 1 findings (something stale, failed, unhandled), 2 bad input or usage.
Commands live in one module per concern and register themselves on :data:`app`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from orgplane.errors import OrgFileError, OrgplaneError
from orgplane.surfaces.cli.context import CliContext
from orgplane.surfaces.cli.errors import EXIT_BUG, EXIT_INTERRUPTED, exit_code_for
from orgplane.surfaces.cli.output import err_console, error_line

app = typer.Typer(
    name="orgplane",
    help="The operating platform for organisations whose staff is people and AI agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
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
    ctx.obj = CliContext.from_options(org, db, debug)
    ctx.call_on_close(ctx.obj.close)


def _register() -> None:
    # Imported for their side effect of adding commands to `app`.
    from orgplane.surfaces.cli import (  # noqa: F401
        audit_commands,
        demo,
        org_commands,
        run_commands,
        watch_commands,
    )


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning orgplane errors into one line and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        # Typer handles usage errors itself (exit 2); our own errors come out of it.
        app(args=args, prog_name="orgplane")
    except OrgFileError as exc:
        if debug:
            raise
        for problem in exc.problems:
            err_console.print(str(problem), soft_wrap=True, markup=False)
        count = len(exc.problems)
        err_console.print(f"[red]{count} problem{'s' if count != 1 else ''}[/red] in the org file")
        sys.exit(exit_code_for(exc))
    except OrgplaneError as exc:
        if debug:
            raise
        error_line(str(exc))
        sys.exit(exit_code_for(exc))
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # a bug of ours: one line unless --debug
        if debug:
            raise
        error_line(
            f"unexpected {type(exc).__name__}: {exc} (run again with --debug for the traceback)"
        )
        sys.exit(EXIT_BUG)
