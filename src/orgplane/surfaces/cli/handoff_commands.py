"""``queue`` commands: the hand-offs waiting for a person, and resolving one.

``orgplane queue [SEAT]`` lists; ``orgplane queue resolve ID ...`` resolves. The group runs its
listing when the first word is not a subcommand, so a seat's id reads as the argument.
"""

from __future__ import annotations

from typing import Any

import typer
from typer._click.core import Context  # typer vendors click; its Context is this one
from typer.core import TyperGroup

from orgplane.surfaces.cli import app
from orgplane.surfaces.cli.errors import EXIT_FINDINGS


class ListByDefault(TyperGroup):
    """A group whose first word, when it names no subcommand, goes to ``default_command``."""

    default_command = "list"

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


queue_app = typer.Typer(
    cls=ListByDefault,
    help="Hand-offs waiting for a person: 'queue [SEAT] [--json]' lists a seat's queue (every "
    "seat's without SEAT), oldest first; 'queue resolve ID' closes an item.",
)
app.add_typer(queue_app, name="queue")


@queue_app.command("list", hidden=True)
def list_queue(
    ctx: typer.Context,
    seat: str | None = typer.Argument(None, metavar="[SEAT]", help="A human seat [default: all]."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """The open hand-offs of SEAT (every seat's without it), oldest first; exit 1 when one is
    overdue."""
    from rich.table import Table

    from orgplane.service.handoffs import queue
    from orgplane.surfaces.cli.output import console, emit_json, esc

    view = queue(ctx.obj, seat)
    if as_json:
        emit_json(view)
    elif not view.items:
        console().print(f"nothing waits for {esc(seat or 'anyone')}")
    else:
        table = Table(show_lines=False)
        for column in ("id", "seat", "run", "record", "stage", "reason", "age"):
            table.add_column(column, overflow="fold")
        for item in view.items:
            age = f"[red]{esc(item.age)} overdue[/red]" if item.overdue else esc(item.age)
            table.add_row(
                str(item.id),
                esc(item.seat),
                esc(item.run_id),
                esc(item.record),
                esc(item.stage),
                esc(item.reason),
                age,
            )
        console().print(table)
        first = view.items[0]
        hint = first.resolve.replace(f" resolve {first.id} ", " resolve ID ")
        console().print(f"resolve one with '{esc(hint)}'", soft_wrap=True)
    if view.overdue:
        raise typer.Exit(EXIT_FINDINGS)


@queue_app.command("resolve")
def resolve(
    ctx: typer.Context,
    handoff_id: int = typer.Argument(..., metavar="ID", help="The hand-off's id (see 'queue')."),
    outcome: str = typer.Option(
        ..., "--outcome", metavar="done|return", help="done: finished; return: back to its run."
    ),
    output: str | None = typer.Option(
        None, "--output", metavar="JSON", help="The person's output (the next stage's input)."
    ),
    note: str | None = typer.Option(None, "--note", metavar="TEXT", help="What the person did."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Close a hand-off: done (the person finished the record) or return (the record goes back
    into its run at the next stage, --output as that stage's input)."""
    from orgplane.service.handoffs import resolve_handoff
    from orgplane.surfaces.cli.output import console, emit_json, esc

    view = resolve_handoff(ctx.obj, handoff_id, outcome, output=output, note=note)
    if as_json:
        emit_json(view)
        return
    said: dict[str, Any] = {"done": "done by a person", "return": "returned to its run"}
    console().print(
        f"hand-off #{view.id} (record {esc(view.record)} of {esc(view.run_id)}): "
        f"{said[view.outcome]}; the run is {esc(view.run_state)}",
        soft_wrap=True,
    )
    if view.resume:
        console().print(f"resume: [bold]{esc(view.resume)}[/bold]", soft_wrap=True)
