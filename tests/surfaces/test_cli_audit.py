"""``orgplane audit weekly``: the window from ``--since`` (bad input: exit 2, one line naming the
flag), the exit code, and the three renderings (text from outside verbatim in the terminal,
escaped in Markdown and HTML, and the structure of headings every form shares)."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from orgplane.errors import UsageError
from orgplane.respond.events import FailureEvent, record_event
from orgplane.service.audit import WeeklyAudit, parse_since
from orgplane.service.decisions import decide_pending
from orgplane.service.session import Session
from orgplane.surfaces.audit import print_audit, render_html, render_markdown
from tests.surfaces.cli_helpers import orgplane

HOSTILE = "<script>alert('x')</script> **bold** [red]red[/red] | pipe & `tick` _u_ #1"

SECTIONS = [
    "Incidents by seat",
    "Incidents by tier",
    "Time to detect, decide, recover",
    "Repeats",
    "Learnings applied",
    "Learnings that did not hold",
    "Follow-ups overdue",
    "Decisions past their deadline",
    "How the org changed",
    "Not really delegated",
]


# --since -------------------------------------------------------------------------------------


@given(st.text(max_size=40))
def test_any_since_text_is_a_utc_time_or_a_usage_error_naming_the_flag(text: str) -> None:
    try:
        start = parse_since(text)
    except UsageError as exc:
        message = str(exc)
        assert message.startswith("--since ") and "\n" not in message
        assert "YYYY-MM-DD" in message  # the fix
    else:
        assert start.tzinfo is not None and start.utcoffset() == timedelta(0)


@given(st.dates(min_value=date(1952, 1, 1), max_value=date(2100, 1, 1)))
def test_a_date_is_midnight_in_the_orgs_timezone(day: date) -> None:
    assert parse_since(day.isoformat()) == datetime(day.year, day.month, day.day, tzinfo=UTC)
    in_tokyo = parse_since(day.isoformat(), "Asia/Tokyo")  # UTC+9, no daylight saving since 1951
    assert in_tokyo == datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=9)


BAD_SINCE = st.one_of(
    st.text(min_size=1, max_size=30).filter(lambda t: not re.match(r"\s*\d{4}-", t)),
    st.builds(
        lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
        st.integers(1, 9999),
        st.integers(13, 99) | st.just(0),
        st.integers(1, 28),
    ),
    st.builds(
        lambda y, m: f"{y:04d}-{m:02d}-{31}", st.integers(2000, 2030), st.sampled_from([2, 4])
    ),
    st.datetimes(max_value=datetime(2026, 1, 1)).map(lambda t: t.isoformat()),  # no offset
    st.dates(min_value=date(2100, 1, 1)).map(lambda d: d.isoformat()),  # in the future
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(since=BAD_SINCE)
def test_a_bad_since_exits_2_with_one_line_naming_the_flag(agency: Path, since: str) -> None:
    result = orgplane("--org", str(agency), "audit", "weekly", f"--since={since}")
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--since" in lines[0], result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_json_and_another_format_disagree(agency: Path) -> None:
    result = orgplane("--org", str(agency), "audit", "weekly", "--json", "--format", "md")
    assert result.returncode == 2 and "--json and --format md" in result.stderr


# the command end to end ----------------------------------------------------------------------


def test_a_decision_past_its_deadline_is_listed_and_exits_1(agency: Path, db_url: str) -> None:
    occurred = datetime.now(UTC) - timedelta(days=2)
    with Session.open(agency, db_url) as session:
        with session.store().write() as conn:  # an unplanned error: tier owner-now, 15m
            record_event(
                conn,
                FailureEvent(
                    kind="unhandled_error",
                    occurred_at=occurred,
                    subject_kind="process",
                    subject_id="nick-prospecting",
                    seat_id="nick",
                    message="LM-503 [boom]",
                ),
            )
        decide_pending(session)
    args = ["--org", str(agency), "--db", db_url, "audit", "weekly"]
    result = orgplane(*args, "--json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    [late] = data["decisions_late"]
    assert (late["subject_id"], late["tier"]) == ("nick-prospecting", "owner-now")
    assert data["counts"]["incidents"] == 1 and data["by_seat"][0]["key"] == "nick"
    text = orgplane(*args)
    assert text.returncode == 1 and "Decisions past their deadline" in text.stdout
    # --since the day after: a window without the event (its decision is still late at its end)
    later = (occurred + timedelta(days=1)).date().isoformat()
    moved = json.loads(orgplane(*args, "--since", later, "--json").stdout)
    assert moved["counts"]["incidents"] == 0 and moved["since"].startswith(later)
    page = orgplane(*args, "--format", "html")
    assert page.returncode == 1 and page.stdout.startswith("<!doctype html>")


# rendering -----------------------------------------------------------------------------------


def make(text: str) -> WeeklyAudit:
    """An audit with ``text`` in every field that comes from outside."""
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    incident = {
        "id": 7,
        "seat_id": text,
        "subject_kind": "output",
        "subject_id": text,
        "kind": "stale",
        "tier": text,
        "status": "open",
        "occurred_at": at,
        "new": True,
        "events": 3,
        "events_in_window": 2,
        "reopened": 1,
    }
    group = {"key": text, "label": text, "incidents": 1, "open": 1, "closed": 0, "new": 1}
    return WeeklyAudit.model_validate(
        {
            "org": text,
            "since": at - timedelta(days=7),
            "until": at,
            "counts": {
                "incidents": 1,
                "new": 1,
                "open": 1,
                "closed": 0,
                "events": 2,
                "repeats": 1,
                "learnings_applied": 1,
                "learnings_not_held": 1,
                "follow_ups_overdue": 1,
                "decisions_late": 1,
                "org_changes": 1,
            },
            "by_seat": [{**group, "events": 2}],
            "by_tier": [{**group, "events": 2}],
            "times": [
                {
                    "step": "detect",
                    "incidents": 1,
                    "median_seconds": 90.0,
                    "worst_seconds": 90.0,
                    "worst_incident": 7,
                },
                {
                    "step": "decide",
                    "incidents": 0,
                    "median_seconds": None,
                    "worst_seconds": None,
                    "worst_incident": None,
                },
                {
                    "step": "recover",
                    "incidents": 0,
                    "median_seconds": None,
                    "worst_seconds": None,
                    "worst_incident": None,
                },
            ],
            "incidents": [incident],
            "repeats": [incident],
            "learnings_applied": [
                {
                    "incident_id": 7,
                    "seat_id": text,
                    "subject_kind": "output",
                    "subject_id": text,
                    "kind": "stale",
                    "closed_at": at,
                    "closed_by": text,
                    "learning": text,
                    "change_kind": "set",
                    "change": {"kind": "set", "key": text},
                    "held": False,
                }
            ],
            "learnings_not_held": [
                {
                    "incident_id": 7,
                    "seat_id": text,
                    "subject_kind": "output",
                    "subject_id": text,
                    "kind": "stale",
                    "reopened_at": at,
                    "learning": text,
                    "status": "open",
                }
            ],
            "follow_ups_overdue": [
                {
                    "id": 1,
                    "incident_id": 7,
                    "text": text,
                    "owner": text,
                    "due": at - timedelta(days=1),
                    "overdue_seconds": 86400.0,
                    "nags": 2,
                }
            ],
            "decisions_late": [
                {
                    "id": 3,
                    "seat_id": text,
                    "subject_kind": "output",
                    "subject_id": text,
                    "kind": "stale",
                    "tier": text,
                    "action": "escalate",
                    "notify": text,
                    "holder": None,
                    "decided_at": at - timedelta(days=2),
                    "deadline": at - timedelta(days=2),
                    "late_seconds": 172800.0,
                    "acked_until": None,
                }
            ],
            "org_changes": [
                {
                    "id": 2,
                    "at": at,
                    "cause": text,
                    "incident_id": 7,
                    "actor": text,
                    "changes": [
                        {"entity": "seat", "entity_id": text, "change": "updated", "fields": [text]}
                    ],
                }
            ],
        }
    )


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.headings: list[tuple[str, str]] = []
        self.cells: list[str] = []
        self._open: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("h1", "h2", "td"):
            self._open, self._text = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            text = "".join(self._text)
            if tag == "td":
                self.cells.append(text)
            else:
                self.headings.append((tag, text))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def test_html_is_one_page_with_every_section_and_outside_text_escaped() -> None:
    page = render_html(make(HOSTILE))
    assert page.startswith("<!doctype html>") and "<script>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    parsed = parse(page)
    assert parsed.headings == [("h1", "Weekly audit"), *(("h2", s) for s in SECTIONS)]
    assert "script" not in parsed.tags and "link" not in parsed.tags and "img" not in parsed.tags
    assert HOSTILE in parsed.cells  # the cell reads as written
    assert "src=" not in page and "href=" not in page  # nothing fetched


def test_markdown_has_the_same_sections_and_escapes_outside_text() -> None:
    rendered = render_markdown(make(HOSTILE))
    headings = [line for line in rendered.splitlines() if line.startswith("#")]
    assert headings[0].startswith("# Weekly audit: ")
    assert headings[1:] == [f"## {s}" for s in SECTIONS]
    assert "<script>" not in rendered and "[red]" not in rendered
    assert not re.search(r"[^\\]\| pipe", rendered)  # a pipe would end the table cell
    assert r"\<script\>" in rendered and r"\[red\]" in rendered and r"\| pipe" in rendered


def test_the_terminal_prints_outside_text_as_written() -> None:
    buffer = io.StringIO()
    print_audit(make(HOSTILE), Console(file=buffer, width=400, highlight=False))
    printed = buffer.getvalue()
    assert HOSTILE in printed  # markup shown, not applied
    for section in SECTIONS:
        assert section in printed


@given(st.text(min_size=1, max_size=40).filter(lambda t: "\r" not in t and "\x00" not in t))
@settings(max_examples=40, deadline=None)
def test_any_outside_text_is_escaped_in_html(text: str) -> None:
    parsed = parse(render_html(make(text)))
    assert text in parsed.cells  # a cell holding it reads as written: nothing became markup
    assert [h for tag, h in parsed.headings if tag == "h2"] == SECTIONS


def _structure(data: dict[str, Any]) -> list[str]:
    return sorted(data)


def test_the_json_shape_names_every_section() -> None:
    data = make("x").as_json()
    assert _structure(data) == sorted(
        [
            "org",
            "since",
            "until",
            "counts",
            "by_seat",
            "by_tier",
            "times",
            "incidents",
            "repeats",
            "learnings_applied",
            "learnings_not_held",
            "follow_ups_overdue",
            "decisions_late",
            "org_changes",
            "not_really_delegated",
        ]
    )
