"""Money to the fen, in Decimal, and 人民币大写 for finance."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")


def to_fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def format_yuan(amount: Decimal) -> str:
    """1234.5 → '1,234.50'."""
    return f"{to_fen(amount):,.2f}"


DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟", "万", "拾", "佰", "仟", "亿", "拾", "佰", "仟", "万", "拾", "佰", "仟")
_ZERO_BEFORE_THOUSANDS = re.compile("([万亿])零([壹贰叁肆伍陆柒捌玖]仟)")


def rmb_upper(amount: Decimal) -> str:
    """Amount in 人民币大写 by the accounting rules: 整 after 元 or 角, none after 分.

    Word for word what cn2an 0.5.24's an2cn(…, "rmb") writes, with 整 added after a final 角 (which cn2an omits);
    written here because importing cn2an took half a second of every run that writes a total
    (tests/test_money.py compares the two)."""
    amount = to_fen(amount)
    if amount < 0:
        return "负" + rmb_upper(-amount)
    yuan, _, fen = f"{amount:.2f}".partition(".")
    whole = _integer_upper(yuan)
    tenths, hundredths = (DIGITS[int(digit)] for digit in fen)
    before = "" if whole == "零" else f"{whole}元"
    if tenths != "零":
        return f"{before}{tenths}角{hundredths}分" if hundredths != "零" else f"{before}{tenths}角整"
    if hundredths != "零":
        return f"{before}零{hundredths}分" if before else f"{hundredths}分"
    return f"{whole}元整"


def _integer_upper(digits: str) -> str:
    """A whole number of yuan in 大写 digits and places (up to 16 digits), zeros as cn2an writes them."""
    digits = str(int(digits))
    if len(digits) > len(PLACES):
        raise ValueError(f"超出数据范围,最长支持 {len(PLACES)} 位")
    words = ""
    for index, digit in enumerate(digits):
        place = len(digits) - index - 1
        if digit != "0":
            words += DIGITS[int(digit)] + PLACES[place]
            continue
        if place % 4 == 0:
            words += "零" + PLACES[place]
        if index > 0 and words[-1] != "零":
            words += "零"
    words = words.replace("零零", "零").replace("零万", "万").replace("零亿", "亿").replace("亿万", "亿").strip("零")
    return _ZERO_BEFORE_THOUSANDS.sub(r"\1\2", words) or "零"
