"""Commands of incidents and learnings: ``incidents``, ``incident show|ack|close``,
``follow-ups`` and ``follow-up done``.

Exit codes: 0 ok; 1 findings (``follow-ups --overdue`` lists one); 2 bad input (an unknown id,
a close with no change or two, a change the org file refuses).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import typer

from orgplane.surfaces.cli import app

if TYPE_CHECKING:
    from orgplane.service.incidents import (
        FollowUpView,
        IncidentClosed,
        IncidentDetail,
        IncidentView,
    )

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")
ID_ARGUMENT = typer.Argument(..., metavar="ID", min=1, help="An incident id (see 'incidents').")

incident_app = typer.Typer(
    help="Incidents: show one, acknowledge one, close one with a learning.",
    no_args_is_help=True,
)
app.add_typer(incident_app, name="incident")
follow_up_app = typer.Typer(help="Follow-ups of learnings: mark one done.", no_args_is_help=True)
app.add_typer(follow_up_app, name="follow-up")


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def _span(value: timedelta | None) -> str:
    if value is None:
        return "-"
    from orgplane.org.durations import format_duration

    return format_duration(value)


def render_incidents(found: list[IncidentView], empty: str) -> None:
    from rich.table import Table

    from orgplane.surfaces.cli.output import console, esc

    if not found:
        console().print(empty)
        return
    table = Table(box=None, pad_edge=False)
    for header in ("id", "status", "seat", "subject", "kind", "events", "tier", "learning"):
        table.add_column(header, no_wrap=header not in ("subject", "learning"), overflow="fold")
    for i in found:
        status = i.status + (" recovered" if i.recovered_at and i.status == "open" else "")
        if i.reopened:
            status += f" (reopened ×{i.reopened})"
        table.add_row(
            str(i.id),
            esc(status),
            esc(i.seat_id or "-"),
            esc(f"{i.subject_kind} {i.subject_id}"),
            esc(i.kind),
            str(i.events),
            esc(i.tier or "-"),
            esc(i.learning or "-"),
        )
    console().print(table)


def render_detail(detail: IncidentDetail) -> None:
    from orgplane.surfaces.cli.output import console, esc

    out = console()
    i = detail.incident
    out.print(f"[bold]incident {i.id}[/bold]  {esc(i.status)}")
    lines = [
        f"{i.kind} of {i.subject_kind} {i.subject_id} (seat {i.seat_id or '-'})"
        + (f", run {i.run_id}" if i.run_id else ""),
        f"events: {i.events}; tier {i.tier or '-'}, action {i.action or '-'}, "
        f"tell {i.notify or 'nobody named'}",
        f"time to detect {_span(i.time_to_detect)}, to decide {_span(i.time_to_decide)}, "
        f"to recover {_span(i.time_to_recover)}",
    ]
    if i.learning:
        lines.append(f"learning: {i.learning}")
        if i.change:
            lines.append(f"change: {i.change.get('summary', i.change.get('kind'))}")
    if i.learning_held is False:
        lines.append(f"its learning did not hold: reopened {i.reopened} time(s)")
    if i.status == "open":
        lines.append(f"close: {i.close}")
    for line in lines:
        out.print(esc(line), soft_wrap=True)
    out.print("timeline:")
    for step in detail.steps:
        who = f" by {step.actor}" if step.actor else ""
        said = step.detail.get("message") or step.detail.get("learning") or ""
        out.print(
            esc(f"  {_time(step.at)}  {step.step}{who}" + (f": {said}" if said else "")),
            soft_wrap=True,
        )
    if detail.decision_ids:
        out.print(esc(f"decisions: {', '.join(str(d) for d in detail.decision_ids)}"))
    if detail.follow_ups:
        out.print("follow-ups:")
        render_follow_ups(detail.follow_ups, "")


def render_follow_ups(found: list[FollowUpView], empty: str) -> None:
    from rich.table import Table

    from orgplane.surfaces.cli.output import console, esc

    if not found:
        console().print(empty)
        return
    table = Table(box=None, pad_edge=False)
    for header in ("id", "incident", "owner", "due (UTC)", "state", "nags", "text"):
        table.add_column(header, no_wrap=header != "text", overflow="fold")
    for f in found:
        state = "done" if f.done_at else ("OVERDUE" if f.overdue else "open")
        table.add_row(
            str(f.id),
            str(f.incident_id),
            esc(f.owner),
            f.due.strftime("%Y-%m-%d %H:%M"),
            state,
            str(f.nags),
            esc(f.text),
        )
    console().print(table)


def print_diff(diff: str) -> None:
    """A unified diff, verbatim (never read as markup), added lines green, removed red."""
    from rich.text import Text

    from orgplane.surfaces.cli.output import console

    out = console()
    for line in diff.splitlines():
        style = None
        if line.startswith("+") and not line.startswith("+++"):
            style = "green"
        elif line.startswith("-") and not line.startswith("---"):
            style = "red"
        out.print(Text(line, style=style or ""), soft_wrap=True, highlight=False)


def render_closed(closed: IncidentClosed) -> None:
    from orgplane.surfaces.cli.output import console, esc

    out = console()
    i = closed.incident
    summary = (i.change or {}).get("summary", "")
    out.print(esc(f"incident {i.id} closed: {i.learning}"), soft_wrap=True)
    out.print(esc(f"change: {summary}"), soft_wrap=True)
    if closed.diff:
        print_diff(closed.diff)
    if closed.follow_up is not None:
        f = closed.follow_up
        out.print(
            esc(f"follow-up {f.id} for {f.owner}, due {_time(f.due)}; when done: {f.done}"),
            soft_wrap=True,
        )
    if closed.resumed is not None:
        r = closed.resumed
        went = "went through" if r.went_through else "did NOT go through"
        out.print(
            esc(
                f"resumed run {r.run_id}: now {r.state}; record {r.record or '-'} {went} "
                f"({', '.join(f'{k} {v}' for k, v in r.record_states.items()) or 'no checkpoint'})"
            ),
            soft_wrap=True,
        )
        if r.error:
            out.print(esc(f"the run could not be resumed: {r.error}"), soft_wrap=True)


@app.command("incidents")
def incidents(
    ctx: typer.Context,
    open_only: bool = typer.Option(False, "--open", help="Only the open incidents."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Incidents newest first: failures grouped by seat, subject and kind, with their learning."""
    from orgplane.service.incidents import list_incidents
    from orgplane.surfaces.cli.output import emit_json

    found = list_incidents(ctx.obj, open_only=open_only)
    if as_json:
        emit_json(found)
    else:
        render_incidents(found.incidents, "no open incidents" if open_only else "no incidents")


@incident_app.command("show")
def show(ctx: typer.Context, incident_id: int = ID_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """One incident: its timeline (who and when), times, events, decisions and follow-ups."""
    from orgplane.service.incidents import show_incident
    from orgplane.surfaces.cli.output import emit_json

    detail = show_incident(ctx.obj, incident_id)
    if as_json:
        emit_json(detail)
    else:
        render_detail(detail)


@incident_app.command("ack")
def ack(
    ctx: typer.Context,
    incident_id: int = ID_ARGUMENT,
    note: str | None = typer.Option(None, "--note", help="What you are doing about it."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Acknowledge an incident: its open decisions are acknowledged and the step recorded."""
    from orgplane.service.incidents import ack_incident
    from orgplane.surfaces.cli.output import emit_json

    detail = ack_incident(ctx.obj, incident_id, note)
    if as_json:
        emit_json(detail)
    else:
        render_detail(detail)


@incident_app.command("close")
def close(
    ctx: typer.Context,
    incident_id: int = ID_ARGUMENT,
    learning: str = typer.Option(..., "--learning", help="What was learned, in a sentence."),
    handle_error: str | None = typer.Option(
        None, "--handle-error", help="CODE=ACTION: add to the process's handled errors."
    ),
    set_: str | None = typer.Option(
        None, "--set", help="output|metric|process:ID.KEY=VALUE: change one setting."
    ),
    coverage: str | None = typer.Option(
        None, "--coverage", help="SEAT:OUTPUT=PROTOCOL: what a reader does when it fails."
    ),
    retire: str | None = typer.Option(None, "--retire", help="SEAT: retired by a decided hearing."),
    follow_up: str | None = typer.Option(
        None, "--follow-up", help="TEXT: a change someone must still make."
    ),
    owner: str | None = typer.Option(None, "--owner", help="SEAT owning the follow-up."),
    due: str | None = typer.Option(None, "--due", help="DATE the follow-up is due."),
    no_change: str | None = typer.Option(
        None, "--no-change", help="REASON nothing in the org changes."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Close an incident with a learning and exactly one change; org changes are edited into
    org.yaml (comments kept, validated, atomic) and the diff printed."""
    from orgplane.service.incidents import close_incident, incident_change
    from orgplane.surfaces.cli.output import emit_json

    change = incident_change(
        handle_error=handle_error,
        set_=set_,
        coverage=coverage,
        retire=retire,
        follow_up=follow_up,
        owner=owner,
        due=due,
        no_change=no_change,
    )
    closed = close_incident(ctx.obj, incident_id, learning, change)
    if as_json:
        emit_json(closed)
    else:
        render_closed(closed)


@app.command("follow-ups")
def follow_ups(
    ctx: typer.Context,
    overdue: bool = typer.Option(False, "--overdue", help="Only those past due; exit 1 if any."),
    include_done: bool = typer.Option(False, "--all", help="Those done too."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Follow-ups of learnings by due time: owner, due, nags so far."""
    from orgplane.service.incidents import list_follow_ups
    from orgplane.surfaces.cli.output import emit_json

    found = list_follow_ups(ctx.obj, overdue=overdue, include_done=include_done)
    if as_json:
        emit_json(found)
    else:
        render_follow_ups(found.follow_ups, "no follow-ups overdue" if overdue else "no follow-ups")
    if overdue and found.follow_ups:
        raise typer.Exit(1)


@follow_up_app.command("done")
def done(
    ctx: typer.Context,
    follow_up_id: int = typer.Argument(..., metavar="ID", min=1, help="A follow-up id."),
    note: str | None = typer.Option(None, "--note", help="What was done."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Mark a follow-up done: it is nagged no more and leaves the overdue list."""
    from orgplane.service.incidents import follow_up_done
    from orgplane.surfaces.cli.output import console, emit_json, esc

    view = follow_up_done(ctx.obj, follow_up_id, note)
    if as_json:
        emit_json(view)
    else:
        console().print(esc(f"follow-up {view.id} done: {view.text}"), soft_wrap=True)
