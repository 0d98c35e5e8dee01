"""Who has read which output through the gate, from the live store's gate answers.

A seat that asked the gate for an output and no longer declares a coverage protocol for it still
reads it, with nothing written down about a stale input: the stale-state drill names that gap.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from orgplane.store.tables import gate_answers


def past_readers(conn: Connection) -> set[tuple[str, str]]:
    """Every (seat, output) pair the gate has answered, within the store's retention."""
    query = select(gate_answers.c.seat_id, gate_answers.c.output_id).distinct()
    return {(str(seat), str(output)) for seat, output in conn.execute(query)}
