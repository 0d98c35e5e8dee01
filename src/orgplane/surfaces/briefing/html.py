"""A briefing as one self-contained HTML page: inline CSS, no script, nothing fetched.

Rendered through Jinja2 with autoescape on for every value, so text from outside (content,
summaries, reasons, holder names) is always escaped; the template is
``templates/briefing.html.j2``. The page reads on a phone (a single column under 30rem) and
prints without its backgrounds lost.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from orgplane.respond.briefing import stamp
from orgplane.service.briefing import Briefing

if TYPE_CHECKING:
    from jinja2 import Template


@cache
def _template() -> Template:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("orgplane.surfaces.briefing", "templates"),
        autoescape=True,  # every value, whatever the template's name
        undefined=StrictUndefined,  # a misspelt field is an error, not an empty cell
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("briefing.html.j2")


def _number(value: float | None) -> str:
    return "none" if value is None else f"{value:g}"


def render_html(briefing: Briefing) -> str:
    """The whole briefing as one HTML page (UTF-8 text, no external reference)."""
    flagged = [i for i in briefing.inputs if i.flag]
    return _template().render(b=briefing, flagged=flagged, stamp=stamp, number=_number)
