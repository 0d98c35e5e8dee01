"""Demo step: Nick's prospecting batch stops at record 17 on an unknown LeadMagic error, the
status says exactly where, closing its incident with the learning makes the error a handled one
in org.yaml (the diff shown), and the batch resumes without validating records 1 to 16 again."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orgplane.service.session import Session

PROCESS = "nick-prospecting"
BATCH = "2026-06-21"


def step_runs(demo: Session) -> None:
    """Run the prospecting batch into an unknown error, read its status, learn, resume."""
    from rich.rule import Rule

    from orgplane.service.incidents import close_incident, incident_change, list_incidents
    from orgplane.service.runs import run_status, start_run
    from orgplane.surfaces.cli.demo_decide import show_decision_now
    from orgplane.surfaces.cli.incident_commands import render_closed
    from orgplane.surfaces.cli.output import console, esc, progress_bar
    from orgplane.surfaces.cli.run_commands import render_status

    out = console()
    out.print(Rule("Nick's prospecting batch: a mid-batch failure, a checkpoint, a resume"))
    folder = demo.org_path.parent
    simulate = folder / "simulate"
    simulate.mkdir(exist_ok=True)
    # LeadMagic answers an error code nobody has seen before, for record 17, twice.
    (simulate / "leadmagic-faults.json").write_text(
        json.dumps({"17": {"code": "LM-503", "times": 2}})
    )
    calls_log = simulate / "leadmagic-calls.log"
    batch_file = folder / "batches" / f"prospects-{BATCH}.json"

    out.print(f"running {PROCESS} over the prospects of batch {BATCH} ...")
    with progress_bar(quiet=False) as progress:
        view = start_run(demo, PROCESS, batch_file, batch=BATCH, progress=progress)
    render_status(view)
    show_decision_now(demo)

    incident = next(
        i for i in list_incidents(demo, open_only=True).incidents if i.run_id == view.run_id
    )
    out.print(
        f"\n[bold]the learning[/bold]: incident {incident.id} (Nick's run, {esc(incident.kind)}) "
        "closes only with a learning and one change. LM-503 goes on Nick's handled-errors list "
        "in org.yaml (comments and layout kept), so next time it is retried, not a stall; "
        "closing resumes the held run and checks the record that failed now goes through:"
    )
    learning = "LeadMagic briefly unavailable (LM-503); retried with backoff"
    out.print(
        "  "
        + esc(
            demo.command(
                "incident",
                "close",
                str(incident.id),
                "--learning",
                learning,
                "--handle-error",
                "LM-503=retry",
            )
        ),
        soft_wrap=True,
    )
    calls_before = len(calls_log.read_text().splitlines())
    closed = close_incident(
        demo, incident.id, learning, incident_change(handle_error="LM-503=retry")
    )
    render_closed(closed)
    view = run_status(demo, view.run_id)
    calls = calls_log.read_text().splitlines()[calls_before:]
    validated = sorted({int(line.split()[0]) for line in calls})
    out.print(
        f"validate calls during the resume: [bold]{len(calls)}[/bold] "
        f"(records {validated[0]}–{validated[-1]}; record 17 once more after LM-503 was "
        f"retried); records 1–16 were not validated again"
    )
    render_status(view)
