"""edXML out: status messages to a sender, and a document message for forwarding.

Both are shaped as the hub's SDK writes them (``edXML`` root in the default namespace, the same
URI bound to ``edXML:`` from the envelope down) and read back by ``app.exchange.parser`` to the
same fields: tests prove the round trip. A document's attachments are base64-encoded as they are
written (``etree.xmlfile``), so exporting a 50 MB document never holds it in memory.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from app.exchange.message import BUSINESS_TYPE_CODES, EDXML_NS, DocumentMessage, Organ, ResponseFor, Staff

_CODE_OF_BUSINESS = {value: code for code, value in BUSINESS_TYPE_CODES.items()}
_B64_CHUNK = 57 * 1024 * 16  # a multiple of 3 bytes: every chunk encodes without padding


def _q(local: str) -> str:
    return f"{{{EDXML_NS}}}{local}"


def _date(value: date | None) -> str | None:
    return value.strftime("%Y/%m/%d") if value else None


def _timestamp(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%Y/%m/%d %H:%M:%S")


def _add(parent: etree._Element, local: str, text: str | int | None = None, *, always: bool = False):
    if text is None and not always:
        return None
    element = etree.SubElement(parent, _q(local))
    if text is not None:
        element.text = str(text)
    return element


def _organ(parent: etree._Element, local: str, organ: Organ) -> None:
    node = _add(parent, local, always=True)
    _add(node, "OrganId", organ.organ_id or "")
    _add(node, "OrganName", organ.name)
    _add(node, "OrganizationInCharge", organ.in_charge or organ.name)


def _response_for(parent: etree._Element, response: ResponseFor) -> None:
    node = _add(parent, "ResponseFor", always=True)
    _add(node, "OrganId", response.organ_id)
    _add(node, "Code", response.code)
    _add(node, "PromulgationDate", _date(response.promulgation_date))
    _add(node, "DocumentId", response.document_id)


def _envelope() -> tuple[etree._Element, etree._Element, etree._Element]:
    root = etree.Element(_q("edXML"), nsmap={None: EDXML_NS})
    envelope = etree.SubElement(root, _q("edXMLEnvelope"), nsmap={"edXML": EDXML_NS})
    header = etree.SubElement(envelope, _q("edXMLHeader"))
    return root, envelope, header


@dataclass(frozen=True)
class StatusOut:
    sender: Organ  # we
    response_for: ResponseFor  # the document, as its sender named it
    status_code: str
    description: str
    timestamp: datetime
    staff: Staff


def status_message(status: StatusOut, *, tz: tzinfo) -> str:
    """A status message (MessageHeader with From, ResponseFor, StaffInfo, StatusCode,
    Description, Timestamp in local time), as UTF-8 text with its XML declaration."""
    root, _, header = _envelope()
    message = _add(header, "MessageHeader", always=True)
    _organ(message, "From", status.sender)
    _response_for(message, status.response_for)
    staff = _add(message, "StaffInfo", always=True)
    _add(staff, "Department", status.staff.department)
    _add(staff, "Staff", status.staff.name)
    _add(staff, "Email", status.staff.email)
    _add(staff, "Mobile", status.staff.mobile)
    _add(message, "StatusCode", status.status_code)
    _add(message, "Description", status.description)
    _add(message, "Timestamp", _timestamp(status.timestamp, tz))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")


def _split_symbol(symbol: str | None) -> tuple[str | None, str | None]:
    if not symbol:
        return None, None
    number, slash, notation = symbol.partition("/")
    return (number, notation) if slash else (symbol, None)


def _document_header(header: etree._Element, message: DocumentMessage, *, traced_by: str | None,
                     at: datetime, tz: tzinfo) -> None:
    head = _add(header, "MessageHeader", always=True)
    _organ(head, "From", message.sender)
    for recipient in message.recipients:
        _organ(head, "To", recipient)
    _add(head, "DocumentId", message.document_id)
    number, notation = _split_symbol(message.symbol)
    if number:
        code = _add(head, "Code", always=True)
        _add(code, "CodeNumber", number)
        _add(code, "CodeNotation", notation)
    if message.document_date or message.place:
        info = _add(head, "PromulgationInfo", always=True)
        _add(info, "Place", message.place)
        _add(info, "PromulgationDate", _date(message.document_date))
    if message.document_type_name:
        kind = _add(head, "DocumentType", always=True)
        _add(kind, "TypeName", message.document_type_name)
    _add(head, "Subject", message.subject)
    _add(head, "Content", message.content)
    if message.signer_name or message.signer_position:
        signer = _add(head, "SignerInfo", always=True)
        _add(signer, "Position", message.signer_position)
        _add(signer, "FullName", message.signer_name)
    _add(head, "DueDate", _date(message.due_date))
    other = _add(head, "OtherInfo", always=True)
    _add(other, "Priority", message.priority if message.priority is not None else 0)
    _add(other, "PageAmount", message.page_count)
    for response in message.response_for:
        _response_for(head, response)
    trace = _add(header, "TraceHeaderList", always=True)
    business = _add(trace, "Bussiness", always=True)
    _add(business, "DocumentId", message.business_document_id)
    _add(business, "BussinessDocType", _CODE_OF_BUSINESS[message.business_type])
    _add(business, "BussinessDocReason", message.business_reason)
    if message.replaced_document_ids:
        replaced = _add(business, "ReplacementInfoList", always=True)
        for document_id in message.replaced_document_ids:
            _add(_add(replaced, "ReplacementInfo", always=True), "DocumentId", document_id)
    if traced_by:
        hop = _add(trace, "TraceHeader", always=True)
        _add(hop, "OrganId", traced_by)
        _add(hop, "Timestamp", _timestamp(at, tz))


def write_document(out: BinaryIO, message: DocumentMessage, *, traced_by: str | None, at: datetime,
                   tz: tzinfo) -> None:
    """Write ``message`` (its attachments read from their ``path``) as an edXML document message."""
    _, envelope, header = _envelope()
    _document_header(header, message, traced_by=traced_by, at=at, tz=tz)
    body = _add(envelope, "edXMLBody", always=True)
    manifest = etree.SubElement(body, _q("edXMLManifest"), version="1.0")
    for position, attachment in enumerate(message.attachments, start=1):
        reference = _add(manifest, "Reference", always=True)
        _add(reference, "ContentId", f"cid:{attachment.content_id or position}")
        _add(reference, "ContentType", attachment.content_type.split(";")[0])
        _add(reference, "AttachmentName", attachment.filename)
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(_q("edXML"), nsmap={None: EDXML_NS}):
            xf.write(envelope, pretty_print=True)
            with xf.element(_q("AttachmentEncoded")):
                for position, attachment in enumerate(message.attachments, start=1):
                    with xf.element(_q("Attachment")):
                        xf.write("\n")
                        for local, value in (("ContentId", f"cid:{attachment.content_id or position}"),
                                             ("AttachmentName", attachment.filename),
                                             ("Description", attachment.description),
                                             ("ContentType", attachment.content_type.split(";")[0])):
                            if value is not None:
                                element = etree.Element(_q(local))
                                element.text = value
                                xf.write(element)
                                xf.write("\n")
                        with xf.element(_q("ContentTransferEncoded")):
                            for chunk in _base64_lines(attachment.path):
                                xf.write(chunk)


def _base64_lines(path: Path) -> Iterable[str]:
    with path.open("rb") as source:
        while chunk := source.read(_B64_CHUNK):
            yield base64.b64encode(chunk).decode("ascii") + "\n"
