"""The weekly audit as Markdown (CommonMark with GFM tables), for mail.

Every cell goes through :func:`orgplane.surfaces.briefing.markdown.md_text`, so a learning or
a subject holding ``|``, ``*`` or HTML renders as written and never breaks its table.
"""

from __future__ import annotations

from orgplane.service.audit import WeeklyAudit
from orgplane.surfaces.audit.sections import sections, summary_line, window_line
from orgplane.surfaces.briefing.markdown import md_text


def render_markdown(audit: WeeklyAudit) -> str:
    """The whole audit as Markdown: a title, the headline sentence, then each section."""
    lines = [
        f"# Weekly audit: {md_text(window_line(audit))}",
        "",
        md_text(summary_line(audit)),
        "",
    ]
    for section in sections(audit):
        lines += [f"## {section.title}", ""]
        if not section.rows:
            lines += [md_text(section.empty), ""]
            continue
        lines.append("| " + " | ".join(section.columns) + " |")
        lines.append("|" + " --- |" * len(section.columns))
        lines += ["| " + " | ".join(md_text(cell) for cell in row) + " |" for row in section.rows]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
