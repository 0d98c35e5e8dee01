"""Property: whatever the classification and the protocol, a non-fresh input never yields
content labelled as current; fresh content is given as it was read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgplane.org.models import InputProtocol
from orgplane.org.scaffold import write_example
from orgplane.respond.gate import InputState, apply_protocol
from orgplane.service.gate import gate
from orgplane.service.session import Session
from orgplane.watch.lastgood import LastGood
from tests.watch.conftest import write_state

NOW = datetime(2026, 6, 21, 12, 0, tzinfo=UTC)
STATUSES = ("fresh", "stale", "corrupt", "invalid", "missing", "frozen")
moments = st.integers(min_value=0, max_value=90 * 86400).map(lambda s: NOW - timedelta(seconds=s))
protocols = st.sampled_from(["skip_and_flag", "use_last_good", "block", "escalate"]).map(
    lambda p: InputProtocol(protocol=p, escalate_to="client-lead" if p == "escalate" else None)
)
last_goods = st.none() | st.builds(
    LastGood, st.binary(max_size=64), st.none() | moments, moments, st.just("state/x.json")
)
states = st.builds(
    InputState,
    st.just("nick-pipeline"),
    st.just("nick"),
    st.sampled_from(STATUSES),
    st.text(max_size=40),
    st.none() | moments,
    st.none() | moments,
    st.none() | st.binary(max_size=64),
)


@given(states, protocols, last_goods)
def test_non_fresh_input_is_never_current(
    state: InputState, declared: InputProtocol, last_good: LastGood | None
) -> None:
    answer = apply_protocol("radar", state, declared, last_good, NOW)
    assert answer.current == (answer.given == "content")
    if state.status != "fresh" or state.content is None:
        assert not answer.current
        assert answer.given != "content"
    if answer.current:
        assert answer.content == state.content
    if answer.given == "last_good":
        assert last_good is not None and answer.content == last_good.content
        assert answer.age is not None and answer.age >= timedelta(0)
    if answer.given in ("nothing", "refused"):
        assert answer.content is None
    if state.status != "fresh":
        assert state.producer in answer.reason and state.status in answer.reason
    if answer.refused:
        assert declared.protocol in ("block", "escalate")
        assert (answer.escalate_to is not None) == (declared.protocol == "escalate")


KINDS = ("fresh", "stale", "corrupt", "invalid", "missing")


def _body(kind: str, at: datetime) -> bytes | None:
    stamp = (at - timedelta(hours=30 if kind == "stale" else 1)).isoformat()
    if kind == "missing":
        return None
    if kind == "corrupt":
        return b'{"updated_at": "2026-06-'
    if kind == "invalid":
        return json.dumps({"updated_at": stamp, "clients": [], "total_spend": -5}).encode()
    return json.dumps({"updated_at": stamp, "clients": ["Acme"], "total_spend": 5}).encode()


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=3),
    protocol=st.sampled_from(["skip_and_flag", "use_last_good", "block", "escalate"]),
)
def test_real_files_never_give_stale_content_as_current(
    tmp_path_factory: pytest.TempPathFactory, kinds: list[str], protocol: str
) -> None:
    """Dan reads Dash's analysis (a real file, a real SQLite store) with each protocol; the
    file goes through a sequence of states, the gate is asked after each."""
    folder = tmp_path_factory.mktemp("org")
    org_file = write_example(folder, "agency")
    declared = f"{{protocol: {protocol}, escalate_to: client-lead}}"
    text = org_file.read_text().replace(
        "    inputs:\n      dash-analysis: use_last_good",
        f"    inputs:\n      dash-analysis: {declared}",
    )
    org_file.write_text(text)
    path = folder / "state" / "dash.json"
    with Session.open(org_file, f"sqlite:///{folder / 'o.db'}") as session:
        for step, kind in enumerate(kinds):
            at = NOW + timedelta(hours=step)
            body = _body(kind, at)
            if body is None:
                path.unlink(missing_ok=True)
            else:
                write_state(path, body.replace(b"updated_at", b"generated_at"), at)
            (answer,) = gate(session, "dan", now=at).inputs
            assert answer.current == (answer.status == "fresh")
            if answer.status != "fresh":
                assert answer.given != "content" and not answer.current
                if answer.content is not None:
                    assert answer.given == "last_good" and answer.age_seconds is not None
            else:
                assert answer.content is not None and body is not None
                assert answer.content.encode() == body.replace(b"updated_at", b"generated_at")
