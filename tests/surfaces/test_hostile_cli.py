"""Hostile command-line arguments: whatever a user (or a confused agent) types, the answer is a
result or one error line with exit 2, never a traceback, a hang or bad data accepted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.surfaces.cli_helpers import orgplane

# Real command lines cannot carry NUL; everything else can.
ARG = st.text(st.characters(exclude_characters="\x00"), max_size=80)
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """An example org with one stored run (``pepper-triage:h``); the global options to use."""
    from orgplane.org.scaffold import write_example

    folder = tmp_path_factory.mktemp("hostile")
    org_file = write_example(folder / "org", "agency")
    batch = folder / "mail.json"
    batch.write_text(json.dumps([{"id": "m1"}, {"id": "m2"}]))
    base = ["--org", str(org_file), "--db", f"sqlite:///{folder / 'h.db'}"]
    assert (
        orgplane(*base, "run", "start", "pepper-triage", str(batch), "--batch", "h").returncode == 0
    )
    return base


def assert_clean(result: object, allowed: tuple[int, ...] = (0, 1, 2)) -> None:
    code, out, err = result.returncode, result.stdout, result.stderr  # type: ignore[attr-defined]
    assert code in allowed, (code, out, err)
    assert "Traceback" not in err and "unexpected" not in err, err
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1, err


@SETTINGS
@given(run=ARG, record=ARG, stage=ARG)
def test_checkpoint_names(world: list[str], run: str, record: str, stage: str) -> None:
    assert_clean(orgplane(*world, "checkpoint", run, record, stage, "--done"))


@SETTINGS
@given(text=ARG)
def test_checkpoint_output_json(world: list[str], text: str) -> None:
    assert_clean(
        orgplane(*world, "checkpoint", "pepper-triage:h", "m2", "fetch", "--redo", "--output", text)
    )


@pytest.mark.parametrize(
    "text", ["[" * 100_000, '{"a":' * 50_000, "1e999999", "NaN", '"' + "x" * 1_000_000]
)
def test_checkpoint_output_that_exhausts_the_parser(world: list[str], text: str) -> None:
    result = orgplane(
        *world, "checkpoint", "pepper-triage:h", "m1", "fetch", "--done", "--output", text
    )
    assert_clean(result)


@SETTINGS
@given(run=ARG)
def test_run_status_and_resume(world: list[str], run: str) -> None:
    assert_clean(orgplane(*world, "run", "status", run))
    assert_clean(orgplane(*world, "run", "list", "--process", run))


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999", "0x10", "", "1,5", "١٢"])
def test_metric_values_that_are_not_finite_numbers(world: list[str], value: str) -> None:
    result = orgplane(*world, "metric", "push", "leads-booked", value)
    assert_clean(result, allowed=(2,))


@SETTINGS
@given(at=ARG)
def test_metric_times(world: list[str], at: str) -> None:
    result = orgplane(*world, "metric", "push", "leads-booked", "3", "--at", at)
    assert_clean(result)


@pytest.mark.parametrize("lease", ["nan", "0", "-1", "1e308", "inf"])
def test_leases_out_of_range(world: list[str], lease: str) -> None:
    result = orgplane(*world, "run", "resume", "pepper-triage:h", "--lease", lease)
    assert_clean(result, allowed=(2,))


@pytest.mark.parametrize("interval", ["0s", "-5s", "", "abc", "1e9h", "5", "99999999999999999999d"])
def test_watch_intervals(world: list[str], interval: str) -> None:
    assert_clean(orgplane(*world, "watch", "--interval", interval), allowed=(2,))


@SETTINGS
@given(name=ARG, note=ARG)
def test_heartbeat_names_and_notes(world: list[str], name: str, note: str) -> None:
    assert_clean(orgplane(*world, "heartbeat", name, "--note", note))


@pytest.mark.parametrize("kind", ["directory", "missing", "binary", "empty", "fifo-like-name"])
def test_org_paths_that_are_not_org_files(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "org.yaml"
    if kind == "directory":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(b"\xff\xfe\x00\x00garbage\x00")
    elif kind == "empty":
        path.write_text("")
    elif kind == "fifo-like-name":
        path = tmp_path / "[bold]org.yaml"
    result = orgplane("--org", str(path), "chart")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
