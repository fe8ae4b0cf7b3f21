"""What an edXML message says, as the parser reads it: typed, normalised to NFC, with warnings.

Only what the product uses is mapped; the rest of a message stays in its raw bytes, which are
stored as received. Every irregularity the parser tolerates is a ``Notice`` with a stable code
(``exchange.*``) so that a clerk sees it and a client can translate it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"


class BusinessType(StrEnum):
    """Bussiness/BussinessDocType: 0 new, 1 revoke (thu hồi), 2 update (cập nhật), 3 replace (thay thế)."""

    new = "new"
    revoke = "revoke"
    update = "update"
    replace = "replace"


BUSINESS_TYPE_CODES = {"0": BusinessType.new, "1": BusinessType.revoke, "2": BusinessType.update,
                       "3": BusinessType.replace}


@dataclass(frozen=True)
class Notice:
    """A tolerated irregularity: ``code`` is stable (``exchange.bad_date``), ``message`` says where."""

    code: str
    message: str


@dataclass(frozen=True)
class Organ:
    organ_id: str | None
    name: str | None = None
    in_charge: str | None = None  # OrganizationInCharge


@dataclass(frozen=True)
class ResponseFor:
    """The document a message answers or names: its sender's id, symbol, date and DocumentId."""

    organ_id: str | None
    code: str | None
    document_id: str | None
    promulgation_date: date | None


@dataclass(frozen=True)
class Staff:
    department: str | None = None
    name: str | None = None
    email: str | None = None
    mobile: str | None = None


@dataclass
class ParsedAttachment:
    """One attachment, its bytes decoded into ``path`` (a file the caller takes over).

    ``size`` and ``sha256`` are those of the bytes at ``path``: for a single-entry zip the
    unpacked entry (``unpacked_from`` names it), otherwise the decoded payload.
    """

    content_id: str | None
    filename: str
    declared_type: str | None
    description: str | None
    path: Path
    size: int
    sha256: str
    content_type: str  # sniffed from the bytes
    unpacked_from: str | None = None


@dataclass
class DocumentMessage:
    """A document message: new, or a revoke/update/replace of one sent before."""

    business_type: BusinessType
    document_id: str | None  # the edXML DocumentId (OrganId,yyyy/MM/dd,symbol or opaque)
    sender: Organ
    recipients: list[Organ]
    symbol: str | None
    document_date: date | None
    place: str | None
    document_type_name: str | None
    subject: str | None
    content: str | None
    signer_name: str | None
    signer_position: str | None
    due_date: date | None
    priority: int | None  # 0 thường … 3 hỏa tốc, 4 hỏa tốc hẹn giờ
    page_count: int | None
    business_reason: str | None
    business_document_id: str | None  # Bussiness/DocumentId
    replaced_document_ids: list[str]  # ReplacementInfoList/ReplacementInfo/DocumentId
    response_for: list[ResponseFor]
    attachments: list[ParsedAttachment]
    notices: list[Notice] = field(default_factory=list)
    kind: str = "document"

    def named_document_ids(self) -> list[str]:
        """The DocumentIds a revoke, update or replace may name, most specific first."""
        ids = [self.business_document_id, *self.replaced_document_ids, self.document_id,
               *(r.document_id for r in self.response_for)]
        seen: list[str] = []
        for value in ids:
            if value and value not in seen:
                seen.append(value)
        return seen


@dataclass
class StatusMessage:
    """A status message (StatusCode 01…16) about a document: ``response_for`` names it."""

    sender: Organ
    response_for: ResponseFor
    status_code: str  # two digits, leading zero kept
    description: str | None
    timestamp: datetime | None
    staff: Staff
    notices: list[Notice] = field(default_factory=list)
    kind: str = "status"


ParsedMessage = DocumentMessage | StatusMessage


class NotEdxml(Exception):
    """The bytes are not a well-formed XML document, or not edXML: refused (422) with a position."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None, code: str = "exchange.not_xml"):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.code = code

    def where(self) -> str:
        if self.line is None:
            return self.message
        return f"line {self.line}, column {self.column or 0}: {self.message}"


# OtherInfo/Priority ↔ the register's urgency: 0 thường, 1 khẩn, 2 thượng khẩn, 3 hỏa tốc,
# 4 hỏa tốc hẹn giờ (which our register records as hỏa tốc).
URGENCY_OF_PRIORITY = {0: "normal", 1: "urgent", 2: "very_urgent", 3: "flash", 4: "flash"}
PRIORITY_OF_URGENCY = {"normal": 0, "urgent": 1, "very_urgent": 2, "flash": 3}
