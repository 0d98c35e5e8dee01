"""A briefing as Markdown (CommonMark with GFM tables).

Text from outside (content, summaries, reasons, titles, holder names) is never read as markup:
a summary or content goes in a fenced code block, verbatim, with a fence longer than any run of
backticks inside it; a name or reason in running text has every character Markdown or GFM
gives a meaning (``* _ [ ] < > & | ~ # ` \\ ! $``) backslash-escaped, so any CommonMark renderer
shows it as written, and HTML in it stays text.
"""

from __future__ import annotations

import re

from orgplane.respond.briefing import stamp
from orgplane.service.briefing import Briefing, BriefingDecision, BriefingInput, SeatRef
from orgplane.service.watch import ScorecardRow

_SPECIAL = re.compile(r"([\\`*\[\]<>&|~#!$])")
# A run of underscores between two letters or digits can neither open nor close emphasis
# (CommonMark's flanking rules), so ``skip_and_flag`` stays as written; any other is escaped.
_UNDERSCORES = re.compile(r"_+")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
_BACKTICKS = re.compile(r"`+")


def md_text(value: object) -> str:
    """``value`` as running Markdown text that renders as written: special characters
    backslash-escaped, line breaks (which would end a paragraph or a table row) as spaces.
    Never put it at the start of a line: leading spaces there would make a code block."""
    text = _SPECIAL.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(value)))
    return _UNDERSCORES.sub(lambda m: _underscores(m, text), text)


def _underscores(match: re.Match[str], text: str) -> str:
    start, end = match.span()
    inside = start > 0 and end < len(text) and _word(text[start - 1]) and _word(text[end])
    return match.group() if inside else "\\_" * len(match.group())


def _word(char: str) -> bool:
    return char.isalnum()


def md_block(text: str) -> str:
    """``text`` verbatim in a fenced code block (the fence outlasts any backtick run in it)."""
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"{fence}text\n{body}{fence}"


def md_code(text: str) -> str:
    """``text`` as an inline code span (used for commands), its line breaks as spaces."""
    text = _LINE_BREAKS.sub(" ", text)
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * (longest + 1)
    # CommonMark strips one space each side, so padding keeps a leading or trailing backtick.
    pad = " " if longest or text.startswith(" ") or text.endswith(" ") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def render_markdown(briefing: Briefing) -> str:
    """The whole briefing as Markdown: header, flags, each input, decisions, scorecard."""
    counts = briefing.counts
    lines = [
        f"# Briefing for {_seat(briefing.seat)}",
        "",
        f"Org {md_text(briefing.org)} · compiled {stamp(briefing.compiled_at)} · "
        f"**{counts.fresh} of {counts.inputs} inputs fresh** · "
        f"{counts.decisions_awaiting} decision{_s(counts.decisions_awaiting)} waiting on a "
        f"person · {counts.metrics_stale} of {counts.metrics} metrics stale",
        "",
        "## Flags",
        "",
    ]
    flagged = [i for i in briefing.inputs if i.flag]
    lines += [f"- **{md_text(i.output)}**: {md_text(i.flag)}" for i in flagged]
    lines += [
        f"- **metric {md_text(m.metric)}** is {md_text(m.status)}: {md_text(m.reason)}; "
        f"{_last_push(m)}"
        for m in briefing.scorecard.metrics
        if m.stale
    ]
    if not flagged and not briefing.counts.metrics_stale:
        lines.append("Nothing flagged: every input is fresh and no metric is stale.")
    lines += ["", "## Inputs", ""]
    for number, item in enumerate(briefing.inputs, start=1):
        lines += _input(number, item)
    lines += ["## Decisions waiting on a person", ""]
    lines += _decisions(briefing)
    lines += ["## Scorecard", ""]
    lines += _scorecard(briefing.scorecard.metrics)
    return "\n".join(lines).rstrip("\n") + "\n"


def _input(number: int, item: BriefingInput) -> list[str]:
    state = "fresh" if item.fresh else item.status.upper()
    lines = [
        f"### {number}. {md_text(item.output)}: {md_text(state)}",
        "",
        f"- From: seat {_seat(item.producer)}",
        f"- Freshness: {_freshness(item)}",
        *([] if item.fresh else [f"- Gate: {md_text(item.reason)}"]),
        f"- Protocol: {md_text(item.protocol)}; action: {md_text(item.action)}",
    ]
    if item.description:
        lines.append(f"- About: {md_text(item.description)}")
    lines.append("")
    summary = item.summary
    if summary is None:
        lines += ["Nothing shown: no content was given.", ""]
        return lines
    what = f"Summary ({md_text(summary.field)})" if summary.source == "field" else "First lines"
    label = f", **{md_text(summary.as_of)}** (not current)" if summary.as_of else ""
    note = f" ({md_text(summary.note)})" if summary.note else ""
    lines += [f"{what}{label}{note}:", "", md_block(summary.text), ""]
    return lines


def _freshness(item: BriefingInput) -> str:
    if item.fresh:
        data = f", data of {stamp(item.content_at)}" if item.content_at else ""
        return f"fresh, {md_text(item.age or '?')} old{data}"
    return md_text(item.status)


def _decisions(briefing: Briefing) -> list[str]:
    if not briefing.decisions:
        return ["None.", ""]
    lines = [_decision(d) for d in briefing.decisions]
    if briefing.decisions_truncated:
        lines.append("- (more open decisions than a briefing reads; see `orgplane decision list`)")
    other = briefing.counts.other_open_decisions
    if other:
        actions = ", ".join(f"{n} {md_text(a)}" for a, n in briefing.other_decisions.items())
        lines.append(f"- {other} other open decision{_s(other)} wait on nobody now: {actions}.")
    return [*lines, ""]


def _decision(d: BriefingDecision) -> str:
    state = (
        f"acknowledged until {stamp(d.acked_until)}"
        if d.state == "acknowledged" and d.acked_until
        else "**live**"
    )
    who = f"tell {_seat(d.notify)}" if d.notify else "nobody named to tell"
    seat = f" (seat {md_text(d.seat_id)})" if d.seat_id else ""
    return (
        f"- #{d.id} {state}: {md_text(d.subject_kind)} {md_text(d.subject_id)}{seat} "
        f"{md_text(d.kind)}, {md_text(d.action)}; {who}; due {stamp(d.deadline)}; "
        f"rule {md_text(d.rule)}; acknowledge: {md_code(d.ack)}"
    )


def _scorecard(metrics: list[ScorecardRow]) -> list[str]:
    if not metrics:
        return ["No metrics declared.", ""]
    lines = [
        "| metric | value | target | met | last clean push | status |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for m in metrics:
        unit = md_text(m.unit or "")
        value = f"{m.value:g}{unit}" if m.value is not None else "none"
        sign = "≥" if m.direction == "at_least" else "≤"
        target = f"{sign} {m.target:g}{unit}" if m.target is not None else ""
        met = {True: "yes", False: "no", None: ""}[m.met]
        status = f"**STALE**: {md_text(m.reason)}" if m.stale else md_text(m.status)
        lines.append(
            f"| {md_text(m.metric)} | {value} | {target} | {met} | {_push_time(m)} | {status} |"
        )
    return [*lines, ""]


def _push_time(m: ScorecardRow) -> str:
    return stamp(m.last_clean_push) if m.last_clean_push else "never"


def _last_push(m: ScorecardRow) -> str:
    return f"last clean push {_push_time(m)}"


def _seat(seat: SeatRef | None) -> str:
    if seat is None:
        return "nobody"
    about = ", ".join(md_text(part) for part in (seat.title, seat.holder) if part)
    return f"{md_text(seat.id)} ({about})" if about else md_text(seat.id)


def _s(count: int) -> str:
    return "" if count == 1 else "s"
