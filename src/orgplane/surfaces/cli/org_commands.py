"""Commands over the declared org: ``init``, ``validate``, ``chart``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from orgplane.surfaces.cli import app
from orgplane.surfaces.cli.errors import EXIT_USAGE

if TYPE_CHECKING:
    from rich.tree import Tree

    from orgplane.service.org import ChartSeat

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")


@app.command()
def init(
    directory: Path = typer.Argument(Path("."), help="Folder to write the org into."),
    example: str = typer.Option("agency", "--example", help="Which shipped example to start from."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing org.yaml."),
) -> None:
    """Write a complete, commented example org (org.yaml, stage code, state files) into DIR."""
    from orgplane.service.org import init_org
    from orgplane.surfaces.cli.output import console, esc

    done = init_org(directory, example, force=force)
    console().print(
        f"wrote [bold]{esc(done.org_file)}[/bold]; next: "
        f"[bold]orgplane --org {esc(done.org_file)} chart[/bold]"
    )


@app.command()
def validate(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Check the org file; every problem is printed as file:line with its fix. Exit 2 if any."""
    from orgplane.errors import OrgFileError, Problem
    from orgplane.service.org import validate as run_validate
    from orgplane.surfaces.cli.output import console, emit_json, esc

    result = run_validate(ctx.obj)
    if as_json:
        emit_json(result)
        if not result.ok:
            raise typer.Exit(EXIT_USAGE)
        return
    if not result.ok:
        raise OrgFileError([Problem(p.path, p.line, p.message) for p in result.problems])
    console().print(
        f"[green]ok[/green] {esc(ctx.obj.org_path)}: {esc(result.org)}, {result.seats} seats, "
        f"{result.outputs} outputs, {result.processes} processes, {result.metrics} metrics"
    )


@app.command()
def chart(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Draw the reporting tree: kind, holder, owner, and coverage of each critical output."""
    from rich.tree import Tree

    from orgplane.service.org import chart as build_chart
    from orgplane.surfaces.cli.output import console, emit_json, esc

    data = build_chart(ctx.obj)
    if as_json:
        emit_json(data)
        return
    tree = Tree(f"[bold]{esc(data.org)}[/bold]")
    for seat in data.seats:
        _add_seat(tree, seat)
    console().print(tree)
    s = data.summary
    console().print(
        f"{s.active_humans} people, {s.active_agents} agents, {s.retired} retired; "
        f"critical outputs with a coverage protocol: {s.critical_outputs_covered} of "
        f"{s.critical_outputs}"
    )


def _add_seat(parent: Tree, seat: ChartSeat) -> None:
    from orgplane.surfaces.cli.output import esc

    kind = "[cyan]agent[/cyan]" if seat.kind == "agent" else "[magenta]human[/magenta]"
    label = f"[bold]{esc(seat.id)}[/bold] {esc(seat.title)} ({kind}"
    if seat.holder:
        label += f", {esc(seat.holder)}"
    if seat.owner:
        label += f", owner {esc(seat.owner)}"
    label += ")"
    if seat.status == "retired":
        moved = ", ".join(f"{esc(c)} -> {esc(s)}" for c, s in seat.redistributed.items())
        label = f"[dim]{label} retired; {moved}[/dim]"
    node = parent.add(label)
    if seat.capabilities:
        node.add(f"[dim]capabilities:[/dim] {esc(', '.join(seat.capabilities))}")
    for output in seat.outputs:
        mark = ""
        if output.critical:
            mark = (
                " [green]critical, coverage defined[/green]"
                if output.has_coverage
                else " [red]critical, NO coverage protocol[/red]"
            )
        readers = ", ".join(f"{c}: {p}" for c, p in output.consumers.items()) or "nobody reads it"
        node.add(f"[dim]output[/dim] {esc(output.id)}{mark} [dim]({esc(readers)})[/dim]")
    for child in seat.reports:
        _add_seat(node, child)
