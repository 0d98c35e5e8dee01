"""Seat tokens over a real server: a token x write-route matrix (a seat writes only its own
data, acknowledging takes a person), revoked and unknown tokens refused, and no token ever
stored in clear (the database file itself is searched)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from orgplane.errors import NotFoundError, UsageError
from orgplane.service.decisions import decide_pending
from orgplane.service.failures import report_failure
from orgplane.service.tokens import create_token, list_tokens, revoke_token, seat_for_token
from orgplane.store.tables import metadata
from tests.surfaces.http.conftest import RUN, SEATS, Api

CONTENT = json.dumps({"updated_at": "2026-01-01T00:00:00+00:00"}).encode()
PEOPLE = {"ceo", "coo"}


def writes(decision_id: int) -> list[tuple[str, str, dict[str, Any], set[str]]]:
    """(method, path, request keywords, seats allowed) of every write route."""
    return [
        (
            "POST",
            "/api/checkpoints",
            {"json": {"run_id": RUN, "record": "m1", "stage": "fetch", "action": "done"}},
            {"pepper"},
        ),
        ("PUT", "/api/outputs/nick-pipeline/content", {"content": CONTENT}, {"nick"}),
        ("POST", "/api/heartbeats/tally-push", {"json": {"kind": "start"}}, {"tally"}),
        ("POST", "/api/metrics/leads-booked", {"json": {"value": 3}}, {"tally"}),
        ("POST", "/api/gate/radar", {}, {"radar"}),
        (
            "POST",
            "/api/failures",
            {"json": {"subject_kind": "process", "subject_id": "nick-prospecting", "message": "x"}},
            {"nick"},
        ),
        ("POST", f"/api/decisions/{decision_id}/ack", {"json": {"note": "seen"}}, PEOPLE),
    ]


def fingerprint(api: Api) -> dict[str, Any]:
    """Rows per table (token bookkeeping aside) and every decision's acknowledgement."""
    counts: dict[str, Any] = {}
    with api.session.store().read() as conn:
        for table in metadata.sorted_tables:
            if table.name != "api_tokens":
                counts[table.name] = conn.execute(select(func.count()).select_from(table)).scalar()
        decisions = metadata.tables["decisions"]
        counts["acks"] = conn.execute(select(decisions.c.id, decisions.c.acked_at)).all()
        checkpoints = metadata.tables["run_checkpoints"]
        counts["checkpoints"] = conn.execute(select(checkpoints.c.status)).all()
    return counts


def test_a_seat_writes_only_its_own_data(api: Api) -> None:
    report_failure(api.session, "unhandled_error", "process", "pepper-triage", "stalled")
    decision_id = decide_pending(api.session).decisions[0].id
    for method, path, keywords, allowed in writes(decision_id):
        for seat in SEATS:
            if seat in allowed:
                continue
            before = fingerprint(api)
            with api.client(seat) as client:
                answer = client.request(method, path, **keywords)
            assert answer.status_code == 403, (seat, path, answer.text)
            assert answer.json()["error"] == "forbidden"
            assert seat in answer.json()["message"]
            assert fingerprint(api) == before, f"{seat} {method} {path} changed the store"
        for seat in sorted(allowed):
            with api.client(seat) as client:
                answer = client.request(method, path, **keywords)
            assert answer.status_code in (200, 201), (seat, path, answer.text)


def test_writes_need_a_token_and_reads_a_valid_one(api: Api) -> None:
    with api.client() as anonymous:
        for method, path, keywords, _ in writes(1):
            answer = anonymous.request(method, path, **keywords)
            assert answer.status_code == 401, (path, answer.text)
            assert answer.headers["www-authenticate"].startswith("Bearer")
        for path in ("/api/chart", "/api/seats", "/metrics", f"/api/runs/{RUN}"):
            assert anonymous.get(path).status_code == 401
        wrong = anonymous.get("/api/chart", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert wrong.status_code == 401
        assert "Bearer" in wrong.json()["message"]


def test_a_revoked_token_is_refused_at_once(api: Api) -> None:
    with api.client("nick") as client:
        assert client.get("/api/chart").status_code == 200
        prefix = api.tokens["nick"].split("_")[1]
        shown = revoke_token(api.session, prefix)
        assert shown.revoked and shown.seat == "nick"
        for method, path, keywords, _ in writes(1)[:2]:
            assert client.request(method, path, **keywords).status_code == 401
        assert client.get("/api/chart").status_code == 401
    assert seat_for_token(api.session, api.tokens["nick"]) is None
    assert seat_for_token(api.session, api.tokens["pepper"]) == "pepper"


def test_a_token_with_a_forged_secret_or_unknown_prefix_is_refused(api: Api) -> None:
    real = api.tokens["ceo"]
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    unknown = "orgplane_ffffffff_" + real.split("_", 2)[2]
    for token in (forged, unknown, "orgplane_", "x" * 5000, real + "x", real.upper()):
        assert seat_for_token(api.session, token) is None, token
    assert seat_for_token(api.session, real) == "ceo"
    with api.client() as client:
        answer = client.get("/api/chart", headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401


def test_tokens_are_never_stored_in_clear(api: Api) -> None:
    with api.client("pepper") as client:
        assert client.get("/api/chart").status_code == 200  # last use noted
    secrets = [t.split("_", 2)[2] for t in api.tokens.values()]
    with api.session.store().read() as conn:
        for table in metadata.sorted_tables:
            text = repr(conn.execute(select(table)).all())
            for secret in secrets:
                assert secret not in text, f"a token's secret is stored in {table.name}"
    if api.db_url.startswith("sqlite"):
        database = Path(api.db_url.removeprefix("sqlite:///"))
        files = [p for p in database.parent.iterdir() if p.name.startswith(database.name)]
        blob = b"".join(p.read_bytes() for p in files)
        assert b"api_tokens" in blob  # the right file
        for token, secret in zip(api.tokens.values(), secrets, strict=True):
            assert token.encode() not in blob
            assert secret.encode() not in blob
            assert secret[:16].encode() not in blob


def test_token_list_shows_seat_prefix_and_use_never_the_token(api: Api) -> None:
    with api.client("radar") as client:
        client.get("/api/chart")
    listed = {t.seat: t for t in list_tokens(api.session).tokens}
    assert set(listed) == set(SEATS)
    assert listed["radar"].last_used_at is not None
    assert listed["nick"].last_used_at is None
    dumped = json.dumps(list_tokens(api.session).as_json())
    assert all(t not in dumped for t in api.tokens.values())


def test_tokens_are_for_active_declared_seats(api: Api) -> None:
    with pytest.raises(NotFoundError, match="seat 'nobody' is not declared"):
        create_token(api.session, "nobody")
    with pytest.raises(UsageError, match="retired"):
        create_token(api.session, "jeff")
    with pytest.raises(NotFoundError, match="token list"):
        revoke_token(api.session, "00000000")
