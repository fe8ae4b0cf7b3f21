"""Audit (auditor, leader, admin): read-only figures from the event log, as JSON or CSV."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from app.api.deps import Now, SessionDep, SettingsDep, require_roles
from app.api.params import DocumentId
from app.api.problems import error_responses
from app.api.tabular import (
    CSV_MEDIA_TYPE,
    attachment_disposition,
    csv_lines_response,
    csv_response,
    csv_stream_response,
)
from app.errors import ValidationFailed
from app.models import User
from app.schemas import audit as schemas
from app.schemas.common import DEFAULT_PAGE, MAX_INT32, MAX_PAGE, CleanText, InputDate, InputDatetime, Page
from app.services.audit import figures, register_book, timeline
from app.services.audit.scope import AuditPeriod
from app.services import security_log
from app.services.calendar import load_calendar
from app.services.documents import local_day_bounds
from app.services.documents import get_visible_document
from app.workflow.vocabulary import Role
from app.i18n import msg

router = APIRouter(prefix="/audit", tags=["audit"], responses=error_responses(401, 403, 422))

AuditReader = Annotated[User, Depends(require_roles(Role.auditor, Role.leader, Role.admin))]
Format = Annotated[Literal["json", "csv"], Query(alias="format", description="csv: UTF-8 with BOM, for Excel")]
CSV_RESPONSE = {200: {"content": {CSV_MEDIA_TYPE: {}}, "description": "JSON, or CSV with ?format=csv"}}


def audit_period(
    settings: SettingsDep,
    now: Now,
    date_from: Annotated[InputDate | None, Query(alias="from", description="First arrival date (default: 1 Jan)")]
    = None,
    date_to: Annotated[InputDate | None, Query(alias="to", description="Last arrival date (default: today)")] = None,
    register_code: Annotated[CleanText | None, Query(max_length=32)] = None,
) -> AuditPeriod:
    today = now.astimezone(settings.tz).date()
    start = date_from or date(today.year, 1, 1)
    end = date_to or today
    if end < start:
        raise ValidationFailed("to", msg("must not be before 'from'"), code="period.reversed")
    return AuditPeriod(start, end, register_code)


Period = Annotated[AuditPeriod, Depends(audit_period)]


def _period_out(period: AuditPeriod) -> schemas.Period:
    return schemas.Period(date_from=period.date_from, date_to=period.date_to, register_code=period.register_code)


def _csv(rows: list, row_type: type, name: str, period: AuditPeriod) -> Response:  # noqa: ANN001
    header = [f.name for f in fields(row_type)]
    return csv_response(header, ([getattr(r, h) for h in header] for r in rows),
                        f"{name}-{period.date_from}-{period.date_to}.csv")


@router.get("/processing-times", name="audit-processing-times", response_model=schemas.ProcessingTimes,
            responses=CSV_RESPONSE)
def processing_times(
    user: AuditReader, session: SessionDep, settings: SettingsDep, now: Now, period: Period,
    group_by: Literal["unit", "urgency", "issuer", "document_type", "month"] = "unit",
    output: Format = "json",
) -> schemas.ProcessingTimes | Response:
    """Per unit (the lead unit), urgency, issuer, document type or arrival month: documents, resolved,
    on time, overdue, and the time from arrival to resolution (hours and working days)."""
    rows = figures.processing_times(
        session=session, user=user, period=period, group_by=group_by, calendar=load_calendar(session=session),
        today=now.astimezone(settings.tz).date(), tz=settings.tz,
    )
    if output == "csv":
        return _csv(rows, figures.ProcessingTimeRow, f"processing-times-{group_by}", period)
    return schemas.ProcessingTimes(period=_period_out(period), group_by=group_by,
                                   rows=[schemas.ProcessingTimeRow(**asdict(r)) for r in rows])


@router.get("/stage-durations", name="audit-stage-durations", response_model=schemas.StageDurations,
            responses=CSV_RESPONSE)
def stage_durations(
    user: AuditReader, session: SessionDep, settings: SettingsDep, period: Period, output: Format = "json",
) -> schemas.StageDurations | Response:
    """How long documents stay in each state of the slip."""
    rows = figures.stage_durations(session=session, user=user, period=period,
                                   calendar=load_calendar(session=session), tz=settings.tz)
    if output == "csv":
        return _csv(rows, figures.StageRow, "stage-durations", period)
    return schemas.StageDurations(period=_period_out(period), rows=[schemas.StageRow(**asdict(r)) for r in rows])


@router.get("/overdue", name="audit-overdue", response_model=schemas.Overdue, responses=CSV_RESPONSE)
def overdue(
    user: AuditReader, session: SessionDep, settings: SettingsDep, now: Now, period: Period,
    as_of: Annotated[InputDate | None, Query(description="The day to look from (default today)")] = None,
    output: Format = "json",
) -> schemas.Overdue | Response:
    """Open documents and assignments past their deadline at the end of ``as_of``."""
    today = now.astimezone(settings.tz).date()
    day = as_of or today
    rows = timeline.overdue(session=session, user=user, period=period, as_of=day, today=today,
                            calendar=load_calendar(session=session), tz=settings.tz)
    if output == "csv":
        return _csv(rows, timeline.OverdueRow, f"overdue-{day}", period)
    return schemas.Overdue(period=_period_out(period), as_of=day, rows=[schemas.OverdueRow(**asdict(r)) for r in rows])


@router.get("/compliance", name="audit-compliance", response_model=schemas.Compliance, responses=CSV_RESPONSE)
def compliance(
    user: AuditReader, session: SessionDep, settings: SettingsDep, now: Now, period: Period, output: Format = "json",
) -> schemas.Compliance | Response:
    """Decree 30 timeliness: registered the same or next working day after arrival; presented (submitted)
    the same or next working day after registration; urgent documents within 4 working hours."""
    rows = figures.compliance(session=session, user=user, period=period, calendar=load_calendar(session=session),
                              now=now, tz=settings.tz)
    if output == "csv":
        return _csv(rows, figures.ComplianceRow, "compliance", period)
    return schemas.Compliance(period=_period_out(period), rows=[schemas.ComplianceRow(**asdict(r)) for r in rows])


@router.get("/documents/{document_id}", name="audit-document-as-of", response_model=schemas.DocumentAsOf,
            responses=error_responses(404, 409))
def document_as_of(
    document_id: DocumentId, user: AuditReader, session: SessionDep, now: Now,
    as_of: Annotated[InputDatetime | None, Query(description="The moment to replay to, with its offset (default now)")] = None,
) -> schemas.DocumentAsOf:
    """Where the document stood at ``as_of``: its events replayed through the workflow machines."""
    document = get_visible_document(session=session, user=user, document_id=document_id)
    result = timeline.document_as_of(session=session, document=document, at=as_of or now)
    return schemas.DocumentAsOf(
        document_id=result.document_id, as_of=result.as_of, state=result.state, due_date=result.due_date,
        events_applied=result.events_applied, assignments=[schemas.AssignmentAsOf(**asdict(a)) for a in result.assignments],
    )




XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RegisterReader = Annotated[User, Depends(require_roles(Role.auditor, Role.leader, Role.admin, Role.clerk))]


@router.get(
    "/register-book",
    name="audit-register-book",
    response_class=Response,
    responses={200: {"description": "The incoming register (sổ đăng ký văn bản đến) as CSV or XLSX",
                     "content": {CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}}}},
)
def register_book_export(
    user: RegisterReader, session: SessionDep, settings: SettingsDep, period: Period,
    output: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "xlsx",
) -> Response:
    """The incoming register for a period in Decree 30's columns: arrival date, số đến, issuer,
    number and symbol, document date, type and summary, receiving units, date handed over, receipt
    signature (blank, for the printed book), notes. Clerks may print it too."""
    name = f"so-den-{period.register_code or 'tat-ca'}-{period.date_from}-{period.date_to}"
    if output == "csv":
        written = register_book.register_book_csv_lines(session=session, user=user, period=period, tz=settings.tz)
        lines = None if written is not None else register_book.register_book(
            session=session, user=user, period=period, tz=settings.tz)
        session.close()  # everything is read: free the connection before the (long) download
        if written is not None:
            return csv_lines_response(register_book.COLUMNS, written, f"{name}.csv")
        return csv_stream_response(register_book.COLUMNS, lines or [], f"{name}.csv")
    lines = register_book.register_book(session=session, user=user, period=period, tz=settings.tz)
    session.close()
    title = f"SỔ ĐĂNG KÝ VĂN BẢN ĐẾN — từ {period.date_from:%d/%m/%Y} đến {period.date_to:%d/%m/%Y}"
    return Response(
        register_book.register_book_xlsx(lines, title),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": attachment_disposition(f"{name}.xlsx")},
    )


SecurityReader = Annotated[User, Depends(require_roles(Role.auditor, Role.admin))]
SECURITY_COLUMNS = ("id", "at", "kind", "username", "actor", "client", "data")


@router.get("/security-events", name="audit-security-events", response_model=Page[schemas.SecurityEventOut],
            responses=CSV_RESPONSE)
def security_events(
    _reader: SecurityReader, session: SessionDep, settings: SettingsDep,
    username: Annotated[CleanText | None, Query(max_length=64)] = None,
    kind: Annotated[Literal[security_log.KINDS] | None, Query()] = None,  # type: ignore[valid-type]
    date_from: Annotated[InputDate | None, Query(alias="from", description="First day (local)")] = None,
    date_to: Annotated[InputDate | None, Query(alias="to", description="Last day (local)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0, le=MAX_INT32)] = 0,
    output: Format = "json",
) -> Page[schemas.SecurityEventOut] | Response:
    """The security log, newest first: logins and their failures, lockouts, logouts, token
    revocations, user and role changes, password changes and resets, delegations. Admins and
    auditors. CSV (``format=csv``) has every matching entry, not a page."""
    if date_from and date_to and date_to < date_from:
        raise ValidationFailed("to", msg("must not be before 'from'"), code="period.reversed")
    filters = security_log.EventFilters(
        username=username, kind=kind,
        since=local_day_bounds(date_from, settings.tz)[0] if date_from else None,
        until=local_day_bounds(date_to, settings.tz)[1] if date_to else None,
    )
    if output == "csv":
        rows, _total = security_log.list_events(session=session, filters=filters, limit=MAX_INT32, offset=0)
        return csv_response(SECURITY_COLUMNS, ([e.id, e.at.astimezone(settings.tz).isoformat(), e.kind, e.username,
                                                e.actor, e.client, json.dumps(e.data, ensure_ascii=False)]
                                               for e in rows), "security-events.csv")
    rows, total = security_log.list_events(session=session, filters=filters, limit=limit, offset=offset)
    items = [schemas.SecurityEventOut(id=e.id, at=e.at.astimezone(settings.tz), kind=e.kind, username=e.username,
                                      actor=e.actor, client=e.client, data=e.data) for e in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)
