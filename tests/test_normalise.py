"""Values as units really type them, and headers in their own words."""

import re
import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unionbatch.normalise import collapsed_spaces, normalise, parse_number, visible
from unionbatch.recognise import match_row
from unionbatch.records import Invalid, display


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("800元", Decimal("800")),
        ("1,000.00", Decimal("1000.00")),
        ("１２００", Decimal("1200")),  # full-width digits
        (" 500 ", Decimal("500")),
        ("￥300", Decimal("300")),
        ("3人", Decimal("3")),
        (800.0, Decimal("800")),
        (0.1 + 0.2, Decimal("0.3")),  # a float artefact is not a third decimal
        ("八百", Invalid("not_a_number")),
        ("", None),
    ],
)
def test_numbers(raw, expected, specs) -> None:
    column = specs["慰问名单"].column("amount")
    assert normalise(column, raw) == expected


def test_id_numbers(specs) -> None:
    column = specs["慰问名单"].column("id_number")
    assert normalise(column, " 35010219800101123x ") == "35010219800101123X"
    assert normalise(column, "３５０１０２１９８００１０１１２３Ｘ") == "35010219800101123X"
    assert normalise(column, 3.50102198001011e17) == Invalid("id_as_number")
    assert normalise(column, "3.50102E+17") == Invalid("id_as_number")


def test_names_and_phones(specs) -> None:
    spec = specs["慰问名单"]
    assert normalise(spec.column("name"), " 王  芳 ") == "王芳"
    assert normalise(spec.column("phone"), 13800138000.0) == "13800138000"
    assert normalise(spec.column("phone"), "１３８ ００１３ ８０００") == "13800138000"


def test_display_shows_what_excel_shows() -> None:
    assert display(4.40103199001011e17) == "4.40103E+17"
    assert display(800.0) == "800"
    assert display(1000.5) == "1000.5"


def test_headers_match_synonyms_in_any_order(specs) -> None:
    spec = specs["慰问名单"]
    cells = ["备注", "慰问金(元)", "身份证号码", "联系方式", "家庭人口数", "姓 名", "困难类别*", "致困原因"]
    columns = match_row(cells, spec)
    assert columns == {
        "remark": 0,
        "amount": 1,
        "id_number": 2,
        "phone": 3,
        "household": 4,
        "name": 5,
        "tier": 6,
        "cause": 7,
    }


def test_parse_number_rejects_booleans() -> None:
    assert parse_number(True) == Invalid("not_a_number")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("√", "√"),
        ("✓", "√"),
        (1, "√"),
        (1.0, "√"),
        ("是", "√"),
        ("v", "√"),
        ("×", None),
        (0, None),
        ("否", None),
        ("  ", None),
        ("好", Invalid("invalid_mark")),
    ],
)
def test_event_boxes_as_units_tick_them(raw: object, expected: object) -> None:
    from unionbatch.spec import Column

    assert normalise(Column("event:拔河", "拔河", "mark", required=False), raw) == expected


def test_a_memo_key_tells_apart_values_that_read_differently() -> None:
    from unionbatch.normalise import value_key

    assert value_key(Decimal("1000")) != value_key(Decimal("1000.00"))  # equal amounts, written differently
    assert len({value_key(value) for value in (1, 1.0, True)}) == 3  # equal numbers, different cells
    assert value_key("张三") == value_key("".join(["张", "三"]))  # the same text, two objects: one verdict


# texts as cells hold them: CJK, ASCII, full-width forms, every kind of space and invisible character
CELL_TEXT = st.text(
    st.one_of(
        st.sampled_from(list("王伟张芳 　\t\n\xa0\u2003\u200b\ufeff\x1c×ｘＸ'’Xx-")),
        st.characters(codec="utf-8", categories=["L", "N", "P", "Z", "Cc", "Cf"]),
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(typed=CELL_TEXT)
def test_a_text_cell_is_normalised_as_its_full_cleaning_says(specs, typed: str) -> None:
    """Most cells need none of the cleaning (no run of spaces, nothing full-width): they are taken as they are. The
    result is the full cleaning's: NFKC, whitespace runs as one space, none at the ends (names and choices: none)."""
    columns = {column.kind: column for column in specs["慰问名单"].columns}
    cleaned = collapsed_spaces(unicodedata.normalize("NFKC", typed))
    assert normalise(columns["text"], typed) == (cleaned or None)
    assert normalise(columns["name"], typed) == (cleaned.replace(" ", "") if cleaned else None)


@settings(max_examples=300, deadline=None)
@given(typed=CELL_TEXT)
def test_an_id_cell_is_normalised_as_its_full_cleaning_says(specs, typed: str) -> None:
    """An ASCII ID of letters and digits is only upper-cased; any other goes through the whole cleaning."""
    value = normalise(specs["慰问名单"].column("id_number"), typed)
    text = "".join(visible(unicodedata.normalize("NFKC", typed)).split()).upper().lstrip("'’‘`").replace("×", "X")
    scientific = re.match(r"^\d(\.\d+)?E\+?\d+$", text)  # 3.5E+17: a long number Excel showed so
    assert value == (None if not typed.strip() else Invalid("id_as_number") if scientific else text)


def test_column_lists_read_every_column_as_a_frame_gives_it() -> None:
    """Parsed rows (every column objects) are read in one go; a frame with other dtypes a column at a time. Either
    way each list is what the column itself lists, in the column's order."""
    import pandas as pd

    from unionbatch.records import column_lists

    objects = pd.DataFrame(
        {"姓名": ["张三", "李四", None], "金额": [Decimal("1000"), None, Decimal("800.00")], "人口": [3, 4.0, True]},
        index=pd.Index([5, 6, 9], dtype="int64"),
        dtype=object,
    )
    mixed = objects.assign(序号=[1, 2, 3], 日期=pd.to_datetime(["2026-11-01", "2026-11-02", None]))
    for frame in (objects, mixed, objects.iloc[:0]):
        lists = column_lists(frame)
        assert list(lists) == list(frame.columns)
        for key in frame.columns:
            assert [type(value) for value in lists[key]] == [type(value) for value in frame[key].tolist()]
            assert repr(lists[key]) == repr(frame[key].tolist())  # NaT is not equal to itself; its repr is
    assert column_lists(objects)["人口"] == [3, 4.0, True]
    assert column_lists(mixed)["序号"] == [1, 2, 3]
