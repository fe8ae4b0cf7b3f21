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


# Vietnamese alphabetical order (TCVN 5712): a ă â b c d đ e ê g … o ô ơ … u ư …; the letter first,
# then the tone: none, huyền, hỏi, ngã, sắc, nặng. Letters outside the alphabet keep code order.
_LETTER_MARKS = {"\u0306": 1, "\u0302": 2, "\u031b": 3}  # breve (ă), circumflex (â ê ô), horn (ơ ư)
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền hỏi ngã sắc nặng


def vietnamese_key(value: str) -> tuple:
    """A sort key that orders Vietnamese text as a Vietnamese dictionary does (``Đ`` after ``D``,
    ``Ă`` after ``A``, tones after the letters), case ignored."""
    letters: list[tuple[int, int]] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFC", value).casefold():
        if char == "đ":
            letters.append((ord("d"), 1))
            tones.append(0)
            continue
        base, *marks = unicodedata.normalize("NFD", char)
        letters.append((ord(base), sum(_LETTER_MARKS.get(m, 0) for m in marks)))
        tones.append(max((_TONES.get(m, 0) for m in marks), default=0))
    return (tuple(letters), tuple(tones))


def person_name_key(full_name: str) -> tuple:
    """Vietnamese names sort by the given name (the last word), then the whole name: ``Trần Văn An``
    before ``Nguyễn Thị Bình``."""
    words = full_name.split()
    return (vietnamese_key(words[-1]) if words else (), vietnamese_key(full_name))
