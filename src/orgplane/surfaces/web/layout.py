"""The org chart's picture computed in Python: a tidy tree by reporting line, as boxes.

Each leaf takes the next free column from left to right and each parent sits centred over its
first and last child, so two boxes of one row are always at least one column apart and rows
never share a y: no two boxes overlap, whatever the tree (the property test checks it). Wide
rows of leaves under one parent are folded into stacks of at most ``fold`` boxes so an office
of eight reports stays readable on a phone. Built without recursion, like the chart itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

BOX_WIDTH = 168
BOX_HEIGHT = 56
COLUMN = 188  # BOX_WIDTH and the gutter between two columns
ROW = 96  # BOX_HEIGHT and room for the connectors between two rows
STACK = 68  # BOX_HEIGHT and the gap between boxes folded under one another
MARGIN = 16


class TreeNode(Protocol):
    """What the layout needs of a seat: its id and the seats that report to it."""

    @property
    def id(self) -> str: ...

    @property
    def reports(self) -> Sequence[TreeNode]: ...


@dataclass(frozen=True, slots=True)
class Box:
    """A seat's box: top-left corner and size, in SVG user units."""

    id: str
    x: float
    y: float
    width: float = BOX_WIDTH
    height: float = BOX_HEIGHT

    @property
    def centre_x(self) -> float:
        return self.x + self.width / 2

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass(frozen=True, slots=True)
class Link:
    """A reporting line from the parent's box to the child's, as a path of points."""

    parent: str
    child: str
    points: tuple[tuple[float, float], ...]


@dataclass
class Layout:
    """Every box and link of the chart and the size of the picture."""

    boxes: dict[str, Box] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    width: float = 2 * MARGIN
    height: float = 2 * MARGIN


def tidy_layout(roots: Sequence[TreeNode], *, fold: int = 4) -> Layout:
    """Lay out the trees under ``roots`` side by side. A parent whose reports are all leaves,
    more than ``fold`` of them, gets them in columns of ``fold`` stacked boxes instead of one
    long row. Guarantees: every node reachable from ``roots`` gets one box; no two boxes
    overlap; every box lies inside ``width`` × ``height``."""
    layout = Layout()
    # Columns are whole numbers of COLUMN and rows are y offsets, assigned in one post-order
    # walk with an explicit stack (a reporting line may be thousands of seats long).
    column_of: dict[str, float] = {}
    y_of: dict[str, float] = {}
    next_column = 0
    bottom = 0.0
    stack: list[tuple[TreeNode, float, bool]] = [(r, 0.0, False) for r in reversed(roots)]
    while stack:
        node, y, expanded = stack.pop()
        children = list(node.reports)
        folded = len(children) > fold and all(not c.reports for c in children)
        if not children:
            column_of[node.id], y_of[node.id] = next_column, y
            next_column += 1
            bottom = max(bottom, y)
        elif folded:
            # Leaves in stacks of ``fold``: each stack a column, the parent over them all.
            first = next_column
            for index, child in enumerate(children):
                column_of[child.id] = first + index // fold
                y_of[child.id] = y + ROW + (index % fold) * STACK
                bottom = max(bottom, y_of[child.id])
            next_column = first + (len(children) + fold - 1) // fold
            column_of[node.id], y_of[node.id] = (first + next_column - 1) / 2, y
        elif not expanded:
            stack.append((node, y, True))
            stack.extend((child, y + ROW, False) for child in reversed(children))
        else:
            column_of[node.id] = (column_of[children[0].id] + column_of[children[-1].id]) / 2
            y_of[node.id] = y
    for node_id, column in column_of.items():
        layout.boxes[node_id] = Box(node_id, MARGIN + column * COLUMN, MARGIN + y_of[node_id])
    layout.links = _links(roots, layout.boxes, fold)
    layout.width = 2 * MARGIN + max(next_column * COLUMN - (COLUMN - BOX_WIDTH), 0)
    layout.height = 2 * MARGIN + (bottom + BOX_HEIGHT if column_of else 0)
    return layout


def _links(roots: Sequence[TreeNode], boxes: dict[str, Box], fold: int) -> list[Link]:
    """Elbow connectors: down from the parent, across, down into the child; a folded stack
    hangs off a rail down its left side."""
    links: list[Link] = []
    pending = list(roots)
    while pending:
        node = pending.pop()
        parent = boxes[node.id]
        children = list(node.reports)
        folded = len(children) > fold and all(not c.reports for c in children)
        for child_node in children:
            child = boxes[child_node.id]
            mid = parent.bottom + (ROW - BOX_HEIGHT) / 2
            points: tuple[tuple[float, float], ...]
            if folded:
                rail = child.x - (COLUMN - BOX_WIDTH) / 2 + 2
                points = (
                    (parent.centre_x, parent.bottom),
                    (parent.centre_x, mid),
                    (rail, mid),
                    (rail, child.y + child.height / 2),
                    (child.x, child.y + child.height / 2),
                )
            else:
                points = (
                    (parent.centre_x, parent.bottom),
                    (parent.centre_x, mid),
                    (child.centre_x, mid),
                    (child.centre_x, child.y),
                )
            links.append(Link(node.id, child_node.id, points))
        pending.extend(children)
    return links


def overlaps(a: Box, b: Box) -> bool:
    """True when two boxes share any area (touching edges do not count)."""
    return (
        a.x < b.x + b.width
        and b.x < a.x + a.width
        and a.y < b.y + b.height
        and b.y < a.y + a.height
    )
