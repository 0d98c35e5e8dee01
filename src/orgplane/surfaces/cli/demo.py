"""``orgplane demo``: the agency story, end to end, in a throwaway folder and store.

The demo never touches a store it was not given on its own command line: ``ORGPLANE_DB`` is
ignored, and without ``--db`` the store is SQLite inside the demo's folder. Each concern adds a
step (a function taking the demo's Session) to :data:`STEPS`; steps run in order and narrate.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from orgplane.surfaces.cli import app

if TYPE_CHECKING:
    from orgplane.service.session import Session

DemoStep = Callable[["Session"], None]


def step_org(demo: Session) -> None:
    """Validate the example org and draw its chart."""
    from rich.rule import Rule

    from orgplane.surfaces.cli.org_commands import chart, validate
    from orgplane.surfaces.cli.output import console, esc

    console().print(Rule("1. The org: seats, owners, outputs, coverage"))
    ctx = typer.Context(typer.main.get_command(app), obj=demo)
    validate(ctx, as_json=False)
    chart(ctx, as_json=False)
    store = demo.store()  # migrate and sync the declared org into the demo's store
    console().print(f"synced into the store at {esc(store.url)}")


def _steps() -> list[DemoStep]:
    from orgplane.surfaces.cli.demo_audit import step_audit
    from orgplane.surfaces.cli.demo_decide import step_decide
    from orgplane.surfaces.cli.demo_runs import step_runs
    from orgplane.surfaces.cli.demo_watch import step_watch

    return [step_org, step_runs, step_watch, step_decide, step_audit]


@app.command()
def demo(
    ctx: typer.Context,
    keep: Path | None = typer.Option(
        None,
        "--keep",
        help="Write the demo org into this folder (new or empty) and keep it, instead of a temp dir.",
    ),
) -> None:
    """Run the agency story end to end in a throwaway folder (SQLite in that folder unless
    --db is given on the command line; ORGPLANE_DB is never used)."""
    from rich.rule import Rule

    from orgplane.errors import UsageError
    from orgplane.org.scaffold import write_example
    from orgplane.service.session import Session
    from orgplane.surfaces.cli.output import console, esc

    if keep is not None and keep.exists() and (not keep.is_dir() or any(keep.iterdir())):
        raise UsageError(
            f"--keep {keep}: the folder is not empty (or not a folder); give a new or empty one"
        )
    db = ctx.obj.db if ctx.obj is not None else None  # only a --db typed on this command line
    with contextlib.ExitStack() as stack:
        folder = keep or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="orgplane-demo-"))
        )
        org_file = write_example(folder, "agency", force=True)
        console().print(f"[bold]orgplane demo[/bold]: the agency example in {esc(folder)}")
        session = Session(
            org_path=org_file, db=db or f"sqlite:///{folder.resolve() / 'orgplane.db'}"
        )
        stack.callback(session.close)
        for step in _steps():
            step(session)
    console().print(Rule("done"))
