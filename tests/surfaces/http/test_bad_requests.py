"""Bad requests get a 4xx with one clear line, never a 500; oversized content is refused with
413 before it is read, and nothing is half-written."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from orgplane.store.tables import publishes
from tests.surfaces.http.conftest import RUN, Api

BAD_BODIES = [
    ("/api/checkpoints", b"not json", "JSON"),
    ("/api/checkpoints", b"[]", "body"),
    ("/api/checkpoints", b'{"run_id": "x"}', "record"),
    (
        "/api/checkpoints",
        b'{"run_id": "'
        + RUN.encode()
        + b'", "record": "m1", "stage": "fetch", "action": "failed"}',
        "code",
    ),
    (
        "/api/checkpoints",
        b'{"run_id": "r", "record": "m1", "stage": "s", "action": "done", "extra": 1}',
        "extra",
    ),
    ("/api/metrics/leads-booked", b'{"value": "seven"}', "value"),
    ("/api/metrics/leads-booked", b'{"value": NaN}', "value"),
    ("/api/heartbeats/tally-push", b'{"kind": "later"}', "kind"),
    ("/api/failures", b'{"subject_kind": "planet", "subject_id": "x", "message": "m"}', "subject"),
    ("/api/failures", b'{"subject_kind": "run", "subject_id": "x", "message": ""}', "message"),
]


@pytest.mark.parametrize(("path", "body", "named"), BAD_BODIES)
def test_a_bad_body_gets_422_naming_the_field(api: Api, path: str, body: bytes, named: str) -> None:
    seat = {"/api/checkpoints": "pepper", "/api/failures": "nick"}.get(path, "tally")
    with api.client(seat) as client:
        answer = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    error = answer.json()
    assert error["error"] == "invalid_request"
    assert "\n" not in error["message"]
    assert named.lower() in error["message"].lower(), error["message"]


def test_service_refusals_map_to_their_status(api: Api) -> None:
    with api.client("pepper") as client:
        unknown_run = client.post(
            "/api/checkpoints",
            json={"run_id": "no:such", "record": "m1", "stage": "fetch", "action": "done"},
        )
        assert unknown_run.status_code == 404
        assert "run list" in unknown_run.json()["message"]
        bad_stage = client.post(
            "/api/checkpoints",
            json={"run_id": RUN, "record": "m1", "stage": "nope", "action": "done"},
        )
        assert bad_stage.status_code in (400, 404), bad_stage.text
        assert client.get("/api/seats/nobody").status_code == 404
        assert client.get("/api/decisions/99").status_code == 404
        assert client.get("/api/decisions/0").status_code == 422
        assert client.get("/api/briefing/nick").status_code == 400  # nick reads no inputs
        assert client.get("/api/nowhere").json()["error"] == "not_found"
        assert client.delete("/api/chart").status_code == 405
    with api.client("tally") as client:
        future = client.post(
            "/api/metrics/leads-booked", json={"value": 1, "at": "2999-01-01T00:00:00+00:00"}
        )
        assert future.status_code == 400
        naive = client.post("/api/metrics/leads-booked", json={"value": 1, "at": "2026-01-01"})
        assert naive.status_code == 400, naive.text


def _publishes(api: Api) -> int:
    with api.session.store().read() as conn:
        return int(conn.execute(select(func.count()).select_from(publishes)).scalar() or 0)


def test_content_over_max_bytes_is_refused_with_413(api: Api) -> None:
    limit = api.session.org().outputs["nick-pipeline"].max_bytes
    with api.client("nick") as client:
        answer = client.put("/api/outputs/nick-pipeline/content", content=b"x" * (limit + 1))

        def chunks() -> Iterator[bytes]:
            for _ in range(limit // 65536 + 2):
                yield b"y" * 65536

        streamed = client.put("/api/outputs/nick-pipeline/content", content=chunks())
    assert answer.status_code == 413
    assert "max_bytes" in answer.json()["message"]
    assert streamed.status_code == 413, streamed.text
    assert _publishes(api) == 0


def test_a_declared_oversize_body_is_refused_unread(api: Api) -> None:
    # Headers only: the server answers 413 without waiting for a byte of the body.
    url = urlsplit(api.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            b"PUT /api/outputs/nick-pipeline/content HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + api.tokens["nick"].encode() + b"\r\n"
            b"Content-Length: 10000000000\r\n\r\n"
        )
        head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert _publishes(api) == 0


def test_someone_else_s_oversized_content_is_refused_before_its_size(api: Api) -> None:
    with api.client("pepper") as client:
        answer = client.put("/api/outputs/nick-pipeline/content", content=b"x" * 10)
    assert answer.status_code == 403


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_any_body_gets_a_clear_4xx_or_success(api: Api, body: bytes) -> None:
    with api.client("pepper") as client:
        for path in ("/api/checkpoints", "/api/failures", f"/api/decisions/{1}/ack"):
            answer = client.post(path, content=body, headers={"Content-Type": "application/json"})
            assert answer.status_code < 500, answer.text
            if answer.status_code >= 400:
                assert answer.json()["message"].strip()
