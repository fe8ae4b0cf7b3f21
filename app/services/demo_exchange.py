"""Two electronic documents waiting in the demo's inbox, so a new user sees the exchange at once.

One is clean (addressed to us, every field, a signed-looking PDF); the other carries what real
messages do: bytes before the XML declaration, a signer's name in decomposed Unicode, a ``.doc``
that is a zip of a PDF, a deadline before the document's date. Both are written by our own
edXML writer (app.exchange.writer) with fixed contents, so loading the demo again takes in the
same bytes and changes nothing (the inbox deduplicates them).
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import unicodedata
import zipfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.exchange.message import BusinessType, DocumentMessage, Organ, ParsedAttachment
from app.exchange.writer import write_document
from app.models import User
from app.services import exchange
from app.services.signatures import Verification

SENDER = Organ("000.00.00.G22", "Văn phòng Chính phủ")
SENT_AT = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def _pdf(title: str) -> bytes:
    """A one-page PDF showing ``title`` (ASCII), small and valid enough for any viewer."""
    stream = f"BT /F1 18 Tf 72 720 Td ({title}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 30, 9, 0, 0)), data)
    return buffer.getvalue()


def _message(number: str, subject: str, files: list[tuple[str, bytes]], *, to: str, signer: str,
             document_date: date, due: date, priority: int, workdir: Path) -> DocumentMessage:
    attachments = []
    for position, (name, data) in enumerate(files, start=1):
        path = workdir / f"{number.replace('/', '_')}-{position}"
        path.write_bytes(data)
        attachments.append(ParsedAttachment(content_id=f"{number}-{position}", filename=name, declared_type=None,
                                            description=None, path=path, size=len(data), sha256="",
                                            content_type="application/pdf" if name.endswith(".pdf")
                                            else "application/zip"))
    return DocumentMessage(
        business_type=BusinessType.new, document_id=f"{SENDER.organ_id},{document_date:%Y/%m/%d},{number}",
        sender=SENDER, recipients=[Organ(to)], symbol=number, document_date=document_date, place="Hà Nội",
        document_type_name="Công văn", subject=subject, content=None, signer_name=signer,
        signer_position="Phó Chủ nhiệm", due_date=due, priority=priority, page_count=1,
        business_reason="Văn bản điện tử mới", business_document_id=None, replaced_document_ids=[],
        response_for=[], attachments=attachments)


def demo_messages(our_organ_id: str, tz: ZoneInfo) -> list[bytes]:
    """The clean message and the irregular one, as bytes."""
    with tempfile.TemporaryDirectory() as workdir:
        clean = _message(
            "1520/VPCP-KSTT", "V/v triển khai Nền tảng chia sẻ, tích hợp dữ liệu văn bản điện tử",
            [("1520-VPCP-KSTT.signed.pdf", _pdf("Cong van 1520/VPCP-KSTT"))], to=our_organ_id,
            signer="Nguyễn Sỹ Hiệp", document_date=date(2026, 11, 28), due=date(2026, 12, 15), priority=1,
            workdir=Path(workdir))
        irregular = _message(
            "86/BTTTT-CĐSQG", "V/v báo cáo tình hình gửi, nhận văn bản điện tử năm 2026",
            [("86-BTTTT.pdf", _pdf("Cong van 86/BTTTT")), ("Phu luc 86.doc", _zipped("phu-luc.pdf", _pdf("Phu luc")))],
            to=our_organ_id, signer=unicodedata.normalize("NFD", "Phạm Đức Long"), document_date=date(2026, 11, 27),
            due=date(2026, 11, 20), priority=0, workdir=Path(workdir))
        out = []
        for number, message in enumerate((clean, irregular)):
            buffer = io.BytesIO()
            write_document(buffer, message, traced_by=SENDER.organ_id, at=SENT_AT, tz=tz)
            out.append((b"1212" if number else b"") + buffer.getvalue())  # a gateway's stray bytes
        return out


def load_demo_inbox(*, session: Session, clerk: User, root: Path, ours: exchange.Ours, now: datetime,
                    tz: ZoneInfo, verification: Verification | None = None) -> list[int]:
    """Take the two demo messages in (again: the same items). Returns their inbox ids."""
    ids = []
    for data in demo_messages(ours.organ_id, tz):
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".upload-", delete=False) as raw:
            raw.write(data)
        received = exchange.receive(session=session, actor=clerk, raw=Path(raw.name),
                                    raw_sha256=hashlib.sha256(data).hexdigest(), raw_size=len(data), root=root,
                                    ours=ours, now=now, tz=tz, verification=verification)
        Path(raw.name).unlink(missing_ok=True)
        if verification is not None and not received.replayed:
            exchange.verify_attachments(session=session, verification=verification, item=received.item, now=now)
        ids.append(received.item.id)
    return ids
