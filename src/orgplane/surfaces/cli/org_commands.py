"""Commands over the declared org: ``init``, ``validate``, ``chart``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.tree import Tree

from orgplane.errors import OrgFileError
from orgplane.org.chart import chart_data
from orgplane.org.scaffold import write_example
from orgplane.surfaces.cli import app
from orgplane.surfaces.cli.context import CliContext
from orgplane.surfaces.cli.output import console, emit_json
from orgplane.watch.sample import fresh_sample_state

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")


@app.command()
def init(
    directory: Path = typer.Argument(Path("."), help="Folder to write the org into."),
    example: str = typer.Option("agency", "--example", help="Which shipped example to start from."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing org.yaml."),
) -> None:
    """Write a complete, commented example org (org.yaml, stage code, state files) into DIR."""
    org_file = write_example(directory, example, force=force)
    fresh_sample_state(org_file)  # written now, so the example's state files start fresh
    console.print(
        f"wrote [bold]{org_file}[/bold]; next: [bold]orgplane --org {org_file} chart[/bold]"
    )


@app.command()
def validate(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Check the org file; every problem is printed as file:line with its fix. Exit 2 if any."""
    cli: CliContext = ctx.obj
    try:
        org = cli.org()
    except OrgFileError as exc:
        if not as_json:
            raise
        emit_json(
            {
                "ok": False,
                "problems": [
                    {"path": p.path, "line": p.line, "message": p.message} for p in exc.problems
                ],
            }
        )
        raise typer.Exit(2) from None
    if as_json:
        emit_json(
            {
                "ok": True,
                "problems": [],
                "org": org.name,
                "seats": len(org.seats),
                "outputs": len(org.outputs),
                "processes": len(org.processes),
                "metrics": len(org.metrics),
            }
        )
        return
    console.print(
        f"[green]ok[/green] {cli.org_path}: {org.name}, {len(org.seats)} seats, "
        f"{len(org.outputs)} outputs, {len(org.processes)} processes, {len(org.metrics)} metrics"
    )


@app.command()
def chart(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Draw the reporting tree: kind, holder, owner, and coverage of each critical output."""
    cli: CliContext = ctx.obj
    data = chart_data(cli.org())
    if as_json:
        emit_json(data)
        return
    tree = Tree(f"[bold]{data['org']}[/bold]")
    for seat in data["seats"]:
        _add_seat(tree, seat)
    console.print(tree)
    summary = data["summary"]
    console.print(
        f"{summary['active_humans']} people, {summary['active_agents']} agents, "
        f"{summary['retired']} retired; critical outputs with a coverage protocol: "
        f"{summary['critical_outputs_covered']} of {summary['critical_outputs']}"
    )


def _add_seat(parent: Tree, seat: dict[str, Any]) -> None:
    kind = "[cyan]agent[/cyan]" if seat["kind"] == "agent" else "[magenta]human[/magenta]"
    label = f"[bold]{seat['id']}[/bold] {seat['title']} ({kind}"
    if seat["holder"]:
        label += f", {seat['holder']}"
    if seat["owner"]:
        label += f", owner {seat['owner']}"
    label += ")"
    if seat["status"] == "retired":
        moved = ", ".join(f"{c} -> {s}" for c, s in seat["redistributed"].items())
        label = f"[dim]{label} retired; {moved}[/dim]"
    node = parent.add(label)
    if seat["capabilities"]:
        node.add(f"[dim]capabilities:[/dim] {', '.join(seat['capabilities'])}")
    for output in seat["outputs"]:
        mark = ""
        if output["critical"]:
            mark = (
                " [green]critical, coverage defined[/green]"
                if output["has_coverage"]
                else " [red]critical, NO coverage protocol[/red]"
            )
        readers = (
            ", ".join(f"{c}: {p}" for c, p in output["consumers"].items()) or "nobody reads it"
        )
        node.add(f"[dim]output[/dim] {output['id']}{mark} [dim]({readers})[/dim]")
    for child in seat["reports"]:
        _add_seat(node, child)
