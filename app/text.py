"""Text rules shared by storage and search.

Vietnamese text arrives composed (NFC, from Windows and most web forms) or decomposed
(NFD, from macOS keyboards). We store NFC, and search a *folded* form: lowercase, combining
marks removed, đ/Đ → d, whitespace collapsed. The same fold is applied to a query, so
``bao cao so ket`` finds ``Báo cáo sơ kết`` and ``da nang`` finds ``Đà Nẵng``.
"""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def nfc(value: str) -> str:
    """NFC-normalise and drop control characters (keeps tab/newline)."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", value))


# The combining diacritical marks block, but for U+034F (the grapheme joiner, which is not a
# combining mark). Every Vietnamese tone and vowel mark is in it, so once these are gone a
# Vietnamese text is plain ASCII, and the character-by-character pass below is skipped.
_DIACRITICAL_MARKS = re.compile("[\u0300-\u034e\u0350-\u036f]")


def fold(value: str) -> str:
    """The search form of a text: lowercase ASCII-ish, no diacritics, đ→d, single spaces."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    stripped = _DIACRITICAL_MARKS.sub("", decomposed)
    if not stripped.isascii():  # marks outside that block (other scripts) go one by one
        stripped = "".join(ch for ch in stripped if not unicodedata.combining(ch))
    return _WHITESPACE.sub(" ", stripped.casefold()).strip()


def search_terms(query: str) -> list[str]:
    """Split a folded query into the words that must all occur."""
    return [term for term in fold(query).split(" ") if term]


# Spreadsheet programs read a cell that starts with one of these as a formula ("CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def inert(value: object) -> object:
    """A text cell that cannot run as a formula when a spreadsheet opens it: text starting like
    one gets a leading apostrophe, which Excel shows as text. Anything else is returned as is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
