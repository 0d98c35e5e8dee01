"""Demo step: Pepper's inbox triage hands one unusual client email to the client lead (work by
design: no failure event, no incident, the run finishes), Janine's queue shows it, she resolves
it, and the delegation ledger says who really did each process's work."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from orgplane.service.session import Session

PROCESS = "pepper-triage"
BATCH = "2026-06-21-inbox"
EMAILS: list[dict[str, str | None]] = [
    {"id": "e1", "from": "ops@acme.example", "subject": "Invoice 2291", "bucket": "billing"},
    {"id": "e2", "from": "amy@bolt.example", "subject": "Ad copy approved", "bucket": "approvals"},
    {
        "id": "e3",
        "from": "ceo@bigclient.example",
        "subject": "We want to renegotiate the whole retainer",
        "bucket": None,
    },
    {"id": "e4", "from": "noreply@ads.example", "subject": "Weekly spend", "bucket": "reports"},
    {"id": "e5", "from": "tom@bolt.example", "subject": "New landing page?", "bucket": "requests"},
]


def step_handoffs(demo: Session) -> None:
    """Pepper triages five emails by checkpoint and hands the unusual one to Janine."""
    from rich.rule import Rule

    from orgplane.service.handoffs import queue, resolve_handoff
    from orgplane.service.runs import checkpoint, start_run
    from orgplane.surfaces.cli import app
    from orgplane.surfaces.cli.delegation_commands import delegation
    from orgplane.surfaces.cli.handoff_commands import list_queue
    from orgplane.surfaces.cli.output import console, esc
    from orgplane.surfaces.cli.run_commands import render_status

    out = console()
    out.print(Rule("Pepper's inbox triage: an unusual client email goes to a person"))
    batch_file = demo.org_path.parent / "batches" / f"inbox-{BATCH}.json"
    batch_file.write_text(
        json.dumps([{k: v for k, v in e.items() if k != "bucket"} for e in EMAILS])
    )
    start_run(demo, PROCESS, batch_file, batch=BATCH)
    run_id = f"{PROCESS}:{BATCH}"
    out.print(
        f"Pepper (an agent that is not Python) records each email with 'orgplane checkpoint'; "
        f"the one that fits no bucket: "
        f"'{esc(demo.command('checkpoint', run_id, 'e3', 'classify'))} --handoff client-lead "
        "--reason ...'",
        soft_wrap=True,
    )
    view = None
    for email in EMAILS:
        key = str(email["id"])
        checkpoint(demo, run_id, key, "fetch", done=True, output=json.dumps(email), actor="pepper")
        if email["bucket"] is None:
            view = checkpoint(
                demo,
                run_id,
                key,
                "classify",
                handoff="client-lead",
                reason="a client CEO asks to renegotiate the retainer: fits no bucket, "
                "needs Janine's judgment",
                actor="pepper",
            )
            continue
        bucket = json.dumps({"bucket": email["bucket"]})
        checkpoint(demo, run_id, key, "classify", done=True, output=bucket, actor="pepper")
        view = checkpoint(demo, run_id, key, "label", done=True, output=bucket, actor="pepper")
    assert view is not None
    render_status(view)
    with demo.store().read() as conn:
        from sqlalchemy import func, select

        from orgplane.store.tables import events

        count = conn.execute(
            select(func.count()).select_from(events).where(events.c.run_id == run_id)
        ).scalar_one()
    out.print(
        f"the run is [bold]{esc(view.state)}[/bold] with the hand-off open; failure events for "
        f"it: [bold]{count}[/bold] (a hand-off is work by design: no incident, nobody paged)"
    )
    ctx = typer.Context(typer.main.get_command(app), obj=demo)
    out.print("\n[bold]Janine's queue[/bold] (orgplane queue client-lead):")
    with contextlib.suppress(typer.Exit):
        list_queue(ctx, "client-lead", as_json=False)
    item = queue(demo, "client-lead").items[0]
    done = resolve_handoff(
        demo, item.id, "done", note="called the client; retainer call booked", actor="client-lead"
    )
    out.print(
        f"Janine resolves it ('{esc(demo.command('queue', 'resolve', str(done.id)))} "
        "--outcome done'): the record stays hers, the run stays finished"
    )
    out.print("\n[bold]the delegation ledger[/bold] (orgplane seats delegation):")
    with contextlib.suppress(typer.Exit):  # exit 1 is a flag, shown in the table
        delegation(ctx, since=None, as_json=False)
