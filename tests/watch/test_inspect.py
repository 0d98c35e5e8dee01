"""Every classification from real files on disk, with the message a person reads."""

from __future__ import annotations

import json
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from orgplane.org.models import Metric, Output, Range
from orgplane.watch.check import locate, read_located
from orgplane.watch.inspect import Prior, classify_output
from orgplane.watch.readers import read_file
from tests.watch.conftest import NOW, hours, iso, write_state


def classify(output: Output, path: Path, prior: Prior | None = None):  # type: ignore[no-untyped-def]
    return classify_output(output, read_file(path, output), NOW, prior)


def test_fresh(dash_output: Output, dash_file: Callable[..., Path]) -> None:
    finding = classify(dash_output, dash_file(NOW - hours(2)))
    assert finding.status == "fresh"
    assert finding.deadline == NOW - hours(2) + hours(18)
    assert finding.last_good_at == NOW - hours(2)
    assert "2h old, stale after 2026-06-22T04:00" in finding.reason


def test_stale_is_stamped_when_max_age_ran_out(
    dash_output: Output, dash_file: Callable[..., Path]
) -> None:
    finding = classify(dash_output, dash_file(NOW - hours(20)))
    assert finding.status == "stale"
    assert finding.changed_at == NOW - hours(2)  # generated 20h ago + 18h max_age
    assert finding.reason == "its data is 20h old, over its max_age of 18h"
    assert finding.message().startswith(
        "output dash-analysis (seat dash) is stale: its data is 20h"
    )


def test_missing(dash_output: Output, tmp_path: Path) -> None:
    finding = classify(dash_output, tmp_path / "state" / "dash.json")
    assert finding.status == "missing"
    assert finding.reason.endswith("dash.json does not exist")
    assert finding.message().endswith("never seen good")


def test_impossible_date_is_corrupt(dash_output: Output, dash_file: Callable[..., Path]) -> None:
    finding = classify(dash_output, dash_file("2026-13-45"))
    assert finding.status == "corrupt"
    assert finding.reason == (
        "timestamp generated_at '2026-13-45' is not a valid time; write e.g. 2026-06-21T07:00:00Z"
    )


def test_naive_timestamp_is_corrupt_never_guessed(
    dash_output: Output, dash_file: Callable[..., Path]
) -> None:
    finding = classify(dash_output, dash_file("2026-06-21T09:00:00"))
    assert finding.status == "corrupt"
    assert "has no UTC offset (naive), so its zone is unknown" in finding.reason


def test_a_day_in_the_future_is_corrupt(
    dash_output: Output, dash_file: Callable[..., Path]
) -> None:
    finding = classify(dash_output, dash_file(NOW + hours(24), written=NOW))
    assert finding.status == "corrupt"
    assert "is 1d ahead of now (beyond the 5m clock-skew tolerance)" in finding.reason


def test_timestamp_later_than_the_write_is_corrupt(
    dash_output: Output, dash_file: Callable[..., Path]
) -> None:
    # Re-stamped as current, but the file was last written three hours ago: Radar's trap.
    finding = classify(dash_output, dash_file(NOW - hours(1), written=NOW - hours(3)))
    assert finding.status == "corrupt"
    assert "is later than the moment it was written" in finding.reason


def test_binary_file_is_corrupt(dash_output: Output, tmp_path: Path) -> None:
    path = write_state(tmp_path / "dash.json", bytes(range(256)) * 4, NOW)
    finding = classify(dash_output, path)
    assert finding.status == "corrupt"
    assert finding.reason.startswith(f"{path} is not valid json: ")


def test_empty_file_is_corrupt(dash_output: Output, tmp_path: Path) -> None:
    finding = classify(dash_output, write_state(tmp_path / "dash.json", b"", NOW))
    assert finding.status == "corrupt"
    assert finding.reason.endswith("dash.json is empty (0 bytes)")


def test_50_mb_file_is_refused_without_being_loaded(dash_output: Output, tmp_path: Path) -> None:
    path = tmp_path / "dash.json"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # a real 50 MB file (sparse, so the test is quick)
    tracemalloc.start()
    try:
        finding = classify(dash_output, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert finding.status == "corrupt"
    assert "is 50.0 MB, over the 16.0 MB a state file may be; it was not read" in finding.reason
    assert peak < 1024 * 1024


def test_file_disappearing_between_listing_and_reading(dash_output: Output, tmp_path: Path) -> None:
    write_state(tmp_path / "state" / "dash-0611.json", "{}", NOW)
    path, hint = locate(tmp_path, "state/dash-*.json")
    assert path is not None
    os.unlink(path)
    reading = read_located(path, hint, dash_output)
    finding = classify_output(dash_output, reading, NOW)
    assert finding.status == "missing"
    assert finding.reason == f"{path} disappeared between listing and reading"


def test_glob_reads_the_newest_match(dash_output: Output, tmp_path: Path) -> None:
    old = {"generated_at": iso(NOW - hours(30)), "clients": [], "total_spend": 1}
    new = {**old, "generated_at": iso(NOW - hours(1))}
    write_state(tmp_path / "state" / "a.json", json.dumps(new), NOW - hours(1))
    write_state(tmp_path / "state" / "b.json", json.dumps(old), NOW - hours(30))
    path, hint = locate(tmp_path, "state/*.json")
    finding = classify_output(dash_output, read_located(path, hint, dash_output), NOW)
    assert finding.status == "fresh"
    assert path == str(tmp_path / "state" / "a.json")


def test_required_field_missing_is_invalid(dash_output: Output, tmp_path: Path) -> None:
    body = json.dumps({"generated_at": iso(NOW), "total_spend": 10})
    finding = classify(dash_output, write_state(tmp_path / "d.json", body, NOW))
    assert finding.status == "invalid"
    assert finding.reason == "required field 'clients' is missing"


def test_out_of_range_is_invalid(dash_output: Output, dash_file: Callable[..., Path]) -> None:
    finding = classify(dash_output, dash_file(NOW, total_spend=-40))
    assert finding.status == "invalid"
    assert finding.reason == "total_spend is -40, below its minimum 0"


def test_json_schema_is_enforced(tmp_path: Path) -> None:
    output = Output.model_validate(
        {
            "id": "nick-pipeline",
            "producer": "nick",
            "timestamp": "meta.updated_at",
            "checks": {
                "json_schema": {
                    "type": "object",
                    "properties": {"drafted": {"type": "integer", "maximum": 30}},
                    "required": ["drafted"],
                }
            },
        }
    )
    body = json.dumps({"meta": {"updated_at": iso(NOW)}, "drafted": 31})
    finding = classify(output, write_state(tmp_path / "n.json", body, NOW))
    assert finding.status == "invalid"
    assert finding.reason == "JSON Schema: at drafted: 31 is greater than the maximum of 30"


def test_restamped_old_data_is_frozen(dash_output: Output, dash_file: Callable[..., Path]) -> None:
    """Three observations in a row of the same numbers under an advancing timestamp."""
    prior = None
    statuses = []
    for step in range(3):
        at = NOW - hours(6 - step)
        finding = classify(dash_output, dash_file(at), prior)
        statuses.append(finding.status)
        prior = Prior(
            finding.status, finding.changed_at, finding.data_at, finding.content_hash,
            finding.same_content, finding.last_good_at,
        )  # fmt: skip
    assert statuses == ["fresh", "fresh", "frozen"]
    assert "has not changed over 3 updates while its timestamp kept advancing" in finding.reason
    # New numbers end it.
    changed = classify(dash_output, dash_file(NOW - hours(2), total_spend=3100.0), prior)
    assert changed.status == "fresh"
    assert changed.same_content == 1


def test_csv_newest_row_counts(tmp_path: Path) -> None:
    output = Output(id="ccm-stats", producer="dash", format="csv", timestamp="recorded_at")
    rows = f"recorded_at,agent,calls\n{iso(NOW - hours(30))},Amanda,41\n{iso(NOW - hours(2))},Erica,37\n"
    finding = classify(output, write_state(tmp_path / "c.csv", rows, NOW - hours(2)))
    assert finding.status == "fresh"
    assert finding.data_at == NOW - hours(2)


def test_csv_bad_row_names_the_row(tmp_path: Path) -> None:
    output = Output(id="ccm-stats", producer="dash", format="csv", timestamp="recorded_at")
    rows = f"recorded_at,calls\n{iso(NOW)},4\n2026-13-45,5\n"
    finding = classify(output, write_state(tmp_path / "c.csv", rows, NOW))
    assert finding.status == "corrupt"
    assert finding.reason.startswith("row 2 recorded_at '2026-13-45' is not a valid time")


def test_csv_without_rows_fails_min_rows(tmp_path: Path) -> None:
    output = Output.model_validate(
        {"id": "ccm-stats", "producer": "dash", "format": "csv", "timestamp": "recorded_at",
         "checks": {"min_rows": 1}}
    )  # fmt: skip
    finding = classify(output, write_state(tmp_path / "c.csv", "recorded_at,calls\n", NOW))
    assert finding.status == "invalid"
    assert finding.reason == "0 rows, fewer than the 1 required"


def test_csv_missing_timestamp_column_is_corrupt(tmp_path: Path) -> None:
    output = Output(id="ccm-stats", producer="dash", format="csv", timestamp="recorded_at")
    finding = classify(output, write_state(tmp_path / "c.csv", "when,calls\nx,1\n", NOW))
    assert finding.status == "corrupt"
    assert finding.reason.endswith("has no column 'recorded_at' for its timestamp")


def test_yaml_dates_are_judged_by_us_not_the_yaml_library(tmp_path: Path) -> None:
    output = Output(id="crystal-billing", producer="crystal", format="yaml", timestamp="meta.at")
    bad = classify(output, write_state(tmp_path / "c.yaml", "meta:\n  at: 2026-13-45\n", NOW))
    assert bad.status == "corrupt"
    assert "'2026-13-45' is not a valid time" in bad.reason
    naive = classify(
        output, write_state(tmp_path / "n.yaml", "meta:\n  at: 2026-06-21 10:00:00\n", NOW)
    )
    assert naive.status == "corrupt" and "naive" in naive.reason
    good = classify(
        output, write_state(tmp_path / "g.yaml", "meta:\n  at: 2026-06-21T10:00:00Z\n", NOW)
    )
    assert good.status == "fresh"


def test_mtime_is_the_time_without_a_timestamp_field(tmp_path: Path) -> None:
    output = Output(id="arin-coaching", producer="arin", format="text", max_age="2h")
    finding = classify(
        output, write_state(tmp_path / "a.txt", "draft for Amanda\n", NOW - hours(3))
    )
    assert finding.status == "stale"
    assert finding.changed_at == NOW - hours(1)


def test_unreadable_location_is_missing_with_the_reason(
    dash_output: Output, tmp_path: Path
) -> None:
    (tmp_path / "dash.json").mkdir()  # something is there, but it cannot be read as a file
    finding = classify(dash_output, tmp_path / "dash.json")
    assert finding.status == "missing"
    assert finding.reason.endswith("dash.json is not a regular file (a folder, pipe or device)")


def test_a_named_pipe_does_not_hang_the_checker(dash_output: Output, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "dash.json")  # nothing will ever write to it
    finding = classify(dash_output, tmp_path / "dash.json")
    assert finding.status == "missing"
    assert "is not a regular file" in finding.reason


def test_size_limit_is_per_output(dash_output: Output, tmp_path: Path) -> None:
    body = '{"generated_at": "2026-06-21T07:00:00Z", "pad": "' + "x" * 2000 + '"}'
    path = write_state(tmp_path / "dash.json", body, NOW)
    small = dash_output.model_copy(update={"max_bytes": 1000})
    finding = classify(small, path)
    assert finding.status == "corrupt"
    assert "it was not read" in finding.reason
    assert "it was not read" not in classify(dash_output, path).reason


def test_non_finite_numbers_fail_every_range_check(tmp_path: Path) -> None:
    """Regression: NaN passed a range check (NaN < 0 and NaN > max are both False)."""
    checks = {"ranges": {"spend": {"min": 0, "max": 100}}}
    yaml_out = Output.model_validate(
        {"id": "y", "producer": "p", "format": "yaml", "timestamp": "at", "checks": checks}
    )
    for literal in (".nan", ".inf", "-.inf", '"NaN"', '"inf"'):
        path = write_state(tmp_path / "y.yaml", f"at: '{iso(NOW)}'\nspend: {literal}\n", NOW)
        finding = classify(yaml_out, path)
        assert (finding.status, finding.reason.endswith("not a finite number")) == (
            "invalid",
            True,
        ), literal
    csv_out = Output.model_validate(
        {"id": "c", "producer": "p", "format": "csv", "timestamp": "at", "checks": checks}
    )
    path = write_state(tmp_path / "c.csv", f"at,spend\n{iso(NOW)},5\n{iso(NOW)},nan\n", NOW)
    assert classify(csv_out, path).reason == "spend is 'nan', not a finite number"
    json_out = Output.model_validate(
        {"id": "j", "producer": "p", "timestamp": "at", "checks": checks}
    )
    for literal in ("NaN", "Infinity", "-Infinity"):
        path = write_state(tmp_path / "j.json", f'{{"at": "{iso(NOW)}", "spend": {literal}}}', NOW)
        assert classify(json_out, path).status == "corrupt", literal  # not JSON (RFC 8259)
    path = write_state(tmp_path / "j.json", f'{{"at": "{iso(NOW)}", "spend": 1e400}}', NOW)
    assert classify(json_out, path).reason == "spend is inf, not a finite number"
    path = write_state(tmp_path / "j.json", f'{{"at": "{iso(NOW)}", "spend": {10**400}}}', NOW)
    assert classify(json_out, path).reason.startswith("spend is 1000")  # too big for a float
    assert classify(json_out, path).status == "invalid"


def test_non_finite_numbers_fail_a_json_schema_range(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"spend": {"type": "number", "maximum": 10}}}
    output = Output.model_validate(
        {
            "id": "y",
            "producer": "p",
            "format": "yaml",
            "timestamp": "at",
            "checks": {"json_schema": schema},
        }
    )
    path = write_state(tmp_path / "y.yaml", f"at: '{iso(NOW)}'\nspend: .nan\n", NOW)
    finding = classify(output, path)
    assert finding.status == "invalid"
    assert finding.reason == "spend is not a finite number (NaN or infinity)"


def test_a_range_or_target_declared_as_nan_is_refused() -> None:
    for bad in ("nan", "inf", float("nan")):
        with pytest.raises(ValidationError):
            Range.model_validate({"min": bad})
        with pytest.raises(ValidationError):
            Metric.model_validate({"id": "m", "owner": "o", "target": bad})
