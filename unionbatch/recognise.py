"""Recognise which form a workbook holds, on which sheet, and where its header row is.

The template stores its kind and version in a hidden sheet; a file without it (a unit's own sheet,
an old template) is recognised by its title and header texts, matched against every spec's synonyms.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from .findings import Finding, make_finding
from .records import Book, Location, Recognition, SheetData
from .spec import FormSpec, header_key, ordered, strip_unit

HEADER_SCAN_ROWS = 30


SUMMARY_WORDS = ("汇总", "合计", "总表", "总计")
NOT_A_LIST_WORDS = ("说明", "须知", "填表要求", "下拉", "选项", "字典")


def recognise(book: Book, specs: Mapping[str, FormSpec]) -> Location | None:
    """The first sheet holding the form (see recognise_book)."""
    found = recognise_book(book, specs)
    return found.locations[0] if found.locations else None


def recognise_book(book: Book, specs: Mapping[str, FormSpec]) -> Recognition:
    """Every visible sheet holding the workbook's form. The form is the one most visible sheets hold (a unit sends
    one per 部门); a sheet counts only with the form's distinctive columns; hidden sheets never count."""
    stored_kind = book.meta.get("kind")
    candidates = [specs[stored_kind]] if stored_kind in specs else list(specs.values())
    known = _known_headers(tuple(candidates))
    sheets = [sheet for sheet in book.form_sheets() if not sheet.is_empty()]
    found = [_sheet_locations(sheet, candidates, known, book.meta, stored_kind) for sheet in sheets]
    # our own template says what it is: a column deleted from it is column_missing, not a near miss
    complete = [
        [
            (score, loc)
            for score, loc in locations
            if loc.spec.kind == stored_kind or loc.spec.is_distinctive(loc.columns)
        ]
        for locations in found
    ]
    # a hidden sheet of dropdown choices (下拉选项) is no list; any other hidden sheet with content is reported
    hidden = [at for at, sheet in enumerate(sheets) if sheet.hidden and (found[at] or not _is_not_a_list(sheet))]
    visible = [at for at, sheet in enumerate(sheets) if sheet.visible and not _is_not_a_list(sheet)]
    spec = _chosen_form([complete[at] for at in visible])
    if spec is None:
        return Recognition(
            hidden=tuple(sheets[at] for at in hidden),
            hidden_form=_best([complete[at] for at in hidden]),
            near_miss=_near_miss([found[at] for at in visible]),
        )
    locations = [loc for at in visible for score, loc in complete[at] if loc.spec is spec]
    locations, earlier = _latest_year(locations)
    kept, summaries = _split_summaries(locations)
    figure_summaries = [
        sheets[at]
        for at in visible
        if not any(sheets[at] is summary for summary in summaries) and _is_figure_summary(sheets[at], kept)
    ]
    hidden_sheets = tuple(sheets[at] for at in hidden)
    return Recognition(
        locations=tuple(kept),
        summaries=tuple(summaries + figure_summaries),
        hidden=hidden_sheets,
        earlier_years=earlier,
    )


# a year standing for itself (2025, 2025年, 2025年度), not the start of a date (2026年11月18日, 2026.11.18)
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d|\s*年?\s*\d{1,2}\s*月|[./\-]\d)")


def _sheet_year(location: Location) -> int | None:
    """The year a sheet's name, else its title, says it is for (2025年, 2026年度名单); None when it names none."""
    found = _YEAR.search(location.sheet.name)
    if found is None:
        for cells in location.sheet.rows[: location.header_row]:
            texts = " ".join(cell for cell in cells if isinstance(cell, str))
            found = _YEAR.search(texts)
            if found:
                break
    return int(found[1]) if found else None


def _latest_year(locations: list[Location]) -> tuple[list[Location], tuple[tuple[Location, int, int], ...]]:
    """Sheets for different years side by side (last year's list kept beside this year's): only the latest year's
    are read, with the sheets naming no year; each earlier one is (location, its year, the latest)."""
    years = [_sheet_year(location) for location in locations]
    named = {year for year in years if year is not None}
    if len(named) < 2:
        return locations, ()
    latest = max(named)
    kept = [location for location, year in zip(locations, years, strict=True) if year in (None, latest)]
    earlier = tuple(
        (location, year, latest)
        for location, year in zip(locations, years, strict=True)
        if year is not None and year != latest
    )
    return kept, earlier


def _sheet_locations(
    sheet: SheetData,
    candidates: list[FormSpec],
    known: frozenset[str],
    meta: Mapping[str, str],
    stored_kind: str | None,
) -> list[tuple[int, Location]]:
    """(score, location) of each form whose header this sheet has enough of."""
    options = _header_options(sheet, known)
    located = []
    for spec in candidates:
        found = _best_header(options, spec)
        if found is None:
            continue
        row, columns = found
        threshold = 2 if stored_kind == spec.kind else spec.min_header_matches
        if len(columns) < threshold:
            continue
        score = len(columns) + (2 if _has_title(sheet, row, spec) else 0)
        located.append((score, Location(spec, sheet, row, columns, meta.get("version") if stored_kind else None)))
    return located


def _chosen_form(per_sheet: list[list[tuple[int, Location]]]) -> FormSpec | None:
    """The form most sheets have as their best match; a tie goes to the best single match."""
    votes: dict[str, list[int]] = {}
    specs: dict[str, FormSpec] = {}
    for located in per_sheet:
        if located:
            score, location = max(located, key=lambda pair: pair[0])
            votes.setdefault(location.spec.kind, []).append(score)
            specs[location.spec.kind] = location.spec
    if not votes:
        return None
    kind = max(votes, key=lambda name: (len(votes[name]), max(votes[name])))
    return specs[kind]


def _best(per_sheet: list[list[tuple[int, Location]]]) -> Location | None:
    pairs = [pair for located in per_sheet for pair in located]
    return max(pairs, key=lambda pair: pair[0])[1] if pairs else None


def _near_miss(per_sheet: list[list[tuple[int, Location]]]) -> tuple[FormSpec, tuple[str, ...]] | None:
    """A sheet with enough of a form's header and a sign of that form (its title, or some of its distinctive
    columns) that lacks the rest of what makes it that form. A payroll slip (姓名, 身份证号, 部门) shows no sign."""
    signs = [
        (score, location)
        for located in per_sheet
        for score, location in located
        if _has_title(location.sheet, location.header_row, location.spec)
        or location.spec.distinctive_groups_met(location.columns)
    ]
    if not signs:
        return None
    location = max(signs, key=lambda pair: pair[0])[1]
    return location.spec, location.spec.distinctive_missing(location.columns)


def _is_not_a_list(sheet: SheetData) -> bool:
    return any(word in sheet.name for word in NOT_A_LIST_WORDS)


def _is_summary_named(sheet: SheetData) -> bool:
    """Named, or titled in its first rows, as a 汇总 / 合计 / 总表."""
    title = " ".join(cell for cells in sheet.rows[:3] for cell in cells if isinstance(cell, str))
    return any(word in sheet.name or word in title for word in SUMMARY_WORDS)


def _split_summaries(locations: list[Location]) -> tuple[list[Location], list[SheetData]]:
    """Sheets that are the others summed up: formulas over them, or every person of the others again (a 总表 beside
    the 部门 sheets). Of two sheets that repeat each other, the first is the list."""
    if len(locations) < 2:
        return locations, []
    names = {location.sheet.name for location in locations}
    keys = [_key_values(location) for location in locations]
    summaries: list[SheetData] = []
    for index, location in enumerate(locations):
        others = set().union(*(keys[other] for other in range(len(locations)) if other != index))
        over_others = bool(location.sheet.formula_refs & (names - {location.sheet.name}))
        if over_others or (keys[index] and others and keys[index] >= others):
            summaries.append(location.sheet)
    kept = [location for location in locations if not any(location.sheet is sheet for sheet in summaries)]
    if not kept:
        return locations[:1], [location.sheet for location in locations[1:]]
    return kept, summaries


def _key_values(location: Location) -> set[str]:
    spec = location.spec
    key = spec.key_column or (spec.person.name if spec.person else None)
    column = location.columns.get(key) if key else None
    if column is None:
        return set()
    values = set()
    for cells in location.sheet.rows[location.first_data_row :]:
        if column < len(cells) and isinstance(cells[column], str | int | float) and str(cells[column]).strip():
            values.add(header_key(cells[column]))
    return values


def _is_figure_summary(sheet: SheetData, locations: list[Location]) -> bool:
    """A sheet of figures over the form's sheets: formulas that refer to them, or a 汇总 sheet naming them."""
    if not locations or any(location.sheet is sheet for location in locations):
        return False
    names = {location.sheet.name for location in locations}
    if sheet.formula_refs & names:
        return True
    texts = {header_key(cell) for cells in sheet.rows for cell in cells if isinstance(cell, str)}
    return _is_summary_named(sheet) and bool(texts & {header_key(name) for name in names})


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


HeaderOption = tuple[int, list[list[tuple[str, str]]]]  # header row, each column's candidate header keys
CellKeys = tuple[str, str] | None  # a cell's header keys (text normalised, and without its unit); None: no text


def _header_options(sheet: SheetData, known: frozenset[str]) -> list[HeaderOption]:
    """Every place a header may be in the sheet's top rows, one row or two rows read together, that names a
    header of some form (`known`): most rows scanned are data, and are skipped."""
    rows = sheet.rows[: HEADER_SCAN_ROWS + 1]
    keys = [[_header_keys(cell) if isinstance(cell, str) and cell else None for cell in cells] for cells in rows]
    prefixes = _prefixes(known)
    options: list[HeaderOption] = []
    for index in range(min(HEADER_SCAN_ROWS, len(rows))):
        single = [[cell] if cell else [] for cell in keys[index]]
        if _mentions_any(single, known):
            options.append((index, single))
        if index + 1 < len(rows):
            pair = _two_row_keys((rows[index], keys[index]), (rows[index + 1], keys[index + 1]), prefixes)
            if _mentions_any(pair, known):
                options.append((index + 1, pair))
    return options


def _two_row_keys(
    upper: tuple[list[Any], list[CellKeys]], lower: tuple[list[Any], list[CellKeys]], prefixes: frozenset[str]
) -> list[list[tuple[str, str]]]:
    """The header keys of a two-row header: a group title (merged across columns) joined to each sub-header, then
    the sub-header alone; the upper cell alone where the column has no sub-header. A joined text that cannot be a
    header (`_may_join`) is left out: most row pairs scanned are two rows of data."""
    (tops, top_keys), (bottoms, bottom_keys) = upper, lower
    group: Any = ""
    group_key = ""
    columns = []
    for index in range(max(len(tops), len(bottoms))):
        top = tops[index] if index < len(tops) else ""
        bottom = bottoms[index] if index < len(bottoms) else ""
        if top not in ("", None):
            group, group_key = top, _group_key(top, top_keys[index])
        if bottom in ("", None):
            key = top_keys[index] if index < len(tops) else None
            columns.append([key] if key else [])
            continue
        bottom_key = bottom_keys[index]
        joins = _may_join(group_key, bottom, bottom_key, prefixes)
        keys = [_header_keys(f"{group}{bottom}")] if joins else []
        columns.append([*keys, bottom_key] if bottom_key else keys)
    return columns


def _group_key(top: Any, keys: CellKeys) -> str:
    """A group title's normalised text: a text's keys are found already; a number's text is its own key."""
    if keys is not None:
        return keys[0]
    return str(top) if type(top) in (int, float, bool) else header_key(top)


def _may_join(group_key: str, bottom: Any, bottom_key: CellKeys, prefixes: frozenset[str]) -> bool:
    """Whether group + bottom may normalise to a known header, told without normalising the joined text: its key
    is the group's key followed by the bottom's where no character composes across the join (a bottom beginning
    below U+0300 or with a CJK ideograph; else it is normalised to tell), so the group's key must begin a known
    header. A bottom ending in ")" may end a unit suffix, as (元), that begins in the group: normalised to tell."""
    text = str(bottom)
    if not (text[0] < "\u0300" or "\u4e00" <= text[0] <= "\u9fff"):
        return True
    if (bottom_key[0] if bottom_key else text).endswith(")"):
        return True
    return group_key in prefixes


@functools.cache
def _prefixes(known: frozenset[str]) -> frozenset[str]:
    return frozenset(name[:end] for name in known for end in range(len(name) + 1))


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


def sheet_findings(found: Recognition, file: str) -> list[Finding]:
    """Hidden sheets with anything in them are reported, never read; so are last years' lists left visible."""
    hidden = [make_finding("hidden_sheet", file, sheet=sheet.name, value=sheet.name) for sheet in found.hidden]
    return hidden + [
        make_finding(
            "earlier_year_sheet",
            file,
            sheet=location.sheet.name,
            value=location.sheet.name,
            year=year,
            latest=latest,
            form=location.spec.kind,
        )
        for location, year, latest in found.earlier_years
    ]


def unrecognised_finding(found: Recognition, file: str) -> Finding:
    """Why a workbook holding no form sheet is refused: the form is on a hidden sheet, it resembles a form but
    lacks what makes it one, or it is none of our forms."""
    if found.hidden_form is not None:
        return make_finding(
            "form_in_hidden_sheet",
            file,
            sheet=found.hidden_form.sheet.name,
            value=found.hidden_form.sheet.name,
            form=found.hidden_form.spec.kind,
        )
    if found.near_miss is not None:
        spec, missing = found.near_miss
        return make_finding("form_incomplete", file, form=spec.kind, missing=ordered(missing))
    return make_finding("not_a_form", file)
