"""Rendering a briefing: Markdown that keeps outside text verbatim, one self-contained HTML page
that escapes it, and the terminal form. Briefings are built directly from the result models, so
Hypothesis can put any text anywhere outside text goes."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from rich.console import Console

from orgplane.service.briefing import (
    Briefing,
    BriefingCounts,
    BriefingDecision,
    BriefingInput,
    BriefingSummary,
    SeatRef,
)
from orgplane.service.watch import Scorecard, ScorecardRow
from orgplane.surfaces.briefing import print_briefing, render_html, render_markdown
from orgplane.surfaces.briefing.markdown import md_block, md_text
from tests.watch.conftest import NOW

HOSTILE = '<script>alert("x")</script> **bold** [red]markup[/red] `tick` | pipe & amp; # head'
TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "div", "ul", "li",
    "section", "h2", "strong", "article", "h3", "span", "dl", "dt", "dd", "pre", "p", "code",
    "table", "thead", "tr", "th", "tbody", "td",
}  # fmt: skip


def make(text: str, *, field: str = "headline", value: str | None = None) -> Briefing:
    """A briefing with ``text`` in every place outside text goes (``value`` as the summary)."""
    seat = SeatRef(id="radar", title=text, holder=text)
    summary = BriefingSummary(
        source="field", field=field, text=text if value is None else value, note=text, as_of=None
    )
    aged = BriefingSummary(
        source="first_lines",
        field=None,
        text=text,
        note=None,
        as_of="as of 2026-06-20 06:00 UTC, 1d 6h old",
    )

    def item(name: str, fresh: bool, shown: BriefingSummary | None) -> BriefingInput:
        return BriefingInput(
            output=name,
            description=text,
            producer=SeatRef(id="dash", title=text, holder=text),
            status="fresh" if fresh else "stale",
            fresh=fresh,
            protocol="skip_and_flag",
            given="content" if fresh else ("last_good" if shown else "nothing"),
            current=fresh,
            action=text,
            content_at=NOW - timedelta(hours=1),
            age="1h",
            last_good_at=NOW - timedelta(hours=30),
            escalated_to=None,
            summary=shown,
            flag=None if fresh else f"{name} from seat dash is stale; {text}",
            reason=text,
        )

    decision = BriefingDecision(
        id=7,
        state="live",
        kind="unhandled_error",
        subject_kind="run",
        subject_id=text,
        seat_id="nick",
        tier="owner-now",
        action="escalate",
        notify=SeatRef(id="ceo", title=text, holder=text),
        deadline=NOW,
        acked_until=None,
        rule=text,
        ack=f"orgplane --org '{text}' decision ack 7",
    )
    metric = ScorecardRow(
        metric="leads-booked",
        description=text,
        owner="tally",
        value=9,
        unit=text,
        target=12,
        direction="at_least",
        met=False,
        last_clean_push=NOW - timedelta(days=1),
        status="missed",
        stale=True,
        reason=text,
        summary=text,
        slots=[],
    )
    inputs = [
        item("dash-analysis", True, summary),
        item("nick-pipeline", False, aged),
        item("pepper-triage", False, None),
    ]
    return Briefing(
        seat=seat,
        org=text,
        compiled_at=NOW,
        ok=False,
        counts=BriefingCounts(
            inputs=3,
            fresh=1,
            flagged=2,
            decisions_awaiting=1,
            other_open_decisions=0,
            metrics=1,
            metrics_stale=1,
        ),
        inputs=inputs,
        decisions=[decision],
        other_decisions={},
        decisions_truncated=False,
        scorecard=Scorecard(ok=False, at=NOW, metrics=[metric]),
    )


class Page(HTMLParser):
    """Collects what a browser would see: tags, attributes, and the text of each <pre>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str | None]] = []
        self.pres: list[str] = []
        self.text: list[str] = []
        self._in_pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.extend(attrs)
        if tag == "pre":
            self._in_pre = True
            self.pres.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._in_pre = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_pre:
            self.pres[-1] += data


def parse(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    return parser


def test_html_is_one_self_contained_page_that_escapes_outside_text() -> None:
    page = render_html(make(HOSTILE))
    parsed = parse(page)
    assert parsed.tags <= TEMPLATE_TAGS and "script" not in parsed.tags
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not re.search(r"\b(src|href)\s*=", page, flags=re.I)
    assert "http://" not in page and "https://" not in page and "@import" not in page
    assert {name for name, _ in parsed.attrs} <= {"lang", "charset", "name", "content", "class"}
    assert HOSTILE in parsed.pres  # shown as written inside its <pre>
    assert page.startswith("<!doctype html>") and 'name="viewport"' in page
    assert "@media print" in page and "@media (max-width" in page


def test_markdown_keeps_summaries_verbatim_and_escapes_running_text() -> None:
    md = render_markdown(make(HOSTILE))
    assert md_block(HOSTILE) in md  # the summary, fenced, as written
    # Outside the fenced summaries and the ack command's code span, '<' is always escaped.
    assert "<script>" not in re.sub(r"```text\n.*?\n```|`` .*? ``", "", md, flags=re.S)
    rendered = MarkdownIt().enable("table").render(md)
    assert "<script>" not in rendered and "<strong>bold</strong>" not in rendered
    assert html.escape(HOSTILE) in rendered  # shown as written, as text
    assert "# Briefing for radar" in md and "## Scorecard" in md and "| leads-booked |" in md
    rows = [line for line in md.splitlines() if line.startswith("| leads-booked")]
    assert len(rows) == 1 and rows[0].count(" | ") == 5  # the pipes in the text are escaped


def test_the_terminal_prints_outside_text_as_written() -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None, highlight=False)
    print_briefing(make(HOSTILE), console)
    shown = out.getvalue()
    assert "[red]markup[/red]" in shown and "**bold**" in shown and "<script>" in shown
    assert "as of 2026-06-20 06:00 UTC, 1d 6h old" in shown


def _rendered_text(fragment: str) -> str:
    """The text a CommonMark renderer shows for one paragraph of Markdown."""
    rendered = MarkdownIt().render(fragment)
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip("\n")


# CommonMark replaces NUL, folds line endings, and trims a paragraph's ends; the rest is kept.
outside = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00\r"),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(text=outside)
def test_any_running_text_renders_as_written(text: str) -> None:
    one_line = re.sub(r"[\n\u2028\u2029\x0b\x0c\x85]+", " ", text)
    assert _rendered_text(f"x {md_text(text)} x") == f"x {one_line} x"


MARKDOWN_TAGS = {"h1", "h2", "h3", "p", "ul", "li", "strong", "pre", "code", "table", "thead",
                 "tbody", "tr", "th", "td"}  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(text=outside)
def test_any_outside_text_is_verbatim_in_markdown_and_escaped_in_html(text: str) -> None:
    briefing = make(text)  # the text in every place outside text goes
    md = render_markdown(briefing)
    assert md_block(text) in md
    rendered = MarkdownIt().enable("table").render(md)
    assert set(re.findall(r"<([a-z0-9]+)", rendered)) <= MARKDOWN_TAGS  # no markup got in
    blocks = re.findall(r"<pre><code[^>]*>(.*?)</code></pre>", rendered, flags=re.S)
    assert html.unescape(blocks[0]) == (text if text.endswith("\n") else text + "\n")
    assert md.count("\n## ") == 4  # the sections survive whatever the text holds
    parsed = parse(render_html(briefing))
    assert parsed.tags <= TEMPLATE_TAGS
    assert parsed.pres[0] == text  # the first input's summary, as written
