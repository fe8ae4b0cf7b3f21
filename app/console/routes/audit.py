"""Audit figures as charts, and the register book's downloads, for a period.

The figures are the API's (app/api/routes/audit.py): the same services (figures.processing_times,
register_book.register_book …) with the same period rule (scope.requested_period) and the same
readers (scope.AUDIT_READERS, scope.REGISTER_BOOK_READERS). The page only draws what they return.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.console import charts
from app.console.deps import DB, Reader, reader_of
from app.console.forms import FormErrors, body_of, from_error, validate
from app.console.pages import language, page
from app.console.routing import PageRoute
from app.console.session import ConsoleSession, Signed, require_roles, settings_of
from app.errors import ValidationFailed
from app.i18n import msg, render
from app.schemas.common import CleanText, InputDate
from app.services.audit import figures, register_book, timeline
from app.services.audit.scope import AUDIT_READERS, REGISTER_BOOK_READERS, AuditPeriod, requested_period
from app.services.calendar import load_calendar
from app.services.organisation import list_units
from app.tables import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, attachment_disposition, csv_blocks, csv_line_blocks

router = APIRouter(prefix="/console", route_class=PageRoute, include_in_schema=False)


class PeriodQuery(BaseModel):
    """The API's period parameters (``from``, ``to``, ``register_code``), with its types."""

    model_config = ConfigDict(extra="ignore")

    date_from: InputDate | None = Field(None, alias="from")
    date_to: InputDate | None = Field(None, alias="to")
    register_code: CleanText | None = Field(None, max_length=32)


PERIOD_NAMES = ("from", "to", "register_code")


def _period(request: Request, reader: Reader) -> tuple[dict[str, str], AuditPeriod | None, FormErrors]:
    """The period the address names (the API's rule), or the form's errors."""
    given = {k: v for k, v in request.query_params.items() if k in PERIOD_NAMES and v.strip()}
    query, errors = validate(PeriodQuery, body_of(given))
    if query is None:
        return given, None, errors
    try:
        period = requested_period(today=reader.today, date_from=query.date_from, date_to=query.date_to,
                                  register_code=query.register_code)
    except ValidationFailed as error:
        return given, None, from_error(error)
    return given, period, FormErrors()



def _period_query(period: AuditPeriod) -> str:
    values = {"from": period.date_from.isoformat(), "to": period.date_to.isoformat()}
    if period.register_code:
        values["register_code"] = period.register_code
    return urlencode(values)


# --- The audit page ----------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, signed: Signed, session: DB) -> HTMLResponse:
    """Processing time per lead unit, the on-time rate per arrival month and the overdue documents
    per lead unit: the API's ``processing-times`` rows (group_by unit and month) for the period."""
    require_roles(signed, AUDIT_READERS)
    reader = reader_of(request, session, signed.user)
    given, period, errors = _period(request, reader)
    by_unit: list[figures.ProcessingTimeRow] = []
    by_month: list[figures.ProcessingTimeRow] = []
    overdue_now: list[timeline.OverdueRow] = []
    if period is not None:
        calendar = load_calendar(session=session)
        for group_by, rows in (("unit", by_unit), ("month", by_month)):
            rows += figures.processing_times(session=session, user=signed.user, period=period, group_by=group_by,
                                             calendar=calendar, today=reader.today, tz=reader.settings.tz)
        # the API's ``overdue`` as of today: the items behind the third chart that are still open
        overdue_now = timeline.overdue(session=session, user=signed.user, period=period, as_of=reader.today,
                                       today=reader.today, calendar=calendar, tz=reader.settings.tz)
    lang = language(request)
    label = _unit_labels(session, lang)
    return page(request, "audit.html", status=422 if errors else 200, signed=signed, nav="audit", given=given,
                period=period, errors=errors, bar_chart=charts.bar_chart,
                unit_days=[(label(r.key), r.median_working_days) for r in by_unit],
                month_rates=[(_month(r.key), r.on_time_rate) for r in by_month],
                unit_overdue=[(label(r.key), r.overdue) for r in by_unit], overdue_now=overdue_now,
                unit_label=label, today=reader.today,
                days=charts.number(lang), percent=charts.percent(lang), count=charts.number(lang, 0))


def _unit_labels(session: Session, lang: str):  # noqa: ANN202 - a key → label function
    """A unit's row as the reader reads it: its name and code; documents not yet directed so named."""
    names = {u.code: u.name for u in list_units(session=session)}

    def label(key: str) -> str:
        if key == figures.NOT_DIRECTED:
            return render(msg("not directed to a unit yet"), lang)
        return f"{names[key]} ({key})" if key in names else key
    return label


def _month(key: str) -> str:
    """``2026-04`` as ``04/2026``."""
    year, _, month = key.partition("-")
    return f"{month}/{year}" if month else key


# --- The register book ---------------------------------------------------------------------------


@router.get("/register-book", response_class=HTMLResponse)
def register_book_page(request: Request, signed: Signed, session: DB) -> HTMLResponse:
    """A period, and the book for it as CSV or XLSX (the API's ``register-book.csv|.xlsx``)."""
    require_roles(signed, REGISTER_BOOK_READERS)
    given, period, errors = _period(request, reader_of(request, session, signed.user))
    return page(request, "register_book.html", status=422 if errors else 200, signed=signed, nav="register-book",
                given=given, period=period, errors=errors, query=_period_query(period) if period else "")


DOWNLOAD_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _download_period(request: Request, signed: ConsoleSession, session: Session) -> AuditPeriod:
    require_roles(signed, REGISTER_BOOK_READERS)
    _given, period, errors = _period(request, reader_of(request, session, signed.user))
    if period is None:  # a download has no form to show its errors on: the first one, as the error page
        first = next(iter(errors.fields.values()))
        raise ValidationFailed(first.field, first.message, code=first.code)
    return period


@router.get("/register-book.csv")
def register_book_csv(request: Request, signed: Signed, session: DB) -> Response:
    """The book as CSV: UTF-8 with a BOM, the book's columns as header, the API's bytes."""
    period = _download_period(request, signed, session)
    tz = settings_of(request).tz
    written = register_book.register_book_csv_lines(session=session, user=signed.user, period=period, tz=tz)
    lines = None if written is not None else register_book.register_book(
        session=session, user=signed.user, period=period, tz=tz)
    session.close()  # everything is read: free the connection before the (long) download
    blocks = csv_line_blocks(register_book.COLUMNS, written) if written is not None else \
        csv_blocks(register_book.COLUMNS, lines or [])
    return StreamingResponse(blocks, media_type=CSV_MEDIA_TYPE, headers={
        **DOWNLOAD_HEADERS, "Content-Disposition": attachment_disposition(f"{register_book.book_name(period)}.csv")})


@router.get("/register-book.xlsx")
def register_book_xlsx(request: Request, signed: Signed, session: DB) -> Response:
    """The book as the API's XLSX workbook, ready to print."""
    period = _download_period(request, signed, session)
    lines = register_book.register_book(session=session, user=signed.user, period=period, tz=settings_of(request).tz)
    session.close()
    return Response(register_book.register_book_xlsx(lines, register_book.book_title(period)),
                    media_type=XLSX_MEDIA_TYPE, headers={
                        **DOWNLOAD_HEADERS,
                        "Content-Disposition": attachment_disposition(f"{register_book.book_name(period)}.xlsx")})
