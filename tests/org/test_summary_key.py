"""An output's ``summary`` key: a field path (json, yaml) or a column (csv), checked with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from orgplane.errors import OrgFileError
from orgplane.org.loader import load_org

ORG = """\
name: T
seats:
  boss: {{title: Boss, kind: human}}
  bot: {{title: Bot, kind: agent, owner: boss}}
outputs:
  report:
    producer: bot
    format: {fmt}
    summary: {summary}
"""


def problems(tmp_path: Path, fmt: str, summary: str) -> list[tuple[int, str]]:
    path = tmp_path / "org.yaml"
    path.write_text(ORG.format(fmt=fmt, summary=summary))
    with pytest.raises(OrgFileError) as caught:
        load_org(path)
    return [(p.line, p.message) for p in caught.value.problems]


@pytest.mark.parametrize(("fmt", "summary"), [("json", "meta.headline"), ("csv", "calls")])
def test_a_field_or_a_column_is_accepted(tmp_path: Path, fmt: str, summary: str) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(ORG.format(fmt=fmt, summary=summary))
    assert load_org(path).outputs["report"].summary == summary


def test_a_text_output_has_no_summary_field(tmp_path: Path) -> None:
    [(line, message)] = problems(tmp_path, "text", "headline")
    assert line == 9
    assert message.startswith("outputs.report: summary needs format json, yaml")
    assert "first lines" in message


@pytest.mark.parametrize("summary", ["meta..headline", "'.headline'", "'headline.'", "''"])
def test_a_malformed_path_is_refused_with_its_line(tmp_path: Path, summary: str) -> None:
    [(line, message)] = problems(tmp_path, "json", summary)
    assert line == 9 and "is not a field path" in message
