"""answers_within (human seats) and not_delegated_at (processes) in org.yaml: parsed, kept
through a round trip, and refused with their line when wrong."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orgplane.errors import OrgFileError
from orgplane.org.loader import parse_org

BASE = """name: T
seats:
  lead:
    title: Lead
    kind: human{lead}
  bot:
    title: Bot
    kind: agent
    owner: lead{bot}
processes:
  work:
    seat: bot
    stages: [{{name: a}}]{process}
"""


def text(lead: str = "", bot: str = "", process: str = "") -> str:
    return BASE.format(lead=lead, bot=bot, process=process)


def test_the_keys_load_with_their_defaults(tmp_path: Path) -> None:
    org = parse_org(text(), tmp_path / "org.yaml")
    assert org.seats["lead"].answers_within is None
    assert org.processes["work"].not_delegated_at == 0.5
    org = parse_org(
        text(lead="\n    answers_within: 4h", process="\n    not_delegated_at: 75%"),
        tmp_path / "org.yaml",
    )
    assert org.seats["lead"].answers_within == timedelta(hours=4)
    assert org.processes["work"].not_delegated_at == 0.75
    dumped = org.processes["work"].model_dump(mode="json")
    assert dumped["not_delegated_at"] == "75%"
    assert org.seats["lead"].model_dump(mode="json")["answers_within"] == "4h"


def test_an_agent_seat_answers_no_hand_offs(tmp_path: Path) -> None:
    with pytest.raises(OrgFileError) as caught:
        parse_org(text(bot="\n    answers_within: 1h"), tmp_path / "org.yaml")
    [problem] = caught.value.problems
    assert problem.line == 6 and "answers_within is for human seats" in problem.message


@pytest.mark.parametrize("value", ["150%", "-5%", "half", "50", "true", "4h"])
def test_a_bad_share_is_refused_at_its_line(tmp_path: Path, value: str) -> None:
    with pytest.raises(OrgFileError) as caught:
        parse_org(text(process=f"\n    not_delegated_at: {value}"), tmp_path / "org.yaml")
    [problem] = caught.value.problems
    assert problem.line == 14 and "share" in problem.message


@pytest.mark.parametrize("value", ["4", "soon", "-1h"])
def test_a_bad_answers_within_is_refused_at_its_line(tmp_path: Path, value: str) -> None:
    with pytest.raises(OrgFileError) as caught:
        parse_org(text(lead=f"\n    answers_within: {value}"), tmp_path / "org.yaml")
    [problem] = caught.value.problems
    assert problem.line == 6


@given(st.integers(min_value=0, max_value=100))
def test_every_whole_percentage_reads_back(percent: int) -> None:
    org = parse_org(text(process=f"\n    not_delegated_at: {percent}%"), Path("org.yaml"))
    assert org.processes["work"].not_delegated_at == pytest.approx(percent / 100)
    assert org.processes["work"].model_dump(mode="json")["not_delegated_at"] == f"{percent}%"
