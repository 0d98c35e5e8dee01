"""The README's Python API example runs as written, in a folder made by ``orgplane init``."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from orgplane.service.org import init_org

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_the_service_example_runs(tmp_path: Path) -> None:
    section = README[README.index("## Python API") :]
    block = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert block is not None and "Session.open" in block.group(1)
    init_org(tmp_path / "org")
    namespace: dict[str, object] = {}
    with contextlib.chdir(tmp_path / "org"):
        exec(compile(block.group(1), "README.md", "exec"), namespace)
    assert namespace["view"].run_id == "nick-prospecting:2026-06-21"  # type: ignore[attr-defined]


def test_the_decisions_example_runs(tmp_path: Path) -> None:
    section = README[README.index("Decisions, notifications and the daemon") :]
    block = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert block is not None and "decide_once" in block.group(1)
    init_org(tmp_path / "org")
    namespace: dict[str, object] = {}
    with contextlib.chdir(tmp_path / "org"):
        exec(compile(block.group(1), "README.md", "exec"), namespace)
    told = namespace["told"]
    assert told and all(rule.split(":")[-1].isdigit() for *_, rule in told)  # type: ignore[attr-defined]
