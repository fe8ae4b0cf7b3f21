"""Attachment payloads: base64 decoded as it streams, sniffed, single-entry zips unpacked.

The parser hands every chunk of an attachment's ``ContentTransferEncoded`` text to a
``PayloadWriter`` as libxml2 reads it, so a 50 MB message never holds an attachment in memory
twice: the base64 text is decoded in whole quanta into a temporary file, hashed and sniffed on
the way (``app.content.TypeSniffer``, the same reading of bytes as uploads get).

The hub's SDK zips every file whose extension it does not know, so many payloads are a zip with
one entry (a ``.doc`` that is a zip of an edXML, a ``.txt`` that is a zip of a text). Such a zip
is unpacked, defensively: one entry only, its real size counted while it is copied (the header's
claim is not trusted), at most ``max_entry_bytes`` and at most ``max_ratio`` times its compressed
size. A zip that breaks a limit or cannot be read (truncated) is kept as it came, with a notice.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from app.content import TypeSniffer
from app.exchange.message import Notice

_WHITESPACE = b" \t\r\n\f\v"
_ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 1024 * 1024
TEMP_PREFIX = ".upload-"  # app.services.attachments sweeps stale ones at start-up


@dataclass(frozen=True)
class PayloadLimits:
    max_entry_bytes: int = 50 * 1024 * 1024
    max_ratio: int = 200


@dataclass
class Decoded:
    path: Path
    size: int
    sha256: str
    content_type: str
    unpacked_from: str | None
    notices: list[Notice]


class PayloadWriter:
    """Decodes base64 fed in arbitrary pieces into a temporary file in ``directory``."""

    def __init__(self, directory: Path, label: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX)
        self.path = Path(name)
        self._out = os.fdopen(fd, "wb")
        self._pending = b""
        self._digest = hashlib.sha256()
        self._sniffer = TypeSniffer()
        self.size = 0
        self.label = label
        self.broken: str | None = None

    def feed(self, text: str) -> None:
        if self.broken:
            return
        chunk = self._pending + text.encode("ascii", "replace").translate(None, _WHITESPACE)
        whole = len(chunk) - len(chunk) % 4
        self._pending = chunk[whole:]
        if whole:
            self._write(chunk[:whole])

    def _write(self, quanta: bytes) -> None:
        try:
            data = binascii.a2b_base64(quanta, strict_mode=True)
        except binascii.Error as exc:
            self.broken = f"the base64 of {self.label} is not valid ({exc}); the bytes before it are kept"
            return
        self.size += len(data)
        self._digest.update(data)
        self._sniffer.feed(data)
        self._out.write(data)

    def finish(self, filename: str, limits: PayloadLimits) -> Decoded:
        notices: list[Notice] = []
        if self._pending and not self.broken:
            self._write(self._pending + b"=" * (-len(self._pending) % 4))
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        if self.broken:
            notices.append(Notice("exchange.attachment_bad_base64", self.broken))
        decoded = Decoded(self.path, self.size, self._digest.hexdigest(), self._sniffer.media_type(filename), None,
                          notices)
        if self._sniffer.head.startswith(_ZIP_MAGIC):
            return _unpack_single_entry(decoded, filename, limits, self.label)
        return decoded

    def discard(self) -> None:
        if not self._out.closed:
            self._out.close()
        self.path.unlink(missing_ok=True)


def _unpack_single_entry(zipped: Decoded, filename: str, limits: PayloadLimits, label: str) -> Decoded:
    """The zip's only entry in place of the zip, within the limits; else the zip with a notice."""
    try:
        with zipfile.ZipFile(zipped.path) as archive:
            entries = [i for i in archive.infolist() if not i.is_dir()]
            if len(entries) != 1:
                return zipped  # an archive of several files (or an OOXML file) is what was sent
            entry = entries[0]
            unpacked = _copy_entry(archive, entry, zipped.path.parent, filename, limits, label)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError, ValueError,
            OSError) as exc:
        if isinstance(exc, OSError) and not isinstance(exc, zipfile.BadZipFile) and exc.errno is not None:
            raise  # a full disk is not a property of the message
        zipped.notices.append(Notice("exchange.attachment_zip_unreadable",
                                     f"{label} is a zip that cannot be read ({exc}); kept as it came"))
        return zipped
    if isinstance(unpacked, Notice):
        zipped.notices.append(unpacked)
        return zipped
    zipped.path.unlink(missing_ok=True)
    unpacked.notices[:0] = zipped.notices
    return unpacked


def _copy_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, directory: Path, filename: str,
                limits: PayloadLimits, label: str) -> Decoded | Notice:
    budget = min(limits.max_entry_bytes, max(entry.compress_size, 1) * limits.max_ratio)
    fd, name = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX)
    path = Path(name)
    digest = hashlib.sha256()
    sniffer = TypeSniffer()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out, archive.open(entry) as source:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > budget:
                    path.unlink(missing_ok=True)
                    return Notice("exchange.attachment_zip_limits",
                                  f"{label} unpacks to more than {budget} bytes (the limit for its "
                                  f"{entry.compress_size}-byte entry); kept zipped")
                digest.update(chunk)
                sniffer.feed(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Decoded(path, size, digest.hexdigest(), sniffer.media_type(_name_for_sniffing(filename, entry.filename)),
                   entry.filename, [])


def _name_for_sniffing(filename: str, entry_name: str) -> str:
    """Office types are told by extension once the bytes say zip or OLE: the entry's name is the
    one packed with the bytes, the attachment's is the sender's label."""
    return entry_name if "." in entry_name else filename
