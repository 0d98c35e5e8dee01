"""The coverage gate command: ``gate SEAT``. Thin: every rule lives in
:mod:`orgplane.service.gate`."""

from __future__ import annotations

import typer

from orgplane.surfaces.cli import app
from orgplane.surfaces.cli.errors import EXIT_FINDINGS

_COLOURS = {"content": "green", "last_good": "yellow", "nothing": "yellow", "refused": "red"}


@app.command()
def gate(
    ctx: typer.Context,
    seat: str = typer.Argument(..., help="The consuming seat whose inputs to gate."),
    as_json: bool = typer.Option(
        False, "--json", help="Print JSON (with each input's content) instead of a table."
    ),
) -> None:
    """What SEAT may read now: each input's status and its protocol applied (fresh content,
    last good content with its age, nothing and a flag, or a refusal). Every answer is stored.
    Exit 1 if an input is refused (block, escalate)."""
    from rich.table import Table

    from orgplane.service.gate import gate as gate_seat
    from orgplane.surfaces.cli.output import console, emit_json, esc

    result = gate_seat(ctx.obj, seat)
    if as_json:
        emit_json(result)
    else:
        table = Table(show_lines=False, pad_edge=False)
        for column in ("input", "status", "given", "age", "why"):
            table.add_column(column, overflow="fold")
        for item in result.inputs:
            colour = _COLOURS[item.given]
            table.add_row(
                esc(item.output),
                esc(item.status),
                f"[{colour}]{esc(item.given)}[/{colour}]",
                esc(item.age or ""),
                esc(item.reason),
            )
        console().print(table)
        if result.ok:
            console().print("[green]nothing refused[/green] (--json gives the content)")
        else:
            console().print(f"[red]refused: {esc(', '.join(result.refused))}[/red]")
    if not result.ok:
        raise typer.Exit(EXIT_FINDINGS)
