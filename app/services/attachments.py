"""Attachment files: bytes on disk, addressed by SHA-256; metadata in the database.

Files are written under ``<data_dir>/attachments/<first two hex>/<sha256>``: the stored
name never comes from the client, so a filename such as ``../../etc/passwd`` can only
ever be a label. Identical uploads share one file. A file is moved into place before its
row is flushed; if the transaction then fails, an unreferenced file remains, which is
harmless, and never a row without its bytes.

Durability: the bytes are fsynced before the rename and the directory after it, so a file whose
row was committed survives a crash of the machine. A crash mid-upload leaves a ``.upload-*``
temporary file; ``sweep_stale_uploads`` removes those at start-up once they are older than an
hour (an upload still being written by another server process on the same directory is never
that old between two writes of its chunks, and is left alone). A full, over-quota or read-only
disk is ``InsufficientStorage`` (507), with the temporary file removed and no row written.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound, PayloadTooLarge, storage_failure
from app.models import Attachment, IncomingDocument, User
from app.models.base import utcnow
from app.content import TypeSniffer, safe_filename
from app.i18n import msg

__all__ = ["place_blob", "safe_filename", "store_attachment", "sweep_stale_uploads", "storage_problem"]

logger = logging.getLogger("congvan")

CHUNK = 1024 * 1024
TEMP_PREFIX = ".upload-"
STALE_UPLOAD_SECONDS = 3600


def blob_path(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256


def store_attachment(
    *,
    session: Session,
    document: IncomingDocument,
    actor: User,
    stream: BinaryIO,
    filename: str | None,
    root: Path,
    max_bytes: int,
    content_disposition: str | None = None,
    now: datetime | None = None,
) -> Attachment:
    """Copy ``stream`` to disk while hashing it and sniffing its type, refusing more than
    ``max_bytes``. ``filename`` is the form parser's reading of the name; ``content_disposition``
    the part's raw header, from which a name that was not UTF-8 is read again."""
    name = safe_filename(filename, content_disposition)
    sniffer = TypeSniffer()
    try:
        sha256, size = _write_blob(root, stream, max_bytes, sniffer)
    except OSError as exc:
        failure = storage_failure(exc)
        if failure is None:
            raise
        raise failure from exc

    attachment = Attachment(
        document_id=document.id,
        filename=name,
        content_type=sniffer.media_type(name),
        size=size,
        sha256=sha256,
        uploaded_by_id=actor.id,
        uploaded_at=now or utcnow(),
    )
    session.add(attachment)
    session.flush()
    return attachment


def _write_blob(root: Path, stream: BinaryIO, max_bytes: int, sniffer: TypeSniffer) -> tuple[str, int]:
    """The stream's bytes durably at their hash's path; (sha256, size). The temporary file is
    removed whatever fails."""
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=TEMP_PREFIX)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(msg("attachments are limited to {mb} MB", mb=max_bytes // (1024 * 1024)))
                digest.update(chunk)
                sniffer.feed(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha256 = digest.hexdigest()
        place_blob(root, tmp, sha256)
    finally:
        tmp.unlink(missing_ok=True)
    return sha256, size


def place_blob(root: Path, written: Path, sha256: str) -> Path:
    """Move a file already written and fsynced in ``root`` (a ``.upload-*`` temporary one) to
    its hash's path, durably. The same bytes stored twice are one file."""
    final = blob_path(root, sha256)
    if not final.parent.is_dir():
        final.parent.mkdir(exist_ok=True)
        fsync_directory(root)  # the new <aa>/ entry itself
    os.replace(written, final)
    # The rename is an entry in the directory: until that is on disk, a crash can lose the
    # file whose row was committed.
    fsync_directory(final.parent)
    return final


def fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sweep_stale_uploads(root: Path, *, older_than_s: float = STALE_UPLOAD_SECONDS) -> int:
    """Remove the ``.upload-*`` files a crash left behind, once older than ``older_than_s``
    (by modification time: an upload in progress in another process touches its file with every
    chunk). Returns how many were removed; errors are logged, never raised (start-up goes on)."""
    if not root.is_dir():
        return 0
    cutoff = time.time() - older_than_s
    removed = 0
    for path in root.glob(f"{TEMP_PREFIX}*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError as exc:
            logger.warning("could not remove the stale upload %s: %s", path, exc)
    if removed:
        logger.info("removed %d stale upload file(s) from %s", removed, root)
    return removed


def storage_problem(root: Path) -> tuple[int | None, str | None]:
    """(free bytes, why files cannot be stored now or None): a small file is written, synced and
    removed in ``root``, as an upload would."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f"{TEMP_PREFIX}health-{secrets.token_hex(4)}"
        try:
            with open(probe, "wb") as out:
                out.write(b"ok")
                out.flush()
                os.fsync(out.fileno())
        finally:
            probe.unlink(missing_ok=True)
        stats = os.statvfs(root)
    except OSError as exc:
        return None, f"{exc.strerror or exc} ({root})"
    return stats.f_bavail * stats.f_frsize, None


def list_attachments(*, session: Session, document: IncomingDocument) -> list[Attachment]:
    return list(
        session.scalars(select(Attachment).where(Attachment.document_id == document.id).order_by(Attachment.id))
    )


def get_attachment(*, session: Session, document: IncomingDocument, attachment_id: int) -> Attachment:
    attachment = session.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.document_id == document.id)
    )
    if attachment is None:
        raise NotFound(msg("attachment {id} does not exist on document {document}", id=attachment_id,
                           document=document.id), code="attachment.not_found")
    return attachment
