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

_BY_DIGEST: OrderedDict[str, Draft202012Validator] = OrderedDict()


def schema_digest(schema: dict[str, Any]) -> str:
    """A digest of the schema's content: equal schemas, however loaded, share it."""
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def schema_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """The compiled validator of ``schema``; raises jsonschema's SchemaError when the schema
    is itself invalid. At most :data:`CACHE_SIZE` validators are kept."""
    # The digest is taken on every call (a few microseconds for a schema): keeping it by the
    # object's id would hold every reloaded org's schemas alive, the growth this module ends.
    digest = schema_digest(schema)
    validator = _BY_DIGEST.get(digest)
    if validator is None:
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema)
        _remember(_BY_DIGEST, digest, validator)
    else:
        _BY_DIGEST.move_to_end(digest)
    return validator


def cached_validators() -> int:
    """How many compiled validators the cache holds (for tests and the bench)."""
    return len(_BY_DIGEST)


def _remember(cache: OrderedDict[str, Draft202012Validator], key: str, value: Any) -> None:
    cache[key] = value
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)
