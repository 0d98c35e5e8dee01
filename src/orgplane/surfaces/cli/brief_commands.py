"""The briefing command: ``brief SEAT``. Thin: what goes in is
:mod:`orgplane.service.briefing`, how it looks is :mod:`orgplane.surfaces.briefing`."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer

from orgplane.surfaces.cli import app
from orgplane.surfaces.cli.errors import EXIT_FINDINGS


class BriefFormat(StrEnum):
    md = "md"
    html = "html"
    json = "json"


@app.command()
def brief(
    ctx: typer.Context,
    seat: str = typer.Argument(..., help="The seat whose briefing to compile (e.g. radar)."),
    fmt: BriefFormat = typer.Option(
        BriefFormat.md, "--format", help="md (default), html (one self-contained page) or json."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (the same as --format json)."),
    output: Path | None = typer.Option(
        None, "--output", help="Write the briefing to this file (atomically) instead of stdout."
    ),
) -> None:
    """SEAT's briefing: each input's summary and freshness through the gate (answers stored),
    a flag for anything not fresh (producing seat, last good, action taken), the open decisions
    waiting on a person, and the scorecard. Exit 1 when an input is not fresh or a metric is
    stale (the briefing is still written), as check does."""
    import json

    from orgplane.errors import UsageError
    from orgplane.service.briefing import compile_briefing
    from orgplane.surfaces.briefing import render_html, render_markdown
    from orgplane.surfaces.cli.output import console, esc

    if as_json and fmt not in (BriefFormat.md, BriefFormat.json):
        raise UsageError(f"--json and --format {fmt.value} disagree; give one of them")
    chosen = BriefFormat.json if as_json else fmt
    # Checked before compiling, so a bad path costs no gate answers.
    if output is not None and output.is_dir():
        raise UsageError(f"--output {output} is a folder; give a file path")
    briefing = compile_briefing(ctx.obj, seat)
    if chosen is BriefFormat.json:
        text = json.dumps(briefing.as_json(), indent=2, ensure_ascii=False) + "\n"
    elif chosen is BriefFormat.html:
        text = render_html(briefing)
    else:
        text = render_markdown(briefing)
    if output is None:
        sys.stdout.write(text)  # never through Rich: the text is the document, not markup
        sys.stdout.flush()
    else:
        from orgplane.files import write_atomically

        try:
            write_atomically(output, text.encode("utf-8"))
        except OSError as exc:
            raise UsageError(
                f"--output {output}: cannot write it ({exc.strerror or exc}); "
                "give a path you can write"
            ) from None
        counts = briefing.counts
        console().print(
            f"wrote the {chosen.value} briefing of {esc(seat)} to {esc(output)}: "
            f"{counts.fresh} of {counts.inputs} inputs fresh, "
            f"{counts.decisions_awaiting} decision{'' if counts.decisions_awaiting == 1 else 's'} "
            "waiting on a person, "
            f"{counts.metrics_stale} of {counts.metrics} metrics stale",
            soft_wrap=True,
        )
    if not briefing.ok:
        raise typer.Exit(EXIT_FINDINGS)
