"""Recognise which form a workbook holds, on which sheet, and where its header row is.

The template stores its kind and version in a hidden sheet; a file without it (a unit's own sheet,
an old template) is recognised by its title and header texts, matched against every spec's synonyms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .read import Book, SheetData
from .spec import FormSpec, header_key, strip_unit

HEADER_SCAN_ROWS = 30


@dataclass(frozen=True)
class Location:
    spec: FormSpec
    sheet: SheetData
    header_row: int  # 0-based index of the (last) header row
    columns: dict[str, int]  # column key → 0-based column index
    stored_version: str | None

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1


def recognise(book: Book, specs: Mapping[str, FormSpec]) -> Location | None:
    stored_kind = book.meta.get("kind")
    candidates = [specs[stored_kind]] if stored_kind in specs else list(specs.values())
    best: tuple[int, Location] | None = None
    for sheet in book.form_sheets():
        for spec in candidates:
            found = _best_header(sheet, spec)
            if found is None:
                continue
            row, columns = found
            score = len(columns) + (2 if _has_title(sheet, row, spec) else 0)
            threshold = 2 if stored_kind == spec.kind else spec.min_header_matches
            if len(columns) < threshold:
                continue
            location = Location(spec, sheet, row, columns, book.meta.get("version") if stored_kind else None)
            if best is None or score > best[0]:
                best = (score, location)
    return best[1] if best else None


def match_row(cells: list[Any], spec: FormSpec, taken: Mapping[str, int] | None = None) -> dict[str, int]:
    """Columns of `spec` whose header appears in `cells`, first occurrence wins."""
    names = {column.key: column.header_names() for column in spec.columns}
    columns = dict(taken or {})
    for index, cell in enumerate(cells):
        if cell in ("", None) or index in columns.values():
            continue
        text = header_key(cell)
        for key, accepted in names.items():
            if key not in columns and (text in accepted or strip_unit(text) in accepted):
                columns[key] = index
                break
    return columns


def _best_header(sheet: SheetData, spec: FormSpec) -> tuple[int, dict[str, int]] | None:
    best: tuple[int, dict[str, int]] | None = None
    for index, cells in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        columns = match_row(cells, spec)
        if columns and (best is None or len(columns) > len(best[1])):
            best = (index, columns)
    if best is None:
        return None
    row, columns = best
    # A two-level header: sub-headers in the next row fill the columns the first row left open.
    if row + 1 < len(sheet.rows):
        extended = match_row(sheet.rows[row + 1], spec, columns)
        if len(extended) > len(columns):
            return row + 1, extended
    return best


def _has_title(sheet: SheetData, header_row: int, spec: FormSpec) -> bool:
    above = " ".join(str(cell) for cells in sheet.rows[:header_row] for cell in cells if cell != "")
    return any(word in above for word in spec.title_keywords)
