"""The package's front door: its docstring example runs as written, and it imports lazily."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import orgplane
from orgplane.org.scaffold import write_example


def docstring_example() -> str:
    assert orgplane.__doc__ is not None
    block = orgplane.__doc__.split("::\n", 1)[1]
    lines = [line for line in block.splitlines() if line.startswith("    ") or not line.strip()]
    code = []
    for line in lines:
        if not line.strip() and code and not code[-1].strip() and len(code) > 2:
            break
        code.append(line[4:])
    return "\n".join(code).strip() + "\n"


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ORGPLANE_")}


def test_the_docstring_example_runs_as_written(tmp_path: Path) -> None:
    write_example(tmp_path)
    code = docstring_example()
    assert "load_org" in code and "open_store" in code
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"Sneeze It \d+ seats\n", done.stdout)
    assert (tmp_path / "orgplane.db").exists()


def test_every_public_name_resolves() -> None:
    for name in orgplane.__all__:
        assert getattr(orgplane, name).__name__ == name


def test_reading_the_org_does_not_import_the_store_or_ruamel() -> None:
    probe = (
        "import sys; from orgplane.org.loader import load_org; "
        f"load_org({str(Path(orgplane.__file__).parent / 'examples/agency/org.yaml')!r}); "
        "print(sorted(m for m in ('sqlalchemy', 'ruamel.yaml', 'alembic') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
