"""Attachment files: bytes on disk, addressed by SHA-256; metadata in the database.

Files are written under ``<data_dir>/attachments/<first two hex>/<sha256>``: the stored
name never comes from the client, so a filename such as ``../../etc/passwd`` can only
ever be a label. Identical uploads share one file. A file is moved into place before its
row is flushed; if the transaction then fails, an unreferenced file remains, which is
harmless, and never a row without its bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound, PayloadTooLarge
from app.models import Attachment, IncomingDocument, User
from app.models.base import utcnow
from app.text import nfc

CHUNK = 1024 * 1024
MAX_FILENAME = 200
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")  # RFC 6838


def safe_filename(raw: str | None) -> str:
    """A display name with no directory part, no control or reserved characters."""
    name = nfc(raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_FILENAME - len(ext) - 1] + dot + ext) if dot and len(ext) < 16 else name[:MAX_FILENAME]
    return unicodedata.normalize("NFC", name) or "attachment"


def safe_content_type(raw: str | None) -> str:
    """The declared media type if it is a well-formed one (``type/subtype``, optional ASCII
    parameters), else ``application/octet-stream``. It is sent back as a response header on
    download, so it must be printable ASCII; and it is stored, so it must not contain NUL."""
    value = (raw or "").strip()
    media_type = value.split(";", 1)[0].strip()
    if len(value) <= 255 and _PRINTABLE_ASCII.fullmatch(value) and _MEDIA_TYPE.fullmatch(media_type):
        return value
    return "application/octet-stream"


def blob_path(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256


def store_attachment(
    *,
    session: Session,
    document: IncomingDocument,
    actor: User,
    stream: BinaryIO,
    filename: str | None,
    content_type: str | None,
    root: Path,
    max_bytes: int,
) -> Attachment:
    """Copy ``stream`` to disk while hashing it, refusing more than ``max_bytes``."""
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"attachments are limited to {max_bytes // (1024 * 1024)} MB")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha256 = digest.hexdigest()
        final = blob_path(root, sha256)
        final.parent.mkdir(exist_ok=True)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)

    attachment = Attachment(
        document_id=document.id,
        filename=safe_filename(filename),
        content_type=safe_content_type(content_type),
        size=size,
        sha256=sha256,
        uploaded_by_id=actor.id,
        uploaded_at=utcnow(),
    )
    session.add(attachment)
    session.flush()
    return attachment


def list_attachments(*, session: Session, document: IncomingDocument) -> list[Attachment]:
    return list(
        session.scalars(select(Attachment).where(Attachment.document_id == document.id).order_by(Attachment.id))
    )


def get_attachment(*, session: Session, document: IncomingDocument, attachment_id: int) -> Attachment:
    attachment = session.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.document_id == document.id)
    )
    if attachment is None:
        raise NotFound(f"attachment {attachment_id} does not exist on document {document.id}")
    return attachment
