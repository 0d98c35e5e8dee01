"""Loading org.yaml: YAML syntax, then each item on its own, then the references between items.

Every problem found is reported in one :class:`OrgFileError`, each as ``file:line: what; fix``.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import types
import typing
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from orgplane.errors import OrgFileError, Problem
from orgplane.files import remove_stale_temporaries
from orgplane.org.checks import check_references
from orgplane.org.document import MAX_DEPTH, NeedsRoundTrip, read_document
from orgplane.org.locate import Locator, RoundTripLocator, did_you_mean, shown, to_plain
from orgplane.org.models import ID_HINT, ID_PATTERN, SECTIONS, Declared, Org

SETTINGS = ["timezone", "retention", "health"]  # top-level settings, validated by Org
TOP_LEVEL = ["name", *SETTINGS, *SECTIONS]
_VALIDATOR_TAG = re.compile(r"^[a-z][a-z-]*\[.*\]$")


MAX_FILE_BYTES = 16 * 1024 * 1024
"""An org file larger than this is refused before it is parsed (a 3,000-seat org is ~2.5 MB)."""

_BOMS = [
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xfe\xff", "utf-16"),
    (b"\xff\xfe", "utf-16"),
]


def load_org(path: str | Path) -> Org:
    """Read and validate an org file; raise OrgFileError listing every problem with its line.

    The file is read with the fast loader (libyaml); it must be at most MAX_FILE_BYTES, in
    UTF-8 (or UTF-16/32 with a byte-order mark, as YAML allows). Temporary files of edits
    killed before their rename are removed. Loading a file whose bytes have not changed since
    a recent load returns that Org again without parsing.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise OrgFileError(
            [
                Problem(
                    str(path), 0, "no org file here; create one with 'orgplane init' or pass --org"
                )
            ]
        ) from None
    except OSError as exc:
        raise OrgFileError([Problem(str(path), 0, f"cannot read the org file: {exc}")]) from None
    remove_stale_temporaries(path)  # what an edit killed before its rename left behind
    if len(data) > MAX_FILE_BYTES:
        raise OrgFileError(
            [
                Problem(
                    str(path),
                    1,
                    f"the org file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; "
                    "an org of thousands of seats takes a few MB, so this is not an org file",
                )
            ]
        )
    key = (str(path), hashlib.blake2b(data, digest_size=16).digest())
    cached = _RECENT.get(key)
    if cached is not None:  # the same bytes at the same path: the same (immutable) Org
        _RECENT.move_to_end(key)
        return cached
    org = parse_org(_decode(data, str(path)), path)
    _RECENT[key] = org
    while len(_RECENT) > _RECENT_SIZE:
        _RECENT.popitem(last=False)
    return org


# The orgs last loaded, by path and content digest: a watcher that reloads an unchanged file
# every pass pays a read and a hash, not a parse. Only valid orgs are kept.
_RECENT: OrderedDict[tuple[str, bytes], Org] = OrderedDict()
_RECENT_SIZE = 8


def _decode(data: bytes, label: str) -> str:
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise OrgFileError(
            [
                Problem(
                    label,
                    line,
                    f"the org file is not valid {encoding.upper().removesuffix('-SIG')} "
                    f"(byte {exc.start}); save it as UTF-8",
                )
            ]
        ) from None


def parse_org(text: str, path: Path, *, round_trip: bool = False) -> Org:
    """Validate org-file text that claims to come from ``path`` (used for edits before writing).

    The text is read by the fast loader, or by ruamel.yaml when ``round_trip`` is set or the
    text needs it (a syntax error, a duplicate key: ruamel's messages); both give the same Org
    or the same problems.
    """
    label = str(path)
    try:
        # Also before ruamel: the same bounds (depth, aliases) and refusals (tags) on both paths.
        read = read_document(text, label)
    except NeedsRoundTrip:
        pass
    else:
        if not round_trip:
            locator = Locator(read.value, read.key_lines, read.item_lines)
            plain = _as_is if read.text_keys_only else to_plain
            return _validate(read.value, locator, label, path, plain)
    document = _parse_yaml(text, label)
    _check_size(document, label)
    return _validate(document, RoundTripLocator(document), label, path, to_plain)


def _as_is(node: Any) -> Any:
    return node


def _validate(
    document: Any, locator: Locator, label: str, path: Path, plain: Callable[[Any], Any]
) -> Org:
    problems: list[Problem] = []
    if not isinstance(document, dict):
        raise OrgFileError(
            [Problem(label, 1, "the org file must be a mapping with 'name' and 'seats'")]
        )

    for key in document:
        if key not in TOP_LEVEL:
            problems.append(
                Problem(
                    label,
                    locator.line(key),
                    f"unknown top-level key {shown(key)}{did_you_mean(str(key), TOP_LEVEL)}",
                )
            )
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(
            Problem(label, locator.line("name"), "add 'name: <your organisation>' at the top")
        )

    sections: dict[str, dict[str, Declared]] = {}
    for section, model in SECTIONS.items():
        sections[section] = _load_section(document, section, model, locator, label, problems, plain)

    org_fields: dict[str, Any] = {"name": name if isinstance(name, str) else "?", **sections}
    org_fields.update({key: plain(document[key]) for key in SETTINGS if key in document})
    try:
        org = Org.model_validate({**org_fields, "source": path})
    except ValidationError as exc:  # only a setting can fail here: sections were checked above
        bad = set()
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else "name"
            bad.add(key)
            reason = _reason(error)
            said = reason if reason.startswith(key) else f"{key}: {reason}"
            problems.append(Problem(label, locator.line(key), said))
        # Go on without the bad settings, so the references are checked in the same pass.
        kept = {k: v for k, v in org_fields.items() if k not in bad or k in sections}
        org = Org.model_validate({**kept, "source": path})
    raw_ids = {  # text ids only: a key such as None is already reported as not a valid id
        s: {k for k in document[s] if isinstance(k, str)}
        if isinstance(document.get(s), dict)
        else set()
        for s in SECTIONS
    }
    problems.extend(check_references(org, raw_ids, locator, label))
    if problems:
        raise OrgFileError(problems)
    org._lines = _rule_lines(document, locator)
    return org


def _rule_lines(document: dict[str, Any], locator: Locator) -> dict[str, int]:
    """Lines of the keys a decision quotes as the rule that fired: each item's ``urgency``,
    each tier, its ``kinds`` and each of its ``when`` rules; and of each seat, each tier's
    ``notify`` and each ``notify_urls`` entry (what ``orgplane validate`` points at)."""
    lines: dict[str, int] = {}
    # Where each seat and each notification URL is, for the reachability checks of validate.
    for item_id, body in (document.get("seats") or {}).items():
        lines[f"seats.{item_id}"] = locator.line("seats", item_id)
        urls = body.get("notify_urls") if isinstance(body, dict) else None
        for index in range(len(urls) if isinstance(urls, list) else 0):
            lines[f"seats.{item_id}.notify_urls.{index}"] = locator.line(
                "seats", item_id, "notify_urls", index
            )
    for tier_id, body in (document.get("urgency") or {}).items():
        urls = body.get("notify_urls") if isinstance(body, dict) else None
        for index in range(len(urls) if isinstance(urls, list) else 0):
            lines[f"urgency.{tier_id}.notify_urls.{index}"] = locator.line(
                "urgency", tier_id, "notify_urls", index
            )
        if isinstance(body, dict) and "notify" in body:
            lines[f"urgency.{tier_id}.notify"] = locator.line("urgency", tier_id, "notify")
    for section in ("seats", "outputs", "processes", "metrics"):
        for item_id, body in (document.get(section) or {}).items():
            if isinstance(body, dict) and "urgency" in body:
                lines[f"{section}.{item_id}.urgency"] = locator.line(section, item_id, "urgency")
    for tier_id, body in (document.get("urgency") or {}).items():
        lines[f"urgency.{tier_id}"] = locator.line("urgency", tier_id)
        if isinstance(body, dict) and "kinds" in body:
            lines[f"urgency.{tier_id}.kinds"] = locator.line("urgency", tier_id, "kinds")
        for index in range(len(body.get("when") or []) if isinstance(body, dict) else 0):
            lines[f"urgency.{tier_id}.when.{index}"] = locator.line(
                "urgency", tier_id, "when", index
            )
    return lines


def _reason(error: Any) -> str:
    message = str(error.get("msg", "invalid value"))
    return message.removeprefix("Value error, ")


def _parse_yaml(text: str, label: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError
    from ruamel.yaml.reader import ReaderError

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = (exc.problem or exc.context or "invalid YAML").strip()
        fix = "fix the indentation or quoting"
        if "another document" in what:
            what, fix = "a second document starts here", "an org file is one YAML document"
        raise OrgFileError([Problem(label, line, f"YAML syntax: {what}; {fix}")]) from None
    except ReaderError as exc:  # a character YAML does not allow (NUL, a control character)
        line = text[: exc.position].count("\n") + 1
        raise OrgFileError(
            [
                Problem(
                    label,
                    line,
                    f"YAML syntax: character {exc.character!r} is not allowed in YAML; "
                    "remove it (or save the file as UTF-8 text)",
                )
            ]
        ) from None
    except RecursionError:
        raise OrgFileError(
            [
                Problem(
                    label,
                    1,
                    f"YAML nested deeper than {MAX_DEPTH} levels; "
                    "an org file needs only a few, so flatten this part",
                )
            ]
        ) from None
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. duplicate anchors)
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OrgFileError([Problem(label, 1, f"YAML syntax: {first_line}")]) from None


_MAX_NODES = 1_000_000


def _check_size(document: Any, label: str) -> None:
    """Refuse a ruamel document whose aliases expand (or loop) past what validation can walk."""
    seen = 0
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > _MAX_NODES or depth > MAX_DEPTH:
            raise OrgFileError(
                [
                    Problem(
                        label,
                        1,
                        f"YAML nested deeper than {MAX_DEPTH} levels or aliased into more than "
                        f"{_MAX_NODES} nodes; write the repeated part out instead",
                    )
                ]
            )
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)


def _load_section(
    document: dict[str, Any],
    section: str,
    model: type[Declared],
    locator: Locator,
    label: str,
    problems: list[Problem],
    plain: Callable[[Any], Any],
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
                    f"{section}: {shown(item_id)} is not a valid id: {ID_HINT}",
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
        fields = plain(body)
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
            fields = {**fields, "id": item_id}  # a copy: the document stays as read
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
        message = f"unknown key {shown(key)}{did_you_mean(key, known)}"
        place = ".".join(str(p) for p in (*where, *loc[:-1]))
    elif kind == "missing":
        message = f"missing required key {loc[-1]!r}"
        place = ".".join(str(p) for p in (*where, *loc[:-1]))
    elif kind == "string_pattern_mismatch":
        message = f"{shown(error['input'])} is not a valid id: {ID_HINT}"
    elif kind == "literal_error":
        message = (
            f"{shown(error['input'])} is not allowed: {error['msg'][0].lower()}{error['msg'][1:]}"
        )
    else:
        message = error["msg"].removeprefix("Value error, ")
        if kind not in ("value_error", "assertion_error"):
            message = f"{message[0].lower()}{message[1:]} (got {shown(error['input'])})"
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
