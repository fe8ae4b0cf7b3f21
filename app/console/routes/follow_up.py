"""My notifications and my delegations (ủy quyền).

Each page calls the services the API's operations call: notifications.feed and mark_read (the
API's /me/notifications, …/read, …/read-all, with its check that the notice is the reader's),
delegations.list_delegations, create_delegation and revoke_delegation (the API's /delegations);
who may delegate what, and for how long, is the service's rule alone.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.console.deps import DB
from app.console.forms import FormErrors, body_of, from_error, validate
from app.console.pages import page
from app.console.routing import PageRoute
from app.console.session import Signed, SignedForm, settings_of
from app.errors import AppError
from app.models.base import utcnow
from app.schemas.workflow import DelegationIn
from app.services import delegations as delegation_svc
from app.services import notifications
from app.services.organisation import list_users
from app.text import person_name_key
from app.workflow.delegation import DELEGABLE_ROLES, may_delegate
from app.workflow.vocabulary import Role

router = APIRouter(prefix="/console", route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 25
IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


# --- Notifications ----------------------------------------------------------------------------


@router.get("/notifications", response_class=HTMLResponse)
def my_notifications(request: Request, signed: Signed, session: DB,
                     unread: Annotated[str, Query(max_length=5)] = "",
                     offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0) -> HTMLResponse:
    """What I was told, newest first (the API's feed); ``unread=true`` for the unread only."""
    only = {"true": True, "false": False}.get(unread)
    rows, total = notifications.feed(session, signed.user, unread=only, limit=PAGE_SIZE, offset=offset)
    return page(request, "notifications.html", signed=signed, nav="notifications", notifications=rows,
                total=total, offset=offset, limit=PAGE_SIZE, unread="" if only is None else unread,
                tz=settings_of(request).tz)


def _back_to_notifications(form) -> RedirectResponse:
    unread = form.get("unread")
    query = f"?unread={unread}" if unread in ("true", "false") else ""
    return RedirectResponse(f"/console/notifications{query}", status_code=303)


@router.post("/notifications/{notification_id}/read")
def read_one(notification_id: IdPath, signed_form: SignedForm, session: DB) -> Response:
    """One notice read: someone else's is not found, as in the API."""
    signed, form = signed_form
    notifications.mark_one_read(session, signed.user, notification_id=notification_id, now=utcnow())
    session.commit()
    return _back_to_notifications(form)


@router.post("/notifications/read-all")
def read_all(signed_form: SignedForm, session: DB) -> Response:
    signed, form = signed_form
    notifications.mark_read(session, signed.user, notification_id=None, now=utcnow())
    session.commit()
    return _back_to_notifications(form)


# --- Delegations ------------------------------------------------------------------------------

DELEGATION_FIELDS = ("delegate_username", "starts_on", "ends_on", "roles", "note")


def _delegations_page(request: Request, signed, session: Session, *, values: dict | None = None,
                      errors: FormErrors | None = None, status: int = 200) -> HTMLResponse:
    user = signed.user
    rows = delegation_svc.list_delegations(session=session, user=user)
    given = [d for d in rows if d.delegator_id == user.id]
    received = [d for d in rows if d.delegate_id == user.id]
    others = [d for d in rows if d.delegator_id != user.id and d.delegate_id != user.id]  # an admin's view: all
    lendable = sorted(DELEGABLE_ROLES & set(user.roles)) if may_delegate(user.roles) else []
    people = sorted((u for u in list_users(session=session) if u.is_active and u.id != user.id),
                    key=lambda u: person_name_key(u.full_name)) if lendable else []
    return page(request, "delegations.html", status=status, signed=signed, nav="delegations", given=given,
                received=received, others=others, lendable=lendable, people=people, values=values or {},
                errors=errors or FormErrors(), fields=DELEGATION_FIELDS, is_admin=Role.admin in user.roles)


@router.get("/delegations", response_class=HTMLResponse)
def my_delegations(request: Request, signed: Signed, session: DB) -> HTMLResponse:
    """Delegations I gave or received (admins: all), as the API lists them; a form to lend my authority."""
    return _delegations_page(request, signed, session)


@router.post("/delegations", response_class=HTMLResponse)
def create_delegation(request: Request, signed_form: SignedForm, session: DB) -> Response:
    """The API's delegation body (delegate_username, starts_on, ends_on, roles, note), checked by
    its schema, then the service's create_delegation; its refusals are shown on the form."""
    signed, form = signed_form
    values = {name: str(form.get(name) or "") for name in DELEGATION_FIELDS if name != "roles"}
    values["roles"] = [str(v) for v in form.getlist("roles") if isinstance(v, str)]
    body = body_of({k: v for k, v in form.items() if k in DELEGATION_FIELDS and k != "roles"})
    if values["roles"]:
        body["roles"] = values["roles"]
    data, errors = validate(DelegationIn, body)
    if data is None:
        return _delegations_page(request, signed, session, values=values, errors=errors, status=422)
    try:
        delegation_svc.create_delegation(
            session=session, delegator=signed.user, delegate_username=data.delegate_username,
            starts_on=data.starts_on, ends_on=data.ends_on, note=data.note,
            roles=[r.value for r in data.roles] if data.roles else None, client=_client(request),
        )
        session.commit()
    except AppError as error:
        session.rollback()
        if error.status in (403, 404) or error.status >= 500:
            raise
        return _delegations_page(request, signed, session, values=values, errors=from_error(error),
                                 status=error.status)
    return RedirectResponse("/console/delegations?created=1", status_code=303)


@router.post("/delegations/{delegation_id}/revoke")
def revoke_delegation(request: Request, delegation_id: IdPath, signed_form: SignedForm, session: DB) -> Response:
    """Ends a delegation now (the API's DELETE /delegations/{id}); one not mine is not found."""
    signed, _ = signed_form
    delegation_svc.revoke_delegation(session=session, user=signed.user, delegation_id=delegation_id,
                                     client=_client(request))
    session.commit()
    return RedirectResponse("/console/delegations?revoked=1", status_code=303)


__all__ = ["router"]
