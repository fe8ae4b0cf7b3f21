"""Attachments of a document: upload (clerks), list and download (anyone who can see it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import FileResponse

from app.api.deps import ClerkUser, CurrentUser, Now, SessionDep, SettingsDep, VerificationDep
from app.api.params import AttachmentId, DocumentId
from app.services.presenters import signature_fields
from app.api.problems import error_responses
from app.errors import Conflict
from app.schemas.attachments import AttachmentOut
from app.services import attachments as svc
from app.services import signatures
from app.content import content_disposition, served_type
from app.services.documents import get_visible_document
from app.i18n import msg

router = APIRouter(
    prefix="/incoming-documents/{document_id}/attachments", tags=["attachments"], responses=error_responses(401, 404)
)


@router.post(
    "", name="upload", status_code=201, response_model=AttachmentOut,
    responses=error_responses(403, 413, 422, 503, 507),
)
def upload(
    document_id: DocumentId,
    file: Annotated[UploadFile, File(description="The file; at most CONGVAN_MAX_UPLOAD_MB")],
    clerk: ClerkUser,
    session: SessionDep,
    settings: SettingsDep,
    verification: VerificationDep,
    now: Now,
) -> AttachmentOut:
    """Store a file. A PDF's signatures are verified before the answer when it is at most
    CONGVAN_VERIFY_INLINE_MAX_MB, else by the worker (`signature_status: pending` until then)."""
    document = get_visible_document(session=session, user=clerk, document_id=document_id)
    attachment = svc.store_attachment(
        session=session,
        document=document,
        actor=clerk,
        stream=file.file,
        filename=file.filename,
        content_disposition=file.headers.get("content-disposition"),
        root=settings.attachments_dir,
        max_bytes=settings.max_upload_bytes,
        now=now,
    )
    check = signatures.request(session=session, verification=verification, sha256=attachment.sha256,
                               content_type=attachment.content_type, now=now)
    session.commit()  # the file and its row; the verification runs with no transaction open
    check = signatures.verify_inline(session=session, verification=verification, check=check,
                                     size=attachment.size, now=now)
    body = attachment_out(attachment, check)
    session.commit()
    return body


def attachment_out(attachment, check) -> AttachmentOut:
    return AttachmentOut.model_validate({
        "id": attachment.id, "filename": attachment.filename, "content_type": attachment.content_type,
        "size": attachment.size, "sha256": attachment.sha256, "uploaded_at": attachment.uploaded_at,
        **signature_fields(attachment.content_type, check)})


@router.get("", name="list", response_model=list[AttachmentOut])
def list_attachments(document_id: DocumentId, user: CurrentUser, session: SessionDep) -> list[AttachmentOut]:
    document = get_visible_document(session=session, user=user, document_id=document_id)
    rows = svc.list_attachments(session=session, document=document)
    checks = signatures.results_for(session, [a.sha256 for a in rows])
    return [attachment_out(a, checks.get(a.sha256)) for a in rows]


@router.post("/{attachment_id}/verify", name="verify", response_model=AttachmentOut,
             responses=error_responses(403, 409))
def verify(document_id: DocumentId, attachment_id: AttachmentId, clerk: ClerkUser, session: SessionDep,
           verification: VerificationDep, now: Now) -> AttachmentOut:
    """Verify a PDF's signatures again now, against today's trust set (e.g. after roots were added)."""
    document = get_visible_document(session=session, user=clerk, document_id=document_id)
    attachment = svc.get_attachment(session=session, document=document, attachment_id=attachment_id)
    if attachment.content_type != signatures.PDF:
        raise Conflict(msg("attachment {id} is not a PDF: it has no signatures to verify", id=attachment_id),
                       code="attachment.not_pdf")
    check = signatures.reverify(session=session, verification=verification, sha256=attachment.sha256, now=now)
    body = attachment_out(attachment, check)
    session.commit()
    return body


@router.get(
    "/{attachment_id}",
    name="download",
    response_class=FileResponse,
    responses={
        200: {
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The bytes as uploaded, as a download (`Content-Disposition: attachment`), with the "
            "type detected from the bytes when stored (never the uploader's claim), `nosniff` and a sandboxing "
            "Content-Security-Policy: an uploaded page can never run as a page of this site",
        }
    },
)
def download(
    document_id: DocumentId, attachment_id: AttachmentId, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> FileResponse:
    document = get_visible_document(session=session, user=user, document_id=document_id)
    attachment = svc.get_attachment(session=session, document=document, attachment_id=attachment_id)
    return FileResponse(
        svc.blob_path(settings.attachments_dir, attachment.sha256),
        media_type=served_type(attachment.content_type),
        headers={
            "X-Content-SHA256": attachment.sha256,
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": content_disposition(attachment.filename),
            "Content-Security-Policy": ATTACHMENT_CSP,
        },
    )


# The page, if a browser ever renders one, gets a unique origin and may run, load or submit nothing.
ATTACHMENT_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"
