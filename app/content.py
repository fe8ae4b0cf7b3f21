"""What an attachment is called and what it is, decided by us, never taken from the client.

*Names.* The multipart ``filename`` is a label shown to people and offered to their browsers on
download. Bidirectional controls (a name ``invoice‮fdp.exe`` shows as ``invoiceexe.pdf``) and
other control or format characters are removed. A name that did not arrive as UTF-8 (an old
Windows client sending Windows-1258 or Windows-1252, which the form parser can only read as
latin-1) is read again from the raw part header in those code pages when its bytes decode
cleanly; a UTF-8 name that was already misread once as latin-1 (``BÃ¡o cÃ¡o``) is repaired; and
anything still undecodable keeps U+FFFD in place of its bad bytes. Never an error.

*Types.* The stored and served media type comes from the bytes (their signature), not from the
part's ``Content-Type``: a page uploaded as ``text/html`` or ``image/svg+xml`` is served as text
or as bytes, so it can never run as a page of ours. Office files are told by extension only
when their bytes are a zip (OOXML) or an OLE compound file (the old formats).
"""

from __future__ import annotations

import codecs
import re
import unicodedata

MAX_FILENAME = 200

# --- names ------------------------------------------------------------------------------------

# Shown as a replacement: reserved on Windows or meaningful to a shell.
_RESERVED = re.compile(r"[<>:\"|?*]")
# The raw ``filename="..."`` (or unquoted token) of a part's Content-Disposition, as bytes.
_RAW_FILENAME = re.compile(rb'(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))', re.IGNORECASE)


def _visible(ch: str) -> bool:
    """False for control (Cc), format (Cf: bidi overrides and isolates, LRM/RLM, ALM, zero
    widths, BOM), line/paragraph separators, surrogates and unassigned-private oddities."""
    return unicodedata.category(ch) not in {"Cc", "Cf", "Zl", "Zp", "Cs"}


def raw_filename(content_disposition: str | None) -> bytes | None:
    """The filename bytes as the client sent them, from the part header (which the form parser
    keeps as latin-1, i.e. byte for byte)."""
    if not content_disposition:
        return None
    try:
        raw = content_disposition.encode("latin-1")
    except UnicodeEncodeError:
        return None
    match = _RAW_FILENAME.search(raw)
    if match is None:
        return None
    if match.group(1) is not None:
        return re.sub(rb"\\(.)", rb"\1", match.group(1))
    return match.group(2)


def _undo_latin1_misreading(text: str) -> str:
    """``BÃ¡o cÃ¡o`` → ``Báo cáo``: UTF-8 bytes that someone decoded as latin-1 (or Windows-1252)
    before sending. Only when every character fits one byte and the bytes are valid UTF-8: text
    that is really latin-1 is practically never valid UTF-8 as well."""
    if text.isascii():
        return text
    for codepage in ("latin-1", "cp1252"):
        try:
            return text.encode(codepage).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


def decode_filename(raw: bytes) -> str:
    """UTF-8 if the bytes are; else Windows-1258 (Vietnamese), else Windows-1252, when the bytes
    decode cleanly in it; else UTF-8 with U+FFFD for the bytes that are not."""
    try:
        return _undo_latin1_misreading(raw.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    for codepage in ("cp1258", "cp1252"):
        try:
            return raw.decode(codepage)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def safe_filename(decoded: str | None, content_disposition: str | None = None) -> str:
    """A display name: readable (see the module), no directory part, no control, format or
    reserved characters, NFC, at most ``MAX_FILENAME`` characters keeping the extension."""
    raw = raw_filename(content_disposition)
    name = decode_filename(raw) if raw is not None else _undo_latin1_misreading(decoded or "")
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if _visible(ch))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _RESERVED.sub("_", name).strip().lstrip(".").strip()
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_FILENAME - len(ext) - 1] + dot + ext) if dot and len(ext) < 16 else name[:MAX_FILENAME]
    return unicodedata.normalize("NFC", name) or "attachment"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` for old clients and the exact name as an RFC 5987
    ``filename*`` (RFC 6266 §4.3); nothing in it can end the header or the parameter."""
    ascii_name = "".join(ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\;' else "_" for ch in fold_for_ascii(filename))
    quoted = "".join(
        chr(b) if chr(b).isalnum() and b < 0x80 or chr(b) in "!#$&+-.^_`|~" else f"%{b:02X}"
        for b in filename.encode("utf-8")
    )
    return f"attachment; filename=\"{ascii_name or 'attachment'}\"; filename*=UTF-8''{quoted}"


def fold_for_ascii(filename: str) -> str:
    """``Báo cáo Đà Nẵng.pdf`` → ``Bao cao Da Nang.pdf``: the marks stripped, case kept."""
    decomposed = unicodedata.normalize("NFD", filename.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# --- types ------------------------------------------------------------------------------------

OCTET_STREAM = "application/octet-stream"
TEXT_UTF8 = "text/plain; charset=utf-8"
_SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
]
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OOXML = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
_OLE_TYPES = {"doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint"}
# Every type ``detect_media_type`` can give; a stored type outside it (rows from before
# detection) is served as bytes.
DETECTED_TYPES = frozenset(
    {OCTET_STREAM, TEXT_UTF8, "application/zip", *(t for _, t in _SIGNATURES), *_OOXML.values(), *_OLE_TYPES.values()}
)
# Text: no control characters but the usual whitespace (tab, newline, form feed, carriage return).
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
SNIFF_BYTES = 8192


class TypeSniffer:
    """Fed the file's chunks in order; ``media_type`` then says what the bytes are.

    The signature is read from the head. Whether it is UTF-8 text needs every byte, so that
    check runs (incrementally) only while the file still looks like text.
    """

    def __init__(self) -> None:
        self.head = b""
        self._text = True
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def feed(self, chunk: bytes) -> None:
        if len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]
        if not self._text:
            return
        if _BINARY_BYTES.search(chunk):
            self._text = False
            return
        try:
            self._decoder.decode(chunk)
        except UnicodeDecodeError:
            self._text = False

    def media_type(self, filename: str) -> str:
        extension = filename.rpartition(".")[2].lower() if "." in filename else ""
        for signature, media_type in _SIGNATURES:
            if self.head.startswith(signature):
                return media_type
        if self.head.startswith(_ZIP):
            return _OOXML.get(extension, "application/zip")
        if self.head.startswith(_OLE):
            return _OLE_TYPES.get(extension, OCTET_STREAM)
        if self._text and self.head:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:  # ends inside a character
                return OCTET_STREAM
            return TEXT_UTF8
        return OCTET_STREAM


def served_type(stored: str) -> str:
    """The type to send for a stored one: a detected type as is, anything else as bytes."""
    return stored if stored in DETECTED_TYPES else OCTET_STREAM

