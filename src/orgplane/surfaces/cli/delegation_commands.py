"""``seats`` commands: ``seats delegation``, the delegation ledger."""

from __future__ import annotations

import typer

from orgplane.surfaces.cli.errors import EXIT_FINDINGS
from orgplane.surfaces.cli.hearing_commands import seats_app  # one ``seats`` group


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    from datetime import timedelta

    from orgplane.org.durations import humanize_age

    return humanize_age(timedelta(seconds=value))


@seats_app.command("delegation")
def delegation(
    ctx: typer.Context,
    since: str | None = typer.Option(
        None, "--since", metavar="DATE", help="Start of the window [default: 28 days ago]."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Per process: records the agent finished, hand-offs by design, records a person completed
    after a failure, with shares; per human seat: how fast it answered its hand-offs. Exit 1
    when a process is not really delegated."""
    from rich.table import Table

    from orgplane.service.delegation import delegation as ledger
    from orgplane.surfaces.cli.output import console, emit_json, esc

    view = ledger(ctx.obj, since=since)
    if as_json:
        emit_json(view)
    else:
        out = console()
        out.print(f"delegation from {view.since:%Y-%m-%d} to {view.until:%Y-%m-%d %H:%M} UTC")
        table = Table(show_lines=False)
        columns = ("process", "seat", "records", "agent", "by design", "after failure")
        for column in (*columns, "failures taken"):
            table.add_column(column, justify="left" if column in columns[:2] else "right")
        for p in view.processes:
            taken = _share(p.person_share_of_failures)
            if p.not_really_delegated:
                taken = f"[red]{taken} not really delegated[/red]"
            table.add_row(
                esc(p.process_id),
                esc(p.seat or "-"),
                str(p.records),
                f"{p.agent} ({_share(p.agent_share)})",
                f"{p.handed_off} ({_share(p.handed_off_share)})",
                f"{p.person_after_failure} ({_share(p.person_after_failure_share)})",
                f"{taken} of {p.failures}",
            )
        out.print(table)
        seats = Table(show_lines=False)
        for column in ("human seat", "hand-offs", "answered", "median", "worst", "sent back"):
            seats.add_column(column, justify="left" if column == "human seat" else "right")
        for s in view.seats:
            seats.add_row(
                esc(s.seat),
                str(s.received),
                str(s.answered),
                _seconds(s.median_answer_seconds),
                _seconds(s.worst_answer_seconds),
                str(s.returned),
            )
        out.print(seats)
    if view.not_really_delegated:
        raise typer.Exit(EXIT_FINDINGS)
