"""The weekly audit rendered: Rich tables in the terminal, Markdown and one HTML page for mail.

The audit itself is :func:`orgplane.service.audit.weekly_audit`; every renderer reads the same
:func:`sections` (titles, columns and plain-text cells), so the three forms never disagree on
what the audit says. Text from outside (seat ids, subjects, learnings, follow-up texts) is
escaped in Markdown and HTML and printed verbatim by Rich.
"""

from __future__ import annotations

from orgplane.surfaces.audit.html import render_html
from orgplane.surfaces.audit.markdown import render_markdown
from orgplane.surfaces.audit.sections import Section, sections, summary_line
from orgplane.surfaces.audit.terminal import print_audit

__all__ = ["Section", "print_audit", "render_html", "render_markdown", "sections", "summary_line"]
