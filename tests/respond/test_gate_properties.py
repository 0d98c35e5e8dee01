"""Property: whatever the classification and the protocol, a non-fresh input never yields
content labelled as current; fresh content is given as it was read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from orgplane.org.models import InputProtocol
from orgplane.respond.gate import InputState, apply_protocol
from orgplane.watch.lastgood import LastGood

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
