"""``orgplane demo``: the agency story, end to end, in a throwaway folder on SQLite.

Each concern adds a step (a function taking the demo's CliContext) to :data:`STEPS`; steps run in
order and narrate what they show.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import typer
from rich.rule import Rule

from orgplane.org.scaffold import write_example
from orgplane.surfaces.cli import app
from orgplane.surfaces.cli.context import CliContext
from orgplane.surfaces.cli.demo_runs import step_runs
from orgplane.surfaces.cli.demo_watch import step_watch
from orgplane.surfaces.cli.output import console

DemoStep = Callable[[CliContext], None]


def step_org(demo: CliContext) -> None:
    """Validate the example org and draw its chart."""
    from orgplane.surfaces.cli.org_commands import chart, validate

    console.print(Rule("1. The org: seats, owners, outputs, coverage"))
    ctx = typer.Context(typer.main.get_command(app), obj=demo)
    validate(ctx, as_json=False)
    chart(ctx, as_json=False)
    demo.store()  # migrate and sync the declared org into the embedded store
    console.print(f"synced into the store at {demo.store().url}")


STEPS: list[DemoStep] = [step_org, step_runs, step_watch]


@app.command()
def demo(
    ctx: typer.Context,
    keep: Path | None = typer.Option(
        None,
        "--keep",
        help="Write the demo org into this folder and keep it, instead of a temp dir.",
    ),
) -> None:
    """Run the agency story end to end in a throwaway folder (SQLite unless --db is given)."""
    db = ctx.obj.db if isinstance(ctx.obj, CliContext) else None
    with tempfile.TemporaryDirectory(prefix="orgplane-demo-") as tmp:
        folder = keep or Path(tmp)
        org_file = write_example(folder, "agency", force=True)
        console.print(f"[bold]orgplane demo[/bold]: the agency example in {folder}")
        context = CliContext(org_path=org_file, db=db)
        try:
            for step in STEPS:
                step(context)
        finally:
            context.close()
    console.print(Rule("done"))
