"""Whatever bytes a seat leaves behind, the checker classifies them and never raises."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from orgplane.org.models import Output
from orgplane.watch.inspect import Prior, classify_output
from orgplane.watch.readers import parse_content, read_file

STATUSES = {"fresh", "stale", "missing", "corrupt", "invalid", "frozen"}
NOW = datetime(2026, 6, 21, 12, 0, tzinfo=UTC)

OUTPUTS = [
    Output.model_validate(
        {
            "id": f"out-{fmt}",
            "producer": "dash",
            "format": fmt,
            "timestamp": stamp,
            "checks": {
                "required": ["generated_at"],
                "min_rows": 1,
                "ranges": {"total": {"min": 0, "max": 10}},
                "json_schema": {"type": "object"} if fmt in ("json", "yaml") else None,
            },
        }
    )
    for fmt, stamp in (("json", "meta.generated_at"), ("yaml", "generated_at"),
                       ("csv", "generated_at"), ("text", None))
]  # fmt: skip

# Bytes that look like each format half the time, so the checks deep inside get exercised too.
shaped = st.one_of(
    st.binary(max_size=2048),
    st.builds(
        lambda stamp, total: f'{{"meta": {{"generated_at": {stamp}}}, "total": {total}}}'.encode(),
        st.sampled_from(['"2026-06-21T10:00:00Z"', '"2026-13-45"', "1", "null", '"x"', "[]"]),
        st.sampled_from(["1", "-1", '"a"', "1e400", "null"]),
    ),
    st.builds(
        lambda rows: ("generated_at,total\n" + rows).encode(),
        st.text(alphabet='0123456789-:TZ,\n"x', max_size=200),
    ),
    st.text(max_size=300).map(lambda t: ("generated_at: " + t).encode()),
)


@settings(max_examples=300, deadline=None)
@given(content=shaped, which=st.integers(0, 3), repeats=st.integers(0, 4))
def test_any_bytes_are_classified(content: bytes, which: int, repeats: int) -> None:
    output = OUTPUTS[which]
    reading = parse_content(content, output, "state", NOW)
    prior = Prior("fresh", NOW, NOW, reading.content_hash, repeats) if repeats else None
    finding = classify_output(output, reading, NOW, prior)
    assert finding.status in STATUSES
    assert finding.reason
    assert finding.message()


@settings(max_examples=100, deadline=None)
@given(content=st.binary(max_size=4096), which=st.integers(0, 3))
def test_any_file_on_disk_is_classified(content: bytes, which: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "state"
        path.write_bytes(content)
        os.utime(path, (NOW.timestamp(), NOW.timestamp()))
        finding = classify_output(OUTPUTS[which], read_file(path, OUTPUTS[which]), NOW)
    assert finding.status in STATUSES
    assert finding.status != "missing"


@settings(max_examples=60, deadline=None)
@given(contents=st.lists(shaped, min_size=4, max_size=4), glob_too=st.booleans())
def test_a_whole_pass_over_arbitrary_files_classifies_every_output(
    contents: list[bytes], glob_too: bool
) -> None:
    """The pass (locating, reading, classifying, schedules) over a folder of arbitrary files."""
    from orgplane.org.models import Org, Seat
    from orgplane.watch.check import evaluate
    from orgplane.watch.state import Snapshot

    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        outputs = {}
        for output, content in zip(OUTPUTS, contents, strict=True):
            name = f"{output.id}.{output.format}"
            (base / name).write_bytes(content)
            location = f"{output.id}*" if glob_too else name
            outputs[output.id] = output.model_copy(
                update={"location": location, "schedule": "0 7,11,15,19 * * *"}
            )
        seats = {"dash": Seat(id="dash", title="Analytics", kind="agent")}
        org = Org(name="p", seats=seats, outputs=outputs, source=base / "org.yaml")
        findings = evaluate(org, Snapshot(), NOW)
    assert len(findings) == 2 * len(OUTPUTS)
    assert {f.status for f in findings if f.subject_kind == "output"} <= STATUSES
    assert {f.status for f in findings if f.subject_kind == "schedule"} <= {"up", "late", "missed"}
