"""Demo step: Nick's prospecting batch stops at record 17 on an unknown LeadMagic error, the
status says exactly where, the error becomes a handled one in org.yaml, and the batch resumes
without validating records 1 to 16 again."""

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

    from orgplane.org.edit import add_handled_error
    from orgplane.org.models import HandledError
    from orgplane.service.runs import resume_run, start_run
    from orgplane.surfaces.cli.demo_decide import show_decision_now
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

    out.print(
        "\n[bold]the learning[/bold]: LM-503 goes on Nick's handled-errors list in org.yaml "
        "(comments and layout kept), so next time it is retried, not a stall:"
    )
    add_handled_error(
        demo.org_path,
        PROCESS,
        HandledError(
            match="LM-503",
            action="retry",
            retries=3,
            message="LeadMagic briefly unavailable (LM-503); retried with backoff",
        ),
    )
    demo.forget_org()  # the org file changed: later steps must read it again
    lines = demo.org_path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if "LM-503" in line)
    for line in lines[at - 1 : at + 4]:
        out.print(f"  [green]{esc(line)}[/green]", highlight=False)

    calls_before = len(calls_log.read_text().splitlines())
    out.print(
        f"\nresuming {esc(view.run_id)} ({esc(demo.command('run', 'resume', view.run_id))}) ..."
    )
    with progress_bar(quiet=False) as progress:
        view = resume_run(demo, view.run_id, progress=progress)  # re-imports stages/prospecting.py
    calls = calls_log.read_text().splitlines()[calls_before:]
    validated = sorted({int(line.split()[0]) for line in calls})
    out.print(
        f"validate calls during the resume: [bold]{len(calls)}[/bold] "
        f"(records {validated[0]}–{validated[-1]}; record 17 once more after LM-503 was "
        f"retried); records 1–16 were not validated again"
    )
    render_status(view)
