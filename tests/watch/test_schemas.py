"""Compiled JSON Schema validators are shared by content: a daemon reloading the org every pass
keeps flat memory."""

from __future__ import annotations

import gc
import json
import tracemalloc
from pathlib import Path

from orgplane.org.loader import load_org
from orgplane.store.engine import open_store
from orgplane.store.sync import sync_org
from orgplane.watch.check import check_once
from orgplane.watch.schemas import CACHE_SIZE, cached_validators, schema_validator
from tests.watch.conftest import NOW, iso, write_state

ORG = """
name: Schemas
seats:
  coo: {title: COO, kind: human}
  nick: {title: Prospecting, kind: agent, owner: coo, reports_to: coo}
outputs:
"""

OUTPUT = """
  nick-{n}:
    producer: nick
    location: state/nick-{n}.json
    timestamp: meta.updated_at
    checks:
      json_schema:
        type: object
        required: [drafted]
        properties:
          drafted: {{type: integer, minimum: 0, maximum: 30}}
          leads: {{type: array, items: {{type: object, properties: {{name: {{type: string}}}}}}}}
"""


def test_equal_schemas_share_one_validator_and_the_cache_is_bounded() -> None:
    first = schema_validator({"type": "object", "maxProperties": 3})
    assert schema_validator({"maxProperties": 3, "type": "object"}) is first
    for n in range(CACHE_SIZE + 10):
        schema_validator({"type": "object", "maxProperties": 1000 + n})
    assert cached_validators() == CACHE_SIZE


def test_a_thousand_passes_reloading_the_org_keep_flat_memory(tmp_path: Path) -> None:
    org_file = tmp_path / "org.yaml"
    org_file.write_text(ORG + OUTPUT.format(n=0))
    body = {"meta": {"updated_at": iso(NOW)}, "drafted": 12, "leads": [{"name": "a"}]}
    write_state(tmp_path / "state" / "nick-0.json", json.dumps(body), NOW)
    store = open_store(f"sqlite:///{tmp_path / 'orgplane.db'}")
    try:
        sync_org(store, load_org(org_file))
        for _ in range(100):
            report = check_once(store, load_org(org_file), NOW)
        gc.collect()
        tracemalloc.start()  # what is allocated from pass 100 on and still held at pass 1,000
        try:
            for _ in range(900):
                org = load_org(org_file)  # as the watcher does, every pass
                report = check_once(store, org, NOW)
            gc.collect()
            growth = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        assert [f.status for f in report.findings] == ["fresh"]
        assert growth < 256 * 1024, f"grew {growth / 1024:.0f} KiB over 900 passes"
    finally:
        store.dispose()
