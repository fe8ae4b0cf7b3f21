"""The processing slip's actions and events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from urllib.parse import urlencode

from fastapi import APIRouter, Body, Header, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.api.deps import CurrentUser, Now, SessionDep, SettingsDep, SlipReader
from app.api.params import DocumentId
from app.services.presenters import document_out
from app.api.problems import error_responses
from app.api.routes.documents import etag
from app.config import Settings
from app.errors import ValidationFailed
from app.models import IncomingDocument, User
from app.schemas.documents import DocumentOut
from app.schemas.slip import Slip, SlipLink
from app.security import issue_slip_link
from app.schemas.workflow import ActionRequest, EventData, EventOut
from app.services import workflow as svc
from app.services.documents import get_visible_document
from app.services.slip import build_slip
from app.services.slip_render import render_slip_html, render_slip_pdf
from app.i18n import msg

router = APIRouter(prefix="/incoming-documents/{document_id}", tags=["workflow"], responses=error_responses(401, 404))


def parse_if_match(value: str | None) -> int | None:
    """``If-Match: "3"`` (or W/"3", or 3) → 3."""
    if value is None:
        return None
    cleaned = value.strip().removeprefix("W/").strip('"')
    if not cleaned.isdigit():
        raise ValidationFailed("If-Match", msg('expected the ETag of the document, e.g. "3"'), code="if_match.invalid")
    return int(cleaned)


@router.post(
    "/actions",
    name="act",
    response_model=DocumentOut,
    responses=error_responses(403, 409, 412, 422),
)
def act(
    document_id: DocumentId,
    action: Annotated[ActionRequest, Body()],
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match", max_length=64)] = None,
) -> DocumentOut:
    """Take one step on the processing slip. The response lists your next ``allowed_actions``."""
    document, identities = svc.apply_action(
        session=session, user=user, document_id=document_id, request=action, now=now, tz=settings.tz,
        if_match=parse_if_match(if_match),
    )
    body = document_out(document, identities, now, settings.tz)
    session.commit()
    response.headers["ETag"] = etag(document.version)
    return body


@router.get("/events", name="events", response_model=list[EventOut], response_model_exclude_unset=True)
def events(
    document_id: DocumentId, user: CurrentUser, session: SessionDep, settings: SettingsDep, now: Now
) -> list[EventOut]:
    """Every step of the document, oldest first. Append-only: nothing here is ever changed."""
    document = _visible(document_id, user, session, settings, now)
    return [
        EventOut(
            seq=e.seq, action=e.action, from_state=e.from_state, to_state=e.to_state, actor=e.actor.username,
            actor_full_name=e.actor.full_name, on_behalf_of=e.on_behalf_of.username if e.on_behalf_of else None,
            at=e.at.astimezone(settings.tz), comment=e.comment, data=EventData.model_validate(e.data or {}),
        )
        for e in svc.list_events(session=session, document=document)
    ]


def _visible(document_id: int, user: User, session: Session, settings: Settings, now: datetime) -> IncomingDocument:
    """The document if the user (or a leader they stand in for today) may see it; else 404."""
    identities = svc.identities_for(session=session, user=user, today=now.astimezone(settings.tz).date())
    return get_visible_document(
        session=session, user=user, document_id=document_id,
        delegators=[i.on_behalf_of for i in identities if i.on_behalf_of],
    )


@router.get("/slip", name="slip", response_model=Slip)
def slip(document_id: DocumentId, user: CurrentUser, session: SessionDep, settings: SettingsDep, now: Now) -> Slip:
    """The processing slip (phiếu giải quyết văn bản đến): summary, office opinions, the leadership's
    directions, unit directions and handler results, each signed and dated."""
    document = _visible(document_id, user, session, settings, now)
    return build_slip(session=session, document=document, agency=settings.agency_name, tz=settings.tz, now=now)


# The printable slip loads nothing: its only style is inline, it runs no script.
SLIP_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


class PDFResponse(Response):
    media_type = "application/pdf"


@router.get(
    "/slip.html",
    name="slip-html",
    response_class=HTMLResponse,
    responses={200: {"description": "The slip as a printable A4 page", "content": {"text/html": {}}}},
)
def slip_html(
    document_id: DocumentId, user: SlipReader, session: SessionDep, settings: SettingsDep, now: Now
) -> HTMLResponse:
    """The processing slip as a printable A4 page that looks like the paper form. Self-contained
    (inline CSS, no scripts, fonts or images), for the browser's print dialog. With a bearer token,
    or opened in a browser with the ``token`` of a link from ``POST …/slip-link``."""
    document = _visible(document_id, user, session, settings, now)
    slip_data = build_slip(session=session, document=document, agency=settings.agency_name, tz=settings.tz, now=now)
    page = render_slip_html(slip_data, place=settings.place_name)
    # A link's token is in the address: kept out of caches and of any Referer.
    return HTMLResponse(page, headers={"Content-Security-Policy": SLIP_CSP, "Cache-Control": "no-store",
                                       "Referrer-Policy": "no-referrer"})


@router.post("/slip-link", name="slip-link", response_model=SlipLink, responses=error_responses(401, 404))
def slip_link(
    document_id: DocumentId, request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep,
    now: Now,
) -> SlipLink:
    """A short-lived link that opens the printable slip (``slip.html``) in a browser, which cannot
    send a bearer token: valid ``CONGVAN_SLIP_LINK_MINUTES`` (10) minutes and no longer than your
    token, for this document only, and ended by logging out, a revocation or a deactivation like
    your token. Whoever holds the link reads the slip as you: hand it to no one."""
    _visible(document_id, user, session, settings, now)
    token, expires = issue_slip_link(settings, request.state.token_claims, document_id)
    page = request.url.path.removesuffix("/slip-link") + "/slip.html"
    return SlipLink(url=f"{page}?{urlencode({'token': token})}", expires_at=expires.astimezone(settings.tz))


@router.get(
    "/slip.pdf",
    name="slip-pdf",
    response_class=PDFResponse,
    responses={200: {"description": "The slip as an A4 PDF",
                     "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}},
)
def slip_pdf(
    document_id: DocumentId, user: CurrentUser, session: SessionDep, settings: SettingsDep, now: Now
) -> PDFResponse:
    """The processing slip as an A4 PDF (fonts embedded, Vietnamese included), shown inline."""
    document = _visible(document_id, user, session, settings, now)
    slip_data = build_slip(session=session, document=document, agency=settings.agency_name, tz=settings.tz, now=now)
    filename = f"phieu-giai-quyet-{slip_data.summary.arrival_number}.pdf"
    return PDFResponse(render_slip_pdf(slip_data, place=settings.place_name),
                       headers={"Content-Disposition": f'inline; filename="{filename}"'})
