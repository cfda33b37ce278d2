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
    _any_earlier: bool | None = field(default=None, repr=False)  # see _ledger_of_earlier

    def prefetch(self, person_keys: Iterable[Any]) -> None:
        """Load the earlier rows of these people in one go (rules then ask person by person). What was loaded
        for the file before is let go: a city's batch would otherwise keep an entry for every person in it."""
        wanted = {key for key in person_keys if isinstance(key, str)}
        self._known = {key: [] for key in wanted}
        ledger = self._ledger_of_earlier()
        if ledger is not None and wanted:
            for key, entries in ledger.history(self.kind, wanted).items():
                self._known[key] = self._earlier(entries)

    def rows(self, person_key: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(period, unit, row) of earlier periods' accepted, current submissions of this form."""
        ledger = self._ledger_of_earlier() if person_key not in self._known else None
        if ledger is not None and isinstance(person_key, str):
            self._known[person_key] = self._earlier(ledger.history(self.kind, [person_key]).get(person_key, []))
        return self._known.get(person_key, [])

    def _ledger_of_earlier(self) -> Ledger | None:
        """The ledger if it holds any submission of the form from before this period (asked once): in an office's
        first period it holds none, and no file's people are looked up."""
        if self._any_earlier is None:
            self._any_earlier = self.ledger is not None and self.ledger.has_earlier(self.kind, self.period)
        return self.ledger if self._any_earlier else None

    def _earlier(self, entries: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[str, str, dict[str, Any]]]:
        return [entry for entry in entries if entry[0] < self.period]

    def periods_within(self, person_key: str, months: int) -> list[str]:
        """Earlier periods, within `months` before this one, in which the person was listed."""
        since = shift_period(self.period, -months)
        return sorted({period for period, _, _ in self.rows(person_key) if since < period})
