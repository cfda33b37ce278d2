"""The ledger keeps each accepted row as a JSON object; it is built a column at a time (speed) and must be
exactly what encoding the row's dict writes, since history rules read it back with json.loads."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unionbatch.history import History
from unionbatch.ledger import Ledger, Submission, row_texts
from unionbatch.records import Invalid

value = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.sampled_from(["张三", 'a"b\\c', "换\n行", "\x00\u2028", "深度困难"]),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9), max_value=10**9),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 1, 1)),
    st.just(Invalid("not_a_number")),
)
KEYS = ["name", "id_number", "amount", "备注", 'odd "key"']


def _reference(record: dict[str, Any]) -> str:
    """The row as the ledger wrote it before: blanks dropped, amounts as strings, anything else via str."""
    data = {key: str(v) if isinstance(v, Decimal) else v for key, v in record.items() if v is not None}
    return json.dumps(data, ensure_ascii=False, default=str)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(*[value] * len(KEYS)), min_size=1, max_size=12))
def test_row_texts_are_what_json_dumps_writes(rows: list[tuple[Any, ...]]) -> None:
    frame = pd.DataFrame(rows, columns=KEYS, dtype=object, index=range(4, 4 + len(rows)))
    expected = [_reference(dict(zip(KEYS, values, strict=True))) for values in rows]
    texts = row_texts(frame)
    assert texts == expected
    assert [json.loads(text) for text in texts] == [json.loads(text) for text in expected]


def test_an_empty_row_is_an_empty_object() -> None:
    frame = pd.DataFrame([[None, None]], columns=["name", "amount"], dtype=object)
    assert row_texts(frame) == ["{}"]


def test_a_ledger_used_as_a_context_is_closed_on_leaving_it_even_by_an_error(tmp_path) -> None:
    with pytest.raises(KeyError), Ledger(tmp_path / "ledger.sqlite") as ledger:
        ledger.bar("11010519491231002X", "虚报")
        raise KeyError("a stage failed")
    with pytest.raises(sqlite3.ProgrammingError):  # closed: the file is free for the next run
        ledger.db.execute("SELECT 1")
    with Ledger(tmp_path / "ledger.sqlite") as again:  # and what was committed before the error is there
        assert again.db.execute("SELECT COUNT(*) FROM barred").fetchone()[0] == 1


def _listed(ledger: Ledger, period: str, person: str) -> None:
    submission = Submission(
        sha256=f"{period}-sha",
        original_name="名单.xlsx",
        stored_path=f"{period}/原件/名单.xlsx",
        period=period,
        arrived=f"{period}-15T09:00:00",
        sender=None,
        subject=None,
        message_id=None,
        unit="甲工会",
        kind="慰问名单",
        status="accepted",
        replaced_by=None,
        errors=0,
        warnings=0,
    )
    with ledger.transaction():
        ledger.record(submission, [(4, person, json.dumps({"身份证号": person}))])


def test_history_looks_people_up_only_where_the_ledger_holds_an_earlier_period(tmp_path) -> None:
    person = "11010519491231002X"
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        _listed(ledger, "2026-10", person)
        asked: list[str] = []
        ledger.db.set_trace_callback(asked.append)
        first = History("慰问名单", "2026-10", ledger)  # its own period's rows are not history
        first.prefetch([person])
        assert first.rows(person) == [] and first.rows("110105194912310037") == []
        assert not [statement for statement in asked if "FROM rows" in statement]
        later = History("慰问名单", "2026-11", ledger)
        later.prefetch([person])
        assert later.rows(person) == [("2026-10", "甲工会", {"身份证号": person})]
        assert History("慰问名单", "2026-11", ledger).rows(person) == later.rows(person)  # asked person by person
        assert History("统计表", "2026-11", ledger).rows(person) == []  # another form's past
