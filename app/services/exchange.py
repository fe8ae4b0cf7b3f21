"""The electronic inbox: messages from the hub taken in, and the clerk's decisions on them.

*Receiving* parses the message (app.exchange, no database), stores its raw bytes and each
attachment as blobs (by SHA-256, beside the documents' attachments) and writes the inbox item
with the status 01 for its sender, in one transaction. The same message sent again (same
sender, DocumentId, business type and bytes) is the same item. A message not addressed to us
is kept with a warning so the clerk can refuse it; a revoke, update, replace or a status 13
looks for the registered document it names.

*Deciding*: register (Decree 30, Art. 21: in the same arrival sequence as paper documents),
refuse (02), accept or reject a change (15/16). An accepted revoke recalls the document through
the slip's own ``recall`` action (app.services.workflow), so its rules and events apply; an
accepted update is an ``amend`` event holding the old and new values; an accepted replace
registers the new document and recalls the one it replaces.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, FieldError, NotFound, ValidationFailed, storage_failure
from app.exchange.message import (
    PRIORITY_OF_URGENCY,
    URGENCY_OF_PRIORITY,
    BusinessType,
    DocumentMessage,
    NotEdxml,
    Organ,
    ParsedAttachment,
    ParsedMessage,
)
from app.exchange.parser import discard_attachments, parse_message
from app.exchange.payload import PayloadLimits
from app.i18n import msg
from app.i18n.validation import field_problem
from app.models import Attachment, DocumentEvent, ExchangeAttachment, ExchangeMessage, IncomingDocument, User
from app.schemas.documents import DocumentCreate
from app.schemas.workflow import RecallAction
from app.services import deadline_marks, exchange_outbox, notifications, signatures, webhooks
from app.services.access import visible_documents
from app.services.attachments import blob_path, place_blob
from app.services.documents import identity_keys, register_document, visible_ids
from app.signatures.verify import registration_warning
from app.text import fold, search_terms
from app.workflow.exchange_status import StatusCode
from app.workflow.symbols import InvalidSymbol, parse_symbol
from app.workflow.vocabulary import Channel

CHANGE_TYPES = frozenset({BusinessType.revoke, BusinessType.update, BusinessType.replace})
# The fields an accepted update (BussinessDocType 2) may change on the registered document.
UPDATABLE = ("summary", "due_date", "urgency", "signer_name", "signer_position", "page_count")


@dataclass(frozen=True)
class Ours:
    """Who we are on the exchange (settings ``organ_id``, ``organ_name``)."""

    organ_id: str
    organ_name: str


@dataclass(frozen=True)
class Received:
    item: ExchangeMessage
    replayed: bool


class MessageRefused(ValidationFailed):
    """Not well-formed, or not edXML: 422 with the line and column."""

    def __init__(self, problem: NotEdxml):
        where = problem.message if problem.line is None else msg(
            "line {line}, column {column}: {reason}", line=problem.line, column=problem.column or 0,
            reason=problem.message)
        super().__init__("body", where, code=problem.code)
        assert self.errors is not None
        self.errors[0] = FieldError("body", problem.code, where, line=problem.line, column=problem.column)


def _dedupe_key(message: ParsedMessage, raw_sha256: str) -> str:
    kind = message.business_type.value if isinstance(message, DocumentMessage) else f"status:{message.status_code}"
    document_id = message.document_id if isinstance(message, DocumentMessage) else message.response_for.document_id
    key = "\x1f".join([message.sender.organ_id or "", document_id or "", kind, raw_sha256])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def receive(*, session: Session, actor: User, raw: Path, raw_sha256: str, raw_size: int, root: Path, ours: Ours,
            now: datetime, tz: ZoneInfo, limits: PayloadLimits = PayloadLimits(),
            verification: signatures.Verification | None = None) -> Received:
    """Take in the message whose bytes are in ``raw`` (a temporary file in ``root``, which this
    takes over). Commits nothing: the caller commits once."""
    try:
        with raw.open("rb") as stream:
            message = parse_message(stream, root, tz=tz, limits=limits)
    except NotEdxml as exc:
        raise MessageRefused(exc) from None
    except OSError as exc:
        failure = storage_failure(exc)
        if failure is None:
            raise
        raise failure from exc
    key = _dedupe_key(message, raw_sha256)
    earlier = session.scalar(select(ExchangeMessage).where(ExchangeMessage.dedupe_key == key))
    if earlier is not None:
        discard_attachments(message)
        return Received(earlier, replayed=True)
    try:
        place_blob(root, raw, raw_sha256)
        for attachment in getattr(message, "attachments", []):
            place_blob(root, attachment.path, attachment.sha256)
    except OSError as exc:
        discard_attachments(message)
        failure = storage_failure(exc)
        if failure is None:
            raise
        raise failure from exc
    item = _item(message, key=key, raw_sha256=raw_sha256, raw_size=raw_size, actor=actor, ours=ours, now=now)
    try:
        with session.begin_nested():  # (begin_nested flushes what is pending: add the item inside it)
            session.add(item)
            session.flush()
    except IntegrityError:
        # The same message, taken in by a concurrent request a moment ago.
        earlier = session.scalar(select(ExchangeMessage).where(ExchangeMessage.dedupe_key == key))
        if earlier is None:
            raise
        return Received(earlier, replayed=True)
    if isinstance(message, DocumentMessage):
        if verification is not None:
            for attachment in item.attachments:
                signatures.request(session=session, verification=verification, sha256=attachment.sha256,
                                   content_type=attachment.content_type, now=now)
        _supersede_earlier(session, item)
        _find_target(session, item)
        exchange_outbox.enqueue(session=session, item=item, code=StatusCode.received, actor=actor, now=now, tz=tz)
        notifications.received_electronic(session=session, symbol=item.symbol, issuer=item.issuer, item_id=item.id,
                                          now=now, tz=tz)
        webhooks.emit(session=session, event_type="exchange.received", now=now, data={
            "inbox_id": item.id, "symbol": item.symbol, "issuer": item.issuer, "from_organ_id": item.from_organ_id,
            "business_type": item.business_type})
    else:
        _record_status(session, item)
    return Received(item, replayed=False)


def _item(message: ParsedMessage, *, key: str, raw_sha256: str, raw_size: int, actor: User, ours: Ours,
          now: datetime) -> ExchangeMessage:
    warnings = [{"code": n.code, "message": n.message} for n in message.notices]
    common = dict(
        dedupe_key=key, from_organ_id=message.sender.organ_id,
        from_organ_name=message.sender.name or message.sender.in_charge, raw_sha256=raw_sha256, raw_size=raw_size,
        received_at=now, received_by_id=actor.id, our_organ_id=ours.organ_id, our_organ_name=ours.organ_name,
    )
    if not isinstance(message, DocumentMessage):
        response = message.response_for
        return _searchable(ExchangeMessage(
            kind="status", state="recorded", status_code=message.status_code, edxml_document_id=response.document_id,
            symbol=response.code, document_date=response.promulgation_date, reason=message.description,
            named_document_ids=[response.document_id] if response.document_id else [], to_organ_ids=[],
            warnings=warnings, urgency="normal", **common))
    recipients = [r.organ_id for r in message.recipients if r.organ_id]
    if ours.organ_id not in recipients:
        warnings.append({"code": "exchange.not_addressed_to_us",
                         "message": f"addressed to {', '.join(recipients) or 'nobody'}, not to us ({ours.organ_id})"})
    item = ExchangeMessage(
        kind="document", state="received", business_type=message.business_type.value,
        edxml_document_id=message.document_id, to_organ_ids=recipients,
        symbol=_cut(message.symbol, 100), document_date=message.document_date,
        document_type=_cut(message.document_type_name, 100),
        issuer=_cut(message.sender.name or message.sender.in_charge or message.sender.organ_id, 255),
        summary=_cut(message.subject, 500), signer_name=_cut(message.signer_name, 255),
        signer_position=_cut(message.signer_position, 255), due_date=message.due_date,
        urgency=URGENCY_OF_PRIORITY.get(message.priority or 0, "normal"), page_count=message.page_count,
        reason=message.business_reason, named_document_ids=message.named_document_ids(), warnings=warnings,
        **common)
    item.attachments = [
        ExchangeAttachment(position=i, filename=_cut(a.filename, 255), declared_type=_cut(a.declared_type, 255),
                           content_type=a.content_type, size=a.size, sha256=a.sha256,
                           unpacked_from=_cut(a.unpacked_from, 255))
        for i, a in enumerate(message.attachments, start=1)
    ]
    return _searchable(item)


def _searchable(item: ExchangeMessage) -> ExchangeMessage:
    words = (item.symbol, item.summary, item.issuer, item.from_organ_name, item.from_organ_id)
    item.search_text = fold(" ".join(w for w in words if w))
    return item


def _cut(value: str | None, length: int) -> str | None:
    return value[:length] if value else value


def _supersede_earlier(session: Session, item: ExchangeMessage) -> None:
    """A corrected copy of a message still waiting (same sender, DocumentId and type, other
    bytes) takes its place: the earlier one is ``superseded``, kept, and no longer waits."""
    if not item.edxml_document_id:
        return
    for earlier in session.scalars(select(ExchangeMessage).where(
            ExchangeMessage.id != item.id, ExchangeMessage.state == "received", ExchangeMessage.kind == "document",
            ExchangeMessage.from_organ_id == item.from_organ_id,
            ExchangeMessage.edxml_document_id == item.edxml_document_id,
            ExchangeMessage.business_type == item.business_type)):
        earlier.state = "superseded"
        earlier.decided_at = item.received_at


def _find_target(session: Session, item: ExchangeMessage) -> None:
    """The registered document a revoke, update or replace names: by the DocumentId it came
    under, else by symbol, issuer and date (a paper copy registered by hand)."""
    if item.business_type not in CHANGE_TYPES and not (item.kind == "status" and item.status_code == "13"):
        return
    target = None
    if item.named_document_ids:
        target = session.scalar(select(ExchangeMessage.document_id).where(
            ExchangeMessage.edxml_document_id.in_(item.named_document_ids),
            ExchangeMessage.from_organ_id == item.from_organ_id,
            ExchangeMessage.document_id.is_not(None),
            ExchangeMessage.state.in_(("registered", "accepted"))).order_by(ExchangeMessage.id.desc()).limit(1))
    if target is None and item.symbol and item.document_date and (item.issuer or item.from_organ_name):
        symbol_key, issuer_key = _identity(item.symbol, item.issuer or item.from_organ_name or "")
        target = session.scalar(select(func.min(IncomingDocument.id)).where(
            IncomingDocument.symbol_key == symbol_key, IncomingDocument.issuer_key == issuer_key,
            IncomingDocument.document_date == item.document_date))
    item.target_document_id = target
    if target is None:
        item.warnings = [*item.warnings, {
            "code": "exchange.target_not_found",
            "message": "the document this message names is not registered here: "
                       + (", ".join(item.named_document_ids) or item.symbol or "no DocumentId")}]


def _record_status(session: Session, item: ExchangeMessage) -> None:
    """A status about a document: 13 (the sender wants it back) waits for the clerk like a
    revoke; the others are recorded against the document they answer."""
    if item.status_code == "13":
        item.state = "received"
        item.business_type = BusinessType.revoke.value
        # The sender of 13 is the document's sender: its DocumentId names what we registered.
        item.issuer = item.from_organ_name
        _find_target(session, item)


# --- reading ----------------------------------------------------------------------------------


INBOX_STATES = ("received", "registered", "refused", "superseded", "accepted", "rejected")


def inbox_page(*, session: Session, state: str | None = None, from_organ_id: str | None = None,
               q: str | None = None, limit: int, offset: int) -> tuple[list[ExchangeMessage], int]:
    """A page of the inbox, newest first, and how many items match."""
    query = inbox_query(state=state, from_organ_id=from_organ_id, q=q)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return list(session.scalars(query.limit(limit).offset(offset))), total


def inbox_query(*, state: str | None = None, from_organ_id: str | None = None, q: str | None = None):
    query = select(ExchangeMessage).where(or_(ExchangeMessage.kind == "document",
                                              ExchangeMessage.status_code == "13"))
    if state:
        query = query.where(ExchangeMessage.state == state)
    if from_organ_id:
        query = query.where(ExchangeMessage.from_organ_id == from_organ_id)
    for term in search_terms(q or ""):
        query = query.where(ExchangeMessage.search_text.contains(term, autoescape=True))
    return query.order_by(ExchangeMessage.received_at.desc(), ExchangeMessage.id.desc())


def get_item(session: Session, item_id: int, *, lock: bool = False) -> ExchangeMessage:
    query = select(ExchangeMessage).where(ExchangeMessage.id == item_id)
    if lock:
        query = query.with_for_update()
    item = session.scalar(query)
    if item is None:
        raise NotFound(msg("inbox item {id} does not exist", id=item_id), code="inbox.not_found")
    return item


def _identity(symbol: str, issuer: str) -> tuple[str, str]:
    """The registration's identity keys for a symbol as the sender wrote it (parsed as a clerk's
    entry would be, when it parses)."""
    try:
        symbol = parse_symbol(symbol).symbol
    except InvalidSymbol:
        pass
    return identity_keys(symbol, issuer)


def probable_duplicates(*, session: Session, user: User, items: list[ExchangeMessage]) -> dict[int, int]:
    """item id → a registered document with the same symbol, issuer and date that ``user`` may
    see (the paper copy often arrives too). A hidden one is not named (nor inferable). Two
    queries for a whole page of items."""
    keys = {item.id: (*_identity(item.symbol, item.issuer), item.document_date) for item in items
            if item.kind == "document" and item.state == "received" and item.symbol and item.issuer
            and item.document_date}
    if not keys:
        return {}
    by_key: dict[tuple, list[int]] = {}
    for document_id, *key in session.execute(
            select(IncomingDocument.id, IncomingDocument.symbol_key, IncomingDocument.issuer_key,
                   IncomingDocument.document_date)
            .where(tuple_(IncomingDocument.symbol_key, IncomingDocument.issuer_key,
                          IncomingDocument.document_date).in_(sorted(set(keys.values()))))):
        by_key.setdefault(tuple(key), []).append(document_id)
    seen = visible_ids(session=session, user=user, ids=[i for ids in by_key.values() for i in ids])
    found = {}
    for item_id, key in keys.items():
        if visible := sorted(i for i in by_key.get(key, []) if i in seen):
            found[item_id] = visible[0]
    return found


def raw_path(root: Path, item: ExchangeMessage) -> Path:
    return blob_path(root, item.raw_sha256)


# --- deciding ---------------------------------------------------------------------------------


def _waiting(item: ExchangeMessage) -> None:
    if item.state != "received":
        raise Conflict(msg("inbox item {id} is {state}; only a received item can be decided", id=item.id,
                           state=item.state), code="inbox.decided")


def _decided(item: ExchangeMessage, actor: User, now: datetime, state: str, reason: str | None = None) -> None:
    item.state = state
    item.decided_at = now
    item.decided_by_id = actor.id
    item.decision_reason = reason


def _registration_data(item: ExchangeMessage, overrides: dict[str, Any]) -> DocumentCreate:
    prefilled = {
        "symbol": item.symbol, "document_date": item.document_date, "issuer": item.issuer, "summary": item.summary,
        "urgency": item.urgency, "due_date": item.due_date, "page_count": item.page_count,
        "signer_name": item.signer_name, "signer_position": item.signer_position,
    }
    data = {k: v for k, v in prefilled.items() if v is not None}
    data.update({k: v for k, v in overrides.items() if v is not None})
    data["channel"] = Channel.electronic.value
    data.setdefault("received_at", item.received_at)
    try:
        return DocumentCreate.model_validate(data)
    except ValidationError as exc:
        field, code, message = field_problem(exc.errors()[0], data)
        if code == "missing":
            message = msg("the message does not carry it: send it in the body")
        raise ValidationFailed(field, message, code=code) from None


def _register(session: Session, item: ExchangeMessage, actor: User, overrides: dict[str, Any], now: datetime,
              tz: ZoneInfo) -> IncomingDocument:
    data = _registration_data(item, overrides)
    document = register_document(session=session, actor=actor, data=data, now=now, tz=tz).document
    session.add_all(Attachment(document_id=document.id, filename=a.filename, content_type=a.content_type,
                               size=a.size, sha256=a.sha256, uploaded_by_id=actor.id, uploaded_at=now)
                    for a in item.attachments)
    return document


# Which decision a received item takes: one owner for the deciding functions below and for the
# forms a clerk is offered (``decisions_for``). Each says why a decision does not apply, or None.

def _register_refusal(item: ExchangeMessage) -> Conflict | None:
    """A new document (or a replace that names nothing registered here) is registered."""
    if item.kind != "document" or (item.business_type != BusinessType.new and item.target_document_id is not None):
        return Conflict(msg("inbox item {id} is a {kind} of a registered document: accept or reject it", id=item.id,
                            kind=item.business_type), code="inbox.wrong_decision")
    if item.business_type in (BusinessType.revoke, BusinessType.update):
        return Conflict(msg("inbox item {id} is a {kind} naming no registered document: refuse it", id=item.id,
                            kind=item.business_type), code="inbox.wrong_decision")
    return None


def _accept_refusal(item: ExchangeMessage) -> Conflict | None:
    """A revoke, update or replace of a document registered here is accepted (or rejected)."""
    if item.business_type not in CHANGE_TYPES:
        return Conflict(msg("inbox item {id} is a new document: register or refuse it", id=item.id),
                        code="inbox.wrong_decision")
    if item.target_document_id is None:
        return Conflict(msg("inbox item {id} names no document registered here: reject it", id=item.id),
                        code="inbox.wrong_decision")
    return None


def _reject_refusal(item: ExchangeMessage) -> Conflict | None:
    if item.business_type not in CHANGE_TYPES:
        return Conflict(msg("inbox item {id} is a new document: refuse it instead", id=item.id),
                        code="inbox.wrong_decision")
    return None


def decisions_for(item: ExchangeMessage) -> list[str]:
    """What the clerk may decide on ``item`` now (register, refuse, accept, reject): none once decided."""
    if item.state != "received":
        return []
    refusals = {"register": _register_refusal(item), "refuse": None, "accept": _accept_refusal(item),
                "reject": _reject_refusal(item)}
    return [decision for decision, refusal in refusals.items() if refusal is None]


def register(*, session: Session, actor: User, item_id: int, overrides: dict[str, Any], now: datetime,
             tz: ZoneInfo) -> tuple[ExchangeMessage, IncomingDocument]:
    """Register a received new document (or a replace that names nothing registered here).
    Uncommitted: the caller commits at once (the register's counter is locked until then)."""
    item = get_item(session, item_id, lock=True)
    _waiting(item)
    if (refusal := _register_refusal(item)) is not None:
        raise refusal
    document = _register(session, item, actor, overrides, now, tz)
    webhooks.emit(session=session, event_type="document.registered", now=now, document=document,
                  data={"channel": "electronic", "inbox_id": item.id})
    _decided(item, actor, now, "registered")
    item.document_id = document.id
    session.flush()
    exchange_outbox.enqueue(session=session, item=item, code=StatusCode.registered, actor=actor, now=now, tz=tz,
                            document_id=document.id)
    return item, document


def verify_attachments(*, session: Session, verification: signatures.Verification, item: ExchangeMessage,
                       now: datetime) -> None:
    """After the receipt is committed: verify the item's small PDFs (outside any transaction)."""
    checks = signatures.results_for(session, [a.sha256 for a in item.attachments])
    for attachment in item.attachments:
        signatures.verify_inline(session=session, verification=verification, check=checks.get(attachment.sha256),
                                 size=attachment.size, now=now)


def signature_warnings(session: Session, item: ExchangeMessage) -> list[dict[str, str]]:
    """The registration's warning about the main attachment's signature, if any."""
    main = next((a for a in item.attachments if a.content_type == signatures.PDF), None)
    status = None
    if main is not None:
        check = signatures.results_for(session, [main.sha256]).get(main.sha256)
        status = check.status if check is not None and check.state == "done" else "pending"
    warning = registration_warning(status)
    return [{"code": warning[0], "message": warning[1]}] if warning else []


def refuse(*, session: Session, actor: User, item_id: int, reason: str, now: datetime,
           tz: ZoneInfo) -> ExchangeMessage:
    item = get_item(session, item_id, lock=True)
    _waiting(item)
    _decided(item, actor, now, "refused", reason)
    exchange_outbox.enqueue(session=session, item=item, code=StatusCode.refused, actor=actor, now=now, tz=tz,
                            detail=reason)
    return item


def accept(*, session: Session, actor: User, item_id: int, comment: str | None, now: datetime,
           tz: ZoneInfo) -> ExchangeMessage:
    """Apply a sender's revoke, update or replace (or status 13) to the document it names; 15."""
    from app.services.workflow import apply_action  # the slip's own rules; it imports the outbox

    item = get_item(session, item_id, lock=True)
    _waiting(item)
    if (refusal := _accept_refusal(item)) is not None:
        raise refusal
    target = item.target_document_id
    reason = comment or item.reason or "Theo đề nghị của cơ quan gửi"
    if item.business_type == BusinessType.revoke:
        apply_action(session=session, user=actor, document_id=target,
                     request=RecallAction(action="recall", comment=f"Thu hồi theo văn bản điện tử: {reason}"),
                     now=now, tz=tz)
    elif item.business_type == BusinessType.update:
        _amend(session, item, actor, target, reason, now)
    else:
        document = _register(session, item, actor, {"allow_duplicate": True}, now, tz)
        item.document_id = document.id
        apply_action(session=session, user=actor, document_id=target,
                     request=RecallAction(action="recall",
                                          comment=f"Thay thế bằng văn bản đến số {document.arrival_number}: {reason}"),
                     now=now, tz=tz)
    _decided(item, actor, now, "accepted", comment)
    session.flush()
    exchange_outbox.enqueue(session=session, item=item, code=StatusCode.change_accepted, actor=actor, now=now,
                            tz=tz, detail=comment, document_id=target)
    return item


def _amend(session: Session, item: ExchangeMessage, actor: User, document_id: int, reason: str,
           now: datetime) -> None:
    """An accepted update: the fields the sender changed, in place, with an ``amend`` event
    holding the old and the new values (the register keeps both)."""
    document = session.scalar(select(IncomingDocument).where(
        IncomingDocument.id == document_id, visible_documents(actor)).with_for_update(of=IncomingDocument))
    if document is None:
        raise NotFound(msg("incoming document {id} does not exist", id=document_id), code="document.not_found")
    changed: dict[str, dict[str, Any]] = {}
    for field in UPDATABLE:
        new = getattr(item, field)
        old = getattr(document, field)
        if new is not None and new != old:
            setattr(document, field, new)
            changed[field] = {"from": old.isoformat() if hasattr(old, "isoformat") else old,
                              "to": new.isoformat() if hasattr(new, "isoformat") else new}
    last = session.scalar(select(func.max(DocumentEvent.seq)).where(DocumentEvent.document_id == document.id))
    session.add(DocumentEvent(document_id=document.id, seq=(last or 0) + 1, action="amend",
                              from_state=document.state, to_state=document.state, actor_id=actor.id, at=now,
                              comment=reason, data={"changed": changed, "inbox_id": item.id}))
    if "summary" in changed:
        document.search_text = fold(f"{document.symbol} {document.summary} {document.issuer}")
    document.version += 1
    document.updated_at = now
    deadline_marks.refresh(session, document)


def reject(*, session: Session, actor: User, item_id: int, reason: str, now: datetime,
           tz: ZoneInfo) -> ExchangeMessage:
    item = get_item(session, item_id, lock=True)
    _waiting(item)
    if (refusal := _reject_refusal(item)) is not None:
        raise refusal
    _decided(item, actor, now, "rejected", reason)
    exchange_outbox.enqueue(session=session, item=item, code=StatusCode.change_rejected, actor=actor, now=now,
                            tz=tz, detail=reason, document_id=item.target_document_id)
    return item


# --- forwarding -------------------------------------------------------------------------------


def document_for_forwarding(*, session: Session, document: IncomingDocument, root: Path, ours: Ours,
                            to: list[str]) -> DocumentMessage:
    """A registered document as an edXML document message: the header from the register (the
    issuer stays the sender, ``From``), the attachments' bytes from the blobs. Parsed again, it
    gives the same fields and bytes."""
    origin = exchange_outbox.origin_of(session=session, document=document)
    edxml_id = origin.edxml_document_id if origin and origin.edxml_document_id else (
        f"{ours.organ_id},{document.document_date:%Y/%m/%d},{document.symbol}")
    attachments = session.scalars(select(Attachment).where(Attachment.document_id == document.id)
                                  .order_by(Attachment.id)).all()
    return DocumentMessage(
        business_type=BusinessType.new, document_id=edxml_id,
        sender=Organ(origin.from_organ_id if origin else None, document.issuer),
        recipients=[Organ(organ_id) for organ_id in to], symbol=document.symbol,
        document_date=document.document_date, place=None,
        document_type_name=origin.document_type if origin else None, subject=document.summary, content=None,
        signer_name=document.signer_name, signer_position=document.signer_position, due_date=document.due_date,
        priority=PRIORITY_OF_URGENCY.get(document.urgency, 0), page_count=document.page_count,
        business_reason=None, business_document_id=None, replaced_document_ids=[], response_for=[],
        attachments=[ParsedAttachment(content_id=str(a.id), filename=a.filename, declared_type=None,
                                      description=None, path=blob_path(root, a.sha256), size=a.size,
                                      sha256=a.sha256, content_type=a.content_type) for a in attachments],
    )
