"""``orgplane notifications`` and ``decide --once [--no-send]`` through the real CLI: the
example's URLs point at a local port nothing listens on, so a send fails fast and is listed."""

from __future__ import annotations

import json
from pathlib import Path

from orgplane.respond.events import FailureEvent, record_event
from orgplane.service.session import Session
from orgplane.store.types import utcnow
from tests.surfaces.cli_helpers import orgplane


def _unhandled(agency: Path) -> None:
    """Nick's seat fails with an error nobody planned for: owner-now escalates to the ceo."""
    with Session.open(agency) as session, session.store().write() as conn:
        record_event(
            conn,
            FailureEvent(
                kind="unhandled_error",
                occurred_at=utcnow(),
                subject_kind="seat",
                subject_id="nick",
                seat_id="nick",
                message="KeyError: 'email'",
            ),
        )


def test_no_send_shows_who_would_be_told_and_the_message(agency: Path) -> None:
    _unhandled(agency)
    result = orgplane("--org", str(agency), "decide", "--once", "--no-send")
    assert result.returncode == 0, result.stderr
    assert "1 notification(s) queued, not sent (--no-send):" in result.stdout
    assert "to ceo (opened): orgplane decision 1: unhandled_error of seat nick" in result.stdout
    assert f"Acknowledge: orgplane --org {agency} decision ack 1" in result.stdout
    listed = json.loads(orgplane("--org", str(agency), "notifications", "--json").stdout)
    [row] = listed["notifications"]
    assert (row["status"], row["recipient"], row["attempts"]) == ("pending", "ceo", 0)


def test_a_send_that_fails_is_listed_with_its_target(agency: Path) -> None:
    _unhandled(agency)
    done = json.loads(orgplane("--org", str(agency), "decide", "--once", "--json").stdout)
    assert done["delivered"]["claimed"] == 1 and done["delivered"]["retrying"] == 1
    failed = orgplane("--org", str(agency), "notifications", "--failed")
    assert failed.returncode == 1
    assert "json://127.0.0.1:9/orgplane/ceo: failure" in failed.stdout
    shown = orgplane("--org", str(agency), "decision", "show", "1")
    assert "notifications:" in shown.stdout and "retrying" in shown.stdout
    assert orgplane("--org", str(agency), "notifications").returncode == 0
