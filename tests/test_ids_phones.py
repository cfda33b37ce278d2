"""身份证号 and 联系电话 as people really type them: pasted from WeChat, typed with × or a quote, the old
15-digit number, spaces and dashes in a mobile, a country code, brackets round an area code."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook
from stdnum.cn import ric

from tests.factory import fill_template, make_people, with_changes
from unionbatch.normalise import normalise
from unionbatch.pipeline import check_files, run_batch
from unionbatch.validate import failed_codes, passes_all

PEOPLE = make_people(6, seed=21)
VALID_ID = "11010519491231002X"  # GB 11643's own example: 北京市朝阳区, 1949-12-31


def with_area(area: str, rest: str = VALID_ID[6:17]) -> str:
    return area + rest + ric.calc_check_digit(area + rest + "0")


def id_codes(specs, typed: object) -> tuple[object, list[str]]:
    column = specs["慰问名单"].column("id_number")
    value = normalise(column, typed)
    return value, failed_codes(column, value)


def phone_codes(specs, typed: object) -> tuple[object, list[str]]:
    column = specs["慰问名单"].column("phone")
    value = normalise(column, typed)
    return value, failed_codes(column, value)


@pytest.mark.parametrize(
    "typed",
    [
        "\u200b11010519491231002X",  # zero-width space pasted from WeChat
        "\ufeff11010519491231002X",  # a byte-order mark from a web page
        "11010519491231002X\u200e",  # a left-to-right mark
        "110105\u00ad19491231002X",  # a soft hyphen
        "11010519491231002\u2060X",  # a word joiner (any format character, category Cf)
        "11010519491231002×",  # the multiplication sign of a Chinese input method
        "11010519491231002x",
        "11010519491231002ｘ",  # full-width lower-case
        "11010519491231002Ｘ",
        "'11010519491231002X",
        "’11010519491231002X",  # the curly quotes a phone keyboard makes of '
        "‘11010519491231002X",
        " 110105 19491231 002X ",
    ],
)
def test_an_id_as_people_type_it_is_read_as_the_id(specs, typed: str) -> None:
    assert id_codes(specs, typed) == (VALID_ID, [])


def test_a_15_digit_first_generation_id_offers_the_18_digit_number(tmp_path: Path, specs, policy) -> None:
    """Text, or a number cell (Excel keeps 15 digits exactly); the message names the upgraded number."""
    person = PEOPLE[1]
    old = person.id_number[:6] + person.id_number[8:17]  # born in the 1900s: 19 and the check digit dropped
    people = [*PEOPLE[:1], with_changes(person, id_number=old), with_changes(PEOPLE[2], id_number=float(old))]
    [result] = check_files([fill_template(tmp_path / "名单.xlsx", "测试工会", people)], specs, policy)
    findings = [(f.code, f.cell) for f in result.findings]
    assert findings == [("id_first_generation", "D5"), ("id_first_generation", "D6")]
    assert all(person.id_number in f.message for f in result.findings)
    assert person.id_number not in str(result.findings[0].to_dict()["message"])  # masked in what leaves the office


def test_a_15_digit_number_without_a_real_birth_date_is_a_format_error(specs) -> None:
    assert id_codes(specs, "110105491331002") == ("110105491331002", ["id_format"])


def id_like(area: str, born: str, sequence: str, check: str | None) -> str:
    """18 characters shaped as an ID; `check` None: the right check digit."""
    body = area + born + sequence
    return body + (ric.calc_check_digit(body + "0") if check is None else check)


ID_LIKE = st.builds(
    id_like,
    st.sampled_from(["110105", "350102", "810000", "912345", "123456", "000000"]),  # known, outside any list, none
    st.one_of(st.dates().map(lambda day: f"{day:%Y%m%d}"), st.text("0123456789", min_size=8, max_size=8)),
    st.text("0123456789", min_size=3, max_size=3),
    st.one_of(st.none(), st.sampled_from("0123456789X")),
)
TYPED_IDS = st.one_of(ID_LIKE, st.text("0123456789Xx ", max_size=19), st.integers(0, 10**18), st.none())


@settings(max_examples=300, deadline=None)
@given(typed=TYPED_IDS)
def test_the_id_columns_shortcut_accepts_exactly_what_every_id_rule_accepts(specs, typed: object) -> None:
    """The cell check takes a valid ID from a known area without asking each ID rule: the same verdict."""
    column = specs["慰问名单"].column("id_number")
    shortcut = passes_all(column)
    assert shortcut is not None
    value = normalise(column, typed)
    assert shortcut(value) == (failed_codes(column, value) == [])


def test_the_id_columns_shortcut_accepts_a_valid_id_and_refuses_each_mistake(specs) -> None:
    """The positive control of the property above: it does take the common case, and no mistake."""
    shortcut = passes_all(specs["慰问名单"].column("id_number"))
    assert shortcut is not None and shortcut(VALID_ID)
    wrong_digit = VALID_ID[:-1] + "0"
    for mistake in (wrong_digit, "110105199313320021", with_area("000000"), VALID_ID[:15], None):
        assert not shortcut(mistake)


@pytest.mark.parametrize(
    ("area", "codes"),
    [
        ("110105", []),  # 朝阳区
        ("110103", []),  # 崇文区, merged into 东城区 in 2010: its people keep their numbers
        ("810000", []),  # 港澳台居民居住证: Hong Kong
        ("820000", []),  # Macao
        ("830000", []),  # Taiwan
        ("935156", []),  # 外国人永久居留身份证 (2023): 9, the issuing province, the nationality
        ("359999", ["id_area_unknown"]),
        ("000000", ["id_area_unknown"]),
    ],
)
def test_the_area_code_is_checked_against_the_division_list(specs, area: str, codes: list[str]) -> None:
    assert id_codes(specs, with_area(area))[1] == codes


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("138 1234 5678", "13812345678"),
        ("172-5817-4798", "17258174798"),
        ("138—1234—5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("１３８ １２３４ ５６７８", "13812345678"),
        ("\u200b13812345678", "13812345678"),
        (13812345678.0, "13812345678"),
        ("19912345678", "19912345678"),
        ("(0591)87654321", "0591-87654321"),
        ("(0591) 8765 4321", "0591-87654321"),
        ("（0591）87654321", "0591-87654321"),
        ("059187654321", "0591-87654321"),
        ("0591-87654321", "0591-87654321"),
        ("010-12345678", "010-12345678"),
        ("+86 591 8765 4321", "0591-87654321"),
        ("0591-87654321-8001", "0591-87654321-8001"),
        ("0591-87654321转8001", "0591-87654321-8001"),
    ],
)
def test_a_phone_as_people_write_it_is_valid_and_normalised(specs, typed: object, shown: str) -> None:
    assert phone_codes(specs, typed) == (shown, [])


@pytest.mark.parametrize(
    "typed",
    [
        "1380013800",  # a digit short
        "15412345678",  # 154 is no mobile prefix (python-phonenumbers' metadata)
        "12345678901",  # nor is 12
        "0591-8765432",  # 福州 numbers have 8 digits
        "87654321",  # no area code
        "4008001234",  # a company's 400 number is no one's contact phone
        "13812345678-8001",  # a mobile has no extension
        "电话13812345678",
    ],
)
def test_what_is_no_phone_number_is_phone_invalid(specs, typed: str) -> None:
    assert phone_codes(specs, typed)[1] == ["phone_invalid"]


def test_outputs_show_the_normalised_id_and_phone(tmp_path: Path) -> None:
    people = [
        with_changes(PEOPLE[0], id_number="’" + PEOPLE[0].id_number, phone="+86 138 1234 5678"),
        with_changes(PEOPLE[1], id_number=PEOPLE[1].id_number + "\u200e", phone="(0591)87654321"),
        *PEOPLE[2:],
    ]
    fill_template(tmp_path / "inbox" / "名单.xlsx", "测试工会", people)
    report = run_batch(tmp_path / "inbox", tmp_path / "out", "2026-11")
    assert [(r.status, r.findings) for r in report.files] == [("accepted", [])]
    detail = CalamineWorkbook.from_path(str(tmp_path / "out" / "2026-11" / "慰问名单汇总.xlsx"))
    rows = detail.get_sheet_by_name("明细").to_python()
    header = rows[1]
    by_name = {row[header.index("姓名")]: row for row in rows[2:]}
    first, second = by_name[PEOPLE[0].name], by_name[PEOPLE[1].name]
    assert (first[header.index("身份证号")], first[header.index("联系电话")]) == (PEOPLE[0].id_number, "13812345678")
    assert (second[header.index("身份证号")], second[header.index("联系电话")]) == (
        PEOPLE[1].id_number,
        "0591-87654321",
    )
