"""Demo step: Pepper's inbox triage loses its Gmail connection at email 31. The error is declared
transient (retry 5, then pause), so the run pauses, not fails, with email 31 named; when Gmail is
back, the resume continues from email 31 and emails 1 to 30 are not fetched again.

Pepper is an agent that is not Python: it records each stage with ``orgplane checkpoint`` and
asks orgplane which records are left (``run_work``). The demo plays Pepper, and Gmail: a
dropped connection is Pepper reporting ``--failed GmailConnectionLost`` (it waits the declared
backoff itself; the demo does not, so it takes no minutes).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orgplane.service.session import Session

PROCESS = "pepper-triage"
BATCH = "2026-06-22"
EMAILS = 40
DROPS_AT = 31
STAGES = ("fetch", "classify", "label")


def step_transient(demo: Session) -> None:
    """Pepper's triage run into a dropped Gmail connection: paused at email 31, resumed there."""
    from rich.rule import Rule

    from orgplane.service.run_work import run_work
    from orgplane.service.runs import checkpoint, resume_run, start_run
    from orgplane.surfaces.cli.output import console, esc
    from orgplane.surfaces.cli.run_commands import render_status

    out = console()
    out.print(Rule("Pepper's inbox triage: Gmail drops mid-run, the run pauses and resumes"))
    inbox = demo.org_path.parent / "batches" / f"inbox-{BATCH}.json"
    inbox.write_text(
        json.dumps(
            [
                {"id": f"{i}", "from": f"client{i % 7}@example.com", "subject": f"re: order {i}"}
                for i in range(1, EMAILS + 1)
            ]
        )
    )
    view = start_run(demo, PROCESS, inbox, batch=BATCH)
    run_id = view.run_id
    fetched: list[int] = []
    gmail_up = False

    def work() -> None:
        """Pepper: take the records orgplane says are left, each from its next stage."""
        nonlocal view
        left = run_work(demo, run_id, limit=EMAILS).records
        for pending in left:
            at = STAGES.index(pending.next_stage) if pending.next_stage else len(STAGES)
            for stage in STAGES[at:]:
                if stage == "fetch":
                    fetched.append(int(pending.record))
                    if not gmail_up and int(pending.record) >= DROPS_AT:
                        view = checkpoint(
                            demo, run_id, pending.record, stage, failed="GmailConnectionLost"
                        )
                        return
                view = checkpoint(demo, run_id, pending.record, stage, done=True)

    out.print(f"Pepper triages the {EMAILS} emails of {BATCH}; Gmail drops at email {DROPS_AT} ...")
    work()
    while view.state == "running":  # Pepper retries email 31, with backoff, as declared
        work()
    retries = fetched.count(DROPS_AT) - 1
    out.print(
        f"email {DROPS_AT}: GmailConnectionLost, retried {retries} times on the same email "
        "(retries: 5), then the run [bold]paused[/bold]: not failed, nothing lost"
    )
    render_status(view)

    out.print(f"\nGmail is back: {esc(demo.command('run', 'resume', run_id))}")
    view = resume_run(demo, run_id)
    before = len(fetched)
    gmail_up = True
    work()
    again = fetched[before:]
    out.print(
        f"emails fetched during the resume: [bold]{len(again)}[/bold] "
        f"({again[0]}–{again[-1]}); emails 1–{DROPS_AT - 1} were not fetched again"
    )
    render_status(view)
