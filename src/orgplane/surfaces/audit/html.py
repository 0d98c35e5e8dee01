"""The weekly audit as one self-contained HTML page: inline CSS, no script, nothing fetched.

Rendered through Jinja2 with autoescape on for every value, so text from outside is always
escaped; the template is ``templates/weekly_audit.html.j2``.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from orgplane.service.audit import WeeklyAudit
from orgplane.surfaces.audit.sections import sections, summary_line, window_line

if TYPE_CHECKING:
    from jinja2 import Template


@cache
def _template() -> Template:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("orgplane.surfaces.audit", "templates"),
        autoescape=True,  # every value, whatever the template's name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("weekly_audit.html.j2")


def render_html(audit: WeeklyAudit) -> str:
    """The whole audit as one HTML page (UTF-8 text, no external reference)."""
    return _template().render(
        window=window_line(audit),
        summary=summary_line(audit),
        counts=audit.counts,
        sections=sections(audit),
    )
