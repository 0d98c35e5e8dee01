"""Briefing rendering: Markdown, one self-contained HTML page, and the terminal.

The briefing itself is compiled by :func:`orgplane.service.briefing.compile_briefing`; these
only render it. Text from outside is verbatim in Markdown (fenced or backslash-escaped) and
escaped in HTML.
"""

from __future__ import annotations

from orgplane.surfaces.briefing.html import render_html
from orgplane.surfaces.briefing.markdown import render_markdown
from orgplane.surfaces.briefing.terminal import print_briefing, print_seat_briefing

__all__ = ["print_briefing", "print_seat_briefing", "render_html", "render_markdown"]
