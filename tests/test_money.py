from decimal import Decimal

import cn2an
import pytest
from hypothesis import given
from hypothesis import strategies as st

from unionbatch.money import format_yuan, rmb_upper, to_fen


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "零元整"),
        ("10", "壹拾元整"),
        ("101.50", "壹佰零壹元伍角整"),  # 整 after 角
        ("101.55", "壹佰零壹元伍角伍分"),  # none after 分
        ("100.05", "壹佰元零伍分"),
        ("1001.5", "壹仟零壹元伍角整"),
        ("100010", "壹拾万零壹拾元整"),
        ("37300", "叁万柒仟叁佰元整"),
        ("6750", "陆仟柒佰伍拾元整"),
        ("12345678.9", "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元玖角整"),
        ("0.05", "伍分"),
    ],
)
def test_rmb_upper_follows_accounting_rules(amount: str, words: str) -> None:
    assert rmb_upper(Decimal(amount)) == words


def test_to_fen_rounds_half_up_and_formats() -> None:
    assert to_fen(Decimal("2.345")) == Decimal("2.35")
    assert format_yuan(Decimal("1234.5")) == "1,234.50"


@given(st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2))
def test_rmb_upper_ends_correctly(amount: Decimal) -> None:
    words = rmb_upper(amount)
    assert words.endswith(("元整", "角整", "分"))
    assert words.endswith("分") == (amount * 100 % 10 != 0)


def cn2an_upper(amount: Decimal) -> str:
    """What rmb_upper wrote when it called cn2an: its 人民币大写, with 整 after a final 角."""
    words = cn2an.an2cn(f"{to_fen(amount):.2f}", "rmb")
    return words + "整" if words.endswith("角") else words


# amounts with runs of zeros across 万 and 亿, where the 零 rules differ most
sparse = st.text(alphabet="0000001234567890", min_size=1, max_size=16).map(lambda digits: Decimal(f"{int(digits)}"))
fen = st.integers(min_value=0, max_value=99).map(lambda cents: Decimal(cents) / 100)


@given(
    st.one_of(
        st.decimals(min_value=0, max_value=Decimal("9999999999999999.99"), places=2),
        st.builds(sum, st.tuples(sparse, fen)),
    )
)
def test_rmb_upper_writes_what_cn2an_writes(amount: Decimal) -> None:
    assert rmb_upper(amount) == cn2an_upper(amount)
    assert rmb_upper(-amount) == ("负" + cn2an_upper(amount) if amount else cn2an_upper(amount))
