"""Every command the CLI offers is documented in the README's command table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from orgplane.surfaces.cli import app

README = (Path(__file__).parents[2] / "README.md").read_text()


def command_paths(command: Any, prefix: str = "") -> list[str]:
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        return [prefix.strip()]
    paths: list[str] = []
    for name, sub in subcommands.items():
        if getattr(sub, "hidden", False):
            continue
        paths.extend(command_paths(sub, f"{prefix} {name}"))
    return paths


def test_every_command_is_in_the_readme() -> None:
    paths = command_paths(typer.main.get_command(app))
    assert "validate" in paths and "chart" in paths
    missing = [p for p in paths if f"| `{p}" not in README]
    assert missing == [], f"document these commands in README.md's command table: {missing}"


def test_readme_gives_the_two_setup_commands() -> None:
    head = README[: README.index("## What orgplane is")]
    assert "make demo" in head and "make test" in head
