"""Demo steps of the sixty seconds after a failure.

``show_decision_now`` runs right after Nick's batch stops: the decision the rules in org.yaml
make, and the message his owner would get at once. ``step_decide`` closes the story: every
failure the demo caused has its decision (Nick's closed by his finished run, its message
withdrawn), and Radar's morning briefing shows Dash's broken analysis flagged, never as current.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orgplane.service.session import Session


def show_decision_now(demo: Session) -> None:
    """Decide what the stopped batch recorded; show who would be told, and what (not sent)."""
    from orgplane.service.decisions import decide_once
    from orgplane.surfaces.cli.decision_commands import render_table
    from orgplane.surfaces.cli.notification_commands import render_unsent
    from orgplane.surfaces.cli.output import console, esc

    out = console()
    done = decide_once(demo, send=False)  # the demo's people have no real address: queue only
    out.print(
        f"\n[bold]{esc(demo.command('decide', '--once', '--no-send'))}[/bold] (the daemon, "
        "'orgplane watch', does this within a second of the failure):"
    )
    render_table(done.decisions, "no decision")
    out.print(
        "An error nobody planned for goes to the seat's owner now, whatever the process's own "
        "tier. Who would have been told, and the message (queued in the outbox, not sent here):"
    )
    render_unsent(done.unsent or [])


def step_decide(demo: Session) -> None:
    """Decide what is still pending, list every decision, then print Radar's briefing."""
    from rich.rule import Rule

    from orgplane.service.decisions import decide_once, list_decisions
    from orgplane.surfaces.briefing.terminal import print_seat_briefing
    from orgplane.surfaces.cli.decision_commands import render_table
    from orgplane.surfaces.cli.notification_commands import render_unsent
    from orgplane.surfaces.cli.output import console, esc

    out = console()
    out.print(Rule("The sixty seconds after: a decision for every failure, made in advance"))
    done = decide_once(demo, send=False)
    out.print(
        f"[bold]{esc(demo.command('decide', '--once', '--no-send'))}[/bold]: "
        f"{done.decided} more event(s) decided, {done.closed} closing a decision"
    )
    render_table(list_decisions(demo, include_closed=True).decisions, "no decision")
    out.print(
        "Nick's decision is closed: his resumed batch finished, so the message to David was "
        "withdrawn before anyone was paged. Dash's analysis and Tally's missed push are "
        "skipped and flagged: nobody is paged, each reader's coverage protocol applies."
    )
    render_unsent(done.unsent or [])
    out.print(Rule("Radar's morning briefing"))
    print_seat_briefing(demo, "radar")
    out.print(Rule("See it"))
    out.print(
        "The dashboard (the chart as a picture, runs, decisions with an acknowledge button):\n"
        f"  {esc(demo.command('serve', '--public-read'))}\n"
        "  then open http://127.0.0.1:8077/ (without --public-read, pages and the API need a "
        f"token: {esc(demo.command('token', 'create', 'ceo'))}).\n"
        f"The MCP server for Claude Desktop or Cursor: {esc(demo.command('mcp'))} "
        "(the README has the config block). The daemon that does all of this as it happens: "
        f"{esc(demo.command('watch'))}.\n"
        "(The demo's folder is thrown away unless you ran 'orgplane demo --keep DIR'.)"
    )
