"""A briefing in the terminal: the Markdown form rendered by Rich.

Rich's Markdown renders text, never Rich markup, and the Markdown form escapes or fences every
text from outside, so a ``[red]`` or a ``**`` in a file prints as written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orgplane.service.briefing import Briefing
from orgplane.surfaces.briefing.markdown import render_markdown

if TYPE_CHECKING:
    from rich.console import Console

    from orgplane.service.session import Session


def print_briefing(briefing: Briefing, console: Console | None = None) -> None:
    """Print ``briefing`` on ``console`` (stdout's by default) as rendered Markdown."""
    from rich.markdown import Markdown

    from orgplane.surfaces.cli.output import console as stdout_console

    (console or stdout_console()).print(Markdown(render_markdown(briefing)))


def print_seat_briefing(session: Session, seat_id: str, console: Console | None = None) -> Briefing:
    """Compile ``seat_id``'s briefing (its gate answers stored) and print it; the briefing.
    For the demo: ``print_seat_briefing(demo, "radar")``."""
    from orgplane.service.briefing import compile_briefing

    briefing = compile_briefing(session, seat_id)
    print_briefing(briefing, console)
    return briefing
