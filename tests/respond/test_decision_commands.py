"""``decide --once`` and ``decision list|show|ack`` through the real CLI on the agency example:
the watcher's missing-output events become decisions, each once, and an ack silences one."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from orgplane.service.decisions import ack_decision, decide_pending, list_decisions
from orgplane.service.session import Session
from tests.surfaces.cli_helpers import orgplane


def _json(*args: str) -> dict:  # type: ignore[type-arg]
    result = orgplane(*args, "--json")
    assert result.returncode == 0, result.stderr
    data: dict = json.loads(result.stdout)  # type: ignore[type-arg]
    return data


def test_decide_once_then_list_show_and_ack(agency: Path) -> None:
    org = str(agency)
    orgplane("--org", org, "check")  # the example's state files are absent: missing events
    done = _json("--org", org, "decide", "--once")
    assert done["decided"] > 0 and done["opened"] == done["decided"] and done["pending"] == 0
    assert _json("--org", org, "decide", "--once")["decided"] == 0  # each event once
    listed = _json("--org", org, "decision", "list")["decisions"]
    dash = next(d for d in listed if d["subject_id"] == "dash-analysis")
    assert (dash["tier"], dash["action"], dash["state"]) == ("flag", "skip_and_flag", "live")
    assert dash["rule"].startswith(f"{agency}:")
    shown = _json("--org", org, "decision", "show", str(dash["id"]))
    assert shown["event_ids"] and shown["ack"].endswith(f"decision ack {dash['id']}")
    acked = _json("--org", org, "decision", "ack", str(dash["id"]), "--note", "looking")
    assert acked["state"] == "acknowledged" and acked["ack_note"] == "looking"
    until = datetime.fromisoformat(acked["acked_until"])
    assert until - datetime.fromisoformat(acked["acked_at"]) == timedelta(hours=18)  # deadline
    text = orgplane("--org", org, "decision", "show", str(dash["id"]))
    assert "acknowledged" in text.stdout and "looking" in text.stdout


def test_decide_needs_once_and_an_unknown_decision_is_refused(agency: Path) -> None:
    refused = orgplane("--org", str(agency), "decide")
    assert refused.returncode == 2 and "--once" in refused.stderr
    assert "orgplane watch" in refused.stderr  # the daemon is named as the other way
    missing = orgplane("--org", str(agency), "decision", "ack", "42")
    assert missing.returncode == 2 and "decision 42: no such decision" in missing.stderr


def test_a_closed_decision_cannot_be_acknowledged(agency: Path, tmp_path: Path) -> None:
    from orgplane.errors import UsageError
    from orgplane.respond.events import FailureEvent, record_event
    from orgplane.store.types import utcnow

    with Session(agency, f"sqlite:///{tmp_path / 's.db'}") as session:
        for kind in ("stale", "recovered"):
            with session.store().write() as conn:
                record_event(
                    conn,
                    FailureEvent(
                        kind=kind,  # type: ignore[arg-type]
                        occurred_at=utcnow(),
                        subject_kind="output",
                        subject_id="dash-analysis",
                        message=kind,
                    ),
                )
        done = decide_pending(session)
        assert (done.opened, done.closed) == (1, 1)
        assert list_decisions(session).decisions == []
        [closed] = list_decisions(session, include_closed=True).decisions
        assert closed.state == "closed"
        with pytest.raises(UsageError, match="is closed"):
            ack_decision(session, closed.id)
