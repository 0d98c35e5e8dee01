"""``/metrics``: the store's figures (:func:`orgplane.service.telemetry.store_figures`) in the
Prometheus text format, through prometheus-client's metric families.

Computed from stored rows at each scrape, not counted in this process, so every API process on
a store agrees and a restart loses nothing. Counts of rows that only grow (events, checkpoints,
decisions) are counters; states that come and go (outputs, runs, notifications) are gauges.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from orgplane.service.telemetry import StoreFigures

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Figures:
    """A one-scrape collector yielding the families of ``figures``."""

    def __init__(self, figures: StoreFigures) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        f = self.figures

        def gauge(name: str, doc: str, label: str, values: dict[str, int]) -> Any:
            family = GaugeMetricFamily(name, doc, labels=[label])
            for key, count in sorted(values.items()):
                family.add_metric([key], count)
            return family

        def counter(name: str, doc: str, label: str, values: dict[str, int]) -> Any:
            family = CounterMetricFamily(name, doc, labels=[label])
            for key, count in sorted(values.items()):
                family.add_metric([key], count)
            return family

        yield gauge(
            "orgplane_outputs",
            "Declared outputs by last checked status.",
            "status",
            f.outputs_by_status,
        )
        yield gauge("orgplane_runs", "Runs by state.", "state", f.runs_by_state)
        yield counter(
            "orgplane_checkpoints",
            "Checkpoints recorded, by status.",
            "status",
            f.checkpoints_by_status,
        )
        yield counter(
            "orgplane_events", "Failure events recorded, by kind.", "kind", f.events_by_kind
        )
        yield counter(
            "orgplane_decisions", "Decisions made, by action.", "action", f.decisions_by_action
        )
        open_now = GaugeMetricFamily("orgplane_decisions_open", "Decisions not closed.")
        open_now.add_metric([], f.open_decisions)
        yield open_now
        latency = f.decision_latency
        yield HistogramMetricFamily(
            "orgplane_decision_latency_seconds",
            "Time from a failure event to its decision.",
            buckets=[(str(ms / 1000), n) for ms, n in latency.buckets] + [("+Inf", latency.count)],
            sum_value=latency.sum_ms / 1000,
        )
        yield gauge(
            "orgplane_notifications",
            "Notifications by status.",
            "status",
            f.notifications_by_status,
        )
        failed = GaugeMetricFamily(
            "orgplane_notifications_failed", "Notifications that gave up after their retries."
        )
        failed.add_metric([], f.failed_notifications)
        yield failed


def exposition(figures: StoreFigures) -> bytes:
    """``figures`` in the Prometheus text exposition format."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Figures(figures))
    return generate_latest(registry)
