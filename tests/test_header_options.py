"""Where a sheet's header may be: the options recognise takes, against every option keyed in full.

Recognising leaves out a two-row option's joined texts (group title + sub-header) that cannot be a header, without
normalising them. The reference here normalises every candidate text and keeps the options naming a known header."""

from __future__ import annotations

import unicodedata
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from unionbatch.recognise import HEADER_SCAN_ROWS, _header_options, _known_headers
from unionbatch.records import SheetData
from unionbatch.spec import header_key, load_specs, strip_unit

SPECS = tuple(load_specs().values())
KNOWN = _known_headers(SPECS)


def _keys(text: str) -> tuple[str, str]:
    normal = _dropped(unicodedata.normalize("NFKC", text))
    return normal, strip_unit(normal)


def _dropped(text: str) -> str:  # spec._DROP, written out: the reference must not share the code
    return "".join(char for char in text if not char.isspace() and char not in "*※:")


def _reference(rows: list[list[Any]], known: frozenset[str]) -> list[tuple[int, list[list[tuple[str, str]]]]]:
    def keyed(candidates: list[list[Any]]) -> list[list[tuple[str, str]]]:
        return [[_keys(text) for text in texts if isinstance(text, str) and text] for texts in candidates]

    def two_rows(upper: list[Any], lower: list[Any]) -> list[list[Any]]:
        group, candidates = "", []
        for index in range(max(len(upper), len(lower))):
            top = upper[index] if index < len(upper) else ""
            bottom = lower[index] if index < len(lower) else ""
            if top not in ("", None):
                group = str(top)
            candidates.append([top] if bottom in ("", None) else [f"{group}{bottom}", bottom])
        return candidates

    options = []
    for index, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        options.append((index, keyed([[cell] for cell in cells])))
        if index + 1 < len(rows):
            options.append((index + 1, keyed(two_rows(cells, rows[index + 1]))))
    naming = [(row, keys) for row, keys in options if any(n in known or b in known for c in keys for n, b in c)]
    return [(row, _known_only(keys, known)) for row, keys in naming]


def _known_only(keys: list[list[tuple[str, str]]], known: frozenset[str]) -> list[list[tuple[str, str]]]:
    """The reference keeps candidate texts no form knows; recognise may leave out joined ones: compare the rest."""
    return [[pair for pair in column if pair[0] in known or pair[1] in known] for column in keys]


# header texts of the forms and pieces of them (家庭 over 人口 joins into 家庭人口), data, and what composes across
# a join: a combining accent, a Hangul vowel, a half-width voiced mark, full-width brackets of a unit
HEADERS = sorted({column.header for spec in SPECS for column in spec.columns})
PIECES = sorted(
    {text[:cut] for text in HEADERS for cut in range(1, len(text))}
    | {text[cut:] for text in HEADERS for cut in range(1, len(text))}
)
CELLS = st.one_of(
    st.sampled_from(HEADERS),
    st.sampled_from(PIECES),
    st.sampled_from(["", None, "张伟", "因病", " 人口", "（元）", "元)", ")", "姓名(", "cafe", "caf", "e", "e\u0301"]),
    st.sampled_from(["\u0301", "\u1100", "\u1161", "ｶ", "\uff9e"]),  # what composes with what stands before it
    st.integers(-5, 3000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.text(max_size=4),
)


# a form whose headers compose across a join: "cafe" over a combining acute accent is café; a unit suffix that
# begins in the group title: 姓名( over 元) is 姓名(元), which is 姓名 without its unit
COMPOSED = frozenset({"café", "姓名", "가", "ガ"})


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(CELLS, max_size=6), min_size=1, max_size=6), st.sampled_from([KNOWN, COMPOSED]))
@example([["cafe"], ["\u0301"]], COMPOSED)
@example([["\u1100"], ["\u1161"]], COMPOSED)
@example([["ｶ"], ["\uff9e"]], COMPOSED)
@example([["姓名("], ["元)"]], COMPOSED)
@example([["姓名("], ["元)"]], KNOWN)
def test_header_options_are_every_option_naming_a_known_header(rows: list[list[Any]], known: frozenset[str]) -> None:
    sheet = SheetData(name="Sheet1", rows=rows)
    found = [(row, _known_only(keys, known)) for row, keys in _header_options(sheet, known)]
    assert found == _reference(rows, known)


def test_a_group_title_over_sub_headers_joins_into_a_header() -> None:
    """一线 merged over 职工(人) and 职工金额(元): the joined texts are headers; no half alone is one."""
    halves = ("一线", "职工(人)", "职工金额(元)")
    assert not {header_key(text) for text in halves} & KNOWN
    sheet = SheetData(
        name="Sheet1", rows=[["单位", "一线", "一线"], ["", "职工(人)", "职工金额(元)"], ["某厂", 3, 500]]
    )
    columns = dict(_header_options(sheet, KNOWN))[1]
    assert ("一线职工(人)", "一线职工") in columns[1]
    assert ("一线职工金额(元)", "一线职工金额") in columns[2]
