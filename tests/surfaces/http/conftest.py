"""The API under test: the agency example, a token for a few seats, a real server, a client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from orgplane.service.runs import start_run
from orgplane.service.session import Session
from orgplane.service.tokens import create_token
from orgplane.surfaces.http import create_app
from tests.surfaces.http.server import serving

SEATS = ("nick", "pepper", "tally", "radar", "ceo", "coo")
"""Seats given a token: agents that write (nick, pepper, tally), a reader (radar), people."""
RUN = "pepper-triage:walk"


@dataclass
class Api:
    """A running API: its URL, a token per seat of :data:`SEATS`, a session on the same store."""

    url: str
    tokens: dict[str, str]
    session: Session
    db_url: str
    org_path: Path

    def client(self, seat: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[seat]}"} if seat else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def prepare(org_path: Path, db_url: str, tmp_path: Path) -> tuple[Session, dict[str, str]]:
    """Tokens for :data:`SEATS` and a stored run of pepper-triage (m1, m2) to checkpoint."""
    session = Session.open(org_path, db_url)
    tokens = {seat: create_token(session, seat).token for seat in SEATS}
    batch = tmp_path / "mail.json"
    batch.write_text(json.dumps([{"id": "m1"}, {"id": "m2"}]))
    start_run(session, "pepper-triage", batch, batch="walk")
    return session, tokens


@pytest.fixture
def api(agency: Path, db_url: str, tmp_path: Path) -> Iterator[Api]:
    session, tokens = prepare(agency, db_url, tmp_path)
    with serving(create_app(agency, db_url)) as url:
        yield Api(url, tokens, session, db_url, agency)
    session.close()
