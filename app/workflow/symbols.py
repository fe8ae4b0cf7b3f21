"""Parse a document's number and symbol (số, ký hiệu) as Decree 30 and practice write them.

Accepted forms (real symbols vary, so anything readable is kept, and what cannot be
parsed is flagged rather than refused):

- ``08/BC-BCĐ``        number 08, type BC (báo cáo), issuer BCĐ
- ``05/BNV-VP``        an official letter (công văn): no type code, issuer BNV-VP
- ``123/2013/NĐ-CP``   a legal document with its year: number 123, year 2013, type NĐ, issuer CP
- ``23-QĐ/UBKTTW``     Party style: number 23, type QĐ, issuer UBKTTW

Symbols as people type them are read as they meant them: Word's en and em dashes (and the other
Unicode dashes and minus signs) as ``-``, non-breaking and other odd spaces as a space, full-width
and division slashes as ``/``, and a leading "Số" (or "Số:") dropped, before parsing; the text as
written is kept beside the parsed symbol (``as_written``). Only junk (no letter or digit at all,
characters a symbol cannot have, absurd length) is refused, naming the offending character.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from app.text import nfc
from app.i18n import Invalid, Text, msg

# Decree 30/2020, Appendix III: abbreviations of administrative document types.
ADMINISTRATIVE_TYPE_CODES = (
    "NQ QĐ CT QC QyĐ TC TB HD CTr KH PA ĐA DA BC BB TTr HĐ CĐ BGN BTT GUQ GM GGT GNP PG PC PB SY TrS SL"
).split()
# Legal normative documents (Law 80/2015) carry their own codes in the same position.
LEGAL_TYPE_CODES = "NĐ TT TTLT NQLT PL NQ-HĐND".split()

_CANONICAL = {code.upper(): code for code in ADMINISTRATIVE_TYPE_CODES + LEGAL_TYPE_CODES}

MAX_SYMBOL_LENGTH = 100
_ALLOWED = re.compile(r"^[\w/\-.&() ]+$")
_STANDARD = re.compile(r"^(?P<number>\d+[A-Za-z]?)(?:/(?P<year>(?:19|20)\d{2}))?/(?P<notation>[^/].*)$")
_PARTY = re.compile(r"^(?P<number>\d+)-(?P<type>[^/\-]+)/(?P<issuer>[^/].*)$")


class InvalidSymbol(Invalid):
    """The text is not a document symbol at all."""

    def __init__(self, text: Text) -> None:
        super().__init__(text, code="symbol.invalid")


_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")
_SLASHES = dict.fromkeys(map(ord, "\uff0f\u2215\u2044\u29f8"), "/")
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u2009\u200a\u3000"), " ")
_TYPED_FORM = {**_DASHES, **_SLASHES, **_SPACES}
_LEADING_SO = re.compile(r"^(?:số|so)\s*[:.]?\s*(?=\d)", re.IGNORECASE)


def as_meant(raw: str) -> str:
    """``Số: 08/BC–BCĐ`` → ``08/BC-BCĐ``: the characters people type for the ones symbols use."""
    text = nfc(raw).translate(_TYPED_FORM).strip()
    return _LEADING_SO.sub("", text)


@dataclass(frozen=True)
class ParsedSymbol:
    symbol: str
    document_number: str | None = None
    document_type: str | None = None
    issuer_code: str | None = None
    year: int | None = None
    warning: str | None = None
    as_written: str | None = None  # the text as typed, when it differs from ``symbol``


def canonical_type_code(candidate: str) -> str | None:
    return _CANONICAL.get(candidate.upper())


def parse_symbol(raw: str) -> ParsedSymbol:
    parsed = _parse(raw)
    written = nfc(raw).strip()
    return parsed if written == parsed.symbol else dataclasses.replace(parsed, as_written=written)


def _parse(raw: str) -> ParsedSymbol:
    symbol = re.sub(r"\s*([/-])\s*", r"\1", as_meant(raw))
    symbol = re.sub(r"\s+", " ", symbol)
    if not symbol:
        raise InvalidSymbol(msg("must not be empty"))
    if len(symbol) > MAX_SYMBOL_LENGTH:
        raise InvalidSymbol(msg("must be at most {max_length} characters", max_length=MAX_SYMBOL_LENGTH))
    if not any(ch.isalnum() for ch in symbol):
        raise InvalidSymbol(msg("must contain a number or letters, e.g. 08/BC-BCĐ"))
    if "//" in symbol:
        raise InvalidSymbol(msg("contains '//'; expected e.g. 08/BC-BCĐ"))
    if not _ALLOWED.match(symbol):
        bad = next(ch for ch in symbol if not _ALLOWED.match(ch))
        raise InvalidSymbol(msg("contains '{character}' (U+{codepoint}), which a document symbol cannot have; "
                                "expected e.g. 08/BC-BCĐ", character=bad, codepoint=format(ord(bad), "04X")))

    if match := _STANDARD.match(symbol):
        notation = match["notation"]
        year = int(match["year"]) if match["year"] else None
        head, sep, rest = notation.partition("-")
        type_code = canonical_type_code(head) if sep else None
        if type_code and rest:
            return ParsedSymbol(symbol, match["number"], type_code, rest, year)
        return ParsedSymbol(symbol, match["number"], None, notation, year)

    if match := _PARTY.match(symbol):
        type_code = canonical_type_code(match["type"])
        if type_code:
            return ParsedSymbol(symbol, match["number"], type_code, match["issuer"])

    return ParsedSymbol(symbol, warning="symbol not in a recognised number/TYPE-ISSUER form; kept as written")
