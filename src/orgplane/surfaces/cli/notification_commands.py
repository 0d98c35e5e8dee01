"""``orgplane notifications``: what was queued for whom, what each target answered, what is next.

Exit codes: 0 ok; 1 with ``--failed`` when a notification failed or is retrying after a failure.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import typer

from orgplane.surfaces.cli import app

if TYPE_CHECKING:
    from orgplane.service.notifications import Delivered, NotificationView


def _short(value: datetime | None) -> str:
    return value.strftime("%m-%d %H:%M:%S") if value else "-"


def render_table(found: list[NotificationView]) -> None:
    """One row per notification, with the last result of each of its targets."""
    from rich.table import Table

    from orgplane.surfaces.cli.output import console, esc

    table = Table(box=None, pad_edge=False)
    for header in ("id", "decision", "to", "reason", "status", "tries", "targets", "next (UTC)"):
        table.add_column(header, no_wrap=header != "targets", overflow="fold")
    for n in found:
        targets = "\n".join(
            f"{t.target}: {t.status}" + (f" ({t.detail})" if t.detail else "") for t in n.targets
        )
        table.add_row(
            str(n.id),
            str(n.decision_id) if n.decision_id is not None else f"f-up {n.follow_up_id}",
            esc(n.recipient or "nobody"),
            esc(n.reason + (f" L{n.level}" if n.level else "")),
            esc(n.status),
            str(n.attempts),
            esc(targets or (n.last_error or "-")),
            _short(n.next_attempt_at),
        )
    console().print(table)


def render_delivered(done: Delivered) -> None:
    """A delivery pass in one line, then the rows it touched."""
    from orgplane.surfaces.cli.output import console

    if not done.claimed and not done.cancelled:
        return
    console().print(
        f"sent {done.sent} notification(s); {done.retrying} to retry, {done.failed} failed, "
        f"{done.cancelled} cancelled"
    )
    if done.notifications:
        render_table(done.notifications)


def render_unsent(unsent: list[NotificationView]) -> None:
    """Messages queued and not sent: who would be told, and the text they would get."""
    from orgplane.surfaces.cli.output import console, esc

    out = console()
    if not unsent:
        out.print("no notification waiting to be sent")
        return
    out.print(f"{len(unsent)} notification(s) queued, not sent (--no-send):")
    for n in unsent:
        out.print(f"to {esc(n.recipient or 'nobody')} ({esc(n.reason)}): {esc(n.title)}")
        for line in n.body.splitlines():
            out.print(f"    {esc(line)}", soft_wrap=True)


@app.command("notifications")
def notifications(
    ctx: typer.Context,
    failed: bool = typer.Option(
        False, "--failed", help="Only those that gave up or are retrying after a failure."
    ),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="At most this many."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Notifications newest first: decision, recipient, reason, status, attempts, the last
    result of each target, the next attempt."""
    from orgplane.service.notifications import list_notifications
    from orgplane.surfaces.cli.output import console, emit_json

    found = list_notifications(ctx.obj, failed=failed, limit=limit)
    if as_json:
        emit_json(found)
    elif not found.notifications:
        console().print("no failed notifications" if failed else "no notifications")
    else:
        render_table(found.notifications)
    if failed and found.notifications:
        raise typer.Exit(1)
