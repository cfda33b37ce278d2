"""Money to the fen, in Decimal, and 人民币大写 for finance."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")


def to_fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def format_yuan(amount: Decimal) -> str:
    """1234.5 → '1,234.50'."""
    return f"{to_fen(amount):,.2f}"


def format_figure(number: Decimal) -> str:
    """A reconciled figure as its form states it: an amount with its fen (1,234.50, also 1,234.00 when written so),
    a whole number without (1,234: a count, or an amount written without decimals)."""
    if number != number.to_integral_value() or number.as_tuple().exponent < 0:
        return f"{number:,.2f}"
    return f"{number:,}"


def prepare_upper() -> None:
    import cn2an  # noqa: F401  # its patterns compiled at import: ~0.15 s


def rmb_upper(amount: Decimal) -> str:
    """Amount in 人民币大写 by the accounting rules: 整 after 元 or 角, none after 分.

    cn2an handles the digits and the 零 rules; it omits 整 after a final 角, which we add.
    """
    import cn2an  # a third of a second to import: only when a total is written

    amount = to_fen(amount)
    if amount < 0:
        return "负" + rmb_upper(-amount)
    words = cn2an.an2cn(f"{amount:.2f}", "rmb")
    if words.endswith("角"):
        words += "整"
    return words
