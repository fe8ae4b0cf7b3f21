"""What an action requires and what it brings about, beyond who may take it (``permissions``).

Pure: the schemas validate requests with these, the services apply them; neither restates them.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.workflow.vocabulary import AssignmentRole, DocumentState
from app.i18n import Text, msg


def direction_problem(assignments: Iterable[tuple[str, str]]) -> Text | None:
    """Why a direction's ``(unit_code, role)`` list is not acceptable, or None: it names exactly one
    lead unit (chủ trì), and each unit once."""
    items = list(assignments)
    leads = [code for code, role in items if role == AssignmentRole.lead]
    if len(leads) != 1:
        return msg("exactly one unit must lead (role 'lead'); got {count}", count=len(leads))
    codes = [code for code, _ in items]
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        return msg("a unit may appear only once; repeated: {units}", units=", ".join(repeated))
    return None


def resolves_document(action: str, assignment_role: str, document_state: str) -> bool:
    """Completing the lead unit's part resolves a document in progress; nothing else does.
    (A cooperating or informed unit may still finish its part afterwards.)"""
    return (
        action == "complete"
        and assignment_role == AssignmentRole.lead
        and document_state == DocumentState.in_progress
    )
