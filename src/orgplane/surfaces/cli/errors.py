"""How the CLI turns errors into output and exit codes: the one place that maps them.

Exit codes: 0 ok, 1 findings (something stale, failed, waiting for a person), 2 bad input or
usage (org file, argument, store URL, a store that cannot be used), 70 a bug of ours (a one-line
report; ``--debug`` shows the traceback), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

from typer import Abort

# Typer (0.29 and later) carries its own copy of Click; its exceptions are not re-exported.
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer._click.exceptions import UsageError as ClickUsageError

from orgplane.errors import OrgFileError, OrgplaneError, RunError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_BUG = 70
EXIT_INTERRUPTED = 130


def exit_code_for(exc: BaseException) -> int:
    """The exit code of an error met by a command."""
    if isinstance(exc, SystemExit):
        return (
            exc.code if isinstance(exc.code, int) else EXIT_OK if exc.code is None else EXIT_USAGE
        )
    if isinstance(exc, KeyboardInterrupt | Abort):
        return EXIT_INTERRUPTED
    if isinstance(exc, ClickException):
        return exc.exit_code
    if isinstance(exc, RunError):
        return EXIT_FINDINGS
    if isinstance(exc, OrgplaneError):
        return EXIT_USAGE
    return EXIT_BUG


def report(exc: BaseException) -> int:
    """Print ``exc`` for a person (one line per problem, never a traceback); its exit code."""
    from orgplane.surfaces.cli.output import err_console, error_line

    if isinstance(exc, NoArgsIsHelpError):
        exc.show()  # the help, as a bare ``orgplane`` asks for
    elif isinstance(exc, ClickUsageError):
        where = exc.ctx.command_path if exc.ctx is not None else "orgplane"
        error_line(f"{where}: {exc.format_message().rstrip('.')}; see '{where} --help'")
    elif isinstance(exc, ClickException):
        error_line(exc.format_message())
    elif isinstance(exc, OrgFileError):
        for problem in exc.problems:
            err_console().print(str(problem), soft_wrap=True, markup=False)
        count = len(exc.problems)
        err_console().print(
            f"[red]{count} problem{'s' if count != 1 else ''}[/red] in the org file"
        )
    elif isinstance(exc, OrgplaneError):
        error_line(str(exc))
    elif not isinstance(exc, SystemExit | KeyboardInterrupt | Abort):
        error_line(
            f"unexpected {type(exc).__name__}: {exc} (run again with --debug for the traceback)"
        )
    return exit_code_for(exc)
