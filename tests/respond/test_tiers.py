"""Tier selection from org.yaml: the most specific declaration wins, when-rules raise, and the
rule that fired is quoted as file:line of the org file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orgplane.org.loader import load_org, parse_org
from orgplane.respond.conditions import parse_condition
from orgplane.respond.tiers import EventFacts, choose_tier


def _line_of(path: Path, rule: str) -> str:
    file, line = rule.rsplit(":", 1)
    assert file == str(path)
    return path.read_text().splitlines()[int(line) - 1]


def test_the_outputs_own_tier_is_quoted_with_its_line(agency: Path) -> None:
    org = load_org(agency)
    event = EventFacts("stale", "output", "dash-analysis", seat_id="dash")
    choice = choose_tier(org, event)
    assert choice is not None and choice.tier == "flag"
    assert choice.reason == "outputs.dash-analysis.urgency"
    assert _line_of(agency, choice.rule).strip().startswith("urgency: flag")


def test_a_kind_rule_applies_when_nothing_more_specific_is_declared(agency: Path) -> None:
    org = load_org(agency)
    choice = choose_tier(org, EventFacts("missing", "output", "ccm-stats", seat_id="dash"))
    assert choice is not None and (choice.tier, choice.reason) == ("flag", "urgency.flag.kinds")
    assert _line_of(agency, choice.rule).strip().startswith("kinds:")


def test_an_unhandled_error_escalates_whatever_the_process_tier(agency: Path) -> None:
    org = load_org(agency)
    event = EventFacts(
        "unhandled_error", "run", "r1", seat_id="nick", process_id="nick-prospecting"
    )
    choice = choose_tier(org, event)
    assert choice is not None and choice.tier == "owner-now"
    assert _line_of(agency, choice.rule).strip() == "- kind: unhandled_error"
    handled = EventFacts(
        "handled_error", "run", "r1", seat_id="nick", process_id="nick-prospecting"
    )
    assert choose_tier(org, handled).tier == "low"  # type: ignore[union-attr]


@pytest.mark.parametrize(("pending", "tier"), [(150, "high"), (100, "high"), (None, "high")])
def test_a_condition_on_the_context_raises_the_tier(
    agency: Path, pending: int | None, tier: str
) -> None:
    org = load_org(agency)
    context = {} if pending is None else {"pending": pending}
    event = EventFacts(
        "handled_error", "run", "r2", seat_id="pepper", process_id="pepper-triage", context=context
    )
    choice = choose_tier(org, event)
    assert choice is not None and choice.tier == tier
    # pepper-triage is already 'high' on its own: the raise rule does not lower or re-quote it
    assert choice.reason == "processes.pepper-triage.urgency"


def test_a_condition_raises_only_when_it_holds(tmp_path: Path) -> None:
    text = """name: T
seats:
  boss: {title: Boss, kind: human}
  bot: {title: Bot, kind: agent, owner: boss, reports_to: boss}
processes:
  triage: {seat: bot, stages: [{name: a}], urgency: low}
urgency:
  low: {deadline: 6h, action: wait}
  high:
    deadline: 1h
    action: escalate
    notify: boss
    when:
      - process: triage
        condition: pending > 100 and source == 'gmail'
"""
    org = parse_org(text, tmp_path / "org.yaml")

    def tier(context: dict[str, object]) -> str | None:
        event = EventFacts("crash", "run", "r", seat_id="bot", process_id="triage", context=context)
        choice = choose_tier(org, event)
        return choice.tier if choice else None

    assert tier({"pending": 101, "source": "gmail"}) == "high"
    assert tier({"pending": 100, "source": "gmail"}) == "low"
    assert tier({"pending": 500, "source": "imap"}) == "low"
    assert tier({"pending": "lots", "source": "gmail"}) == "low"  # text never orders with 100
    assert tier({"source": "gmail"}) == "low"


def test_a_malformed_condition_is_refused_at_load_with_its_line(tmp_path: Path) -> None:
    from orgplane.errors import OrgFileError

    text = """name: T
seats:
  boss: {title: Boss, kind: human}
urgency:
  high:
    deadline: 1h
    action: escalate
    notify: boss
    when:
      - condition: __import__('os').system('x')
"""
    with pytest.raises(OrgFileError) as caught:
        parse_org(text, tmp_path / "org.yaml")
    [problem] = caught.value.problems
    assert problem.line == 10 and "is not 'name op value'" in problem.message


def test_an_empty_when_rule_is_refused(tmp_path: Path) -> None:
    from orgplane.errors import OrgFileError

    text = "name: T\nurgency:\n  high:\n    deadline: 1h\n    action: wait\n    when:\n      - {}\n"
    with pytest.raises(OrgFileError) as caught:
        parse_org(text, tmp_path / "org.yaml")
    [problem] = caught.value.problems
    assert problem.line == 7 and "at least one of kind" in problem.message


LEVELS = ("subject", "seat", "kind")


@given(
    declared=st.sets(st.sampled_from(LEVELS)),
    subject_kind=st.sampled_from(["output", "metric", "run"]),
)
def test_the_most_specific_declaration_wins(declared: set[str], subject_kind: str) -> None:
    """Each level present names its own tier (all equally urgent, so no raise interferes);
    the tier chosen is the one of the most specific level present, quoted at its own line."""
    subject_key = {"output": "outputs", "metric": "metrics", "run": "processes"}[subject_kind]
    items = {
        "outputs": "  thing: {producer: bot%s}\n",
        "metrics": "  thing: {owner: bot%s}\n",
        "processes": "  thing: {seat: bot, stages: [{name: a}]%s}\n",
    }
    urgency = lambda level: f", urgency: t-{level}" if level in declared else ""  # noqa: E731
    text = "name: T\nseats:\n  boss: {title: Boss, kind: human}\n"
    text += f"  bot: {{title: Bot, kind: agent, owner: boss{urgency('seat')}}}\n"
    text += f"{subject_key}:\n" + items[subject_key] % urgency("subject")
    text += "urgency:\n"
    for level in LEVELS:
        kinds = ", kinds: [crash]" if level == "kind" and "kind" in declared else ""
        text += f"  t-{level}: {{deadline: 1h, action: wait{kinds}}}\n"
    org = parse_org(text, Path("org.yaml"))
    event = EventFacts(
        "crash",
        subject_kind,
        "thing" if subject_kind != "run" else "r",
        seat_id="bot",
        process_id="thing",
    )
    choice = choose_tier(org, event)
    present = [level for level in LEVELS if level in declared]
    if not present:
        assert choice is None
        return
    assert choice is not None and choice.tier == f"t-{present[0]}"
    line = text.splitlines()[int(choice.rule.rsplit(":", 1)[1]) - 1]
    assert ("kinds: [crash]" if present[0] == "kind" else f"urgency: t-{present[0]}") in line


@given(st.text(max_size=80))
def test_a_condition_either_parses_or_says_what_form_it_wants(text: str) -> None:
    try:
        condition = parse_condition(text)
    except ValueError as exc:
        assert "name op value" in str(exc) or "at most" in str(exc)
    else:
        assert condition.clauses
        condition.holds({})  # never raises on any context


@given(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6))
def test_a_numeric_comparison_agrees_with_python(left: int, right: int) -> None:
    for op, expected in [
        (">", left > right),
        (">=", left >= right),
        ("<", left < right),
        ("<=", left <= right),
        ("==", left == right),
        ("!=", left != right),
    ]:
        assert parse_condition(f"n {op} {right}").holds({"n": left}) is expected
