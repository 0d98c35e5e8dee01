"""Loading org.yaml: YAML syntax, then each item on its own, then the references between items.

Every problem found is reported in one :class:`OrgFileError`, each as ``file:line: what; fix``.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError

from orgplane.errors import OrgFileError, Problem
from orgplane.org.checks import check_references
from orgplane.org.locate import Locator, did_you_mean, to_plain
from orgplane.org.models import ID_HINT, ID_PATTERN, SECTIONS, Declared, Org

TOP_LEVEL = ["name", "timezone", *SECTIONS]
_VALIDATOR_TAG = re.compile(r"^[a-z][a-z-]*\[.*\]$")


def load_org(path: str | Path) -> Org:
    """Read and validate an org file; raise OrgFileError listing every problem with its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OrgFileError(
            [
                Problem(
                    str(path), 0, "no org file here; create one with 'orgplane init' or pass --org"
                )
            ]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OrgFileError([Problem(str(path), 0, f"cannot read the org file: {exc}")]) from None
    return parse_org(text, path)


def parse_org(text: str, path: Path) -> Org:
    """Validate org-file text that claims to come from ``path`` (used for edits before writing)."""
    label = str(path)
    document = _parse_yaml(text, label)
    locator = Locator(document)
    problems: list[Problem] = []

    if not isinstance(document, CommentedMap):
        raise OrgFileError(
            [Problem(label, 1, "the org file must be a mapping with 'name' and 'seats'")]
        )

    for key in document:
        if key not in TOP_LEVEL:
            problems.append(
                Problem(
                    label,
                    locator.line(key),
                    f"unknown top-level key {key!r}{did_you_mean(str(key), TOP_LEVEL)}",
                )
            )
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(
            Problem(label, locator.line("name"), "add 'name: <your organisation>' at the top")
        )

    sections: dict[str, dict[str, Declared]] = {}
    for section, model in SECTIONS.items():
        sections[section] = _load_section(document, section, model, locator, label, problems)

    org_fields: dict[str, Any] = {"name": name if isinstance(name, str) else "?", **sections}
    if "timezone" in document:
        org_fields["timezone"] = document["timezone"]
    org = Org.model_validate({**org_fields, "source": path})
    raw_ids = {
        s: set(document.get(s) or {}) if isinstance(document.get(s), dict) else set()
        for s in SECTIONS
    }
    problems.extend(check_references(org, raw_ids, locator, label))
    if problems:
        raise OrgFileError(problems)
    return org


def _parse_yaml(text: str, label: str) -> Any:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = (exc.problem or exc.context or "invalid YAML").strip()
        raise OrgFileError(
            [Problem(label, line, f"YAML syntax: {what}; fix the indentation or quoting")]
        ) from None
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. duplicate anchors)
        raise OrgFileError([Problem(label, 1, f"YAML syntax: {exc}")]) from None


def _load_section(
    document: CommentedMap,
    section: str,
    model: type[Declared],
    locator: Locator,
    label: str,
    problems: list[Problem],
) -> dict[str, Declared]:
    raw = document.get(section)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(
            Problem(
                label, locator.line(section), f"'{section}' must be a mapping of id to its fields"
            )
        )
        return {}
    loaded: dict[str, Declared] = {}
    for item_id, body in raw.items():
        where = (section, item_id)
        if not isinstance(item_id, str) or not _valid_id(item_id):
            problems.append(
                Problem(
                    label,
                    locator.line(*where),
                    f"{section}: {item_id!r} is not a valid id: {ID_HINT}",
                )
            )
            continue
        if body is None:
            body = {}
        if not isinstance(body, dict):
            problems.append(
                Problem(
                    label,
                    locator.line(*where),
                    f"{section}.{item_id} must be a mapping of its fields",
                )
            )
            continue
        fields = to_plain(body)
        if "id" in model.model_fields:
            if "id" in fields and fields["id"] != item_id:
                problems.append(
                    Problem(
                        label,
                        locator.line(*where, "id"),
                        f"{section}.{item_id}: 'id' differs from its key; drop the 'id' line",
                    )
                )
                continue
            fields["id"] = item_id
        try:
            loaded[item_id] = model.model_validate(fields)
        except ValidationError as exc:
            for error in _merge_misspellings(exc.errors(), model):
                problems.append(_problem_from(error, model, where, locator, label))
    return loaded


def _merge_misspellings(errors: list[ErrorDetails], model: type[BaseModel]) -> list[ErrorDetails]:
    """Drop 'missing title' when 'titel' is reported beside it: one mistake, one problem."""
    suggested: set[tuple[Any, ...]] = set()
    for error in errors:
        if error["type"] == "extra_forbidden":
            parent = tuple(error["loc"][:-1])
            close = difflib.get_close_matches(
                str(error["loc"][-1]), _fields_at(model, parent), 1, 0.6
            )
            if close:
                suggested.add((*parent, close[0]))
    return [e for e in errors if not (e["type"] == "missing" and tuple(e["loc"]) in suggested)]


def _valid_id(value: str) -> bool:
    return re.match(ID_PATTERN, value) is not None


def _problem_from(
    error: ErrorDetails,
    model: type[BaseModel],
    where: tuple[str, str],
    locator: Locator,
    label: str,
) -> Problem:
    loc = _user_loc(tuple(error["loc"]), locator.document[where[0]][where[1]])
    place = ".".join(str(p) for p in (*where, *loc))
    line = locator.line(*where, *loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = _fields_at(model, loc[:-1])
        message = f"unknown key {key!r}{did_you_mean(key, known)}"
        place = ".".join(str(p) for p in (*where, *loc[:-1]))
    elif kind == "missing":
        message = f"missing required key {loc[-1]!r}"
        place = ".".join(str(p) for p in (*where, *loc[:-1]))
    elif kind == "string_pattern_mismatch":
        message = f"{error['input']!r} is not a valid id: {ID_HINT}"
    elif kind == "literal_error":
        message = f"{error['input']!r} is not allowed: {error['msg'][0].lower()}{error['msg'][1:]}"
    else:
        message = error["msg"].removeprefix("Value error, ")
        if kind not in ("value_error", "assertion_error"):
            message = f"{message[0].lower()}{message[1:]} (got {error['input']!r})"
    return Problem(label, line, f"{place}: {message}")


def _user_loc(loc: tuple[Any, ...], node: Any) -> tuple[Any, ...]:
    """``loc`` without the names pydantic adds for wrapped validators
    (``function-after[_cron(), str]``); a key the user wrote is always kept."""
    kept: list[Any] = []
    for part in loc:
        if isinstance(node, dict | list) and _has(node, part):
            kept.append(part)
            node = node[part]
        elif isinstance(part, str) and _VALIDATOR_TAG.match(part):
            continue
        else:
            kept.append(part)
            node = None
    return tuple(kept)


def _has(node: dict[Any, Any] | list[Any], part: Any) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(part, int) and 0 <= part < len(node)


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (sub)model found by walking ``loc`` down from ``model``."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(part, str):
            field = current.model_fields.get(part)
            if field is None:
                return []
            current = field.annotation
        else:  # a list index or dict key: step into the element type
            args = get_args(_unwrap(current))
            current = args[-1] if args else None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Optional[...] so the model inside shows."""
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return inner[0] if len(inner) == 1 else annotation
    return annotation
