"""Invariant: whatever the inputs, the merged totals equal the sum of the accepted rows, to the fen."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from unionbatch.compute import merge_rows
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
    summary = spec.summarise(merge_rows(frames, spec), policy, {})
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
