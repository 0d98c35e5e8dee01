"""References between declared items: who reports to whom, who owns which agent, who holds which
capability, which outputs exist. Each broken reference becomes a Problem with its line and fix."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orgplane.errors import Problem
from orgplane.org.locate import Locator, did_you_mean
from orgplane.org.models import RULE_SELECTORS, Org


def check_references(
    org: Org, raw_ids: dict[str, set[str]], locator: Locator, label: str
) -> list[Problem]:
    """Every broken reference in ``org``. ``raw_ids`` holds the ids written in the file, including
    items that failed their own validation, so a reference to them is not reported twice."""
    checker = _Checker(org, raw_ids, locator, label)
    checker.run()
    return checker.problems


class _Checker:
    def __init__(
        self, org: Org, raw_ids: dict[str, set[str]], locator: Locator, label: str
    ) -> None:
        self.org = org
        self.raw_ids = raw_ids
        self.locator = locator
        self.label = label
        self.problems: list[Problem] = []

    def add(self, path: tuple[str | int, ...], message: str) -> None:
        place = ".".join(str(p) for p in path[:2])
        self.problems.append(Problem(self.label, self.locator.line(*path), f"{place}: {message}"))

    def run(self) -> None:
        self.check_timezone()
        self.check_reporting()
        self.check_cycles()
        self.check_owners()
        self.check_capabilities()
        self.check_inputs()
        self.check_outputs()
        self.check_processes()
        self.check_urgency()
        self.check_metrics()

    # -- helpers ---------------------------------------------------------------------------

    def seat_ref(
        self,
        path: tuple[str | int, ...],
        seat_id: str,
        role: str,
        *,
        human: bool = False,
        active: bool = True,
    ) -> None:
        """Check that ``seat_id`` names a seat (of the right kind and status) and report if not."""
        if seat_id not in self.raw_ids["seats"]:
            hint = did_you_mean(seat_id, sorted(self.raw_ids["seats"]))
            self.add(path, f"{role} {seat_id!r} is not a seat{hint}")
            return
        seat = self.org.seats.get(seat_id)
        if seat is None:  # declared but invalid: already reported where it is declared
            return
        if human and seat.kind != "human":
            self.add(path, f"{role} {seat_id!r} is an agent seat; name a human seat")
        elif active and seat.status != "active":
            self.add(path, f"{role} {seat_id!r} is retired; name the seat that took over its work")

    # -- checks ----------------------------------------------------------------------------

    def check_timezone(self) -> None:
        try:
            ZoneInfo(self.org.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.problems.append(
                Problem(
                    self.label,
                    self.locator.line("timezone"),
                    f"timezone {self.org.timezone!r} is unknown; write an IANA "
                    "name such as 'UTC' or 'America/New_York'",
                )
            )

    def check_reporting(self) -> None:
        for seat in self.org.seats.values():
            if seat.reports_to:
                self.seat_ref(
                    ("seats", seat.id, "reports_to"),
                    seat.reports_to,
                    "reports_to",
                    active=seat.status == "active",
                )

    def check_cycles(self) -> None:
        # Each seat is walked once: a walk stops at a seat an earlier walk finished, so a
        # reporting line thousands of seats long costs linear time, not quadratic.
        finished: set[str] = set()
        for start in self.org.seats:
            path: list[str] = []
            on_path: dict[str, int] = {}
            current: str | None = start
            while current and current in self.org.seats and current not in finished:
                if current in on_path:
                    self.report_cycle(path[on_path[current] :])
                    break
                on_path[current] = len(path)
                path.append(current)
                current = self.org.seats[current].reports_to
            finished.update(path)

    def report_cycle(self, cycle: list[str]) -> None:
        first = min(cycle)
        ordered = [*cycle[cycle.index(first) :], *cycle[: cycle.index(first)], first]
        if len(ordered) > 8:  # a ring of thousands is named by its ends and its length
            ordered = [*ordered[:4], "...", *ordered[-3:]]
            size = f" ({len(cycle)} seats)"
        else:
            size = ""
        self.add(
            ("seats", first, "reports_to"),
            f"reporting cycle {' -> '.join(ordered)}{size}; one of these seats must report to a "
            "seat outside the cycle (or to nobody, at the top)",
        )

    def check_owners(self) -> None:
        for seat in self.org.seats.values():
            where = ("seats", seat.id, "owner")
            if seat.kind == "agent" and seat.status == "active" and not seat.owner:
                self.add(
                    ("seats", seat.id),
                    f"agent seat {seat.id!r} has no owner; add "
                    "'owner: <human seat id>' naming the person accountable for it",
                )
            elif seat.owner:
                self.seat_ref(where, seat.owner, "owner", human=True)

    def check_capabilities(self) -> None:
        holder: dict[str, str] = {}
        for seat in self.org.seats.values():
            if seat.status != "active":
                continue
            for index, capability in enumerate(seat.capabilities):
                if capability in holder:
                    self.add(
                        ("seats", seat.id, "capabilities", index),
                        f"capability {capability!r} is already held by active seat "
                        f"{holder[capability]!r}; each capability has exactly one active seat, "
                        "so remove it from one of them",
                    )
                else:
                    holder[capability] = seat.id
        for seat in self.org.seats.values():
            if seat.retired is None:
                continue
            for capability, taker in seat.retired.redistributed.items():
                where = ("seats", seat.id, "retired", "redistributed", capability)
                if taker not in self.raw_ids["seats"]:
                    self.seat_ref(where, taker, f"capability {capability!r} went to")
                elif taker in self.org.seats and holder.get(capability) != self.heir(
                    taker, capability
                ):
                    self.add(
                        where,
                        f"capability {capability!r} is said to go to {taker!r}, but "
                        f"{taker!r} does not list it under capabilities; add it there",
                    )

    def heir(self, taker: str, capability: str) -> str:
        """Who holds ``capability`` now that ``taker`` took it: ``taker``, or, when ``taker``
        was retired in turn, the seat its own retirement gave the capability to (and so on)."""
        seen = {taker}
        seat = self.org.seats.get(taker)
        while seat is not None and seat.retired is not None:
            nxt = seat.retired.redistributed.get(capability)
            if nxt is None or nxt in seen:
                break
            seen.add(nxt)
            taker, seat = nxt, self.org.seats.get(nxt)
        return taker

    def check_inputs(self) -> None:
        for seat in self.org.seats.values():
            for output_id, protocol in seat.inputs.items():
                where = ("seats", seat.id, "inputs", output_id)
                if output_id not in self.raw_ids["outputs"]:
                    hint = did_you_mean(output_id, sorted(self.raw_ids["outputs"]))
                    self.add(
                        where,
                        f"reads output {output_id!r}, which is not declared under outputs{hint}",
                    )
                elif (
                    output_id in self.org.outputs
                    and self.org.outputs[output_id].producer == seat.id
                ):
                    self.add(
                        where,
                        f"seat {seat.id!r} reads its own output {output_id!r}; drop it from inputs",
                    )
                if protocol.escalate_to:
                    self.seat_ref(
                        (*where, "escalate_to"), protocol.escalate_to, "escalate_to", human=True
                    )

    def check_outputs(self) -> None:
        for output in self.org.outputs.values():
            self.seat_ref(("outputs", output.id, "producer"), output.producer, "producer")
            if output.coverage_seat:
                self.seat_ref(
                    ("outputs", output.id, "coverage_seat"), output.coverage_seat, "coverage_seat"
                )
            if output.format == "text" and output.checks.min_rows is not None:
                self.add(
                    ("outputs", output.id, "checks", "min_rows"),
                    "min_rows needs format csv, json or yaml (a list of rows)",
                )
            if output.format == "text" and output.summary is not None:
                self.add(
                    ("outputs", output.id, "summary"),
                    "summary needs format json, yaml (a field) or csv (a column); a text "
                    "output is summarised by its first lines: drop the key",
                )

    def check_processes(self) -> None:
        for process in self.org.processes.values():
            self.seat_ref(("processes", process.id, "seat"), process.seat, "seat")
            for index, handled in enumerate(process.handled_errors):
                if handled.escalate_to:
                    self.seat_ref(
                        ("processes", process.id, "handled_errors", index, "escalate_to"),
                        handled.escalate_to,
                        "escalate_to",
                        human=True,
                    )

    def check_urgency(self) -> None:
        for tier_id, tier in self.org.urgency.items():
            if tier.notify:
                self.seat_ref(("urgency", tier_id, "notify"), tier.notify, "notify", human=True)
            for index, rule in enumerate(tier.when):
                for key, section in RULE_SELECTORS.items():
                    named = getattr(rule, key)
                    if named is not None and named not in self.raw_ids[section]:
                        hint = did_you_mean(named, sorted(self.raw_ids[section]))
                        self.add(
                            ("urgency", tier_id, "when", index, key),
                            f"{key} {named!r} is not declared under {section}{hint}",
                        )
        # An urgency named on an item must be a declared tier, whichever section it is in.
        items: dict[str, Any] = {
            "seats": self.org.seats,
            "outputs": self.org.outputs,
            "processes": self.org.processes,
            "metrics": self.org.metrics,
        }
        for section, declared in items.items():
            for item_id, item in declared.items():
                if item.urgency and item.urgency not in self.raw_ids["urgency"]:
                    hint = did_you_mean(item.urgency, sorted(self.raw_ids["urgency"]))
                    self.add(
                        (section, item_id, "urgency"),
                        f"urgency tier {item.urgency!r} is not declared under urgency{hint}",
                    )

    def check_metrics(self) -> None:
        for metric in self.org.metrics.values():
            self.seat_ref(("metrics", metric.id, "owner"), metric.owner, "owner")
