"""Hostile state files: whatever is at an output's location, and whatever it holds, is classified
(corrupt / invalid / stale / missing, or fresh when it is fine) with a one-line reason, within
bounded time and memory: never a hang, a traceback, or silent acceptance of bad data."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgplane.org.models import Output
from orgplane.watch.check import read_located
from orgplane.watch.inspect import Finding, classify_output
from orgplane.watch.readers import YAML_MAX_BYTES, parse_content, read_file
from tests.watch.conftest import NOW, iso, write_state

STATUSES = {"fresh", "stale", "missing", "corrupt", "invalid", "frozen"}
FORMATS = ("json", "yaml", "csv", "text")
CHECKS = {"required": ["at"], "ranges": {"n": {"min": 0, "max": 100}}}


def output(fmt: str, **extra: Any) -> Output:
    timestamp = None if fmt == "text" else "at"
    checks = {} if fmt == "text" else CHECKS
    return Output.model_validate(
        {"id": "o", "producer": "p", "format": fmt, "timestamp": timestamp, "checks": checks}
        | extra
    )


def judged(out: Output, raw: bytes) -> Finding:
    """Classify content as the watcher would, failing the test on a slow answer."""
    start = time.perf_counter()
    finding = classify_output(out, parse_content(raw, out, "state", NOW), NOW)
    assert time.perf_counter() - start < 30, "a single input held the pass"
    return well_formed(finding)


def well_formed(finding: Finding) -> Finding:
    assert finding.status in STATUSES
    assert finding.reason and "\n" not in finding.reason, finding.reason
    assert "Traceback" not in finding.reason
    assert len(finding.message()) < 1000
    return finding


def with_time_field(fmt: str, stamp: Any, n: Any = 1) -> bytes:
    """A document of ``fmt`` whose ``at`` field holds ``stamp`` (any JSON value)."""
    if fmt == "json":
        return json.dumps({"at": stamp, "n": n}).encode()
    if fmt == "yaml":
        return f"at: {json.dumps(stamp)}\nn: {json.dumps(n)}\n".encode()
    return f"at,n\n{stamp},{n}\n".encode()


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(fmt=st.sampled_from(FORMATS), raw=st.binary(max_size=2000))
def test_arbitrary_bytes_are_classified(fmt: str, raw: bytes) -> None:
    finding = judged(output(fmt), raw)
    if fmt != "text":
        assert finding.status != "fresh" or b"at" in raw


ODD_TIMES = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),  # naive, any year 1-9999
    st.sampled_from(
        [
            "0000-01-01T00:00:00Z",  # year 0
            "2026-06-30T23:59:60Z",  # a leap second
            "9999-12-31T23:59:59-05:00",  # out of range once in UTC
            "0001-01-01T00:00:00+05:00",
            "2026-02-30T10:00:00Z",
            "2026-06-21",  # a date, not a time
            "2026-06-21T12:00:00+25:00",
            "\u0662\u0660\u0662\u0666-06-21T12:00:00Z",  # Arabic-Indic digits
            "2026-06-21T12:00:00Z" + "0" * 5000,
            "",
            "NaN",
        ]
    ),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    st.text(max_size=40),
)


@settings(max_examples=200, deadline=None)
@given(fmt=st.sampled_from(("json", "yaml", "csv")), stamp=ODD_TIMES)
def test_every_odd_timestamp_is_corrupt_or_a_real_aware_time(fmt: str, stamp: Any) -> None:
    finding = judged(output(fmt), with_time_field(fmt, stamp))
    if finding.status in ("fresh", "stale", "invalid") and finding.data_at is not None:
        assert finding.data_at.utcoffset() == timedelta(0)  # parsed with its offset, in UTC
        assert isinstance(stamp, str) and ("Z" in stamp or "+" in stamp or "-" in stamp[10:])
    elif finding.status not in ("invalid",):
        assert finding.status == "corrupt", (stamp, finding.reason)


def test_naive_and_impossible_times_are_never_guessed() -> None:
    for fmt in ("json", "yaml", "csv"):
        for stamp in ("2026-06-21T11:00:00", "2026-06-30T23:59:60Z", "0000-01-01T00:00Z", 17):
            finding = judged(output(fmt), with_time_field(fmt, stamp))
            assert finding.status == "corrupt", (fmt, stamp)
        far = judged(output(fmt), with_time_field(fmt, "9999-12-31T23:59:59-05:00"))
        assert far.status == "corrupt" and "out of range" in far.reason


@pytest.mark.parametrize("fmt", ["json", "yaml", "csv"])
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "nan", ".inf"])
def test_non_finite_numbers_are_never_accepted(fmt: str, number: str) -> None:
    if fmt == "json":
        raw = f'{{"at": "{iso(NOW)}", "n": {number}}}'.encode()
    elif fmt == "yaml":
        raw = f"at: '{iso(NOW)}'\nn: {number}\n".encode()
    else:
        raw = f"at,n\n{iso(NOW)},{number}\n".encode()
    finding = judged(output(fmt), raw)
    if fmt == "yaml" and number in ("NaN", "Infinity", "-Infinity", "nan"):
        assert finding.status == "invalid"  # YAML reads these as text: not a number
    else:
        assert finding.status in ("corrupt", "invalid"), finding.reason


@pytest.mark.parametrize("digits", [400, 4_000, 50_000])
def test_huge_integers_are_bounded(digits: int) -> None:
    for fmt in ("json", "yaml"):
        raw = with_time_field(fmt, iso(NOW)).replace(b"1", b"1" + b"7" * digits, 1)
        assert judged(output(fmt), raw).status in ("corrupt", "invalid")


@pytest.mark.parametrize("depth", [100, 10_000, 200_000])
def test_deep_nesting_is_corrupt_not_a_crash(depth: int) -> None:
    json_doc = (
        b'{"n": 1, "at": "' + iso(NOW).encode() + b'", "x": ' + b"[" * depth + b"]" * depth + b"}"
    )
    finding = judged(output("json"), json_doc)
    assert finding.status == ("fresh" if depth == 100 else "corrupt")
    yaml_doc = f"at: '{iso(NOW)}'\nx: ".encode() + b"[" * min(depth, 20_000)
    assert judged(output("yaml"), yaml_doc).status == "corrupt"


def test_a_billion_laughs_in_yaml_is_refused_quickly() -> None:
    lines = [f"at: '{iso(NOW)}'", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    finding = judged(output("yaml"), "\n".join(lines).encode())
    assert finding.status == "corrupt"
    assert "aliases expand to more than" in finding.reason


def test_big_yaml_is_refused_without_parsing() -> None:
    raw = f"at: '{iso(NOW)}'\n".encode() + b"k: v\n" * (YAML_MAX_BYTES // 5 + 1)
    finding = judged(output("yaml"), raw)
    assert finding.status == "corrupt" and "write it as JSON" in finding.reason


@pytest.mark.parametrize("fmt", FORMATS)
def test_byte_order_marks(fmt: str) -> None:
    for bom in ("\ufeff".encode(), "\ufeff".encode("utf-16-le"), b"\xff\xfe\x00\x00"):
        finding = judged(output(fmt), bom + with_time_field(fmt, iso(NOW)))
        assert finding.status in ("fresh", "corrupt", "invalid")
    csv_with_bom = "\ufeff".encode() + with_time_field("csv", iso(NOW))
    assert judged(output("csv"), csv_with_bom).status == "fresh"


def test_a_csv_cell_past_the_field_limit_is_corrupt() -> None:
    raw = f"at,n\n{iso(NOW)},{'9' * 200_000}\n".encode()
    assert judged(output("csv"), raw).status == "corrupt"


# Files: what can sit at a location.


def read_in_time(path: Path, out: Output) -> Finding:
    """Read ``path`` in a thread; a read that blocks fails the test instead of hanging it."""
    found: list[Finding] = []
    worker = threading.Thread(
        target=lambda: found.append(classify_output(out, read_file(path, out), NOW)),
        daemon=True,
    )
    worker.start()
    worker.join(10)
    assert found, f"reading {path} blocked"
    return well_formed(found[0])


def test_fifos_and_devices_never_block(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    assert read_in_time(fifo, output("json")).status == "missing"
    link = tmp_path / "link.json"
    link.symlink_to(fifo)
    assert read_in_time(link, output("json")).status == "missing"
    for device in ("/dev/zero", "/dev/urandom"):
        assert read_in_time(Path(device), output("json")).status == "missing"


def test_a_socket_at_the_location_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        finding = read_in_time(path, output("json"))
        assert finding.status == "missing" and "cannot be opened" in finding.reason
    finally:
        server.close()


def test_symlinks_dangling_looping_and_to_folders(tmp_path: Path) -> None:
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "nowhere.json")
    assert read_in_time(dangling, output("json")).reason.endswith("does not exist")
    loop_a, loop_b = tmp_path / "a.json", tmp_path / "b.json"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    assert "cannot be opened" in read_in_time(loop_a, output("json")).reason
    folder = tmp_path / "folder.json"
    folder.mkdir()
    to_folder = tmp_path / "to-folder.json"
    to_folder.symlink_to(folder)
    for path in (folder, to_folder):
        assert "not a regular file" in read_in_time(path, output("json")).reason
    good = write_state(tmp_path / "real.json", with_time_field("json", iso(NOW)), NOW)
    to_good = tmp_path / "to-good.json"
    to_good.symlink_to(good)
    assert read_in_time(to_good, output("json")).status == "fresh"


def test_an_enormous_sparse_file_costs_one_fstat(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(1 << 40)  # a terabyte, sparse
    tracemalloc.start()
    try:
        finding = read_in_time(path, output("json"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert finding.status == "corrupt" and "over the 16.0 MB" in finding.reason
    assert peak < 1 << 20


def test_a_file_that_grows_while_read_is_not_used(tmp_path: Path) -> None:
    # /proc files report size 0 and then produce content: the same as a file growing mid-read.
    finding = read_in_time(Path("/proc/self/status"), output("text", max_bytes=64))
    assert finding.status == "corrupt" and "growing past" in finding.reason


def test_a_file_that_vanishes_between_listing_and_reading(tmp_path: Path) -> None:
    gone = tmp_path / "gone.json"
    finding = classify_output(
        output("json"), read_located(str(gone), "state/x.json disappeared", output("json")), NOW
    )
    assert well_formed(finding).status == "missing"


def test_a_file_replaced_mid_read_is_read_whole_from_one_version(tmp_path: Path) -> None:
    path = write_state(tmp_path / "s.json", with_time_field("json", iso(NOW)), NOW)
    stop = threading.Event()

    def rewrite() -> None:  # atomic replaces and truncating rewrites, as fast as possible
        n = 0
        while not stop.is_set():
            n += 1
            body = with_time_field("json", iso(NOW - timedelta(hours=n % 30)), n % 200)
            if n % 2:
                temp = tmp_path / "s.json.tmp"
                temp.write_bytes(body)
                os.replace(temp, path)
            else:
                path.write_bytes(body)

    writer = threading.Thread(target=rewrite, daemon=True)
    writer.start()
    try:
        seen = {read_in_time(path, output("json")).status for _ in range(300)}
    finally:
        stop.set()
        writer.join(5)
    assert seen <= {"fresh", "stale", "invalid", "corrupt", "missing"}  # never an exception


@pytest.mark.parametrize("make", ["empty", "whitespace", "nul"])
def test_empty_content(tmp_path: Path, make: str) -> None:
    raw = {"empty": b"", "whitespace": b" \n\t\n", "nul": b"\x00" * 64}[make]
    for fmt in FORMATS:
        finding = judged(output(fmt), raw)
        assert finding.status == "corrupt", (fmt, make)


def test_timestamps_parsed_are_aware_utc_or_refused() -> None:
    offsets: list[Callable[[datetime], str]] = [
        lambda d: d.isoformat(),
        lambda d: d.astimezone().isoformat(),
        lambda d: d.isoformat().replace("+00:00", "Z"),
    ]
    for render in offsets:
        finding = judged(output("json"), with_time_field("json", render(NOW - timedelta(hours=1))))
        assert finding.status == "fresh" and finding.data_at == NOW - timedelta(hours=1)
