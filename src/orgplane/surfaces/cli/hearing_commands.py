"""Commands of seat health and retirement hearings: ``seats health`` and
``hearing open|decide|show``.

Exit codes: ``seats health`` 1 when a seat is broken or on empty; 2 bad input (an unknown seat,
a retirement refused for a reference left without a new home, no open hearing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from orgplane.surfaces.cli import app

if TYPE_CHECKING:
    from orgplane.service.hearings import HearingView

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of text.")
SEAT_ARGUMENT = typer.Argument(..., metavar="SEAT", help="The seat the hearing is about.")

seats_app = typer.Typer(help="Seats of the chart: their health.", no_args_is_help=True)
app.add_typer(seats_app, name="seats")

hearing_app = typer.Typer(
    help="Retirement hearings: open one with the evidence, decide it (retire or keep).",
    no_args_is_help=True,
)
app.add_typer(hearing_app, name="hearing")


@seats_app.command("health")
def health(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Each seat broken (a process failed: recover it), on empty (nothing routed to it: a
    hearing candidate), ok or retired, with the evidence; exit 1 if any is broken or on empty."""
    from rich.table import Table

    from orgplane.service.hearings import seats_health
    from orgplane.surfaces.cli.output import console, emit_json, esc

    report = seats_health(ctx.obj)
    if as_json:
        emit_json(report)
    else:
        table = Table(box=None, pad_edge=False)
        for header in ("seat", "health", "evidence", "next step"):
            table.add_column(header, overflow="fold", no_wrap=header in ("seat", "health"))
        for seat in report.seats:
            evidence = [e.message for e in seat.broken + seat.empty]
            table.add_row(
                esc(seat.seat),
                esc(seat.status.replace("_", " ")),
                esc("\n".join(evidence) or "-"),
                esc(seat.next_step),
            )
        console().print(table)
        counts = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in report.counts.items())
        console().print(counts)
    if not report.ok:
        raise typer.Exit(1)


def _render_hearing(h: HearingView) -> None:
    from orgplane.surfaces.cli.output import console, esc

    out = console()
    out.print(f"[bold]hearing {h.id}[/bold] of seat {esc(h.seat)}: {esc(h.status)}")
    out.print(f"opened {h.opened_at:%Y-%m-%d %H:%M} UTC by {esc(h.opened_by or 'the operator')}")
    evidence = h.evidence
    out.print(f"seat health when opened: {esc(str(evidence.get('status', '?')).replace('_', ' '))}")
    for item in [*evidence.get("broken", []), *evidence.get("empty", [])]:
        out.print(f"  - {esc(item.get('message', ''))}", soft_wrap=True)
    if h.verdict:
        who = h.decided_by or "the operator"
        when = f"{h.decided_at:%Y-%m-%d %H:%M} UTC" if h.decided_at else "-"
        out.print(f"decided {when} by {esc(who)}: {esc(h.verdict.get('outcome', '?'))}")
        if h.reason:
            out.print(f"reason: {esc(h.reason)}", soft_wrap=True)


@hearing_app.command("open")
def open_(ctx: typer.Context, seat: str = SEAT_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """Open a retirement hearing of SEAT, recording its health evidence now."""
    from orgplane.service.hearings import open_hearing
    from orgplane.surfaces.cli.output import console, emit_json, esc

    hearing = open_hearing(ctx.obj, seat)
    if as_json:
        emit_json(hearing)
        return
    _render_hearing(hearing)
    console().print(
        "decide it with "
        + esc(ctx.obj.command("hearing", "decide", seat, "--retire", "--give", "CAPABILITY=SEAT"))
        + " (the refusal lists every --give needed) or --keep --reason TEXT",
        soft_wrap=True,
    )


@hearing_app.command("decide")
def decide(
    ctx: typer.Context,
    seat: str = SEAT_ARGUMENT,
    retire: bool = typer.Option(False, "--retire", help="Retire the seat."),
    keep: bool = typer.Option(False, "--keep", help="Keep the seat (needs --reason)."),
    give: list[str] = typer.Option(
        [],
        "--give",
        metavar="KEY=SEAT",
        help="Give a capability (NAME=SEAT) or item (output:ID, coverage:OUTPUT, process:ID, "
        "metric:ID, reports:SEAT, owner:SEAT, tier:NAME, input:SEAT:OUTPUT, "
        "escalate:PROCESS:N, rule:TIER:N) a new seat; repeat for each.",
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why: kept in the verdict."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Decide SEAT's open hearing: --retire with a --give for everything that points at it
    (one edit of org.yaml, shown as a diff, recorded), or --keep --reason TEXT."""
    from orgplane.service.hearings import decide_hearing
    from orgplane.surfaces.cli.output import console, emit_json, esc

    done = decide_hearing(ctx.obj, seat, retire=retire, keep=keep, gives=give, reason=reason)
    if as_json:
        emit_json(done)
        return
    out = console()
    if done.outcome == "keep":
        out.print(f"seat {esc(seat)} kept (hearing {done.hearing.id}): {esc(reason or '')}")
        return
    import sys

    # The diff is org.yaml's own text: written as it is, never read as markup or emoji codes.
    sys.stdout.write(done.diff)
    sys.stdout.flush()
    moved = ", ".join(f"{k} -> {v}" for k, v in done.gives.items())
    out.print(
        f"seat {esc(seat)} retired (hearing {done.hearing.id}); {esc(moved or 'nothing to move')}"
        f"; recorded as org sync {done.sync_id}",
        soft_wrap=True,
    )


@hearing_app.command("show")
def show(ctx: typer.Context, seat: str = SEAT_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """SEAT's latest hearing: the evidence recorded and, once decided, the verdict."""
    from orgplane.service.hearings import show_hearing
    from orgplane.surfaces.cli.output import emit_json

    hearing = show_hearing(ctx.obj, seat)
    if as_json:
        emit_json(hearing)
        return
    _render_hearing(hearing)
