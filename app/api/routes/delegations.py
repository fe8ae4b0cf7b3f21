"""Delegation (ủy quyền): leaders lend their authority for a date range."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.api.deps import Client, CurrentUser, SessionDep
from app.api.problems import error_responses
from app.models import Delegation
from app.schemas.common import MAX_INT32
from app.schemas.workflow import DelegationIn, DelegationOut
from app.services import delegations as svc

router = APIRouter(prefix="/delegations", tags=["delegations"], responses=error_responses(401))


def delegation_out(d: Delegation) -> DelegationOut:
    return DelegationOut(
        id=d.id, delegator=d.delegator.username, delegate=d.delegate.username, starts_on=d.starts_on,
        ends_on=d.ends_on, roles=sorted(d.roles or []), note=d.note, revoked=d.revoked_at is not None,
    )


@router.post("", name="delegations-create", status_code=201, response_model=DelegationOut,
             responses=error_responses(403, 422))
def create(body: DelegationIn, user: CurrentUser, session: SessionDep, client: Client) -> DelegationOut:
    """Lend some of your authority (leader, office leader, unit leader: ``roles``) to another user
    from starts_on to ends_on, at most a year. Whoever registered a document cannot decide on it
    (propose, direct, return, extend) with authority lent to them."""
    delegation = svc.create_delegation(
        session=session, delegator=user, delegate_username=body.delegate_username, starts_on=body.starts_on,
        ends_on=body.ends_on, note=body.note, roles=[r.value for r in body.roles] if body.roles else None,
        client=client,
    )
    session.refresh(delegation)
    out = delegation_out(delegation)
    session.commit()
    return out


@router.get("", name="delegations-list", response_model=list[DelegationOut])
def list_(user: CurrentUser, session: SessionDep) -> list[DelegationOut]:
    """Delegations you gave or received (admins: all)."""
    return [delegation_out(d) for d in svc.list_delegations(session=session, user=user)]


@router.delete("/{delegation_id}", name="delegations-revoke", response_model=DelegationOut,
               responses=error_responses(404))
def revoke(
    delegation_id: Annotated[int, Path(ge=1, le=MAX_INT32)], user: CurrentUser, session: SessionDep, client: Client,
) -> DelegationOut:
    """End a delegation now. It stays on record, marked revoked."""
    out = delegation_out(svc.revoke_delegation(session=session, user=user, delegation_id=delegation_id,
                                               client=client))
    session.commit()
    return out
