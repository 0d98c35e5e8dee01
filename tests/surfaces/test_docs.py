"""The README's command table and the CLI agree both ways: every command the CLI offers is in
the table, and every command and flag the table names exists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from orgplane.surfaces.cli import app

README = (Path(__file__).parents[2] / "README.md").read_text()
ROOT = typer.main.get_command(app)


def command_paths(command: Any, prefix: str = "") -> list[str]:
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        return [prefix.strip()]
    # A group that runs a default command (``queue [SEAT]`` beside ``queue resolve``) is a
    # command itself: its default's arguments and flags are its own.
    paths: list[str] = [prefix.strip()] if getattr(command, "default_command", None) else []
    for name, sub in subcommands.items():
        if getattr(sub, "hidden", False):
            continue
        paths.extend(command_paths(sub, f"{prefix} {name}"))
    return paths


def table_rows() -> list[str]:
    """The first cell of each row of the README's command table."""
    section = README[README.index("## Commands") :]
    section = section[: section.index("\n## ", 3)]
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.M)


def split_row(cell: str) -> tuple[str, set[str]]:
    """The command path a row documents and the flags it names."""
    words = []
    for word in cell.split():
        if not re.fullmatch(r"[a-z][a-z-]*", word):
            break
        words.append(word)
    return " ".join(words), set(re.findall(r"--[a-z][a-z-]*", cell))


def command_at(root: Any, path: str) -> Any:
    """The command ``path`` names (a group with a default command: that default)."""
    command: Any = root
    for word in path.split():
        command = command.commands[word]
    default = getattr(command, "default_command", None)
    return command.commands[default] if default else command


def options_of(path: str) -> set[str]:
    command = command_at(ROOT, path)
    return {
        opt
        for param in command.params
        for opt in [*param.opts, *param.secondary_opts]  # --no-send beside --send
        if opt.startswith("--")
    }


def test_every_command_is_in_the_readme() -> None:
    paths = command_paths(ROOT)
    assert "validate" in paths and "chart" in paths
    documented = {split_row(cell)[0] for cell in table_rows()}
    missing = [p for p in paths if p not in documented]
    assert missing == [], f"document these commands in README.md's command table: {missing}"


def test_every_documented_command_and_flag_exists() -> None:
    paths = set(command_paths(ROOT))
    rows = table_rows()
    assert len(rows) >= len(paths)
    for cell in rows:
        path, flags = split_row(cell)
        assert path in paths, f"README documents 'orgplane {path}', which does not exist"
        unknown = flags - options_of(path) - {"--help"}
        assert not unknown, f"README's 'orgplane {path}' names flags it lacks: {sorted(unknown)}"


def test_the_global_options_are_documented() -> None:
    line = re.search(r"`orgplane (\[--[^`]+) COMMAND`", README)
    assert line is not None
    documented = set(re.findall(r"--[a-z-]+", line.group(1)))
    assert documented == {opt for p in ROOT.params for opt in p.opts if opt.startswith("--")}


def test_readme_gives_the_two_setup_commands() -> None:
    head = README[: README.index("## What orgplane is")]
    assert "make demo" in head and "make test" in head
