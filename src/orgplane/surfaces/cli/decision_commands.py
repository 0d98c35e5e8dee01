"""Commands of the decision engine: ``decide --once`` and ``decision list|show|ack``.

Exit codes: 0 ok; 2 bad input (an unknown decision id, a closed decision acknowledged).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import typer

from orgplane.surfaces.cli import app

if TYPE_CHECKING:
    from orgplane.service.decisions import DecisionView

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")
ID_ARGUMENT = typer.Argument(..., metavar="ID", min=1, help="A decision id (see 'decision list').")

decision_app = typer.Typer(
    help="Decisions on failure events: list them, show one, acknowledge one.",
    no_args_is_help=True,
)
app.add_typer(decision_app, name="decision")


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def render_table(found: list[DecisionView], empty: str) -> None:
    from rich.table import Table

    from orgplane.surfaces.cli.output import console, esc

    if not found:
        console().print(empty)
        return
    table = Table(box=None, pad_edge=False)
    for header in ("id", "state", "subject", "kind", "tier", "action", "tell", "due (UTC)"):
        # The subject folds, never squeezed to a letter a line by the columns that do not.
        table.add_column(
            header,
            no_wrap=header != "subject",
            overflow="fold",
            min_width={"subject": 16, "due (UTC)": 11}.get(header),
        )
    for d in found:
        table.add_row(
            str(d.id),
            esc(d.state),
            esc(f"{d.subject_kind} {d.subject_id}"),
            esc(d.kind) + (f" ×{d.repeats + 1}" if d.repeats else ""),
            esc(d.tier or "-"),
            esc(d.action),
            esc(d.notify or "-"),
            d.deadline.strftime("%m-%d %H:%M") if d.deadline else "-",
        )
    console().print(table)


def _render_one(d: DecisionView) -> None:
    from orgplane.surfaces.cli.output import console, esc

    out = console()
    out.print(f"[bold]decision {d.id}[/bold]  {esc(d.state)}")
    lines = [
        f"subject: {d.subject_kind} {d.subject_id} (seat {d.seat_id or '-'})",
        f"event: {d.kind}, {d.repeats + 1} time(s); events {d.event_ids or [d.first_event_id]}",
        f"tier: {d.tier or '-'}, rule {d.rule}",
        f"action: {d.action}; tell {d.notify or 'nobody named'}; deadline {_time(d.deadline)}",
        f"decided {_time(d.decided_at)}, {d.latency_ms} ms after the event was stored",
    ]
    if d.acked_at:
        lines.append(f"acknowledged {_time(d.acked_at)} until {_time(d.acked_until)}")
        if d.ack_note:
            lines.append(f"note: {d.ack_note}")
    if d.closed_at:
        lines.append(f"closed {_time(d.closed_at)} by event {d.closed_by_event}")
    elif d.state == "live":
        lines.append(f"acknowledge: {d.ack}")
    if d.holder:
        lines.append(f"held by {d.holder} (level {d.level}); last told {_time(d.notified_at)}")
    if d.next_notify_at and d.state != "closed":
        lines.append(f"next follow-up {_time(d.next_notify_at)}")
    for line in lines:
        out.print(esc(line), soft_wrap=True)
    if d.notifications:
        from orgplane.surfaces.cli.notification_commands import render_table

        out.print("notifications:")
        render_table(d.notifications)


@app.command("decide")
def decide(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Decide what is pending, then stop."),
    no_send: bool = typer.Option(
        False, "--no-send", help="Queue the notifications but send none; show who would be told."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Decide every pending failure event from the urgency rules in org.yaml, take the
    follow-ups due and send the notifications queued (for cron)."""
    from orgplane.errors import UsageError
    from orgplane.service.decisions import decide_once
    from orgplane.surfaces.cli.notification_commands import render_delivered, render_unsent
    from orgplane.surfaces.cli.output import console, emit_json

    if not once:
        raise UsageError(
            "decide: give --once for one pass (from cron); the daemon that decides every "
            "event as it comes is 'orgplane watch'"
        )
    done = decide_once(ctx.obj, send=not no_send)
    if as_json:
        emit_json(done)
        return
    console().print(
        f"decided {done.decided} event(s): {done.opened} opened, {done.repeated} repeated, "
        f"{done.closed} closed; {done.pending} pending"
    )
    render_table(done.decisions, "no decision touched")
    if done.followed_up is not None and done.followed_up.steps:
        console().print(f"followed up {len(done.followed_up.steps)} decision(s)")
    if done.delivered is not None:
        render_delivered(done.delivered)
    if done.unsent is not None:
        render_unsent(done.unsent)


@decision_app.command("list")
def list_(
    ctx: typer.Context,
    include_closed: bool = typer.Option(False, "--all", help="Closed decisions too."),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="At most this many."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Open decisions newest first: live, or acknowledged until a time."""
    from orgplane.service.decisions import list_decisions
    from orgplane.surfaces.cli.output import emit_json

    found = list_decisions(ctx.obj, include_closed=include_closed, limit=limit)
    if as_json:
        emit_json(found)
    else:
        render_table(found.decisions, "no open decisions")


@decision_app.command("show")
def show(ctx: typer.Context, decision_id: int = ID_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """One decision: its events, the rule that fired (file:line), who is told, the deadline."""
    from orgplane.service.decisions import show_decision
    from orgplane.surfaces.cli.output import emit_json

    view = show_decision(ctx.obj, decision_id)
    if as_json:
        emit_json(view)
    else:
        _render_one(view)


@decision_app.command("ack")
def ack(
    ctx: typer.Context,
    decision_id: int = ID_ARGUMENT,
    note: str | None = typer.Option(None, "--note", help="What you are doing about it."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Acknowledge a decision: silenced until the tier's ack_timeout, then live again."""
    from orgplane.service.decisions import ack_decision
    from orgplane.surfaces.cli.output import emit_json

    view = ack_decision(ctx.obj, decision_id, note)
    if as_json:
        emit_json(view)
    else:
        _render_one(view)
