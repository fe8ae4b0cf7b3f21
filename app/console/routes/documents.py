"""My work list, the document list, registering a paper document, the document page and its actions.

Each page calls the service the API's operation calls (list_documents, register_and_announce,
apply_action, build_slip, …) with the same reader; nothing here decides who may see or do what.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.console.deps import DB, Reader, reader_of
from app.console.forms import FormErrors, body_of, from_error, iso_date, registration_form, validate
from app.console.pages import page
from app.console.routing import PageRoute
from app.console.session import CLERKS, Signed, SignedForm, require_roles, settings_of
from app.content import content_disposition, served_type
from app.errors import AppError, DuplicateDocument, PreconditionFailed
from app.i18n import msg
from app.models import IncomingDocument
from app.models.base import utcnow
from app.schemas.documents import DocumentCreate, DocumentFilters
from app.schemas.workflow import ActionRequest
from app.services import attachments as attachment_svc
from app.services import signatures
from app.services.documents import get_visible_document, list_documents, probable_duplicate, work_list_page
from app.services.organisation import list_registers, list_units
from app.services.presenters import document_out, documents_out, signature_fields
from app.services.registering import register_and_announce
from app.services.slip import build_slip
from app.services.slip_render import render_slip_html
from app.services.workflow import apply_action, assignable_users, list_events, proposable_leaders
from app.text import person_name_key, vietnamese_key
from app.workflow.vocabulary import Confidentiality, DocumentState, Urgency

router = APIRouter(prefix="/console", route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 25
WORK_PAGE_SIZE = 50
DocumentIdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]



@router.get("/", response_class=HTMLResponse)
def work_list(request: Request, signed: Signed, session: DB,
              offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0) -> HTMLResponse:
    """What awaits me (the work list rule, app.workflow.worklist): most urgent first, then the
    nearest deadline; overdue in red."""
    reader = reader_of(request, session, signed.user)
    items, total = work_list_page(
        session=session, user=signed.user, filters=DocumentFilters(), limit=WORK_PAGE_SIZE,
        offset=offset, today=reader.today, tz=reader.settings.tz, delegators=reader.delegators,
        exact_up_to=reader.settings.console_exact_total_up_to,
    )
    return page(request, "work_list.html", signed=signed, nav="work", deadlines=_deadlines(items),
                documents=documents_out(items, reader.identities, reader.now, reader.settings.tz),
                total=total, offset=offset, limit=WORK_PAGE_SIZE, today=reader.today)


def _deadlines(documents: list[IncomingDocument]) -> dict[int, date | None]:
    """Each document's effective deadline, as the rule stored it (app.services.deadline_marks)."""
    return {d.id: d.effective_due_date for d in documents}


FILTER_NAMES = ("q", "state", "urgency", "confidentiality", "overdue", "received_from", "received_to", "unit_code")


@router.get("/documents", response_class=HTMLResponse)
def documents(request: Request, signed: Signed, session: DB,
              offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0) -> HTMLResponse:
    """Find documents: the API's filters (``q`` ignores case and diacritics), a page at a time."""
    given = {k: v for k, v in request.query_params.items() if k in FILTER_NAMES and v.strip()}
    filters, errors = validate(DocumentFilters, body_of(given))
    reader = reader_of(request, session, signed.user)
    items, total = [], None
    if filters is not None:
        items, total = list_documents(
            session=session, user=signed.user, filters=filters, limit=PAGE_SIZE, offset=offset, today=reader.today,
            tz=reader.settings.tz, delegators=reader.delegators,
            exact_up_to=reader.settings.console_exact_total_up_to,
        )
    query = urlencode(given)
    return page(request, "documents.html", status=422 if errors else 200, signed=signed, nav="documents",
                given=given, errors=errors, deadlines=_deadlines(items),
                documents=documents_out(items, reader.identities, reader.now, reader.settings.tz),
                total=total, offset=offset, limit=PAGE_SIZE, query=query, states=list(DocumentState),
                urgencies=list(Urgency), confidentialities=list(Confidentiality),
                units=sorted(list_units(session=session), key=lambda u: vietnamese_key(u.name)))


# --- Registering a paper document -------------------------------------------------------------

REGISTER_FIELDS = ("register_code", "symbol", "document_date", "issuer", "summary", "urgency", "confidentiality",
                   "due_date", "received_at", "page_count", "signer_name", "signer_position", "notes")


def _register_page(request: Request, signed, session: Session, *, values: dict, errors: FormErrors,
                   duplicate_of: int | None = None, status: int = 200) -> HTMLResponse:
    registers = [r for r in list_registers(session=session)]
    return page(request, "register.html", status=status, signed=signed, nav="register", values=values,
                errors=errors, duplicate_of=duplicate_of, registers=registers, urgencies=list(Urgency),
                confidentialities=list(Confidentiality), fields=REGISTER_FIELDS)


def _require_clerk(signed) -> None:
    require_roles(signed, CLERKS)


@router.get("/documents/new", response_class=HTMLResponse)
def register_form(request: Request, signed: Signed, session: DB) -> HTMLResponse:
    _require_clerk(signed)
    return _register_page(request, signed, session, values={"register_code": "main"}, errors=FormErrors())


@router.get("/documents/duplicate-check", response_class=HTMLResponse)
def duplicate_check(request: Request, signed: Signed, session: DB,
                    symbol: Annotated[str, Query(max_length=100)] = "",
                    issuer: Annotated[str, Query(max_length=255)] = "",
                    document_date: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    """The register form's warning, before it is sent: a document the clerk may see with the same
    symbol, issuer and date is already registered (the registration's own lookup)."""
    _require_clerk(signed)
    original = None
    try:
        day = date.fromisoformat(iso_date(document_date.strip()))
    except ValueError:
        day = None
    if symbol.strip() and issuer.strip() and day is not None:
        original = probable_duplicate(session=session, actor=signed.user, symbol=symbol, issuer=issuer,
                                      document_date=day)
    document = session.get(IncomingDocument, original) if original else None
    return page(request, "duplicate_warning.html", document=document)


@router.post("/documents/new", response_class=HTMLResponse)
def register(request: Request, signed_form: SignedForm) -> Response:
    signed, form = signed_form
    _require_clerk(signed)
    values, body = registration_form(form, REGISTER_FIELDS)
    # The statement session, as the API's registration uses: on PostgreSQL the counter is locked
    # for the registration's one statement only.
    with request.app.state.statement_sessionmaker() as session:
        data, errors = validate(DocumentCreate, body)
        if data is None:
            return _register_page(request, signed, session, values=values, errors=errors, status=422)
        settings = settings_of(request)
        try:
            result = register_and_announce(session=session, clerk=signed.user, data=data, now=utcnow(),
                                           tz=settings.tz)
        except DuplicateDocument as error:
            return _register_page(request, signed, session, values=values,
                                  errors=FormErrors(general=[msg("this document is already registered; tick "
                                                                 "\"register it again\" to register a second copy")]),
                                  duplicate_of=error.extra.get("duplicate_of"), status=409)
        except AppError as error:
            if error.status >= 500:
                raise
            return _register_page(request, signed, session, values=values, errors=from_error(error),
                                  status=error.status)
        document = result.document
        return RedirectResponse(f"/console/documents/{document.id}?registered=1", status_code=303)


# --- The document page ----------------------------------------------------------------------


def _document_page(request: Request, signed, session: Session, reader: Reader, document: IncomingDocument, *,
                   errors: FormErrors | None = None, open_action: str | None = None, values: dict | None = None,
                   status: int = 200) -> HTMLResponse:
    settings = reader.settings
    shown = document_out(document, reader.identities, reader.now, settings.tz)
    files = attachment_svc.list_attachments(session=session, document=document)
    checks = signatures.results_for(session, [a.sha256 for a in files])
    files_shown = [(a, signature_fields(a.content_type, checks.get(a.sha256))) for a in files]
    slip = build_slip(session=session, document=document, agency=settings.agency_name, tz=settings.tz,
                      now=reader.now)
    events = list_events(session=session, document=document)
    # the direction form's rows: only when the reader may direct
    units = (sorted(list_units(session=session), key=lambda u: vietnamese_key(u.name))
             if "direct" in shown.allowed_actions else [])
    people = _people_for(session, reader, document, shown.allowed_actions)
    return page(request, "document.html", status=status, signed=signed, nav="documents", doc=shown,
                files=files_shown, slip=slip, events=events, units=units, people=people,
                errors=errors or FormErrors(), open_action=open_action, values=values or {},
                registered=request.query_params.get("registered") == "1", tz=settings.tz,
                # an inbox registration's warnings (signature.main_unsigned, …): codes only, shown by label
                warnings=[w for w in request.query_params.getlist("warning") if w.startswith("signature.")][:6])


def _people_for(session: Session, reader: Reader, document: IncomingDocument, actions: list[str]) -> dict[str, list]:
    """Whom a form may name: the leaders a proposal goes to; the members of the units whose part I
    may hand over (the assign rule's own list, app.services.workflow.assignable_users)."""
    leaders, members = [], []
    if "propose" in actions:
        leaders = proposable_leaders(session=session)
    if "assign" in actions:
        members = assignable_users(session=session, identities=reader.identities, document=document)
    return {"leaders": sorted(leaders, key=lambda u: person_name_key(u.full_name)),
            "specialists": sorted(members, key=lambda u: person_name_key(u.full_name))}


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document_page(request: Request, document_id: DocumentIdPath, signed: Signed, session: DB) -> HTMLResponse:
    reader = reader_of(request, session, signed.user)
    document = get_visible_document(session=session, user=signed.user, document_id=document_id,
                                    delegators=reader.delegators)
    return _document_page(request, signed, session, reader, document)


@router.post("/documents/{document_id}/actions", response_class=HTMLResponse)
def act(request: Request, document_id: DocumentIdPath, signed_form: SignedForm, session: DB) -> Response:
    """One step on the slip: the form's fields are the API's action body; ``version`` is the
    document's version the page showed (If-Match): a page out of date is refused (412), not applied."""
    signed, form = signed_form
    reader = reader_of(request, session, signed.user)
    body = body_of(form)
    version = body.pop("version", None)
    if isinstance(body.get("assignments"), list):  # a direction's rows left without a role are not units named
        body["assignments"] = [row for row in body["assignments"] if isinstance(row, dict) and row.get("role")]
    action_name = str(body.get("action") or "")
    status = 422
    request_body, errors = validate(ActionRequest, body)
    if request_body is not None:
        try:
            apply_action(session=session, user=signed.user, document_id=document_id, request=request_body,
                         now=reader.now, tz=reader.settings.tz,
                         if_match=int(version) if isinstance(version, str) and version.isdigit() else None)
            session.commit()
            return RedirectResponse(f"/console/documents/{document_id}", status_code=303)
        except PreconditionFailed:
            session.rollback()
            status = 412
            errors = FormErrors(general=[msg("someone else changed this document while you were on the page; "
                                             "here it is as it is now: check it and send the form again")])
        except AppError as error:
            if error.status in (404,) or error.status >= 500:
                raise
            session.rollback()
            errors, status = from_error(error), error.status
    document = get_visible_document(session=session, user=signed.user, document_id=document_id,
                                    delegators=reader.delegators)
    return _document_page(request, signed, session, reader, document, errors=errors, open_action=action_name,
                          values={k: v for k, v in form.items() if isinstance(v, str)}, status=status)


# The printable slip loads nothing: its only style is inline, it runs no script.
SLIP_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


@router.get("/documents/{document_id}/slip", response_class=HTMLResponse)
def print_slip(request: Request, document_id: DocumentIdPath, signed: Signed, session: DB) -> HTMLResponse:
    """The slip as the A4 paper form, for the browser's print dialog (the API's slip.html)."""
    reader = reader_of(request, session, signed.user)
    document = get_visible_document(session=session, user=signed.user, document_id=document_id,
                                    delegators=reader.delegators)
    settings = reader.settings
    slip = build_slip(session=session, document=document, agency=settings.agency_name, tz=settings.tz,
                      now=reader.now)
    return HTMLResponse(render_slip_html(slip, place=settings.place_name),
                        headers={"Content-Security-Policy": SLIP_CSP, "Cache-Control": "no-store",
                                 "X-Content-Type-Options": "nosniff"})


ATTACHMENT_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"


@router.get("/documents/{document_id}/attachments/{attachment_id}")
def attachment(request: Request, document_id: DocumentIdPath, attachment_id: DocumentIdPath, signed: Signed,
               session: DB) -> FileResponse:
    reader = reader_of(request, session, signed.user)
    document = get_visible_document(session=session, user=signed.user, document_id=document_id,
                                    delegators=reader.delegators)
    row = attachment_svc.get_attachment(session=session, document=document, attachment_id=attachment_id)
    return FileResponse(attachment_svc.blob_path(reader.settings.attachments_dir, row.sha256),
                        media_type=served_type(row.content_type),
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
                                 "Content-Disposition": content_disposition(row.filename),
                                 "Content-Security-Policy": ATTACHMENT_CSP})
