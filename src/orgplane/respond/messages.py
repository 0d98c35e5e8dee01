"""The text of a notification: what failed, who it is for, by when, and the command to act.

Pure: the caller passes the decision row and the command line (built by the service layer,
which knows the org file and store the person must name; the core never builds a CLI line).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

REASONS = {
    "opened": "escalated to you",
    "deadline": "its deadline passed without a recovery; now yours",
    "repeat": "still open and not acknowledged",
    "escalated": "not resolved by its deadline; escalated to you",
    "ack_expired": "the acknowledgement expired and it is still open",
    "attempts": "automatic recovery ran out of attempts; now yours",
}
"""Why a message is sent, as the message says it."""


def subject_of(row: Mapping[str, Any], process_id: str | None = None) -> str:
    """The failing thing as a person names it: ``run r1 of process nick-prospecting``,
    ``output dash-analysis``."""
    kind, subject = row["subject_kind"], row["subject_id"]
    if kind == "run" and process_id:
        return f"run {subject} of process {process_id}"
    return f"{kind} {subject}"


def compose(
    row: Mapping[str, Any],
    *,
    reason: str,
    recipient: str | None,
    deadline: datetime,
    level: int,
    ack_command: str,
    process_id: str | None = None,
    previous: str | None = None,
) -> tuple[str, str]:
    """The title and body of the message ``reason`` calls for about decision ``row``."""
    subject = subject_of(row, process_id)
    tier = row["tier"] or "none declared"
    title = f"orgplane decision {row['id']}: {row['kind']} of {subject} (tier {tier})"
    lines = [
        f"Decision {row['id']}: {row['kind']} of {subject}, seat {row['seat_id'] or '-'}.",
        f"Why you: {REASONS.get(reason, reason)}"
        + (f" (from {previous}, level {level})" if previous and level else "")
        + ".",
        f"Tier: {tier}, action {row['action']}; rule {row['rule']}.",
        f"Deadline: {deadline.strftime('%Y-%m-%d %H:%M:%S UTC')}.",
        f"Seen {int(row['repeats']) + 1} time(s); for {recipient or 'nobody named'}.",
        f"Acknowledge: {ack_command}",
    ]
    return title, "\n".join(lines)
