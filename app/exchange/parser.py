"""edXML bytes in, a typed message out: streaming, tolerant, and never fooled by the XML itself.

libxml2 reads the message as a stream of events (lxml's parser-target interface), so the base64
of an attachment goes straight from the parser's buffer to ``PayloadWriter`` and is never held in
memory as a whole; everything else (the header, the manifest) is kept as a small tree of
``_Node``s, capped, from which the fields are read by *local name in the edXML namespace*, in any
order. Prefixes mean nothing: the samples bind the same URI as default and as ``edXML:``.

Security: the parser refuses any DOCTYPE outright (so no external entity can name a local file
and no entity can expand a billion times), never touches the network, and keeps libxml2's
default depth and size limits. A message that is not well-formed, or whose root is not edXML,
is ``NotEdxml`` with the line and column; every other irregularity is a ``Notice``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from app.content import safe_filename
from app.exchange.message import (
    BUSINESS_TYPE_CODES,
    EDXML_NS,
    BusinessType,
    DocumentMessage,
    NotEdxml,
    Notice,
    Organ,
    ParsedAttachment,
    ParsedMessage,
    ResponseFor,
    Staff,
    StatusMessage,
)
from app.exchange.payload import PayloadLimits, PayloadWriter

READ_CHUNK = 1024 * 1024
# Everything that is not an attachment payload: a real header is a few kilobytes.
MAX_HEADER_TEXT = 4 * 1024 * 1024
MAX_HEADER_ELEMENTS = 20_000
MAX_ATTACHMENTS = 200  # each is a file being written while the message streams in
_PAYLOAD_ELEMENTS = {"ContentTransferEncoded", "AttachmentData"}
_NONSTANDARD_PAYLOAD = "AttachmentData"  # the gateway's edXMLAttachments/AttachmentData


@dataclass
class _Node:
    local: str
    qualified: bool  # in the edXML namespace (False: no namespace at all)
    parts: list[str] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)
    payload: PayloadWriter | None = None  # for an element holding base64

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def child(self, *path: str) -> _Node | None:
        node: _Node | None = self
        for name in path:
            node = next((c for c in node.children if c.local == name), None) if node else None
        return node

    def all(self, name: str) -> list[_Node]:
        return [c for c in self.children if c.local == name]

    def find(self, name: str) -> _Node | None:
        """The first descendant called ``name``, depth first (for parts whose place varies)."""
        for c in self.children:
            if c.local == name:
                return c
            found = c.find(name)
            if found is not None:
                return found
        return None

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


class _DoctypeRefused(Exception):
    pass


class _HeaderTooLarge(Exception):
    pass


class _Target:
    """The parser target: builds the ``_Node`` tree, streams payloads into files."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.stack: list[_Node | None] = []  # None: an element outside edXML's namespace
        self.root: _Node | None = None
        self.root_tag: str | None = None
        self.unqualified = False
        self.text_budget = MAX_HEADER_TEXT
        self.elements = 0
        self.writers: list[PayloadWriter] = []

    def doctype(self, *args) -> None:
        raise _DoctypeRefused()

    def start(self, tag, attrib, nsmap=None) -> None:
        namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        parent = self.stack[-1] if self.stack else None
        is_root = not self.stack
        if is_root:
            self.root_tag = tag
        if namespace not in (EDXML_NS, "") or (parent is None and not is_root):
            self.stack.append(None)  # another vocabulary (or inside one): not ours to read
            return
        self.elements += 1
        if self.elements > MAX_HEADER_ELEMENTS:
            raise _HeaderTooLarge(f"more than {MAX_HEADER_ELEMENTS} elements")
        if not namespace:
            self.unqualified = True
        node = _Node(local, bool(namespace))
        if local in _PAYLOAD_ELEMENTS:
            if len(self.writers) >= MAX_ATTACHMENTS:
                raise _HeaderTooLarge(f"more than {MAX_ATTACHMENTS} attachments")
            node.payload = PayloadWriter(self.workdir, f"attachment {len(self.writers) + 1}")
            self.writers.append(node.payload)
        if is_root:
            self.root = node
        else:
            parent.children.append(node)
        self.stack.append(node)

    def data(self, text: str) -> None:
        node = self.stack[-1] if self.stack else None
        if node is None:
            return
        if node.payload is not None:
            node.payload.feed(text)
            return
        if text.isspace() and not node.parts:
            return
        self.text_budget -= len(text)
        if self.text_budget < 0:
            raise _HeaderTooLarge(f"more than {MAX_HEADER_TEXT} characters of header text")
        node.parts.append(text)

    def end(self, tag) -> None:
        self.stack.pop()

    def comment(self, text) -> None:
        pass

    def pi(self, target, data=None) -> None:
        pass

    def close(self) -> None:
        return None


def parse_message(stream: BinaryIO, workdir: Path, *, tz: tzinfo,
                  limits: PayloadLimits = PayloadLimits()) -> ParsedMessage:
    """Read one edXML message from ``stream``; attachments are decoded into files in ``workdir``
    (the caller takes them over, or deletes them on failure: ``discard_attachments``)."""
    notices: list[Notice] = []
    target = _Target(workdir)
    parser = etree.XMLParser(target=target, resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False, dtd_validation=False, remove_comments=True)
    skipped_lines = 0
    started = False
    try:
        while chunk := stream.read(READ_CHUNK):
            if not started:
                chunk, skipped_lines, junk = _strip_before_first_tag(chunk)
                if junk:
                    notices.append(Notice("exchange.junk_before_xml",
                                          f"{junk} byte(s) before the XML declaration were ignored"))
                if not chunk:
                    continue
                started = True
            parser.feed(chunk)
        if not started:
            raise NotEdxml("the message holds no XML element", 1, 1, "exchange.not_xml")
        parser.close()
        _refuse_namespace_errors(parser, skipped_lines)
    except etree.XMLSyntaxError as exc:
        _discard(target.writers)
        line, column = exc.position if exc.position else (exc.lineno, 0)
        message = _first_line(exc.msg) or "not well-formed"
        raise NotEdxml(message, (line or 0) + skipped_lines, column) from None
    except _DoctypeRefused:
        _discard(target.writers)
        raise NotEdxml("a DOCTYPE is not allowed in an edXML message (entities are never expanded)",
                       code="exchange.doctype_refused") from None
    except _HeaderTooLarge as exc:
        _discard(target.writers)
        raise NotEdxml(f"the message is too large to be a document: {exc}", code="exchange.too_large") from None
    except BaseException:
        _discard(target.writers)
        raise
    try:
        return _read(target, notices, tz, limits)
    except BaseException:
        _discard(target.writers)
        raise


def _refuse_namespace_errors(parser: etree.XMLParser, skipped_lines: int) -> None:
    """An undeclared prefix (``xlink:href`` with no ``xmlns:xlink``) makes a document that is not
    namespace-well-formed. In target mode libxml2 reports it without stopping, in the feed log."""
    for entry in parser.feed_error_log:
        if entry.level >= etree.ErrorLevels.ERROR:
            raise NotEdxml(_first_line(entry.message) or "not namespace-well-formed",
                           (entry.line or 0) + skipped_lines, entry.column)


def discard_attachments(message: ParsedMessage) -> None:
    """Delete the decoded files of a message that will not be stored."""
    for attachment in getattr(message, "attachments", []):
        attachment.path.unlink(missing_ok=True)


def _discard(writers: list[PayloadWriter]) -> None:
    for writer in writers:
        writer.discard()


def _strip_before_first_tag(chunk: bytes) -> tuple[bytes, int, int]:
    """Bytes before the first ``<`` (a BOM, blank lines, the ``1212`` a gateway prepends)."""
    at = chunk.find(b"<")
    if at <= 0:
        return (chunk, 0, 0) if at == 0 else (b"", chunk.count(b"\n"), len(chunk.strip(b"\xef\xbb\xbf \t\r\n")))
    head = chunk[:at]
    junk = len(head.replace(b"\xef\xbb\xbf", b"", 1).strip())
    return chunk[at:], head.count(b"\n"), junk


def _first_line(text: str | None) -> str:
    """libxml2's message without its own ", line N, column M" (the answer gives the position)."""
    first = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return re.sub(r",? line \d+, column \d+$", "", first)


# --- reading the tree -------------------------------------------------------------------------


class _Reader:
    """Field access with normalisation; every oddity noted once, with the field it was in."""

    def __init__(self, notices: list[Notice], tz: tzinfo) -> None:
        self.notices = notices
        self.tz = tz
        self.normalised: list[str] = []

    def note(self, code: str, message: str) -> None:
        self.notices.append(Notice(code, message))

    def text(self, node: _Node | None, *path: str) -> str | None:
        found = node.child(*path) if node is not None else None
        if found is None:
            return None
        value = re.sub(r"\s+", " ", found.text).strip()
        normal = unicodedata.normalize("NFC", value)
        if normal != value:
            self.normalised.append("/".join(path))
        return normal or None

    def date(self, node: _Node | None, *path: str) -> date | None:
        value = self.text(node, *path)
        if value is None:
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.note("exchange.bad_date", f"{'/'.join(path)} '{value}' is not a date (yyyy/MM/dd or dd/MM/yyyy)")
        return parsed

    def timestamp(self, node: _Node | None, *path: str) -> datetime | None:
        value = self.text(node, *path)
        if value is None:
            return None
        for pattern in ("%Y/%m/%d %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
            try:
                return datetime.strptime(value, pattern).replace(tzinfo=self.tz)
            except ValueError:
                continue
        self.note("exchange.bad_date", f"{'/'.join(path)} '{value}' is not a time (yyyy/MM/dd HH:mm:ss)")
        return None

    def integer(self, node: _Node | None, *path: str) -> int | None:
        value = self.text(node, *path)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            self.note("exchange.bad_number", f"{'/'.join(path)} '{value}' is not a number")
            return None

    def organ(self, node: _Node | None) -> Organ:
        return Organ(self.text(node, "OrganId"), self.text(node, "OrganName"),
                     self.text(node, "OrganizationInCharge"))

    def response_for(self, node: _Node) -> ResponseFor:
        return ResponseFor(self.text(node, "OrganId"), self.text(node, "Code"), self.text(node, "DocumentId"),
                           self.date(node, "PromulgationDate"))


def parse_date(value: str) -> date | None:
    """``yyyy/MM/dd`` (the standard), ``dd/MM/yyyy`` (seen in the wild) or ISO; else None."""
    for pattern in ("%Y/%m/%d", "%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(value[:10], pattern).date()
        except ValueError:
            continue
    return None


def _read(target: _Target, notices: list[Notice], tz: tzinfo, limits: PayloadLimits) -> ParsedMessage:
    root = target.root
    if root is None or root.local != "edXML":
        raise NotEdxml(f"the root element is {target.root_tag!r}, not edXML ({EDXML_NS})", 1, 1,
                       "exchange.not_edxml")
    if target.unqualified:
        notices.append(Notice("exchange.no_namespace", f"some elements are not in the edXML namespace {EDXML_NS}"))
    header = root.find("MessageHeader")
    if header is None:
        raise NotEdxml("the message has no MessageHeader", 1, 1, "exchange.not_edxml")
    reader = _Reader(notices, tz)
    if header.child("StatusCode") is not None:
        message: ParsedMessage = _status(header, reader)
        _discard(target.writers)  # a status message carries no attachment we keep
    else:
        message = _document(root, header, reader, target, limits)
    if reader.normalised:
        notices.append(Notice("exchange.text_normalised",
                              "text stored in Unicode NFC (it came decomposed): " + ", ".join(reader.normalised)))
    return message


def _status(header: _Node, r: _Reader) -> StatusMessage:
    code = r.text(header, "StatusCode") or ""
    if code.isdigit() and len(code) == 1:
        code = "0" + code
    response = header.child("ResponseFor")
    if response is None:
        r.note("exchange.missing_field", "ResponseFor is missing: the status names no document")
    staff = header.child("StaffInfo")
    return StatusMessage(
        sender=r.organ(header.child("From")),
        response_for=r.response_for(response) if response is not None else ResponseFor(None, None, None, None),
        status_code=code,
        description=r.text(header, "Description"),
        timestamp=r.timestamp(header, "Timestamp"),
        staff=Staff(r.text(staff, "Department"), r.text(staff, "Staff"), r.text(staff, "Email"),
                    r.text(staff, "Mobile")),
        notices=r.notices,
    )


def _document(root: _Node, header: _Node, r: _Reader, target: _Target, limits: PayloadLimits) -> DocumentMessage:
    sender = r.organ(header.child("From"))
    recipients = [r.organ(node) for node in header.all("To")]
    document_id = r.text(header, "DocumentId")
    for label, value in (("From/OrganId", sender.organ_id), ("To", recipients), ("DocumentId", document_id),
                         ("Subject", header.child("Subject"))):
        if not value:
            r.note("exchange.missing_field", f"{label} is missing")
    symbol = _symbol(header, document_id, r)
    document_date = r.date(header, "PromulgationInfo", "PromulgationDate")
    if document_date is None and header.child("PromulgationInfo", "PromulgationDate") is None:
        r.note("exchange.missing_field", "PromulgationInfo/PromulgationDate is missing")
    due_date = r.date(header, "DueDate")
    if due_date and document_date and due_date < document_date:
        r.note("exchange.due_before_date",
               f"DueDate {due_date:%d/%m/%Y} is before the document's date {document_date:%d/%m/%Y}")
    priority = r.integer(header, "OtherInfo", "Priority")
    if priority is not None and not 0 <= priority <= 4:
        r.note("exchange.bad_priority", f"OtherInfo/Priority {priority} is not 0–4; read as normal")
        priority = None
    page_count = r.integer(header, "OtherInfo", "PageAmount")
    if page_count is not None and page_count < 1:
        page_count = None
    business = root.find("Bussiness") or root.find("Business")
    business_type = BusinessType.new
    if business is None or business.child("BussinessDocType") is None:
        r.note("exchange.no_business_type", "no Bussiness/BussinessDocType: read as a new document")
    else:
        code = r.text(business, "BussinessDocType") or ""
        if code not in BUSINESS_TYPE_CODES:
            r.note("exchange.no_business_type", f"BussinessDocType '{code}' is not 0–3: read as a new document")
        business_type = BUSINESS_TYPE_CODES.get(code, BusinessType.new)
    replaced: list[str] = []
    if business is not None:
        for info_list in business.all("ReplacementInfoList"):
            for info in info_list.all("ReplacementInfo"):
                if value := r.text(info, "DocumentId"):
                    replaced.append(value)
    signer = header.child("SignerInfo")
    return DocumentMessage(
        business_type=business_type,
        document_id=document_id,
        sender=sender,
        recipients=recipients,
        symbol=symbol,
        document_date=document_date,
        place=r.text(header, "PromulgationInfo", "Place"),
        document_type_name=r.text(header, "DocumentType", "TypeName"),
        subject=r.text(header, "Subject") or r.text(header, "Content"),
        content=r.text(header, "Content"),
        signer_name=r.text(signer, "FullName"),
        signer_position=r.text(signer, "Position") or r.text(signer, "Competence"),
        due_date=due_date,
        priority=priority,
        page_count=page_count,
        business_reason=r.text(business, "BussinessDocReason") if business is not None else None,
        business_document_id=r.text(business, "DocumentId") if business is not None else None,
        replaced_document_ids=replaced,
        response_for=[r.response_for(node) for node in header.all("ResponseFor") if node.children],
        attachments=_attachments(root, r, target, limits),
        notices=r.notices,
    )


def _symbol(header: _Node, document_id: str | None, r: _Reader) -> str | None:
    number, notation = r.text(header, "Code", "CodeNumber"), r.text(header, "Code", "CodeNotation")
    if number and notation:
        return f"{number}/{notation}"
    if number or notation:
        return number or notation
    parts = (document_id or "").split(",")
    if len(parts) == 3 and parts[2].strip():
        r.note("exchange.missing_field", "Code is missing: the symbol is read from DocumentId")
        return parts[2].strip()
    r.note("exchange.missing_field", "Code (CodeNumber/CodeNotation) is missing: no symbol")
    return None


def _content_id(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    return value[4:] if value.lower().startswith("cid:") else value


def _attachments(root: _Node, r: _Reader, target: _Target, limits: PayloadLimits) -> list[ParsedAttachment]:
    references = {}
    manifest = root.find("edXMLManifest")
    for reference in manifest.all("Reference") if manifest is not None else []:
        references[_content_id(r.text(reference, "ContentId"))] = reference
    holders = [node for node in root.walk() if any(c.payload is not None for c in node.children)]
    if any(c.local == _NONSTANDARD_PAYLOAD for h in holders for c in h.children):
        r.note("exchange.nonstandard_attachments",
               "attachments in the gateway's edXMLAttachments/AttachmentData form, not QCVN 102's AttachmentEncoded")
    result: list[ParsedAttachment] = []
    seen: set[str | None] = set()
    for position, holder in enumerate(holders, start=1):
        payload = next(c for c in holder.children if c.payload is not None)
        content_id = _content_id(r.text(holder, "ContentId"))
        reference = references.get(content_id)
        if reference is None:
            r.note("exchange.attachment_unreferenced",
                   f"attachment {position} ({content_id or 'no ContentId'}) is not in the manifest")
        seen.add(content_id)
        name = (r.text(holder, "AttachmentName") or (r.text(reference, "AttachmentName") if reference else None)
                or r.text(holder, "Description") or content_id or f"attachment-{position}")
        filename = safe_filename(name)
        decoded = payload.payload.finish(filename, limits)
        r.notices.extend(decoded.notices)
        declared = r.text(holder, "ContentType") or (r.text(reference, "ContentType") if reference else None)
        _check_type(filename, declared, decoded.content_type, decoded.unpacked_from, position, r)
        result.append(ParsedAttachment(
            content_id=content_id, filename=filename, declared_type=declared,
            description=r.text(holder, "Description") or (r.text(reference, "Description") if reference else None),
            path=decoded.path, size=decoded.size, sha256=decoded.sha256, content_type=decoded.content_type,
            unpacked_from=decoded.unpacked_from,
        ))
    for content_id in references:
        if content_id not in seen:
            r.note("exchange.attachment_missing", f"the manifest names {content_id or 'an attachment'} but it is not in the message")
    return result


_TYPE_BY_EXTENSION = {"pdf": "application/pdf", "doc": "application/msword", "xls": "application/vnd.ms-excel",
                      "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                      "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      "zip": "application/zip", "txt": "text/plain; charset=utf-8"}


def _check_type(filename: str, declared: str | None, actual: str, unpacked_from: str | None, position: int,
                r: _Reader) -> None:
    """A name or a declared type that the bytes contradict is worth a clerk's look (a ``.doc`` that
    is an archive of another message, a ``.SIGNED.PDF`` that is not a PDF)."""
    base = actual.split(";")[0]
    expected = _TYPE_BY_EXTENSION.get(filename.rpartition(".")[2].lower()) if "." in filename else None
    if expected and expected.split(";")[0] != base:
        r.note("exchange.attachment_type_mismatch",
               f"{filename} is named as {expected.split(';')[0]} but its bytes are {base}"
               + (f" (unpacked from the zip entry {unpacked_from})" if unpacked_from else ""))
        return
    zipped_by_sender = unpacked_from is not None and (declared or "").lower() == "application/zip"
    if declared and not zipped_by_sender and declared.split(";")[0].lower() not in (base, "application/octet-stream"):
        r.note("exchange.attachment_type_mismatch",
               f"attachment {position} ({filename}) is declared {declared} but its bytes are {base}")
