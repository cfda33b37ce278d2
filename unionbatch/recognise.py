"""Recognise which form a workbook holds, on which sheet, and where its header row is.

The template stores its kind and version in a hidden sheet; a file without it (a unit's own sheet,
an old template) is recognised by its title and header texts, matched against every spec's synonyms.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .findings import Finding, make_finding
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
    known = _known_headers(tuple(candidates))
    for sheet in book.form_sheets():
        options = [(row, keys) for row, keys in _header_options(sheet) if _mentions_any(keys, known)]
        for spec in candidates:
            found = _best_header(options, spec)
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


def match_row(cells: list[Any], spec: FormSpec) -> dict[str, int]:
    """Columns of `spec` whose header appears in one header row, first occurrence wins."""
    return match_headers(_keyed([[cell] for cell in cells]), spec)


def match_headers(candidates: list[list[tuple[str, str]]], spec: FormSpec) -> dict[str, int]:
    """Columns of `spec` found among each column's candidate header keys (tried in order)."""
    names = header_lookup(spec)
    columns: dict[str, int] = {}
    for index, keys in enumerate(candidates):
        for normal, bare in keys:
            key = names.get(normal) or names.get(bare)
            if key is not None and key not in columns:
                columns[key] = index
                break
    return columns


def _keyed(candidates: list[list[Any]]) -> list[list[tuple[str, str]]]:
    """Each candidate header text normalised, with and without its unit (non-texts and blanks dropped)."""
    return [[_header_keys(text) for text in texts if isinstance(text, str) and text] for texts in candidates]


@functools.lru_cache(maxsize=4096)
def _header_keys(text: str) -> tuple[str, str]:
    normal = header_key(text)
    return normal, strip_unit(normal)


@functools.cache
def _known_headers(specs: tuple[FormSpec, ...]) -> frozenset[str]:
    return frozenset(name for spec in specs for name in header_lookup(spec))


def _mentions_any(candidates: list[list[tuple[str, str]]], known: frozenset[str]) -> bool:
    """Whether any candidate text is a header of some form: most rows scanned are data, and are skipped."""
    return any(normal in known or bare in known for keys in candidates for normal, bare in keys)


@functools.cache
def header_lookup(spec: FormSpec) -> dict[str, str]:
    """Every accepted header text of the form → its column key (the first column claiming a text wins)."""
    lookup: dict[str, str] = {}
    for column in spec.columns:
        for name in column.header_names():
            lookup.setdefault(name, column.key)
    return lookup


def two_row_candidates(upper: list[Any], lower: list[Any]) -> list[list[Any]]:
    """Header texts of a two-row header: a group title (merged across columns) joined to each sub-header,
    the sub-header alone, or the upper cell alone where the column has no sub-header."""
    width = max(len(upper), len(lower))
    group = ""
    candidates = []
    for index in range(width):
        top = upper[index] if index < len(upper) else ""
        bottom = lower[index] if index < len(lower) else ""
        if top not in ("", None):
            group = str(top)
        if bottom in ("", None):
            candidates.append([top])
        else:
            candidates.append([f"{group}{bottom}", bottom])
    return candidates


HeaderOption = tuple[int, list[list[tuple[str, str]]]]  # header row, each column's candidate header keys


def _header_options(sheet: SheetData) -> list[HeaderOption]:
    """Every place a header may be in the sheet's top rows: one row, or two rows read together."""
    options: list[HeaderOption] = []
    for index, cells in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        options.append((index, _keyed([[cell] for cell in cells])))
        if index + 1 < len(sheet.rows):
            options.append((index + 1, _keyed(two_row_candidates(cells, sheet.rows[index + 1]))))
    return options


def _best_header(options: list[HeaderOption], spec: FormSpec) -> tuple[int, dict[str, int]] | None:
    """The header row (the last one, for a two-row header) and its columns: the most columns matched wins."""
    best: tuple[int, dict[str, int]] | None = None
    for row, candidates in options:
        columns = match_headers(candidates, spec)
        if columns and (best is None or len(columns) > len(best[1])):
            best = (row, columns)
    return best


def _has_title(sheet: SheetData, header_row: int, spec: FormSpec) -> bool:
    above = " ".join(str(cell) for cells in sheet.rows[:header_row] for cell in cells if cell != "")
    return any(word in above for word in spec.title_keywords)


def hidden_sheet_findings(book: Book, location: Location, file: str) -> list[Finding]:
    """Hidden sheets are reported, not silently read or skipped (the form's own sheet is read)."""
    return [
        make_finding("hidden_sheet", file, sheet=sheet.name, value=sheet.name)
        for sheet in book.form_sheets()
        if sheet.hidden and sheet is not location.sheet
    ]
