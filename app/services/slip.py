"""Build the processing slip from the document and its events.

The slip is a *view* of the event log: every entry is an event, signed by its actor (and
the leader they stood in for), dated, placed in the section of the paper form where that
person would have written it.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Attachment, DocumentEvent, IncomingDocument, Unit, User
from app.schemas.slip import Slip, SlipAssignment, SlipEntry, SlipSignature, SlipSummary
from app.services import rule_columns
from app.services.signatures import PDF, results_for
from app.services.slip_render import slip_date
from app.services.workflow import list_events
from app.workflow import deadlines
from app.workflow.vocabulary import Role

URGENCY_LABELS = {"normal": "Thường", "urgent": "Khẩn", "very_urgent": "Thượng khẩn", "flash": "Hỏa tốc"}
CONFIDENTIALITY_LABELS = {"normal": "Thường", "confidential": "Mật", "secret": "Tối mật", "top_secret": "Tuyệt mật"}
ROLE_LABELS = {"lead": "chủ trì", "cooperate": "phối hợp", "inform": "để biết"}
TITLE_BY_ROLE = [
    (Role.leader, "Lãnh đạo Bộ"),
    (Role.office_leader, "Lãnh đạo Văn phòng"),
    (Role.unit_leader, "Lãnh đạo đơn vị"),
    (Role.specialist, "Chuyên viên"),
    (Role.clerk, "Văn thư"),
]
DEFAULT_TEXT = {
    "propose": "Kính trình lãnh đạo",
    "direct": "Giao xử lý",
    "assign": "Giao chuyên viên xử lý",
    "acknowledge": "Đã nhận để biết",
    "complete": "Đã hoàn thành",
}


def _day(iso: str | None) -> str:
    """A date kept in an event (ISO) as the slip prints every date (slip_render.slip_date)."""
    return slip_date(date.fromisoformat(iso)) if iso else ""


def _title(user: User) -> str | None:
    return next((label for role, label in TITLE_BY_ROLE if role in user.roles), None)


def _section(event: DocumentEvent) -> str | None:
    """Which of the form's sections an event belongs to."""
    authority = event.on_behalf_of or event.actor
    if event.action in {"propose", "direct", "return"}:
        return "leadership_directions" if Role.leader in authority.roles else "office_opinions"
    if event.action == "extend":
        return "leadership_directions"
    if event.action == "assign":
        return "unit_directions"
    if event.action in {"report", "complete", "acknowledge"}:
        return "handler_results"
    return None  # register, submit, recall, archive: the clerk's steps, shown in the summary


def build_slip(*, session: Session, document: IncomingDocument, agency: str, tz: ZoneInfo, now: datetime) -> Slip:
    """The slip of ``document``; its overdue marks are the detail's, as of ``now`` (app.workflow.deadlines)."""
    units = {u.code: u.name for u in session.scalars(select(Unit))}
    sections: dict[str, list[SlipEntry]] = {
        "office_opinions": [], "leadership_directions": [], "unit_directions": [], "handler_results": []
    }
    for event in list_events(session=session, document=document):
        section = _section(event)
        if section is None:
            continue
        data = event.data or {}
        assignments = None
        if event.action == "direct":
            assignments = [
                SlipAssignment(unit_code=a["unit_code"], unit_name=units.get(a["unit_code"], a["unit_code"]),
                               role=a["role"], role_label=ROLE_LABELS.get(a["role"], a["role"]),
                               due_date=a.get("due_date"))
                for a in data.get("assignments", [])
            ]
        text = event.comment or DEFAULT_TEXT.get(event.action, "")
        if event.action == "propose" and data.get("to_full_name") and not event.comment:
            text = f"Kính trình {data['to_full_name']}"
        if event.action == "assign" and data.get("assignee_full_name"):
            text = f"{text} — giao {data['assignee_full_name']}" if event.comment else f"Giao {data['assignee_full_name']}"
        if event.action == "extend":
            text = f"{text} (gia hạn {_day(data.get('from_due_date')) or '—'} → {_day(data.get('to_due_date'))})"
        due = data.get("to_due_date") if event.action == "extend" else data.get("due_date")
        sections[section].append(SlipEntry(
            author=event.actor.full_name,
            author_username=event.actor.username,
            author_title=_title(event.on_behalf_of or event.actor),
            on_behalf_of=event.on_behalf_of.full_name if event.on_behalf_of else None,
            action=event.action,
            text=text,
            at=event.at.astimezone(tz),
            assignments=assignments,
            due_date=due,
        ))
    today = now.astimezone(tz).date()
    parts = rule_columns.parts(document)
    late = deadlines.overdue_parts(document.state, document.due_date, parts, today)
    summary = SlipSummary(
        symbol=document.symbol,
        urgency=document.urgency,
        urgency_label=URGENCY_LABELS[document.urgency],
        confidentiality=document.confidentiality,
        confidentiality_label=CONFIDENTIALITY_LABELS[document.confidentiality],
        register_code=document.register.code,
        arrival_number=document.arrival_number,
        received_at=document.received_at.astimezone(tz),
        document_date=document.document_date,
        issuer=document.issuer,
        summary=document.summary,
        due_date=document.due_date,
        state=document.state,
        deadline=deadlines.document_deadline(document.due_date, deadlines.lead_due_date(parts)),
        overdue=deadlines.document_is_overdue(document.state, document.due_date, parts, today),
        overdue_units=[a.unit.code for a in document.assignments if a.id in late],
    )
    return Slip(document_id=document.id, agency=agency, summary=summary,
                signatures=_signatures(session, document, tz), **sections)


SIGNATURE_LABELS = {"valid": "hợp lệ", "untrusted": "không xác thực được nguồn gốc",
                    "invalid": "không hợp lệ", "unsupported": "không kiểm tra được",
                    "pending": "đang kiểm tra"}


def _signatures(session: Session, document: IncomingDocument, tz: ZoneInfo) -> list[SlipSignature]:
    """One line per signature of the document's PDFs (a PDF still being checked: one line)."""
    pdfs = [a for a in session.scalars(select(Attachment).where(Attachment.document_id == document.id)
                                       .order_by(Attachment.id)) if a.content_type == PDF]
    checks = results_for(session, [a.sha256 for a in pdfs])
    lines = []
    for attachment in pdfs:
        check = checks.get(attachment.sha256)
        if check is None or check.state != "done":
            lines.append(SlipSignature(filename=attachment.filename, signer_name=None, signed_at=None,
                                       status="pending", status_label=SIGNATURE_LABELS["pending"]))
            continue
        for signature in check.signatures:
            signed_at = datetime.fromisoformat(signature["signed_at"]).astimezone(tz) if signature["signed_at"] else None
            lines.append(SlipSignature(filename=attachment.filename, signer_name=signature["signer_name"],
                                       signed_at=signed_at, status=signature["status"],
                                       status_label=SIGNATURE_LABELS[signature["status"]]))
    return lines
