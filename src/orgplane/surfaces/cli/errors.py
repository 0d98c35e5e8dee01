"""How the CLI turns orgplane's errors into output and exit codes: the one place that maps them.

Exit codes: 0 ok, 1 findings, 2 bad input or usage (org file, argument, store URL, store that
cannot be used), 70 a bug of ours, 130 interrupted.
"""

from __future__ import annotations

from orgplane.errors import OrgplaneError, RunError, UsageError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_BUG = 70
EXIT_INTERRUPTED = 130


def exit_code_for(exc: OrgplaneError) -> int:
    """The exit code of an orgplane error: every error orgplane raises on purpose is bad input or
    a store that cannot be used (2), except a run that cannot go on, which is a finding (1)."""
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    if isinstance(exc, RunError):
        return EXIT_FINDINGS
    return EXIT_USAGE
