"""Hostile org files: each is refused with one file:line problem naming the fix, or read
correctly; never a hang, a traceback or memory without bound."""

from __future__ import annotations

import textwrap
import tracemalloc
from pathlib import Path

import pytest

from orgplane.errors import OrgFileError, Problem
from orgplane.org.document import MAX_ALIAS_NODES, MAX_DEPTH
from orgplane.org.loader import MAX_FILE_BYTES, load_org
from orgplane.org.models import Org

EXAMPLE = (Path(__file__).parents[2] / "src/orgplane/examples/agency/org.yaml").read_text()

SMALL = """\
name: Small
seats:
  boss:
    title: Boss
    kind: human
"""


def refused(path: Path) -> Problem:
    """The one problem ``path`` is refused with; it names the file, a line and one line of text."""
    with pytest.raises(OrgFileError) as caught:
        load_org(path)
    problems = caught.value.problems
    assert len(problems) == 1, problems
    (problem,) = problems
    assert problem.path == str(path)
    assert problem.line >= 1
    assert "\n" not in problem.message and len(problem.message) < 400
    return problem


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "org.yaml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 "lol"']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "name: Laughs\n" + "\n".join(lines) + "\nseats: {boss: {title: *a9, kind: human}}\n"


def test_an_alias_bomb_is_refused_at_the_alias_with_bounded_memory(tmp_path: Path) -> None:
    path = write(tmp_path, billion_laughs())
    tracemalloc.start()
    try:
        problem = refused(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"more than {MAX_ALIAS_NODES} nodes" in problem.message
    assert problem.line in range(2, 12)
    assert peak < 50 * 1024 * 1024


def test_a_few_anchors_and_merge_keys_are_read(tmp_path: Path) -> None:
    text = SMALL + (
        "  helper: &agent\n    title: Helper\n    kind: agent\n    owner: boss\n"
        "    reports_to: boss\n  helper-two:\n    <<: *agent\n    title: Second helper\n"
    )
    org = load_org(write(tmp_path, text))
    assert org.seats["helper-two"].title == "Second helper"
    assert org.seats["helper-two"].owner == "boss"


def test_a_self_referencing_alias_is_refused(tmp_path: Path) -> None:
    problem = refused(write(tmp_path, "name: Loop\nseats: &s {boss: *s}\n"))
    assert "alias" in problem.message


@pytest.mark.parametrize("opening", ["[", "{a: ", "- "])
def test_nesting_deeper_than_the_limit_is_refused_without_recursion(
    tmp_path: Path, opening: str
) -> None:
    depth = 200_000
    if opening == "- ":
        body = "\n" + "".join(f"{' ' * (2 * i + 2)}-\n" for i in range(MAX_DEPTH + 5))
    else:
        closing = "]" if opening == "[" else "}"
        body = opening * depth + "x" + closing * depth
    problem = refused(write(tmp_path, f"name: Deep\nseats: {{}}\ndeep: {body}\n"))
    assert f"deeper than {MAX_DEPTH} levels" in problem.message
    assert problem.line >= 3


def test_an_unclosed_deep_nesting_is_refused_too(tmp_path: Path) -> None:
    problem = refused(write(tmp_path, "name: Deep\ndeep: " + "[" * 100_000 + "\n"))
    assert "deeper" in problem.message


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    with path.open("wb") as handle:
        handle.write(SMALL.encode())
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: NUL bytes the parser never sees
    problem = refused(path)
    assert "larger than 16 MB" in problem.message and problem.line == 1


def test_a_huge_single_scalar_is_read(tmp_path: Path) -> None:
    title = "x" * (4 * 1024 * 1024)
    org = load_org(write(tmp_path, SMALL.replace("title: Boss", f"title: {title}")))
    assert org.seats["boss"].title == title


def test_a_tab_in_the_indentation_is_refused_at_its_line(tmp_path: Path) -> None:
    problem = refused(write(tmp_path, SMALL.replace("    kind: human", "\tkind: human")))
    assert problem.line == 5 and "YAML syntax" in problem.message


@pytest.mark.parametrize("junk", ["\x00", "\x07", "\ufffe"])
def test_control_characters_are_refused_at_their_line(tmp_path: Path, junk: str) -> None:
    problem = refused(write(tmp_path, SMALL.replace("Boss", f"Bo{junk}ss")))
    assert problem.line == 4
    assert "character" in problem.message


def test_invalid_utf8_is_refused_at_its_line(tmp_path: Path) -> None:
    problem = refused(write(tmp_path, SMALL.encode().replace(b"Boss", b"Bo\xff\xfess")))
    assert problem.line == 4 and "UTF-8" in problem.message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig", "utf-32"])
def test_a_byte_order_mark_is_honoured(tmp_path: Path, encoding: str) -> None:
    data = EXAMPLE.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    org = load_org(write(tmp_path, data))
    expected = load_org(write(tmp_path, EXAMPLE))
    assert org.model_dump() == expected.model_dump()


def test_utf16_without_a_byte_order_mark_is_refused(tmp_path: Path) -> None:
    problem = refused(write(tmp_path, SMALL.encode("utf-16-le")))
    assert "UTF-8" in problem.message or "character" in problem.message


@pytest.mark.parametrize(
    "value",
    [
        "!!python/object:os.system {}",
        "!!python/object/apply:os.system [echo owned]",
        "!!python/name:os.system ''",
        "!custom Boss",
        "!<tag:example.com,2026:boss> Boss",
    ],
)
def test_tags_that_build_objects_are_refused(tmp_path: Path, value: str) -> None:
    problem = refused(write(tmp_path, SMALL.replace("title: Boss", f"title: {value}")))
    assert problem.line == 4
    assert "tag" in problem.message and "remove the tag" in problem.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SMALL + "  1:\n    title: One\n    kind: human\n", "seats: 1 is not a valid id"),
        (SMALL + "  null:\n    title: None\n    kind: human\n", "seats: None is not a valid id"),
        (SMALL + "  2026-06-21:\n    title: D\n    kind: human\n", "is not a valid id"),
        (SMALL + "  true:\n    title: T\n    kind: human\n", "seats: True is not a valid id"),
        (SMALL + "  [a, b]:\n    title: T\n    kind: human\n", "is not a valid id"),
        ("1: x\n" + SMALL, "unknown top-level key 1"),
    ],
)
def test_keys_that_are_not_text_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    problem = refused(write(tmp_path, text))
    assert expected in problem.message


def test_several_documents_in_one_file_are_refused_at_the_second(tmp_path: Path) -> None:
    problem = refused(write(tmp_path, SMALL + "---\nname: Another\n"))
    assert problem.line == 6 and "one YAML document" in problem.message


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "just text\n", "- a\n"])
def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    problem = refused(write(tmp_path, text))
    assert "must be a mapping" in problem.message


@pytest.mark.parametrize("duration", ["99999999999999d", "1" + "0" * 400 + "s", "1e400s"])
def test_a_duration_too_long_for_a_timedelta_is_refused(tmp_path: Path, duration: str) -> None:
    text = SMALL + textwrap.dedent(
        f"""\
        outputs:
          report:
            producer: boss
            max_age: {duration}
        """
    )
    problem = refused(write(tmp_path, text))
    assert problem.line == 9 and "max_age" in problem.message


def test_a_reporting_line_thousands_of_seats_long_is_read(tmp_path: Path) -> None:
    seats = "".join(
        f"  s{i}:\n    title: S\n    kind: human\n" + (f"    reports_to: s{i - 1}\n" if i else "")
        for i in range(3000)
    )
    org = load_org(write(tmp_path, f"name: Long\nseats:\n{seats}"))
    assert isinstance(org, Org) and len(org.reporting_line("s2999")) == 2999


def test_a_reporting_cycle_thousands_of_seats_long_is_one_problem(tmp_path: Path) -> None:
    seats = "".join(
        f"  s{i}:\n    title: S\n    kind: human\n    reports_to: s{(i + 1) % 3000}\n"
        for i in range(3000)
    )
    problem = refused(write(tmp_path, f"name: Ring\nseats:\n{seats}"))
    assert "reporting cycle" in problem.message
    assert len(problem.message) < 400


def test_an_alias_bomb_with_a_tab_is_refused_before_ruamel_reads_it(tmp_path: Path) -> None:
    # A tab sends a file to ruamel (it judges tabs), only after the fast pass bounded it.
    problem = refused(write(tmp_path, billion_laughs() + "# a\tcomment\n"))
    assert "more than" in problem.message and "nodes" in problem.message


def test_deep_nesting_with_a_tab_is_refused_before_ruamel_reads_it(tmp_path: Path) -> None:
    text = "name: Deep\nseats: {}\ndeep: " + "[" * 5000 + "]" * 5000 + "\n# a\tcomment\n"
    problem = refused(write(tmp_path, text))
    assert "deeper than" in problem.message
