"""Running the ``orgplane`` command line as a user would: in-process by default, through the
same entry point (``main``) and error mapping; in a real subprocess where that is the point."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from orgplane.surfaces.cli import main


def _clean_env(env: dict[str, str] | None) -> dict[str, str | None]:
    # ORGPLANE_* of the test runner's environment are dropped: each test says what it uses.
    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith("ORGPLANE_")}
    overrides["COLUMNS"] = "200"
    overrides.update(env or {})
    return overrides


def orgplane(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | bytes | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``orgplane ARGS`` in this process through :func:`orgplane.surfaces.cli.main`.

    ``timeout`` is accepted for the subprocess variant's sake and not enforced in-process.
    """
    runner = CliRunner()
    code = 0
    with contextlib.ExitStack() as stack:
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        out, err, _ = stack.enter_context(runner.isolation(input=input, env=_clean_env(env)))
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
        stdout = out.getvalue().decode()
        stderr = err.getvalue().decode()
    return subprocess.CompletedProcess(["orgplane", *args], code, stdout, stderr)


def orgplane_process(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m orgplane ARGS`` in a real subprocess."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ORGPLANE_")}
    clean.update(env or {})
    clean["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "orgplane", *args],
        cwd=cwd,
        env=clean,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
