"""The JSON Schemas of every ``--json`` output, generated from the service's result models.

The schemas are kept in the repository under ``docs/schemas/`` (one file per result model) so a
program reading orgplane's output can validate it; a test checks the files equal what the models
generate and that every ``--json`` output validates. Regenerate after changing a model with::

    python -m orgplane.surfaces.cli.schemas docs/schemas
"""

from __future__ import annotations

import json
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

# Which result model each command prints with --json.
JSON_RESULTS: dict[str, str] = {
    "validate": "org:Validation",
    "chart": "org:Chart",
    "audit readiness": "org:Readiness",
    "audit weekly": "audit:WeeklyAudit",
    "run start": "runs:RunView",
    "run status": "runs:RunView",
    "run resume": "runs:RunView",
    "run list": "runs:RunList",
    "checkpoint": "runs:RunView",
    "queue": "handoffs:QueueView",
    "queue resolve": "handoffs:ResolvedView",
    "seats delegation": "delegation:DelegationView",
    "check": "watch:CheckResult",
    "publish": "watch:Published",
    "prune": "watch:Pruned",
    "heartbeat": "watch:Heartbeat",
    "metric push": "watch:MetricPushed",
    "scorecard": "watch:Scorecard",
    "gate": "gate:GateResult",
    "drill": "drills:DrillReport",
    "decide": "decisions:Decided",
    "decision list": "decisions:DecisionList",
    "decision show": "decisions:DecisionView",
    "decision ack": "decisions:DecisionView",
    "brief": "briefing:Briefing",
    "notifications": "notifications:NotificationList",
    "incidents": "incidents:IncidentList",
    "incident show": "incidents:IncidentDetail",
    "incident ack": "incidents:IncidentDetail",
    "incident close": "incidents:IncidentClosed",
    "follow-ups": "incidents:FollowUpList",
    "follow-up done": "incidents:FollowUpView",
    "token create": "tokens:TokenCreated",
    "token list": "tokens:TokenList",
    "token revoke": "tokens:TokenView",
    "seats health": "hearings:SeatsHealth",
    "hearing open": "hearings:HearingView",
    "hearing decide": "hearings:HearingDecision",
    "hearing show": "hearings:HearingView",
}


def model_of(command: str) -> Any:
    """The result model class ``command`` prints with ``--json``."""
    module, name = JSON_RESULTS[command].split(":")
    return getattr(import_module(f"orgplane.service.{module}"), name)


def schema_documents() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema (draft 2020-12) of each result model a command prints."""
    documents: dict[str, dict[str, Any]] = {}
    for command in JSON_RESULTS:
        model = model_of(command)
        schema = model.model_json_schema(mode="serialization")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        documents[f"{model.__name__}.json"] = schema
    return documents


def render(schema: dict[str, Any]) -> str:
    """A schema as the repository keeps it."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    """Write every schema into ``folder``; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schema_documents().items():
        path = folder / name
        path.write_text(render(schema))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(path)
