"""Invariant: whatever the inputs, the merged totals equal the sum of the accepted rows, to the fen."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from unionbatch.compute import FilePart, Files, merge_rows
from unionbatch.money import rmb_upper
from unionbatch.policy import load_policy
from unionbatch.spec import ROW_BASE

money = st.decimals(min_value=0, max_value=Decimal("99999.99"), places=2)
row = st.fixed_dictionaries(
    {
        "tier": st.sampled_from(["深度困难", "相对困难", "意外致困"]),
        "cause": st.sampled_from(["因病", "因学"]),
        "amount": money,
        "goods": st.one_of(st.none(), money),
    }
)
units = st.dictionaries(st.sampled_from(["甲", "乙", "丙", "丁"]), st.lists(row, min_size=1, max_size=8), min_size=1)


@settings(max_examples=60, deadline=None)
@given(units)
def test_merged_totals_equal_sum_of_inputs(specs, data: dict[str, list[dict]]) -> None:
    spec = specs["慰问名单"]
    frames = []
    for unit, rows in data.items():
        frame = pd.DataFrame([{c.key: r.get(c.key) for c in spec.columns} for r in rows], dtype=object)
        frame.index = range(4, 4 + len(rows))
        frames.append((frame, unit, f"{unit}.xlsx", ("慰问名单",)))
    policy = load_policy(None, specs).for_form("慰问名单")  # the defaults: no register
    parts = [
        FilePart(lambda frame=frame: frame, unit, name, sheets, len(frame), None)
        for frame, unit, name, sheets in frames
    ]
    summary = spec.summarise(Files(parts, spec), policy, {})
    expected = sum((r["amount"] + (r["goods"] or 0) for rows in data.values() for r in rows), Decimal(0))
    assert Decimal(summary.totals["total"]) == expected
    assert summary.totals["total_upper"] == rmb_upper(expected)
    for sheet in summary.sheets:
        if sheet.name in ("按单位汇总", "按类别汇总"):
            totals = sheet.column_totals()
            assert totals[-1] == expected  # the 合计 column of the totals row
            assert sum(r[-1] for r in sheet.rows) == expected
    by_unit = {r[0]: r[-1] for r in summary.sheets[0].rows}
    assert by_unit == {u: sum((r["amount"] + (r["goods"] or 0) for r in rows), Decimal(0)) for u, rows in data.items()}


def test_merged_rows_keep_values_as_they_are_and_leave_out_the_units_own_numbers(specs) -> None:
    spec = specs["慰问名单"]
    first = pd.DataFrame({"seq": ["1"], "name": ["张三"], "remark": [None]}, index=[4]).reindex(
        columns=[c.key for c in spec.columns]
    )
    second = first.assign(name=["李四"], remark=["=SUM(A1)"]).set_axis([9])
    third = first.assign(name=["王五"]).set_axis([2 * ROW_BASE + 5])  # the third sheet read of 丙's file
    merged = merge_rows(
        [
            (first, "甲", "甲.xlsx", ("名单",)),
            (second, "乙", "乙.xlsx", ("名单",)),
            (third, "丙", "丙.xlsx", ("办公室", "财务科", "后勤处")),
        ],
        spec,
    )
    assert "seq" not in merged.columns
    assert merged["remark"].tolist() == [None, "=SUM(A1)", None]  # not NaN: None is a blank cell
    assert merged["name"].tolist() == ["张三", "李四", "王五"]
    assert merged[["source_unit", "source_file", "source_sheet", "source_row"]].values.tolist() == [
        ["甲", "甲.xlsx", "名单", 4],
        ["乙", "乙.xlsx", "名单", 9],
        ["丙", "丙.xlsx", "后勤处", 5],
    ]


cell = st.one_of(st.none(), money, st.sampled_from(["", "无", "1,000"]), st.integers(0, 3))
grouped = st.lists(
    st.tuples(st.sampled_from(["甲", "乙", "丙"]), st.sampled_from(["因病", None]), cell, cell), max_size=30
)


@settings(max_examples=200, deadline=None)
@given(grouped, st.booleans())
def test_group_rows_counts_and_adds_each_groups_amounts_in_order_of_first_appearance(rows, together) -> None:
    """Rows of a group together (a 明细 by unit) or scattered (by category): each group's count and Decimal sums
    (an amount only: text and whole numbers add nothing), the groups as first met."""
    from unionbatch.compute import group_rows

    if together:
        rows = sorted(rows, key=lambda row: row[0])
    frame = pd.DataFrame(rows, columns=["unit", "cause", "a", "b"], dtype=object)
    expected: dict[tuple, list] = {}
    for unit, cause, *amounts in rows:
        found = expected.setdefault((unit, cause), [0, Decimal(0), Decimal(0)])
        found[0] += 1
        for index, amount in enumerate(amounts, start=1):
            if isinstance(amount, Decimal):
                found[index] += amount
    assert group_rows(frame, ["unit", "cause"], ["a", "b"]) == [[*key, *found] for key, found in expected.items()]
    by_unit: dict[str, int] = {}
    for unit, *_ in rows:
        by_unit[unit] = by_unit.get(unit, 0) + 1
    assert [row[:2] for row in group_rows(frame, ["unit"], [])] == [[unit, n] for unit, n in by_unit.items()]


@settings(max_examples=100, deadline=None)
@given(st.lists(grouped, min_size=1, max_size=5), st.booleans())
def test_groups_added_file_by_file_are_those_of_all_the_rows(files, ordered) -> None:
    """merge_groups over each file's group_rows (what a run keeps of a file) is group_rows over every row, in the
    same order, with or without a fixed order of labels."""
    from unionbatch.compute import group_rows, merge_groups

    order = [["丙", "甲"], ["因病"]] if ordered else None
    frames = [pd.DataFrame(rows, columns=["unit", "cause", "a", "b"], dtype=object) for rows in files]
    whole = pd.DataFrame([row for rows in files for row in rows], columns=["unit", "cause", "a", "b"], dtype=object)
    parts = [group_rows(frame, ["unit", "cause"], ["a", "b"]) for frame in frames]
    assert merge_groups(parts, 2, order) == group_rows(whole, ["unit", "cause"], ["a", "b"], order)


@settings(max_examples=40, deadline=None)
@given(units)
def test_a_sheet_made_file_by_file_has_the_rows_and_blocks_of_one_made_from_the_merged_rows(specs, data) -> None:
    """The 明细 of Files (each file's rows read when rendered) against FrameRows over merge_rows' frame: the same
    rows numbered on across files, the same blocks (each file's run, known by its key)."""
    from unionbatch.compute import detail_sheet

    spec = specs["慰问名单"]
    sheets, parts = [], []
    for number, (unit, rows) in enumerate(data.items()):
        frame = pd.DataFrame([{c.key: r.get(c.key) for c in spec.columns} for r in rows], dtype=object)
        frame.index = range(4, 4 + len(rows))
        sheets.append((frame, unit, f"{unit}.xlsx", ("慰问名单",)))
        parts.append(FilePart(lambda frame=frame: frame, unit, f"{unit}.xlsx", ("慰问名单",), len(rows), f"k{number}"))
    merged = merge_rows(sheets, spec, [part.key for part in parts])
    by_frame = detail_sheet(spec, merged, local=True)
    by_file = detail_sheet(spec, Files(parts, spec))
    assert list(by_file.rows) == list(by_frame.rows) and len(by_file.rows) == len(merged)
    assert by_frame.blocks is not None and by_file.blocks is not None
    shape = [(block.key, block.start, block.size, list(block.rows)) for block in by_frame.blocks]
    assert [(block.key, block.start, block.size, list(block.rows)) for block in by_file.blocks] == shape
