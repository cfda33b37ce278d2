"""Checks across files of one batch: the same person listed by two units (不重复、不交叉).

Hashing by key, never by comparing pairs of files: one pass over all rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from .report import FileResult
from .validate import valid_id


def cross_file_duplicates(results: Sequence[FileResult]) -> None:
    """Add an error to each file whose key (身份证号) also appears in another file of the same form."""
    seen: dict[tuple[str, str], list[tuple[FileResult, int]]] = defaultdict(list)
    for result in results:
        parsed = result.parsed
        key = parsed.spec.key_column if parsed else None
        if parsed is None or key is None or not parsed.has_column(key):
            continue
        for row, value in parsed.frame[key].items():
            if valid_id(value):
                seen[(parsed.spec.kind, value)].append((result, int(row)))
    for places in seen.values():
        files = {id(result) for result, _ in places}
        if len(files) < 2:
            continue
        for result, row in places:
            other, other_row = next((o, r) for o, r in places if o is not result)
            parsed = result.parsed
            if parsed is None or parsed.spec.key_column is None:
                continue
            result.findings.append(
                parsed.finding(
                    "duplicate_across_files",
                    row,
                    parsed.spec.key_column,
                    other_unit=other.unit or "未知单位",
                    other_file=other.path.name,
                    other_row=other_row,
                )
            )
