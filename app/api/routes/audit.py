"""Audit (auditor, leader, admin): read-only figures from the event log, as JSON or CSV."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.api.deps import Now, SessionDep, SettingsDep, require_roles
from app.api.params import DocumentId
from app.api.problems import error_responses
from app.api.tabular import (
    CSV_DOWNLOAD,
    XLSX_DOWNLOAD,
    CSVResponse,
    XLSXResponse,
    attachment_disposition,
    csv_lines_response,
    csv_response,
    csv_stream_response,
)
from app.config import Settings
from app.errors import ValidationFailed
from app.models import User
from app.schemas import audit as schemas
from app.schemas.common import DEFAULT_PAGE, MAX_INT32, MAX_PAGE, CleanText, InputDate, InputDatetime, Page
from app.services.audit import figures, register_book, timeline
from app.services.audit.scope import AUDIT_READERS, REGISTER_BOOK_READERS, AuditPeriod, requested_period
from app.services import security_log
from app.services.calendar import load_calendar
from app.services.documents import local_day_bounds
from app.services.documents import get_visible_document
from app.workflow.vocabulary import Role
from app.i18n import msg

router = APIRouter(prefix="/audit", tags=["audit"], responses=error_responses(401, 403, 422))

AuditReader = Annotated[User, Depends(require_roles(*AUDIT_READERS))]
# ``?format=csv`` on a JSON operation: kept working for the clients written against it, left out of
# the OpenAPI document (deprecated). An operation answers one media type there, so that a generated
# client's function parses what it gets: each figure's CSV is an operation of its own (``….csv``).
Format = Annotated[Literal["json", "csv"], Query(alias="format", include_in_schema=False)]


def audit_period(
    settings: SettingsDep,
    now: Now,
    date_from: Annotated[InputDate | None, Query(alias="from", description="First arrival date (default: 1 Jan)")]
    = None,
    date_to: Annotated[InputDate | None, Query(alias="to", description="Last arrival date (default: today)")] = None,
    register_code: Annotated[CleanText | None, Query(max_length=32)] = None,
) -> AuditPeriod:
    return requested_period(today=now.astimezone(settings.tz).date(), date_from=date_from, date_to=date_to,
                            register_code=register_code)


Period = Annotated[AuditPeriod, Depends(audit_period)]


def _period_out(period: AuditPeriod) -> schemas.Period:
    return schemas.Period(date_from=period.date_from, date_to=period.date_to, register_code=period.register_code)


def _csv(rows: list, row_type: type, name: str, period: AuditPeriod) -> Response:  # noqa: ANN001
    header = [f.name for f in fields(row_type)]
    return csv_response(header, ([getattr(r, h) for h in header] for r in rows),
                        f"{name}-{period.date_from}-{period.date_to}.csv")


GroupBy = Literal["unit", "urgency", "issuer", "document_type", "month"]


def _processing_times(user: User, session: Session, settings: Settings, now: datetime, period: AuditPeriod,
                      group_by: GroupBy) -> list[figures.ProcessingTimeRow]:
    return figures.processing_times(
        session=session, user=user, period=period, group_by=group_by, calendar=load_calendar(session=session),
        today=now.astimezone(settings.tz).date(), tz=settings.tz,
    )


@router.get("/processing-times", name="audit-processing-times", response_model=schemas.ProcessingTimes)
def processing_times(
    user: AuditReader, session: SessionDep, settings: SettingsDep, now: Now, period: Period,
    group_by: GroupBy = "unit", output: Format = "json",
) -> schemas.ProcessingTimes | Response:
    """Per unit (the lead unit), urgency, issuer, document type or arrival month: documents, resolved,
    on time, overdue, and the time from arrival to resolution (hours and working days).
    As CSV: ``GET /audit/processing-times.csv``."""
    rows = _processing_times(user, session, settings, now, period, group_by)
    if output == "csv":
        return _csv(rows, figures.ProcessingTimeRow, f"processing-times-{group_by}", period)
    return schemas.ProcessingTimes(period=_period_out(period), group_by=group_by,
                                   rows=[schemas.ProcessingTimeRow(**asdict(r)) for r in rows])


@router.get("/processing-times.csv", name="audit-processing-times-csv", response_class=CSVResponse,
            responses=CSV_DOWNLOAD)
def processing_times_csv(
    user: AuditReader, session: SessionDep, settings: SettingsDep, now: Now, period: Period, group_by: GroupBy = "unit",
) -> Response:
    """``processing-times`` as CSV (UTF-8 with a BOM, for Excel): one line per row, the JSON rows' names as header."""
    return _csv(_processing_times(user, session, settings, now, period, group_by), figures.ProcessingTimeRow,
                f"processing-times-{group_by}", period)


def _stage_durations(user: User, session: Session, settings: Settings, period: AuditPeriod) -> list[figures.StageRow]:
    return figures.stage_durations(session=session, user=user, period=period,
                                   calendar=load_calendar(session=session), tz=settings.tz)


@router.get("/stage-durations", name="audit-stage-durations", response_model=schemas.StageDurations)
def stage_durations(
    user: AuditReader, session: SessionDep, settings: SettingsDep, period: Period, output: Format = "json",
) -> schemas.StageDurations | Response:
    """How long documents stay in each state of the slip. As CSV: ``GET /audit/stage-durations.csv``."""
    rows = _stage_durations(user, session, settings, period)
    if output == "csv":
        return _csv(rows, figures.StageRow, "stage-durations", period)
    return schemas.StageDurations(period=_period_out(period), rows=[schemas.StageRow(**asdict(r)) for r in rows])


@router.get("/stage-durations.csv", name="audit-stage-durations-csv", response_class=CSVResponse,
            responses=CSV_DOWNLOAD)
def stage_durations_csv(user: AuditReader, session: SessionDep, settings: SettingsDep, period: Period) -> Response:
    """``stage-durations`` as CSV (UTF-8 with a BOM, for Excel)."""
    return _csv(_stage_durations(user, session, settings, period), figures.StageRow, "stage-durations", period)


AsOf = Annotated[InputDate | None, Query(description="The day to look from (default today)")]


def _overdue(user: User, session: Session, settings: Settings, now: datetime, period: AuditPeriod,
             as_of: date | None) -> tuple[date, list[timeline.OverdueRow]]:
    today = now.astimezone(settings.tz).date()
    day = as_of or today
    return day, timeline.overdue(session=session, user=user, period=period, as_of=day, today=today,
                                 calendar=load_calendar(session=session), tz=settings.tz)


@router.get("/overdue", name="audit-overdue", response_model=schemas.Overdue)
def overdue(
    user: AuditReader, session: SessionDep, settings: SettingsDep, now: Now, period: Period, as_of: AsOf = None,
    output: Format = "json",
) -> schemas.Overdue | Response:
    """Open documents and assignments past their deadline at the end of ``as_of``.
    As CSV: ``GET /audit/overdue.csv``."""
    day, rows = _overdue(user, session, settings, now, period, as_of)
    if output == "csv":
        return _csv(rows, timeline.OverdueRow, f"overdue-{day}", period)
    return schemas.Overdue(period=_period_out(period), as_of=day, rows=[schemas.OverdueRow(**asdict(r)) for r in rows])


@router.get("/overdue.csv", name="audit-overdue-csv", response_class=CSVResponse, responses=CSV_DOWNLOAD)
def overdue_csv(
    user: AuditReader, session: SessionDep, settings: SettingsDep, now: Now, period: Period, as_of: AsOf = None,
) -> Response:
    """``overdue`` as CSV (UTF-8 with a BOM, for Excel)."""
    day, rows = _overdue(user, session, settings, now, period, as_of)
    return _csv(rows, timeline.OverdueRow, f"overdue-{day}", period)


def _compliance(user: User, session: Session, settings: Settings, now: datetime,
                period: AuditPeriod) -> list[figures.ComplianceRow]:
    return figures.compliance(session=session, user=user, period=period, calendar=load_calendar(session=session),
                              now=now, tz=settings.tz)


@router.get("/compliance", name="audit-compliance", response_model=schemas.Compliance)
def compliance(
    user: AuditReader, session: SessionDep, settings: SettingsDep, now: Now, period: Period, output: Format = "json",
) -> schemas.Compliance | Response:
    """Decree 30 timeliness: registered the same or next working day after arrival; presented (submitted)
    the same or next working day after registration; urgent documents within 4 working hours.
    As CSV: ``GET /audit/compliance.csv``."""
    rows = _compliance(user, session, settings, now, period)
    if output == "csv":
        return _csv(rows, figures.ComplianceRow, "compliance", period)
    return schemas.Compliance(period=_period_out(period), rows=[schemas.ComplianceRow(**asdict(r)) for r in rows])


@router.get("/compliance.csv", name="audit-compliance-csv", response_class=CSVResponse, responses=CSV_DOWNLOAD)
def compliance_csv(user: AuditReader, session: SessionDep, settings: SettingsDep, now: Now, period: Period) -> Response:
    """``compliance`` as CSV (UTF-8 with a BOM, for Excel)."""
    return _csv(_compliance(user, session, settings, now, period), figures.ComplianceRow, "compliance", period)


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




RegisterReader = Annotated[User, Depends(require_roles(*REGISTER_BOOK_READERS))]
REGISTER_BOOK_DOC = """The incoming register (sổ đăng ký văn bản đến) for a period in Decree 30's columns: arrival
    date, số đến, issuer, number and symbol, document date, type and summary, receiving units, date handed
    over, receipt signature (blank, for the printed book), notes. Clerks may print it too."""


def _register_book_name(period: AuditPeriod) -> str:
    return register_book.book_name(period)


def _register_book_csv(user: User, session: Session, settings: Settings, period: AuditPeriod) -> Response:
    written = register_book.register_book_csv_lines(session=session, user=user, period=period, tz=settings.tz)
    lines = None if written is not None else register_book.register_book(
        session=session, user=user, period=period, tz=settings.tz)
    session.close()  # everything is read: free the connection before the (long) download
    filename = f"{_register_book_name(period)}.csv"
    if written is not None:
        return csv_lines_response(register_book.COLUMNS, written, filename)
    return csv_stream_response(register_book.COLUMNS, lines or [], filename)


def _register_book_xlsx(user: User, session: Session, settings: Settings, period: AuditPeriod) -> Response:
    lines = register_book.register_book(session=session, user=user, period=period, tz=settings.tz)
    session.close()
    return XLSXResponse(register_book.register_book_xlsx(lines, register_book.book_title(period)),
                        headers={"Content-Disposition": attachment_disposition(f"{_register_book_name(period)}.xlsx")})


@router.get("/register-book.csv", name="audit-register-book-csv", response_class=CSVResponse,
            responses=CSV_DOWNLOAD, description=f"{REGISTER_BOOK_DOC}\n\nAs CSV (UTF-8 with a BOM, for Excel).")
def register_book_csv(user: RegisterReader, session: SessionDep, settings: SettingsDep, period: Period) -> Response:
    return _register_book_csv(user, session, settings, period)


@router.get("/register-book.xlsx", name="audit-register-book-xlsx", response_class=XLSXResponse,
            responses=XLSX_DOWNLOAD, description=f"{REGISTER_BOOK_DOC}\n\nAs an XLSX workbook, ready to print.")
def register_book_xlsx(user: RegisterReader, session: SessionDep, settings: SettingsDep, period: Period) -> Response:
    return _register_book_xlsx(user, session, settings, period)


# ``GET /audit/register-book?format=xlsx|csv``, the first form: kept for the clients written against it,
# left out of the OpenAPI document (deprecated), where an operation answers one media type.
@router.get("/register-book", name="audit-register-book", include_in_schema=False)
def register_book_export(
    user: RegisterReader, session: SessionDep, settings: SettingsDep, period: Period,
    output: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "xlsx",
) -> Response:
    if output == "csv":
        return _register_book_csv(user, session, settings, period)
    return _register_book_xlsx(user, session, settings, period)


SecurityReader = Annotated[User, Depends(require_roles(Role.auditor, Role.admin))]
SECURITY_COLUMNS = ("id", "at", "kind", "username", "actor", "client", "data")


SecurityKind = Annotated[Literal[security_log.KINDS] | None, Query()]  # type: ignore[valid-type]


def security_filters(
    settings: SettingsDep,
    username: Annotated[CleanText | None, Query(max_length=64)] = None,
    kind: SecurityKind = None,
    date_from: Annotated[InputDate | None, Query(alias="from", description="First day (local)")] = None,
    date_to: Annotated[InputDate | None, Query(alias="to", description="Last day (local)")] = None,
) -> security_log.EventFilters:
    if date_from and date_to and date_to < date_from:
        raise ValidationFailed("to", msg("must not be before 'from'"), code="period.reversed")
    return security_log.EventFilters(
        username=username, kind=kind,
        since=local_day_bounds(date_from, settings.tz)[0] if date_from else None,
        until=local_day_bounds(date_to, settings.tz)[1] if date_to else None,
    )


SecurityFilters = Annotated[security_log.EventFilters, Depends(security_filters)]


def _security_csv(session: Session, settings: Settings, filters: security_log.EventFilters) -> Response:
    rows, _total = security_log.list_events(session=session, filters=filters, limit=MAX_INT32, offset=0)
    return csv_response(SECURITY_COLUMNS, ([e.id, e.at.astimezone(settings.tz).isoformat(), e.kind, e.username,
                                            e.actor, e.client, json.dumps(e.data, ensure_ascii=False)]
                                           for e in rows), "security-events.csv")


@router.get("/security-events", name="audit-security-events", response_model=Page[schemas.SecurityEventOut])
def security_events(
    _reader: SecurityReader, session: SessionDep, settings: SettingsDep, filters: SecurityFilters,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0, le=MAX_INT32)] = 0,
    output: Format = "json",
) -> Page[schemas.SecurityEventOut] | Response:
    """The security log, newest first: logins and their failures, lockouts, logouts, token
    revocations, user and role changes, password changes and resets, delegations. Admins and
    auditors. As CSV, every matching entry rather than a page: ``GET /audit/security-events.csv``."""
    if output == "csv":
        return _security_csv(session, settings, filters)
    rows, total = security_log.list_events(session=session, filters=filters, limit=limit, offset=offset)
    items = [schemas.SecurityEventOut(id=e.id, at=e.at.astimezone(settings.tz), kind=e.kind, username=e.username,
                                      actor=e.actor, client=e.client, data=e.data) for e in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/security-events.csv", name="audit-security-events-csv", response_class=CSVResponse,
            responses=CSV_DOWNLOAD)
def security_events_csv(_reader: SecurityReader, session: SessionDep, settings: SettingsDep,
                        filters: SecurityFilters) -> Response:
    """The security log as CSV (UTF-8 with a BOM, for Excel): every matching entry, newest first."""
    return _security_csv(session, settings, filters)
