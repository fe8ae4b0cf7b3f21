"""edXML messages made for the tests (never copies of ../shared/edxml-samples), written as text
so that the parser is tested against what other systems write, not against our own writer; and a
fake hub, a real HTTP server, to receive the status messages we send."""

from __future__ import annotations

import base64
import io
import os
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
OUR_ORGAN = "000.00.00.H41"
SENDER = "000.00.00.G22"
# Real messages of other systems, beside the repository (../shared/edxml-samples) or where
# CONGVAN_EDXML_SAMPLES says; tests that read them skip when they are not there.
SAMPLES = Path(os.environ.get("CONGVAN_EDXML_SAMPLES") or Path(__file__).resolve().parents[2] / "shared" / "edxml-samples")


def pdf_bytes(label: str = "A", size: int = 0) -> bytes:
    body = f"%PDF-1.4\n% congvan test {label}\n".encode() + b"0" * size
    return body + b"\n%%EOF\n"


def zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def document_message(
    *, document_id: str = f"{SENDER},2026/11/20,125/VPCP-TCCV", number: str = "125", notation: str = "VPCP-TCCV",
    date: str = "2026/11/20", subject: str = "V/v triển khai kết nối liên thông văn bản điện tử",
    signer: str = "Nguyễn Văn Thành", position: str = "Phó Chủ nhiệm", priority: str = "1",
    business: str | None = "0", to: tuple[str, ...] = (OUR_ORGAN,), sender: str = SENDER,
    sender_name: str = "Văn phòng Chính phủ", due: str | None = "2026/12/30",
    attachments: list[tuple[str, str, bytes]] | None = None, prefix: str = "edXML:",
    replaced: tuple[str, ...] = (), response_for: str | None = None, extra_header: str = "",
) -> bytes:
    """A document message in the SDK's shape; ``attachments`` as (name, declared type, bytes)."""
    p = prefix
    xmlns = f' xmlns:edXML="{NS}"' if p else ""
    attachments = attachments if attachments is not None else [("CV-125.pdf", "application/pdf", pdf_bytes())]
    tos = "".join(f"<{p}To><{p}OrganId>{o}</{p}OrganId><{p}OrganName>Cơ quan {o}</{p}OrganName></{p}To>" for o in to)
    business_xml = ""
    if business is not None:
        replacement = "".join(f"<{p}ReplacementInfo><{p}DocumentId>{d}</{p}DocumentId></{p}ReplacementInfo>"
                              for d in replaced)
        business_xml = (f"<{p}TraceHeaderList><{p}Bussiness><{p}BussinessDocType>{business}</{p}BussinessDocType>"
                        f"<{p}BussinessDocReason>Lý do nghiệp vụ</{p}BussinessDocReason>"
                        + (f"<{p}ReplacementInfoList>{replacement}</{p}ReplacementInfoList>" if replaced else "")
                        + f"</{p}Bussiness></{p}TraceHeaderList>")
    response_xml = (f"<{p}ResponseFor><{p}OrganId>{OUR_ORGAN}</{p}OrganId><{p}DocumentId>{response_for}"
                    f"</{p}DocumentId></{p}ResponseFor>") if response_for else ""
    references = "".join(
        f"<{p}Reference><{p}ContentId>cid:{i}</{p}ContentId><{p}ContentType>{t}</{p}ContentType>"
        f"<{p}AttachmentName>{n}</{p}AttachmentName></{p}Reference>"
        for i, (n, t, _) in enumerate(attachments, start=1))
    encoded = "".join(
        f"<Attachment><ContentId>cid:{i}</ContentId><AttachmentName>{n}</AttachmentName>"
        f"<ContentType>{t}</ContentType><{p}ContentTransferEncoded{xmlns}>"
        f"{base64.encodebytes(b).decode()}</{p}ContentTransferEncoded></Attachment>"
        for i, (n, t, b) in enumerate(attachments, start=1))
    due_xml = f"<{p}DueDate>{due}</{p}DueDate>" if due else ""
    text = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<edXML xmlns="{NS}">\n'
        f"<{p}edXMLEnvelope{xmlns}><{p}edXMLHeader><{p}MessageHeader>"
        f"<{p}From><{p}OrganId>{sender}</{p}OrganId><{p}OrganName>{sender_name}</{p}OrganName></{p}From>{tos}"
        f"<{p}DocumentId>{document_id}</{p}DocumentId>"
        f"<{p}Code><{p}CodeNumber>{number}</{p}CodeNumber><{p}CodeNotation>{notation}</{p}CodeNotation></{p}Code>"
        f"<{p}PromulgationInfo><{p}Place>Hà Nội</{p}Place><{p}PromulgationDate>{date}</{p}PromulgationDate>"
        f"</{p}PromulgationInfo><{p}DocumentType><{p}TypeName>Công văn</{p}TypeName></{p}DocumentType>"
        f"<{p}Subject>{subject}</{p}Subject><{p}SignerInfo><{p}Position>{position}</{p}Position>"
        f"<{p}FullName>{signer}</{p}FullName></{p}SignerInfo>{due_xml}"
        f"<{p}OtherInfo><{p}Priority>{priority}</{p}Priority><{p}PageAmount>2</{p}PageAmount></{p}OtherInfo>"
        f"{response_xml}{extra_header}</{p}MessageHeader>{business_xml}</{p}edXMLHeader>"
        f"<{p}edXMLBody><{p}edXMLManifest version=\"1.0\">{references}</{p}edXMLManifest></{p}edXMLBody>"
        f"</{p}edXMLEnvelope><AttachmentEncoded>{encoded}</AttachmentEncoded></edXML>\n"
    )
    return text.encode("utf-8")


def status_13(document_id: str, *, sender: str = SENDER) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><edXML xmlns="{NS}"><edXML:edXMLEnvelope xmlns:edXML="{NS}">'
        f"<edXML:edXMLHeader><edXML:MessageHeader><edXML:From><edXML:OrganId>{sender}</edXML:OrganId>"
        f"<edXML:OrganName>Văn phòng Chính phủ</edXML:OrganName></edXML:From><edXML:ResponseFor>"
        f"<edXML:OrganId>{OUR_ORGAN}</edXML:OrganId><edXML:Code>125/VPCP-TCCV</edXML:Code>"
        f"<edXML:PromulgationDate>2026/11/20</edXML:PromulgationDate><edXML:DocumentId>{document_id}"
        f"</edXML:DocumentId></edXML:ResponseFor><edXML:StatusCode>13</edXML:StatusCode>"
        f"<edXML:Description>Gửi nhầm, đề nghị trả lại</edXML:Description>"
        f"<edXML:Timestamp>2026/11/21 09:15:00</edXML:Timestamp></edXML:MessageHeader></edXML:edXMLHeader>"
        f"</edXML:edXMLEnvelope></edXML>"
    ).encode("utf-8")


XML = {"Content-Type": "application/xml"}


class FakeHub:
    """Answers its first requests with ``first_answers`` (e.g. two 500s), then 200; records what
    it accepted (the X-Congvan-Message-Id and the body)."""

    def __init__(self, first_answers: tuple[int, ...] = ()) -> None:
        self.first_answers = first_answers
        self.requests = 0
        self.accepted: list[tuple[int, bytes]] = []
        self.lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with hub.lock:
                    hub.requests += 1
                    answer = hub.first_answers[hub.requests - 1] if hub.requests <= len(hub.first_answers) else 200
                    if answer < 300:
                        hub.accepted.append((int(self.headers["X-Congvan-Message-Id"]), body))
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/edxml"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
