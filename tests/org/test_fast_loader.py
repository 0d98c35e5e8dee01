"""The fast loader (libyaml) and the round-trip loader (ruamel) read every org file the same way:
the same Org, or the same problems at the same lines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from bench.org_generator import generate_org_yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from orgplane.errors import OrgFileError
from orgplane.org.loader import parse_org

EXAMPLE = (Path(__file__).parents[2] / "src/orgplane/examples/agency/org.yaml").read_text()
GENERATED = generate_org_yaml(12)
PATH = Path("org.yaml")

# Inputs where YAML 1.1 (PyYAML's default) and YAML 1.2 (ruamel) disagree, and YAML's corners.
TRICKY_SCALARS = [
    "no", "on", "off", "yes", "y", "NO", "True", "FALSE", "010", "0o10", "0x1F", "0b11", "1_000",
    "+1", "-0", "1:30", "1.5", "1.50", "1e3", "1E3", ".inf", "-.inf", ".nan", "~", "null", "",
    "2026-06-21", "2026-06-21T10:00:00Z", "2026-6-1", "0.", "+.5", "._", "1.2.3", "=", "<<",
    "'010'", '"no"', "[a, b]", "{a: 1}", "|\n  text", ">-\n  folded", "&anchor x", "*anchor",
    "!!str 10", "!!int '7'", "18h", "0 7 * * *", "'0 7 * * *'", "a: b", "- x", "#c", "@x", "`x",
]  # fmt: skip

JUNK = [
    *TRICKY_SCALARS, "\n", "\n  ", "\n    ", ": ", "- ", "  ", "'", '"', "\t", "#", "{", "}", "[",
    "]", ",", "&a ", "*a", "<<: *a", "\nseats:\n", "\n  dup:\n    title: x\n", "?", "%", "---",
    "...", "\n---\n", "\ufeff",
]  # fmt: skip


def outcome(text: str, *, round_trip: bool) -> tuple[str, object]:
    try:
        org = parse_org(text, PATH, round_trip=round_trip)
    except OrgFileError as exc:
        return "problems", [str(p) for p in exc.problems]
    return "org", repr(org)  # repr: NaN is not equal to itself, its text is


def assert_same(text: str) -> None:
    assert outcome(text, round_trip=False) == outcome(text, round_trip=True)


@pytest.mark.parametrize("text", [EXAMPLE, GENERATED], ids=["example", "generated"])
def test_the_loaders_agree_on_valid_orgs(text: str) -> None:
    kind, _ = outcome(text, round_trip=False)
    assert kind == "org"
    assert_same(text)


@pytest.mark.parametrize("scalar", TRICKY_SCALARS)
@pytest.mark.parametrize("field", ["title", "holder", "capabilities"])
def test_yaml_12_scalars_read_as_ruamel_reads_them(field: str, scalar: str) -> None:
    text = EXAMPLE.replace("    title: Founder and CEO", f"    {field}: {scalar}", 1)
    assert_same(text)


def test_no_on_and_octal_look_alikes_are_yaml_12() -> None:
    text = EXAMPLE.replace("holder: David Steel", "holder: no").replace(
        "    title: Chief of staff", "    title: '1:30'"
    )
    org = parse_org(text, PATH)
    assert org.seats["ceo"].holder == "no"
    assert org.seats["jeff"].retired is not None
    assert org.seats["jeff"].retired.on == date(2026, 4, 17)
    with pytest.raises(OrgFileError) as caught:
        parse_org(EXAMPLE.replace("holder: David Steel", "holder: 010"), PATH)
    assert [p.message for p in caught.value.problems] == [
        "seats.ceo.holder: input should be a valid string (got 10)"
    ]


def test_duplicate_keys_are_refused_with_both_lines() -> None:
    text = EXAMPLE.replace("    kind: human\n", "    kind: human\n    kind: agent\n", 1)
    with pytest.raises(OrgFileError) as caught:
        parse_org(text, PATH)
    (problem,) = caught.value.problems
    assert problem.line == 16 and "duplicate key" in problem.message
    assert_same(text)


def test_merge_keys_read_as_ruamel_reads_them_with_lines() -> None:
    text = EXAMPLE.replace(
        "  amanda:\n    title: Call-centre agent\n    kind: human\n",
        "  amanda: &staff\n    title: Call-centre agent\n    kind: humane\n",
    ).replace(
        "  erica:\n    title: Call-centre agent\n    kind: human\n",
        "  erica:\n    <<: *staff\n",
    )
    assert_same(text)
    with pytest.raises(OrgFileError) as caught:
        parse_org(text, PATH)
    lines = {p.line for p in caught.value.problems if "humane" in p.message}
    assert lines == {EXAMPLE.splitlines().index("  amanda:") + 3}


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([EXAMPLE, GENERATED]),
    st.lists(
        st.tuples(st.floats(0, 1), st.sampled_from(JUNK) | st.text(max_size=4) | st.characters()),
        min_size=1,
        max_size=3,
    ),
)
def test_the_loaders_agree_on_mutated_orgs(base: str, edits: list[tuple[float, str]]) -> None:
    text = base
    for where, junk in edits:
        position = int(where * len(text))
        text = text[:position] + junk + text[position:]
    assert_same(text)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([EXAMPLE, GENERATED]), st.data())
def test_the_loaders_agree_when_lines_move(base: str, data: st.DataObject) -> None:
    lines = base.splitlines(keepends=True)
    source = data.draw(st.integers(0, len(lines) - 1))
    target = data.draw(st.integers(0, len(lines)))
    moved = data.draw(st.booleans())
    line = lines.pop(source) if moved else lines[source]
    lines.insert(min(target, len(lines)), line)  # a line moved or duplicated elsewhere
    assert_same("".join(lines))


def test_the_copied_yaml_12_resolvers_are_ruamels() -> None:
    from ruamel.yaml.resolver import implicit_resolvers

    from orgplane.org.document import YAML_12_RESOLVERS

    theirs = [
        (tag.removeprefix("tag:yaml.org,2002:"), regexp.pattern, set("".join(first)))
        for versions, tag, regexp, first in implicit_resolvers
        if (1, 2) in versions and not tag.endswith(":yaml")
    ]
    assert [(name, pattern, set(first)) for name, pattern, first in YAML_12_RESOLVERS] == theirs
