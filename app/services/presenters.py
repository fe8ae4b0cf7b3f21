"""Turn ORM rows into response bodies for a given reader (allowed actions depend on who asks)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, object_session

from app.models import ExchangeMessage, IncomingDocument, SignatureCheck, User
from app.schemas.documents import AssignmentOut, DocumentOut
from app.schemas.exchange import InboxItemOut
from app.services import exchange, rule_columns, signatures
from app.services.documents import visible_ids
from app.services.reports import report_ids_for
from app.services.workflow import Identity, actions_for
from app.workflow import deadlines


def visible_originals(session: Session | None, reader: list[Identity], documents: Sequence[IncomingDocument]) -> set[int]:
    """The originals of these duplicates that ``reader`` may see: ``duplicate_of`` names no other."""
    originals = [d.duplicate_of_id for d in documents if d.duplicate_of_id is not None]
    if not originals or session is None:
        return set()
    return visible_ids(session=session, user=reader[0].user, ids=originals,
                       delegators=[i.on_behalf_of for i in reader if i.on_behalf_of])


def document_out(
    document: IncomingDocument, reader: list[Identity], now: datetime, tz: ZoneInfo,
    report_ids: list[int] | None = None, originals: Collection[int] | None = None,
) -> DocumentOut:
    """The document as ``reader`` (a user and whom they stand in for) sees it.

    Timestamps are shown in the agency's time zone (stored in UTC). ``report_ids`` and the
    visible ``originals`` of duplicates are looked up when not given; a page passes them in
    (``documents_out``), one query each for all its documents.
    """
    session = object_session(document)
    if report_ids is None:
        report_ids = report_ids_for(session=session, document_ids=[document.id]).get(document.id, []) if session else []
    if originals is None:
        originals = visible_originals(session, reader, [document])
    today = now.astimezone(tz).date()
    parts = rule_columns.parts(document)
    late = deadlines.overdue_parts(document.state, document.due_date, parts, today)
    assignments = [
        AssignmentOut(
            id=a.id,
            unit_code=a.unit.code,
            role=a.role,
            state=a.state,
            assignee=a.assignee.username if a.assignee else None,
            due_date=a.due_date,
            overdue=a.id in late,
        )
        for a in document.assignments
    ]
    return DocumentOut(
        id=document.id,
        register_code=document.register.code,
        year=document.year,
        arrival_number=document.arrival_number,
        received_at=document.received_at.astimezone(tz),
        symbol=document.symbol,
        document_number=document.document_number,
        document_type=document.document_type,
        issuer_code=document.issuer_code,
        symbol_year=document.symbol_year,
        symbol_warning=document.symbol_warning,
        symbol_as_written=document.symbol_as_written,
        document_date=document.document_date,
        issuer=document.issuer,
        summary=document.summary,
        urgency=document.urgency,
        confidentiality=document.confidentiality,
        due_date=document.due_date,
        page_count=document.page_count,
        signer_name=document.signer_name,
        signer_position=document.signer_position,
        channel=document.channel,
        notes=document.notes,
        duplicate_of=document.duplicate_of_id if document.duplicate_of_id in originals else None,
        state=document.state,
        version=document.version,
        overdue=deadlines.document_is_overdue(document.state, document.due_date, parts, today),
        allowed_actions=actions_for(reader, document),
        assignments=assignments,
        created_by=document.created_by.username,
        created_at=document.created_at.astimezone(tz),
        report_ids=report_ids,
    )


def documents_out(
    documents: Sequence[IncomingDocument], reader: list[Identity], now: datetime, tz: ZoneInfo
) -> list[DocumentOut]:
    """A page of documents, their linked reports fetched in one query."""
    session = object_session(documents[0]) if documents else None
    reports = report_ids_for(session=session, document_ids=[d.id for d in documents]) if session else {}
    originals = visible_originals(session, reader, documents)
    return [document_out(d, reader, now, tz, report_ids=reports.get(d.id, []), originals=originals) for d in documents]


def signature_fields(content_type: str, check: SignatureCheck | None) -> dict:
    """The ``SignedFile`` part of an attachment's body: its signatures as last verified."""
    if content_type.split(";")[0] != "application/pdf":
        return {"signature_status": "not_pdf", "signatures": [], "signatures_checked_at": None}
    if check is None or check.state != "done":
        return {"signature_status": "pending", "signatures": [], "signatures_checked_at": None}
    return {"signature_status": check.status, "signatures": check.signatures, "signatures_checked_at": check.checked_at}


_ITEM_FIELDS = [name for name in InboxItemOut.model_fields if name not in ("attachments", "duplicate_of")]
_ATTACHMENT_FIELDS = ["id", "filename", "content_type", "declared_type", "size", "sha256", "unpacked_from"]


def inbox_items_out(session: Session, user: User, items: list[ExchangeMessage]) -> list[InboxItemOut]:
    """Inbox items as a clerk sees them: the probable duplicate they may see (never a hidden one),
    each attachment's signatures as last verified. For the API's inbox and the console's alike."""
    duplicates = exchange.probable_duplicates(session=session, user=user, items=items)
    checks = signatures.results_for(session, [a.sha256 for item in items for a in item.attachments])
    return [InboxItemOut.model_validate({
        **{name: getattr(item, name) for name in _ITEM_FIELDS},
        "duplicate_of": duplicates.get(item.id),
        "attachments": [{**{name: getattr(a, name) for name in _ATTACHMENT_FIELDS},
                         **signature_fields(a.content_type, checks.get(a.sha256))} for a in item.attachments],
    }) for item in items]
