"""Registering and finding incoming documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from app.api.deps import ClerkUser, CurrentUser, Now, SessionDep, SettingsDep, StatementSessionDep
from app.api.params import DocumentId
from app.services.presenters import document_out, documents_out, visible_originals
from app.api.problems import error_responses
from app.schemas.common import DEFAULT_PAGE, MAX_INT32, MAX_PAGE, Page
from app.schemas.documents import DocumentCreate, DocumentFilters, DocumentOut
from app.services import documents as svc
from app.services.registering import register_and_announce
from app.services.workflow import identities_for

router = APIRouter(prefix="/incoming-documents", tags=["documents"], responses=error_responses(401))

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Retrying with the same key and body returns the same document and never takes a second number",
    ),
]


def etag(version: int) -> str:
    return f'"{version}"'


@router.post(
    "",
    name="register",
    status_code=201,
    response_model=DocumentOut,
    responses=error_responses(403, 409, 422),
)
def register(
    body: DocumentCreate,
    response: Response,
    clerk: ClerkUser,
    session: StatementSessionDep,
    settings: SettingsDep,
    now: Now,
    idempotency_key: IdempotencyKeyHeader = None,
) -> DocumentOut:
    """Register an incoming document and give it the next arrival number (số đến)."""
    reader = identities_for(session=session, user=clerk, today=now.astimezone(settings.tz).date())
    result = register_and_announce(session=session, clerk=clerk, data=body, now=now, tz=settings.tz,
                                   idempotency_key=idempotency_key)
    body_out = document_out(result.document, reader, now, settings.tz, report_ids=None if result.replayed else [],
                            originals=visible_originals(session, reader, [result.document]))
    response.headers["ETag"] = etag(result.document.version)
    response.headers["Location"] = f"/api/v1/incoming-documents/{result.document.id}"
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return body_out


@router.get("", name="list", response_model=Page[DocumentOut], responses=error_responses(422))
def list_documents(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
    filters: Annotated[DocumentFilters, Depends()],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0, le=MAX_INT32)] = 0,
) -> Page[DocumentOut]:
    """Find documents. ``q`` ignores case and diacritics (``da nang`` finds ``Đà Nẵng``).

    ``total`` is exact up to 10 000 matches (``CONGVAN_EXACT_TOTAL_UP_TO``), or up to the end of the
    page asked for if that lies further. Beyond it the matches are not counted one by one (a common
    word would make the count slower than the page): ``total_is_estimate`` is true and ``total`` is
    the bound + 1, meaning "more than the bound". Pages past it still work; a short page shows
    where the list really ends."""
    today = now.astimezone(settings.tz).date()
    reader = identities_for(session=session, user=user, today=today)
    items, total = svc.list_documents(
        session=session, user=user, filters=filters, limit=limit, offset=offset, today=today, tz=settings.tz,
        delegators=[i.on_behalf_of for i in reader if i.on_behalf_of], exact_up_to=settings.exact_total_up_to,
    )
    return Page(items=documents_out(items, reader, now, settings.tz), total=total.value,
                total_is_estimate=total.is_estimate, limit=limit, offset=offset)


@router.get(
    "/{document_id}",
    name="get",
    response_model=DocumentOut,
    responses={**error_responses(404), 304: {"description": "Not modified (If-None-Match matched the ETag)"}},
)
def get_document(
    document_id: DocumentId,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
    response: Response,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> DocumentOut | Response:
    reader = identities_for(session=session, user=user, today=now.astimezone(settings.tz).date())
    document = svc.get_visible_document(
        session=session, user=user, document_id=document_id,
        delegators=[i.on_behalf_of for i in reader if i.on_behalf_of],
    )
    tag = etag(document.version)
    if if_none_match and tag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers={"ETag": tag})
    response.headers["ETag"] = tag
    return document_out(document, reader, now, settings.tz)
