"""The chart's layout: any forest of seats lays out with one box a seat, none overlapping,
all inside the picture, each parent above its reports; deep and wide ones too."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from orgplane.surfaces.web.layout import Layout, overlaps, tidy_layout


@dataclass
class Node:
    id: str
    reports: list[Node] = field(default_factory=list)


def forest(parents: list[int | None]) -> list[Node]:
    """Seat ``i`` reports to ``parents[i]`` (always an earlier seat) or to nobody."""
    nodes = [Node(f"s{i}") for i in range(len(parents))]
    roots = []
    for i, parent in enumerate(parents):
        (nodes[parent].reports if parent is not None else roots).append(nodes[i])
    return roots


@st.composite
def parent_lists(draw: st.DrawFn) -> list[int | None]:
    size = draw(st.integers(min_value=0, max_value=60))
    return [
        draw(st.none() | st.integers(min_value=0, max_value=i - 1)) if i else None
        for i in range(size)
    ]


def assert_sound(layout: Layout, parents: list[int | None]) -> None:
    boxes = list(layout.boxes.values())
    assert len(boxes) == len(parents)
    for i, a in enumerate(boxes):
        assert a.x >= 0 and a.x + a.width <= layout.width
        assert a.y >= 0 and a.y + a.height <= layout.height
        for b in boxes[i + 1 :]:
            assert not overlaps(a, b), (a, b)
    for i, parent in enumerate(parents):
        if parent is not None:
            assert layout.boxes[f"s{parent}"].bottom < layout.boxes[f"s{i}"].y
    assert len(layout.links) == sum(p is not None for p in parents)


@settings(max_examples=300, deadline=None)
@given(parent_lists(), st.integers(min_value=1, max_value=6))
def test_any_chart_lays_out_with_no_overlapping_boxes(parents: list[int | None], fold: int) -> None:
    assert_sound(tidy_layout(forest(parents), fold=fold), parents)


def test_a_reporting_line_thousands_long_and_an_office_of_hundreds() -> None:
    chain: list[int | None] = [None, *range(1500)]
    assert_sound(tidy_layout(forest(chain)), chain)
    wide: list[int | None] = [None, *([0] * 400)]
    layout = tidy_layout(forest(wide), fold=4)
    assert_sound(layout, wide)
    assert layout.width < 110 * 200  # folded: 100 columns of 4, not 400 side by side


def test_an_empty_chart_is_an_empty_picture() -> None:
    layout = tidy_layout([])
    assert layout.boxes == {} and layout.width > 0 and layout.height > 0
