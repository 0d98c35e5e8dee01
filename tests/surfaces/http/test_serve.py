"""``orgplane serve`` as a user starts it: a real process, a token made with ``token create``,
a read and a write over HTTP, a clean stop on SIGTERM; a port in use is bad input (exit 2)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.surfaces.cli_helpers import orgplane, orgplane_process


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_with_a_created_token_and_stops_on_sigterm(agency: Path) -> None:
    token = orgplane("--org", str(agency), "token", "create", "tally").stdout.strip()
    assert token.startswith("orgplane_")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORGPLANE_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "orgplane", "--org", str(agency), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{url}/api/chart", headers=headers).status_code == 200
        pushed = httpx.post(f"{url}/api/metrics/leads-booked", json={"value": 9}, headers=headers)
        assert pushed.status_code == 200, pushed.text
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert f"http://127.0.0.1:{port}/api" in out
    listed = orgplane("--org", str(agency), "token", "list").stdout
    assert "tally" in listed and token not in listed


def test_serve_refuses_a_port_in_use(agency: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = orgplane_process("--org", str(agency), "serve", "--port", str(port), timeout=60)
    assert result.returncode == 2, result.stderr
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr
