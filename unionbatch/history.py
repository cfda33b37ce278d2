"""What earlier periods say about a person: the ledger seen by rules that need the past.

Rows of the period being processed are not history: that period's files are all checked together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .ledger import Ledger


def shift_period(period: str, months: int) -> str:
    year, month = (int(part) for part in period.split("-"))
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass
class History:
    kind: str
    period: str
    ledger: Ledger | None = None
    barred_ids: Mapping[str, str] = field(default_factory=dict)  # ID → reason, from the policy and the ledger
    _known: dict[str, list[tuple[str, str, dict[str, Any]]]] = field(default_factory=dict, repr=False)

    def prefetch(self, person_keys: Iterable[Any]) -> None:
        """Load the earlier rows of these people in one go (rules then ask person by person)."""
        wanted = {key for key in person_keys if isinstance(key, str) and key not in self._known}
        if self.ledger is None or not wanted:
            return
        found = self.ledger.history(self.kind, wanted)
        for key in wanted:
            self._known[key] = [entry for entry in found.get(key, []) if entry[0] < self.period]

    def rows(self, person_key: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(period, unit, row) of earlier periods' accepted, current submissions of this form."""
        if person_key not in self._known:
            self.prefetch([person_key])
        return self._known.get(person_key, [])

    def periods_within(self, person_key: str, months: int) -> list[str]:
        """Earlier periods, within `months` before this one, in which the person was listed."""
        since = shift_period(self.period, -months)
        return sorted({period for period, _, _ in self.rows(person_key) if since < period})
