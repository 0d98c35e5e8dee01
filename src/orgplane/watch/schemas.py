"""Compiled JSON Schema validators, cached by a digest of the schema's content.

A watcher reloads the org file every pass, so each pass brings new schema objects equal to the
last ones: keyed by content, they share one compiled validator, and the cache is bounded, so a
daemon's memory stays flat however long it runs.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

from jsonschema import Draft202012Validator

CACHE_SIZE = 256
"""How many distinct schemas keep a compiled validator (least recently used goes first)."""
ID_CACHE_SIZE = 4096
"""How many schema objects remember their digest (one per output with a schema, per org)."""

_BY_DIGEST: OrderedDict[str, Draft202012Validator] = OrderedDict()
_BY_ID: OrderedDict[int, tuple[dict[str, Any], str]] = OrderedDict()


def schema_digest(schema: dict[str, Any]) -> str:
    """A digest of the schema's content: equal schemas, however loaded, share it."""
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def schema_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """The compiled validator of ``schema``; raises jsonschema's SchemaError when the schema
    is itself invalid. At most :data:`CACHE_SIZE` validators are kept."""
    # The same dict is met once per output per pass: remember its digest (the dict is held,
    # so its id cannot be reused by another object while the entry lives).
    known = _BY_ID.get(id(schema))
    if known is not None and known[0] is schema:
        digest = known[1]
        _BY_ID.move_to_end(id(schema))
    else:
        digest = schema_digest(schema)
        _remember(_BY_ID, id(schema), (schema, digest), ID_CACHE_SIZE)
    validator = _BY_DIGEST.get(digest)
    if validator is None:
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema)
        _remember(_BY_DIGEST, digest, validator, CACHE_SIZE)
    else:
        _BY_DIGEST.move_to_end(digest)
    return validator


def cached_validators() -> int:
    """How many compiled validators the cache holds (for tests and the bench)."""
    return len(_BY_DIGEST)


def _remember(cache: OrderedDict[Any, Any], key: Any, value: Any, size: int) -> None:
    cache[key] = value
    while len(cache) > size:
        cache.popitem(last=False)
