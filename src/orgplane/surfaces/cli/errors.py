"""How the CLI turns errors into output and exit codes: the one place that maps them.

Exit codes: 0 ok, 1 findings (something stale, failed, waiting for a person), 2 bad input or
usage (org file, argument, store URL, a store that cannot be used), 70 a bug of ours (a one-line
report; ``--debug`` shows the traceback), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

from orgplane.errors import OrgFileError, OrgplaneError, RunError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_BUG = 70
EXIT_INTERRUPTED = 130


def exit_code_for(exc: BaseException) -> int:
    """The exit code of an error met by a command."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, RunError):
        return EXIT_FINDINGS
    if isinstance(exc, OrgplaneError):
        return EXIT_USAGE
    return EXIT_BUG


def report(exc: BaseException) -> int:
    """Print ``exc`` for a person (one line per problem, never a traceback); its exit code."""
    from orgplane.surfaces.cli.output import err_console, error_line

    if isinstance(exc, OrgFileError):
        for problem in exc.problems:
            err_console().print(str(problem), soft_wrap=True, markup=False)
        count = len(exc.problems)
        err_console().print(
            f"[red]{count} problem{'s' if count != 1 else ''}[/red] in the org file"
        )
    elif isinstance(exc, OrgplaneError):
        error_line(str(exc))
    elif not isinstance(exc, KeyboardInterrupt):
        error_line(
            f"unexpected {type(exc).__name__}: {exc} (run again with --debug for the traceback)"
        )
    return exit_code_for(exc)
