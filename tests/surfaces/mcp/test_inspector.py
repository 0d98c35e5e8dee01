"""The MCP Inspector's command-line mode, a client nobody here wrote, lists and calls the tools
of ``orgplane mcp``. The Inspector is installed with npm into the project's own ``.node/``
(never globally); without a reachable npm registry the tests skip, except under CI=true."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orgplane.service.session import Session
from orgplane.surfaces.mcp.tools import WRITE_TOOLS
from tests.surfaces.mcp.helpers import started_nick_run
from tests.surfaces.mcp.test_tools import RUN

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[3]
PREFIX = ROOT / ".node"
INSPECTOR = PREFIX / "node_modules" / ".bin" / "mcp-inspector"
PACKAGE = "@modelcontextprotocol/inspector@2"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the MCP Inspector is required under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def inspector() -> Path:
    """The Inspector's executable, installed into .node/ once (a lock keeps xdist workers from
    installing it twice at the same time)."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        _unavailable("node and npm are not installed (apt-get install nodejs npm)")
    PREFIX.mkdir(exist_ok=True)
    with (PREFIX / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not INSPECTOR.exists():
            done = subprocess.run(
                [
                    "npm",
                    "install",
                    "--prefix",
                    str(PREFIX),
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    PACKAGE,
                ],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if done.returncode != 0 or not INSPECTOR.exists():
                _unavailable(f"npm could not install {PACKAGE}: {done.stderr.strip()[-300:]}")
    return INSPECTOR


@pytest.fixture
def nick_org(agency: Path) -> Path:
    return started_nick_run(agency)


def inspect(inspector: Path, org: Path, *args: str, writes: bool = False) -> Any:
    server = [sys.executable, "-m", "orgplane", "--org", str(org), "mcp"]
    if writes:
        server += ["--allow-writes", "--seat", "nick"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORGPLANE_")}
    done = subprocess.run(
        [str(inspector), "--cli", *server, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout)


def test_the_inspector_lists_every_tool(inspector: Path, nick_org: Path) -> None:
    listed = inspect(inspector, nick_org, "--method", "tools/list", writes=True)
    tools = {t["name"]: t for t in listed["tools"]}
    assert set(tools) >= WRITE_TOOLS and "show_chart" in tools
    for name, tool in tools.items():
        hints = tool["annotations"]
        assert {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"} <= set(
            hints
        ), name
        assert "outputSchema" in tool, name
    read_only = inspect(inspector, nick_org, "--method", "tools/list")
    assert not {t["name"] for t in read_only["tools"]} & WRITE_TOOLS


def test_the_inspector_calls_a_read_and_a_write(inspector: Path, nick_org: Path) -> None:
    chart = inspect(inspector, nick_org, "--method", "tools/call", "--tool-name", "show_chart")
    text = chart["content"][0]["text"]
    for seat in Session.open(nick_org).org().seats:
        assert seat in text
    assert {s["id"] for s in chart["structuredContent"]["seats"]} == {"ceo"}
    done = inspect(
        inspector,
        nick_org,
        "--method",
        "tools/call",
        "--tool-name",
        "record_checkpoint",
        "--tool-arg",
        f"run_id={RUN}",
        "--tool-arg",
        "record=1",
        "--tool-arg",
        "stage=validate",
        writes=True,
    )
    assert done["structuredContent"]["stages"]["validate"]["done"] == 1
    assert "recorded 1 / validate: done" in done["content"][0]["text"]
