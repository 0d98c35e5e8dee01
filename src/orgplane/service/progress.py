"""How a long use case reports progress without knowing who shows it (a Rich bar, a log, nothing)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Told once how much work there is and how much is already done, then each step."""

    def begin(self, label: str, total: int, completed: int) -> None:
        """The work starts: ``total`` units, ``completed`` of them already done before."""

    def advance(self, units: int) -> None:
        """``units`` more are done."""
