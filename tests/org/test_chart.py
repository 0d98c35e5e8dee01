"""The chart: the same answers as the Org's own methods, in linear time and without recursion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.org_generator import generate_org_yaml

from orgplane.org.chart import chart_data, chart_lines
from orgplane.org.loader import load_org, parse_org
from orgplane.org.models import Org, Seat

EXAMPLE = Path(__file__).parents[2] / "src/orgplane/examples/agency/org.yaml"


def walk(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    pending = list(nodes)
    while pending:
        node = pending.pop()
        found.append(node)
        pending.extend(node["reports"])
    return found


def assert_chart_matches_org(org: Org) -> None:
    data = chart_data(org)
    nodes = walk(data["seats"])
    assert sorted(n["id"] for n in nodes) == sorted(org.seats)
    for node in nodes:
        children = [s.id for s in org.seats.values() if s.reports_to == node["id"]]
        assert [child["id"] for child in node["reports"]] == children
        produced = [o.id for o in org.outputs.values() if o.producer == node["id"]]
        assert [o["id"] for o in node["outputs"]] == produced
        for output in node["outputs"]:
            assert output["has_coverage"] == org.has_coverage(output["id"])
            expected = {c: p.protocol for c, p in org.consumers_of(output["id"]).items()}
            assert output["consumers"] == expected
        assert node["processes"] == [p.id for p in org.processes.values() if p.seat == node["id"]]
    critical = [o for o in org.outputs.values() if o.critical]
    assert data["summary"]["critical_outputs_covered"] == sum(
        1 for o in critical if org.has_coverage(o.id)
    )


def test_the_example_chart_matches_the_org() -> None:
    org = load_org(EXAMPLE)
    assert_chart_matches_org(org)
    assert [n["id"] for n in chart_data(org)["seats"]] == ["ceo"]


def test_a_generated_chart_matches_the_org() -> None:
    assert_chart_matches_org(parse_org(generate_org_yaml(60), Path("org.yaml")))


def test_a_reporting_line_thousands_of_seats_long_draws_without_recursion() -> None:
    seats = {
        f"s{i}": Seat(id=f"s{i}", title="t", kind="human", reports_to=f"s{i - 1}" if i else None)
        for i in range(5000)
    }
    data = chart_data(Org(name="deep", seats=seats))
    depth, node = 1, data["seats"][0]
    while node["reports"]:
        (node,) = node["reports"]
        depth += 1
    assert depth == 5000


def test_seats_in_a_cycle_built_in_code_are_left_out_rather_than_looping() -> None:
    seats = {
        "a": Seat(id="a", title="t", kind="human", reports_to="b"),
        "b": Seat(id="b", title="t", kind="human", reports_to="a"),
        "c": Seat(id="c", title="t", kind="human"),
    }
    data = chart_data(Org(name="loop", seats=seats))
    assert [n["id"] for n in walk(data["seats"])] == ["c"]


def test_chart_lines_draw_the_tree_with_guides() -> None:
    lines = chart_lines(chart_data(load_org(EXAMPLE)))
    assert lines[0] == "Sneeze It"
    assert lines[1] == "└── ceo Founder and CEO (human, David Steel)"
    assert lines[2] == "    ├── capabilities: outreach-approval, strategy"
    assert "    ├── coo Chief operating officer (human, Bogdan)" in lines
    assert any(
        line.endswith(
            "output dash-analysis critical, coverage defined (radar: skip_and_flag, "
            "dan: use_last_good)"
        )
        for line in lines
    )
    assert any(
        "jeff Data integrity (agent, Jeff, owner coo) retired; pacing-monitor -> dash" in line
        for line in lines
    )
    org = load_org(EXAMPLE)
    capability_lines = sum(1 for seat in org.seats.values() if seat.capabilities)
    assert len(lines) == 1 + len(org.seats) + capability_lines + len(org.outputs)


def test_chart_lines_of_a_reporting_line_thousands_long() -> None:
    seats = {
        f"s{i}": Seat(id=f"s{i}", title="t", kind="human", reports_to=f"s{i - 1}" if i else None)
        for i in range(5000)
    }
    lines = chart_lines(chart_data(Org(name="deep", seats=seats)))
    assert len(lines) == 5001
    assert lines[-1] == " " * 4 * 4999 + "└── s4999 t (human)"
