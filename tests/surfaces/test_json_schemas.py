"""Every ``--json`` output has a JSON Schema kept in docs/schemas/, and validates against it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from jsonschema import Draft202012Validator

from orgplane.surfaces.cli import app
from orgplane.surfaces.cli.schemas import JSON_RESULTS, model_of, render, schema_documents
from tests.surfaces.cli_helpers import orgplane
from tests.surfaces.test_cli_reaches_service import INVOCATIONS, walk  # noqa: F401
from tests.surfaces.test_docs import command_at, command_paths

SCHEMAS = Path(__file__).parents[2] / "docs" / "schemas"
REGENERATE = "python -m orgplane.surfaces.cli.schemas docs/schemas"


def test_the_kept_schemas_are_the_generated_ones() -> None:
    generated = schema_documents()
    kept = {p.name for p in SCHEMAS.glob("*.json")}
    assert kept == set(generated), f"run {REGENERATE}"
    for name, schema in generated.items():
        assert (SCHEMAS / name).read_text() == render(schema), f"{name} is stale: run {REGENERATE}"
        Draft202012Validator.check_schema(schema)


def test_every_json_command_has_a_schema() -> None:
    root = typer.main.get_command(app)
    with_json = []
    for path in command_paths(root):
        command = command_at(root, path)
        if any("--json" in p.opts for p in command.params):
            with_json.append(path)
    assert sorted(with_json) == sorted(JSON_RESULTS)


@pytest.mark.parametrize("command", sorted(JSON_RESULTS))
def test_json_output_validates(command: str, walk: dict[str, str]) -> None:  # noqa: F811
    orgplane(
        "--org", walk["org"], "run", "start", "pepper-triage", walk["batch"], "--batch", "walk"
    )
    args = [a.format(**walk) for a in INVOCATIONS[command]]
    if command == "publish":
        args = ["publish", "nick-pipeline", "--file", walk["batch"]]
    if command in ("decision show", "decision ack"):  # a decision to show: the missing outputs'
        orgplane("--org", walk["org"], "check")
        orgplane("--org", walk["org"], "decide", "--once")
    if command.startswith(("incident", "follow-up")):  # incidents of the missing outputs
        orgplane("--org", walk["org"], "check")
        orgplane("--org", walk["org"], "decide", "--once")
    if command == "follow-up done":  # a follow-up to mark done
        orgplane(
            "--org", walk["org"], "incident", "close", "1", "--learning", "x",
            "--follow-up", "t", "--owner", "coo", "--due", "2020-01-01",
        )  # fmt: skip
    if command in ("hearing decide", "hearing show"):  # a hearing to decide and show
        orgplane("--org", walk["org"], "hearing", "open", "amanda")
    if command in ("queue", "queue resolve"):  # a hand-off to list and resolve
        orgplane(
            *("--org", walk["org"], "checkpoint", walk["run"], "m2", "fetch"),
            *("--handoff", "client-lead", "--reason", "fits no bucket"),
        )
    if command == "token revoke":  # a token to revoke
        made = orgplane("--org", walk["org"], "token", "create", "nick", "--json")
        args = ["token", "revoke", json.loads(made.stdout)["prefix"]]
    result = orgplane("--org", walk["org"], *args, "--json")
    assert result.returncode in (0, 1), result.stderr
    data = json.loads(result.stdout)
    schema = json.loads((SCHEMAS / f"{model_of(command).__name__}.json").read_text())
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=str)
    assert not errors, f"{command}: {errors[0].message} at {list(errors[0].absolute_path)}"
