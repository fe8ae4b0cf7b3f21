"""The electronic exchange: messages in from the hub, the clerk's inbox, the outbox of statuses."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from app.api.deps import ClerkUser, CurrentUser, Now, SessionDep, SettingsDep, VerificationDep, require_roles
from app.api.params import DocumentId, id_path
from app.api.problems import error_responses
from app.config import Settings
from app.errors import NotFound, PayloadTooLarge, UnsupportedMediaType, ValidationFailed, storage_failure
from app.exchange.payload import TEMP_PREFIX
from app.exchange.writer import write_document
from app.i18n import msg
from app.models import ExchangeOutbox, User
from app.schemas.common import DEFAULT_PAGE, MAX_INT32, MAX_PAGE, CleanText, Page
from app.schemas.documents import DocumentOut, Notice
from app.schemas.exchange import Acceptance, InboxItemOut, InboxRegister, OutboxOut, OutboxQueue, Refusal
from app.services import exchange as svc
from app.services.documents import get_visible_document
from app.services.presenters import document_out, inbox_items_out, visible_originals
from app.services.queues import exchange_outbox as outbox_queue
from app.services.workflow import identities_for
from app.workflow.vocabulary import Role

router = APIRouter(prefix="/exchange", tags=["exchange"], responses=error_responses(401, 403))
InboxId = id_path("Id of an inbox item")
OutboxId = id_path("Id of an outbox message")
ReceiverUser = Annotated[User, Depends(require_roles(Role.clerk, Role.exchange))]
ClerkOrAdmin = Annotated[User, Depends(require_roles(Role.clerk, Role.admin))]
_XML_TYPES = ("application/xml", "text/xml", "application/edxml+xml")
_SPOOL_CHUNK = 1024 * 1024
_ORGAN_ID = re.compile(r"[\w.\-]{1,64}")


def ours(settings: Settings) -> svc.Ours:
    return svc.Ours(settings.organ_id, settings.organ_name or settings.agency_name)




class _Spool:
    """The request body copied to a temporary file in the attachments directory, hashed and
    counted as it arrives: at most ``limit`` bytes (413 beyond)."""

    def __init__(self, root: Path, limit: int) -> None:
        root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=root, prefix=TEMP_PREFIX)
        self.path = Path(name)
        self.out = os.fdopen(fd, "wb")
        self.digest = hashlib.sha256()
        self.size = 0
        self.limit = limit

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise PayloadTooLarge(msg("edXML messages are limited to {mb} MB", mb=self.limit // (1024 * 1024)))
        self.digest.update(chunk)
        self.out.write(chunk)

    def finish(self) -> None:
        self.out.flush()
        os.fsync(self.out.fileno())
        self.out.close()

    def discard(self) -> None:
        if not self.out.closed:
            self.out.close()
        self.path.unlink(missing_ok=True)


async def _spool_body(request: Request, settings: Settings) -> _Spool:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    spool = _Spool(settings.attachments_dir, settings.exchange_max_mb * 1024 * 1024)
    try:
        if media_type == "multipart/form-data":
            form = await request.form(max_files=1, max_fields=5)
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise UnsupportedMediaType(msg("a multipart body must carry the message as the part 'file'"),
                                           code="exchange.no_file_part")
            while chunk := await upload.read(_SPOOL_CHUNK):
                await run_in_threadpool(spool.write, chunk)
        elif media_type in _XML_TYPES:
            # Hashing and writing run on a worker thread, a megabyte at a time, never on the event loop.
            pending = bytearray()
            async for chunk in request.stream():
                pending += chunk
                if len(pending) >= _SPOOL_CHUNK:
                    await run_in_threadpool(spool.write, bytes(pending))
                    pending.clear()
            await run_in_threadpool(spool.write, bytes(pending))
        else:
            raise UnsupportedMediaType(
                msg("send the edXML message as application/xml, text/xml or multipart 'file', not {media_type}",
                    media_type=media_type or "-"), code="exchange.media_type")
        await run_in_threadpool(spool.finish)
    except OSError as exc:
        spool.discard()
        failure = storage_failure(exc)
        if failure is None:
            raise
        raise failure from exc
    except BaseException:
        spool.discard()
        raise
    return spool


_MESSAGE_BODY = {
    "required": True,
    "description": "The edXML message as received from the hub, at most CONGVAN_EXCHANGE_MAX_MB (50 MB)",
    "content": {
        "application/xml": {"schema": {"type": "string", "format": "binary"}},
        "text/xml": {"schema": {"type": "string", "format": "binary"}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"}}}},
    },
}


@router.post(
    "/messages", name="receive", status_code=201, response_model=InboxItemOut,
    openapi_extra={"requestBody": _MESSAGE_BODY},
    responses={200: {"model": InboxItemOut, "description": "The same message again: the same item, with "
                     "`Idempotent-Replayed: true`"}, **error_responses(413, 415, 422, 503, 507)},
)
async def receive(request: Request, response: Response, user: ReceiverUser, session: SessionDep,
                  settings: SettingsDep, verification: VerificationDep, now: Now) -> InboxItemOut:
    """Take in an edXML message: a document (new, revoke, update, replace) becomes an inbox item
    and status 01 to its sender; a status message is recorded (13, a recall request, waits for the
    clerk like a revoke). Not well-formed or not edXML: 422 with `line N, column M`."""
    spool = await _spool_body(request, settings)

    def work() -> tuple[InboxItemOut, bool]:
        try:
            received = svc.receive(session=session, actor=user, raw=spool.path, raw_sha256=spool.digest.hexdigest(),
                                   raw_size=spool.size, root=settings.attachments_dir, ours=ours(settings), now=now,
                                   tz=settings.tz, verification=verification)
            session.commit()
            if not received.replayed:
                svc.verify_attachments(session=session, verification=verification, item=received.item, now=now)
                session.commit()
        finally:
            spool.path.unlink(missing_ok=True)  # placed as a blob, or not wanted
        return inbox_items_out(session, user, [received.item])[0], received.replayed

    body, replayed = await run_in_threadpool(work)
    if replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return body


@router.get("/inbox", name="inbox", response_model=Page[InboxItemOut])
def inbox(
    clerk: ClerkUser, session: SessionDep,
    state: Annotated[str | None, Query(pattern=r"^(received|registered|refused|superseded|accepted|rejected)$")] = None,
    from_organ_id: Annotated[CleanText | None, Query(max_length=64)] = None,
    q: Annotated[CleanText | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0, le=MAX_INT32)] = 0,
) -> Page[InboxItemOut]:
    """Electronic documents received, newest first; `state=received` is what waits for the clerk."""
    items, total = svc.inbox_page(session=session, state=state, from_organ_id=from_organ_id, q=q, limit=limit,
                                  offset=offset)
    return Page(items=inbox_items_out(session, clerk, items), total=total, limit=limit, offset=offset)


@router.get("/inbox/{item_id}", name="inbox-item", response_model=InboxItemOut, responses=error_responses(404))
def inbox_item(item_id: InboxId, clerk: ClerkUser, session: SessionDep) -> InboxItemOut:
    return inbox_items_out(session, clerk, [svc.get_item(session, item_id)])[0]


@router.get(
    "/inbox/{item_id}/raw", name="inbox-raw", response_class=FileResponse, responses={
        200: {"content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
              "description": "The message's bytes exactly as received"}, **error_responses(404)},
)
def inbox_raw(item_id: InboxId, clerk: ClerkUser, session: SessionDep, settings: SettingsDep) -> FileResponse:
    item = svc.get_item(session, item_id)
    return FileResponse(svc.raw_path(settings.attachments_dir, item), media_type="application/xml",
                        headers={"X-Content-SHA256": item.raw_sha256, "X-Content-Type-Options": "nosniff",
                                 "Content-Disposition": f'attachment; filename="inbox-{item.id}.edxml"'})


def _document_body(session: Session, clerk: User, document, settings: Settings, now) -> DocumentOut:
    reader = identities_for(session=session, user=clerk, today=now.astimezone(settings.tz).date())
    return document_out(document, reader, now, settings.tz, report_ids=[],
                        originals=visible_originals(session, reader, [document]))


@router.post("/inbox/{item_id}/register", name="register", status_code=201, response_model=DocumentOut,
             responses=error_responses(404, 409, 422, 503))
def register(item_id: InboxId, body: InboxRegister, clerk: ClerkUser, session: SessionDep, settings: SettingsDep,
             now: Now) -> DocumentOut:
    """Register the item's document: the next number of its register (paper and electronic share
    the sequence), `channel: electronic`, the item's attachments attached; status 03 to the sender.
    `warnings` says when the main attachment (the first PDF) is not validly signed."""
    item, document = svc.register(session=session, actor=clerk, item_id=item_id,
                                  overrides=body.model_dump(exclude_unset=True), now=now, tz=settings.tz)
    session.commit()
    warnings = svc.signature_warnings(session, item)
    body_out = _document_body(session, clerk, document, settings, now)
    return body_out.model_copy(update={"warnings": [Notice.model_validate(w) for w in warnings]})


@router.post("/inbox/{item_id}/refuse", name="refuse", response_model=InboxItemOut,
             responses=error_responses(404, 409, 422))
def refuse(item_id: InboxId, body: Refusal, clerk: ClerkUser, session: SessionDep, settings: SettingsDep,
           now: Now) -> InboxItemOut:
    """Return the document to its sender (wrong, or not ours): status 02 with the reason."""
    item = svc.refuse(session=session, actor=clerk, item_id=item_id, reason=body.reason, now=now, tz=settings.tz)
    session.commit()
    return inbox_items_out(session, clerk, [item])[0]


@router.post("/inbox/{item_id}/accept", name="accept", response_model=InboxItemOut,
             responses=error_responses(404, 409, 422))
def accept(item_id: InboxId, body: Acceptance, clerk: ClerkUser, session: SessionDep, settings: SettingsDep,
           now: Now) -> InboxItemOut:
    """Apply a revoke (the document recalled), update (fields changed, old values in an event) or
    replace (the new one registered, the old one recalled); status 15."""
    item = svc.accept(session=session, actor=clerk, item_id=item_id, comment=body.comment, now=now, tz=settings.tz)
    session.commit()
    return inbox_items_out(session, clerk, [item])[0]


@router.post("/inbox/{item_id}/reject", name="reject", response_model=InboxItemOut,
             responses=error_responses(404, 409, 422))
def reject(item_id: InboxId, body: Refusal, clerk: ClerkUser, session: SessionDep, settings: SettingsDep,
           now: Now) -> InboxItemOut:
    """Keep the document as it is; status 16 with the reason."""
    item = svc.reject(session=session, actor=clerk, item_id=item_id, reason=body.reason, now=now, tz=settings.tz)
    session.commit()
    return inbox_items_out(session, clerk, [item])[0]


def _outbox_out(row: ExchangeOutbox) -> OutboxOut:
    return OutboxOut.model_validate({**{c: getattr(row, c) for c in OutboxOut.model_fields if c != "inbox_id"},
                                     "inbox_id": row.message_id})


@router.get("/outbox", name="outbox", response_model=Page[OutboxOut])
def outbox(
    user: ClerkOrAdmin, session: SessionDep,
    state: Annotated[str | None, Query(pattern=r"^(pending|sent|failed)$")] = None,
    document_id: Annotated[int | None, Query(ge=1, le=MAX_INT32)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0, le=MAX_INT32)] = 0,
) -> Page[OutboxOut]:
    """Status messages to senders, newest first, with their delivery state."""
    query = select(ExchangeOutbox)
    if state:
        query = query.where(ExchangeOutbox.state == state)
    if document_id:
        query = query.where(ExchangeOutbox.document_id == document_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(ExchangeOutbox.id.desc()).limit(limit).offset(offset))
    return Page(items=[_outbox_out(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/queue", name="queue", response_model=OutboxQueue)
def queue(user: ClerkOrAdmin, session: SessionDep, settings: SettingsDep) -> OutboxQueue:
    """How the delivery of status messages goes: what waits, since when, the last error."""
    state = outbox_queue(session)
    return OutboxQueue(pending=state.pending, failed=state.failed, oldest_pending_at=state.oldest_pending_at,
                       last_error=state.last_error, endpoint_configured=bool(settings.exchange_endpoint))


@router.get(
    "/outbox/{outbox_id}.edxml", name="outbox-edxml", response_class=Response, responses={
        200: {"content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
              "description": "The status message, as it is sent"}, **error_responses(404)},
)
def outbox_edxml(outbox_id: OutboxId, user: ClerkOrAdmin, session: SessionDep) -> Response:
    row = session.get(ExchangeOutbox, outbox_id)
    if row is None:
        raise NotFound(msg("outbox message {id} does not exist", id=outbox_id), code="outbox.not_found")
    return Response(row.payload.encode("utf-8"), media_type="application/xml; charset=utf-8")


documents_router = APIRouter(prefix="/incoming-documents", tags=["exchange"], responses=error_responses(401, 404))


@documents_router.get(
    "/{document_id}/edxml", name="export", response_class=FileResponse, responses={
        200: {"content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
              "description": "The document as an edXML document message (QCVN 102:2016), its attachments "
                             "base64-encoded, for forwarding to another agency"}, **error_responses(422)},
)
def export(document_id: DocumentId, user: CurrentUser, session: SessionDep, settings: SettingsDep, now: Now,
           to: Annotated[list[str], Query(max_length=50, description="OrganId of each recipient")] = []) -> FileResponse:
    """Export a document you may see as edXML; `to` names the recipients (OrganId, repeatable)."""
    reader = identities_for(session=session, user=user, today=now.astimezone(settings.tz).date())
    document = get_visible_document(session=session, user=user, document_id=document_id,
                                    delegators=[i.on_behalf_of for i in reader if i.on_behalf_of])
    for organ_id in to:
        if not _ORGAN_ID.fullmatch(organ_id):
            raise ValidationFailed("to", msg("'{organ_id}' is not an OrganId", organ_id=organ_id[:64]),
                                   code="organ_id.invalid")
    message = svc.document_for_forwarding(session=session, document=document, root=settings.attachments_dir,
                                          ours=ours(settings), to=to)
    settings.attachments_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=settings.attachments_dir, prefix=TEMP_PREFIX)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            write_document(out, message, traced_by=settings.organ_id, at=now, tz=settings.tz)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(path, media_type="application/xml", background=BackgroundTask(path.unlink, missing_ok=True),
                        headers={"Content-Disposition": f'attachment; filename="document-{document.id}.edxml"',
                                 "X-Content-Type-Options": "nosniff"})
