"""Vietnamese numbers and money units as they are printed in reports.

Vietnamese writes ``.`` between thousands and ``,`` before decimals: ``19.287`` is nineteen
thousand two hundred and eighty-seven, ``29,8`` is twenty-nine point eight. A dot followed by
anything but groups of three digits (``2.5``) can only be an English decimal point and is read
as one, flagged as ambiguous. Money is converted to integer đồng with exact decimal
arithmetic, never through a float.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from app.text import fold

_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_VIETNAMESE = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?|[+-]?\d+(?:,\d+)?")
_ENGLISH_DECIMAL = re.compile(r"[+-]?\d+\.\d+")
_ENGLISH_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+\.\d+")
_PERCENT = re.compile(r"(.*?)\s*%")


@dataclass(frozen=True)
class ParsedNumber:
    value: Decimal
    ambiguous: bool = False  # read with English separators; worth a warning


def parse_number(raw: str) -> ParsedNumber | None:
    """The number a cell holds, or None when it is not (only) a number."""
    text = _SPACES.sub("", raw or "")
    if not text:
        return None
    try:
        if _VIETNAMESE.fullmatch(text):
            return ParsedNumber(Decimal(text.replace(".", "").replace(",", ".")))
        if _ENGLISH_DECIMAL.fullmatch(text):
            return ParsedNumber(Decimal(text), ambiguous=True)
        if _ENGLISH_GROUPED.fullmatch(text):
            return ParsedNumber(Decimal(text.replace(",", "")), ambiguous=True)
    except InvalidOperation:  # pragma: no cover - the patterns only let digits through
        return None
    return None


def parse_measure(raw: str) -> tuple[Decimal | None, str | None]:
    """A value as indicator tables print it: ``59%`` → (59, "%"), ``14`` → (14, None), text → (None, None)."""
    text = (raw or "").strip()
    percent = _PERCENT.fullmatch(text)
    if percent:
        number = parse_number(percent.group(1))
        return (number.value, "%") if number else (None, None)
    number = parse_number(text)
    return (number.value, None) if number else (None, None)


def canonical(value: Decimal) -> str:
    """A decimal as plain text without exponent or trailing zeros: ``19287``, ``0.04``."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def vietnamese(value: Decimal) -> str:
    """``Decimal('29.8')`` → ``29,8`` (no thousands separators, so it reads back unambiguously)."""
    return canonical(value).replace(".", ",")


@dataclass(frozen=True)
class MoneyUnit:
    label: str  # as the table states it, e.g. "tỷ đồng"
    dong: int  # đồng in one unit


# Folded unit words, longest first so "nghìn tỷ" wins over "tỷ".
_UNITS: list[tuple[re.Pattern[str], MoneyUnit]] = [
    (re.compile(r"\bnghin ty\b"), MoneyUnit("nghìn tỷ đồng", 10**12)),
    (re.compile(r"\b(ty|ti)( dong)?\b"), MoneyUnit("tỷ đồng", 10**9)),
    (re.compile(r"\btrieu( dong)?\b"), MoneyUnit("triệu đồng", 10**6)),
    (re.compile(r"\b(nghin|ngan)( dong)?\b"), MoneyUnit("nghìn đồng", 10**3)),
    (re.compile(r"\b(dong|vnd)\b"), MoneyUnit("đồng", 1)),
]


def money_unit(text: str) -> MoneyUnit | None:
    """The unit a header or an "ĐVT: …" line states: ``Kinh phí (ước) ĐVT: tỷ đồng`` → tỷ đồng."""
    folded = fold(text).replace("_", " ")
    for pattern, unit in _UNITS:
        if pattern.search(folded):
            return unit
    return None


def to_dong(amount: Decimal, unit: MoneyUnit) -> tuple[int, bool]:
    """Integer đồng, and whether a fraction of a đồng had to be rounded away."""
    exact = amount * unit.dong
    whole = exact.to_integral_value(rounding=ROUND_HALF_UP)
    return int(whole), whole != exact
