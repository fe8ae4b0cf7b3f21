"""The electronic inbox: edXML documents waiting for the clerk, each item's page, registering and refusing it.

Each page calls the services the API's exchange operations call (app.services.exchange:
inbox_query, get_item, probable_duplicates, register, signature_warnings, refuse), for clerks only
as the API's are; an item that does not exist is the same 404 page as a missing document.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.console.deps import DB
from app.console.forms import FormErrors, body_of, from_error, registration_form, validate
from app.console.pages import day, page
from app.console.routing import PageRoute
from app.console.session import CLERKS, Signed, SignedForm, require_roles, settings_of
from app.errors import AppError, DuplicateDocument
from app.i18n import msg
from app.models.base import utcnow
from app.schemas.exchange import Acceptance, InboxItemOut, InboxRegister, Refusal
from app.services import exchange as svc
from app.services.organisation import list_registers
from app.services.presenters import inbox_items_out
from app.workflow.vocabulary import Confidentiality, Urgency

router = APIRouter(prefix="/console", route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 25
InboxIdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
STATES = svc.INBOX_STATES
REGISTER_FIELDS = tuple(name for name in InboxRegister.model_fields if name != "allow_duplicate")


def _require_clerk(signed) -> None:
    require_roles(signed, CLERKS)


@router.get("/inbox", response_class=HTMLResponse)
def inbox(request: Request, signed: Signed, session: DB,
          state: Annotated[str, Query(max_length=20)] = "received",
          q: Annotated[str, Query(max_length=200)] = "",
          offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0) -> HTMLResponse:
    """What came in electronically, newest first; by default what waits for the clerk (``received``)."""
    _require_clerk(signed)
    chosen = state if state in STATES else None
    items, total = svc.inbox_page(session=session, state=chosen, q=q.strip() or None, limit=PAGE_SIZE,
                                  offset=offset)
    given = {k: v for k, v in (("state", chosen or "all"), ("q", q.strip())) if v}
    return page(request, "inbox.html", signed=signed, nav="inbox", items=inbox_items_out(session, signed.user, items),
                total=total, offset=offset, limit=PAGE_SIZE, state=chosen or "all", q=q.strip(), states=STATES,
                query=urlencode(given), tz=settings_of(request).tz)


def _values_of(item: InboxItemOut) -> dict:
    """The register form prefilled from the message, as the registration would take it."""
    return {"register_code": "main", "symbol": item.symbol or "", "issuer": item.issuer or "",
            "document_date": day(item.document_date) if item.document_date else "",
            "summary": item.summary or "", "urgency": item.urgency.value, "confidentiality": "normal",
            "due_date": day(item.due_date) if item.due_date else "",
            "page_count": str(item.page_count or ""), "signer_name": item.signer_name or "",
            "signer_position": item.signer_position or "", "notes": ""}


def _item_page(request: Request, signed, session: Session, item_id: int, *, values: dict | None = None,
               errors: FormErrors | None = None,
               duplicate_refused: int | None = None, decision: str | None = None,
               decision_values: dict | None = None, decision_errors: FormErrors | None = None,
               status: int = 200) -> HTMLResponse:
    row = svc.get_item(session, item_id)
    item = inbox_items_out(session, signed.user, [row])[0]
    # What the registration warns of (the main PDF's signature): shown before the clerk decides, and after.
    warnings = (svc.signature_warnings(session, row)
                if item.state in ("received", "registered") and item.kind == "document" else [])
    return page(request, "inbox_item.html", status=status, signed=signed, nav="inbox", item=item,
                values=values or _values_of(item), errors=errors or FormErrors(), duplicate_refused=duplicate_refused,
                signature_warnings=warnings, registers=list_registers(session=session), urgencies=list(Urgency),
                confidentialities=list(Confidentiality), fields=REGISTER_FIELDS,
                refused=request.query_params.get("refused") == "1", tz=settings_of(request).tz,
                decisions=svc.decisions_for(row), decision=decision, decision_values=decision_values or {},
                decision_errors=decision_errors or FormErrors(),
                decided=request.query_params.get("decided"))


@router.get("/inbox/{item_id}", response_class=HTMLResponse)
def inbox_item(request: Request, item_id: InboxIdPath, signed: Signed, session: DB) -> HTMLResponse:
    _require_clerk(signed)
    return _item_page(request, signed, session, item_id)


@router.post("/inbox/{item_id}/register", response_class=HTMLResponse)
def register(request: Request, item_id: InboxIdPath, signed_form: SignedForm, session: DB) -> Response:
    """The API's inbox registration (app.services.exchange.register) with the fields the clerk
    changed; then the document's page. The registration's warnings (the main PDF not validly
    signed) go along on the address, ``warning=<code>``."""
    signed, form = signed_form
    _require_clerk(signed)
    values, body = registration_form(form, REGISTER_FIELDS)
    data, errors = validate(InboxRegister, body)
    if data is None:
        return _item_page(request, signed, session, item_id, values=values, errors=errors, status=422)
    settings = settings_of(request)
    try:
        item, document = svc.register(session=session, actor=signed.user, item_id=item_id,
                                      overrides=data.model_dump(exclude_unset=True), now=utcnow(), tz=settings.tz)
        session.commit()
    except DuplicateDocument as error:
        session.rollback()
        return _item_page(request, signed, session, item_id, values=values, status=409,
                          errors=FormErrors(general=[msg("this document is already registered; tick "
                                                         "\"register it again\" to register a second copy")]),
                          duplicate_refused=error.extra.get("duplicate_of"))
    except AppError as error:
        session.rollback()
        if error.status in (403, 404) or error.status >= 500:
            raise
        return _item_page(request, signed, session, item_id, values=values, errors=from_error(error),
                          status=error.status)
    warnings = svc.signature_warnings(session, item)
    query = urlencode([("registered", "1"), *(("warning", w["code"]) for w in warnings)])
    return RedirectResponse(f"/console/documents/{document.id}?{query}", status_code=303)


def _decide(request: Request, item_id: int, signed_form, session: Session, decision: str) -> Response:
    """Refuse a new document (status 02), accept or reject a sender's revoke, update or replace
    (15, 16): the API's refuse, accept and reject, with their bodies."""
    signed, form = signed_form
    _require_clerk(signed)
    field = "comment" if decision == "accept" else "reason"
    typed = {field: str(form.get(field) or "")}
    data, errors = validate(Acceptance if decision == "accept" else Refusal, body_of(typed))
    if data is None:
        return _item_page(request, signed, session, item_id, decision=decision, decision_values=typed,
                          decision_errors=errors, status=422)
    common = {"session": session, "actor": signed.user, "item_id": item_id, "now": utcnow(),
              "tz": settings_of(request).tz}
    try:
        if decision == "accept":
            svc.accept(**common, comment=data.comment)
        elif decision == "reject":
            svc.reject(**common, reason=data.reason)
        else:
            svc.refuse(**common, reason=data.reason)
        session.commit()
    except AppError as error:
        session.rollback()
        if error.status in (403, 404) or error.status >= 500:
            raise
        return _item_page(request, signed, session, item_id, decision=decision, decision_values=typed,
                          decision_errors=from_error(error), status=error.status)
    done = "refused=1" if decision == "refuse" else f"decided={decision}"
    return RedirectResponse(f"/console/inbox/{item_id}?{done}", status_code=303)


@router.post("/inbox/{item_id}/refuse", response_class=HTMLResponse)
def refuse(request: Request, item_id: InboxIdPath, signed_form: SignedForm, session: DB) -> Response:
    return _decide(request, item_id, signed_form, session, "refuse")


@router.post("/inbox/{item_id}/accept", response_class=HTMLResponse)
def accept(request: Request, item_id: InboxIdPath, signed_form: SignedForm, session: DB) -> Response:
    return _decide(request, item_id, signed_form, session, "accept")


@router.post("/inbox/{item_id}/reject", response_class=HTMLResponse)
def reject(request: Request, item_id: InboxIdPath, signed_form: SignedForm, session: DB) -> Response:
    return _decide(request, item_id, signed_form, session, "reject")


__all__ = ["router"]
