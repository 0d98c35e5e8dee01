"""notify_urls and repeat in org.yaml: shape refused at load with its line, Apprise's reading
and reachability refused by validate with the line, readiness naming the same gaps."""

from __future__ import annotations

from pathlib import Path

import pytest

from orgplane.errors import OrgFileError
from orgplane.org.loader import parse_org
from orgplane.org.models import Org
from orgplane.org.reach import missing_variables, unreachable, up_the_line, validate_problems
from orgplane.org.readiness import Gap, readiness_gaps
from tests.surfaces.cli_helpers import orgplane

BASE = """name: T
seats:
  boss: {{title: Boss, kind: human{boss}}}
  lead:
    title: Lead
    kind: human
    reports_to: boss{lead}
  bot: {{title: Bot, kind: agent, owner: lead}}
processes:
  work: {{seat: bot, stages: [{{name: a}}], urgency: page}}
urgency:
  page:
    deadline: 1h
    action: escalate
    repeat: 10m{tier}
"""


def _reach_gaps(org: Org) -> list[Gap]:
    return [g for g in readiness_gaps(org) if "notify_urls" in g.message or "$" in g.message]


def _org(tmp_path: Path, boss: str = "", lead: str = "", tier: str = "") -> str:
    text = BASE.format(boss=boss, lead=lead, tier=tier)
    (tmp_path / "org.yaml").write_text(text)
    return text


def test_repeat_and_notify_urls_load(tmp_path: Path) -> None:
    text = _org(tmp_path, lead='\n    notify_urls: ["json://127.0.0.1:9/x"]')
    org = parse_org(text, tmp_path / "org.yaml")
    assert org.urgency["page"].repeat is not None and org.urgency["page"].repeat.seconds == 600
    assert org.seats["lead"].notify_urls == ["json://127.0.0.1:9/x"]
    assert validate_problems(org) == []
    gaps = _reach_gaps(org)  # boss, above lead, has no URL: a warning
    assert [(g.subject_id, g.question) for g in gaps] == [("boss", "decision")]
    assert "no notify_urls" in gaps[0].message


def test_an_agent_seat_with_notify_urls_is_refused_at_its_line(tmp_path: Path) -> None:
    text = BASE.format(boss="", lead="", tier="").replace(
        "  bot: {title: Bot, kind: agent, owner: lead}",
        '  bot: {title: Bot, kind: agent, owner: lead, notify_urls: ["json://h/x"]}',
    )
    with pytest.raises(OrgFileError) as caught:
        parse_org(text, tmp_path / "org.yaml")
    [problem] = caught.value.problems
    assert problem.line == 8 and "notify_urls is for human seats" in problem.message


@pytest.mark.parametrize("url", ["not a url", "json://host/${unclosed", "json://h/$X"])
def test_a_malformed_url_is_refused_at_load(tmp_path: Path, url: str) -> None:
    text = _org(tmp_path, lead=f'\n    notify_urls: ["{url}"]')
    with pytest.raises(OrgFileError) as caught:
        parse_org(text, tmp_path / "org.yaml")
    [problem] = caught.value.problems
    assert problem.line == 8 and "notify_urls" in problem.message


def test_validate_refuses_an_unreachable_escalation_with_its_line(tmp_path: Path) -> None:
    _org(tmp_path)  # page escalates to lead (owner of bot): no URL there nor on the tier
    result = orgplane("--org", str(tmp_path / "org.yaml"), "validate")
    assert result.returncode == 2
    line = next(x for x in (result.stdout + result.stderr).splitlines() if "urgency.page" in x)
    assert line.startswith(f"{tmp_path / 'org.yaml'}:12: urgency.page: tier 'page' (escalate)")
    assert "tells 'lead' (owner of bot), who has no notify_urls" in line
    org = parse_org((tmp_path / "org.yaml").read_text(), tmp_path / "org.yaml")
    assert [f.subject_id for f in unreachable(org)] == ["page"]
    assert [g.subject_id for g in _reach_gaps(org)] == ["page", "boss"]
    # a URL on the tier reaches whoever it tells
    _org(tmp_path, tier='\n    notify_urls: ["json://127.0.0.1:9/ops"]')
    assert orgplane("--org", str(tmp_path / "org.yaml"), "validate").returncode == 0


def test_validate_refuses_a_url_apprise_cannot_read(tmp_path: Path) -> None:
    _org(tmp_path, lead='\n    notify_urls: ["nosuchservice://x/y"]')
    result = orgplane("--org", str(tmp_path / "org.yaml"), "validate")
    assert result.returncode == 2
    out = result.stdout + result.stderr
    assert ":8: seats.lead: notify_urls[0]: nosuchservice:// is not a notification service" in out


def test_a_variable_not_set_is_named_by_readiness(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOSS_TOKEN", raising=False)
    text = _org(
        tmp_path,
        boss=', notify_urls: ["json://127.0.0.1:9/${BOSS_TOKEN}"]',
        lead='\n    notify_urls: ["json://127.0.0.1:9/lead"]',
    )
    org = parse_org(text, tmp_path / "org.yaml")
    assert validate_problems(org) == []  # a variable is read at send time, not validate time
    assert up_the_line(org) == []
    [missing] = missing_variables(org)
    assert missing.subject_id == "boss" and "BOSS_TOKEN" in missing.message
    assert any("BOSS_TOKEN" in g.message for g in readiness_gaps(org))
    assert missing_variables(org, {"BOSS_TOKEN": "t"}) == []
