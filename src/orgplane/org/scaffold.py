"""Writing a new org folder from a shipped example."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from orgplane.errors import UsageError

EXAMPLES = resources.files("orgplane") / "examples"


def example_names() -> list[str]:
    return sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and not p.name.startswith("_"))


def write_example(target: Path, name: str = "agency", *, force: bool = False) -> Path:
    """Copy example ``name`` into ``target``; return the org file. Never overwrites unless forced."""
    if name not in example_names():
        raise UsageError(
            f"--example {name!r} does not exist; choose one of: {', '.join(example_names())}"
        )
    org_file = target / "org.yaml"
    if org_file.exists() and not force:
        raise UsageError(
            f"{org_file} already exists; pick another folder or pass --force to overwrite"
        )
    target.mkdir(parents=True, exist_ok=True)
    with resources.as_file(EXAMPLES / name) as source:
        shutil.copytree(
            source,
            target,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.db*"),
        )
    return org_file
