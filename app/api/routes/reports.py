"""Reports and their appendices: record a report, import an appendix, read projects across reports.

Clerks record reports and import appendices (as they register documents). Reading follows the
document: see ``app.services.access.visible_reports``.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile

from app.api.deps import ClerkUser, CurrentUser, Now, SessionDep, SettingsDep
from app.api.params import id_path
from app.api.problems import error_responses
from app.errors import PayloadTooLarge, ValidationFailed
from app.models import (
    Appendix,
    AppendixGroup,
    IndicatorRecord,
    ProjectRecord,
    Report,
    TableRow,
    User,
)
from app.reports.sources import MAX_APPENDIX_BYTES
from app.schemas.common import DEFAULT_PAGE, MAX_INT32, MAX_PAGE, Page
from app.schemas.reports import (
    AppendixBrief,
    AppendixOut,
    Comparison,
    GroupFigures,
    GroupOut,
    GroupTotals,
    ImportOut,
    ImportWarning,
    IndicatorOut,
    ProjectBrief,
    ProjectChange,
    ProjectFilters,
    ProjectOut,
    ProjectState,
    ReportCreate,
    ReportFilters,
    ReportOut,
    ReportSummary,
    StatusFigures,
    TableRowOut,
)
from app.services import projects as project_svc
from app.services import reports as svc
from app.services.delegations import delegators_for
from app.text import nfc
from app.i18n import msg

router = APIRouter(prefix="/reports", tags=["reports"], responses=error_responses(401))
projects_router = APIRouter(prefix="/projects", tags=["reports"], responses=error_responses(401))

ReportId = id_path("Id of a report")
OtherReportId = id_path("Id of the report to compare with (the later one)")
AppendixId = id_path("Id of an appendix of that report")
_NUMBER = re.compile(r"^[\w.\-]{1,20}$")


def _delegators(session: SessionDep, user: CurrentUser, settings: SettingsDep, now: Now) -> list[User]:
    return delegators_for(session=session, user=user, today=now.astimezone(settings.tz).date())


Delegators = Annotated[list[User], Depends(_delegators)]


def report_out(report: Report, names: dict[int, str], tz) -> ReportOut:  # noqa: ANN001
    return ReportOut(
        id=report.id,
        symbol=report.symbol,
        title=report.title,
        issuer=report.issuer,
        report_date=report.report_date,
        incoming_document_id=report.incoming_document_id,
        appendices=[
            AppendixBrief(
                id=a.id, number=a.number, title=a.title, kind=a.kind, source_filename=a.source_filename,
                sha256=a.sha256, rows_imported=a.rows_imported, imported_at=a.imported_at.astimezone(tz),
            )
            for a in report.appendices
        ],
        created_by=names.get(report.created_by_id, ""),
        created_at=report.created_at.astimezone(tz),
    )


def project_out(project: ProjectRecord) -> ProjectOut:
    return ProjectOut(
        id=project.id, code=project.code, name=project.name, owner=project.owner, budget_vnd=project.budget_vnd,
        budget_basis=project.budget_basis, planned_years=project.planned_years, status=project.status,
        status_text=project.status_text, notes=project.notes, group=project.group.title, group_id=project.group_id,
        report_id=project.report_id, appendix_id=project.appendix_id, appendix_number=project.appendix.number,
        line=project.line, source_text=project.source_text,
    )


def _row_out(row: ProjectRecord | TableRow | IndicatorRecord) -> ProjectOut | TableRowOut | IndicatorOut:
    if isinstance(row, ProjectRecord):
        return project_out(row)
    if isinstance(row, TableRow):
        return TableRowOut(id=row.id, code=row.code, cells=row.cells, numbers=row.numbers, line=row.line,
                           source_text=row.source_text)
    return IndicatorOut(
        id=row.id, indicator=row.indicator, baseline_text=row.baseline_text, current_text=row.current_text,
        target_text=row.target_text, baseline_value=row.baseline_value, current_value=row.current_value,
        target_value=row.target_value, unit=row.unit, baseline_year=row.baseline_year, target_year=row.target_year,
        line=row.line, source_text=row.source_text,
    )


def _totals(group: AppendixGroup) -> GroupTotals:
    return GroupTotals(title=group.title, declared_total_vnd=group.declared_total_vnd,
                       computed_total_vnd=group.computed_total_vnd, matches=group.matches, rows=group.row_count)


@router.post("", name="create", status_code=201, response_model=ReportOut, responses=error_responses(403, 409, 422))
def create_report(
    body: ReportCreate, response: Response, clerk: ClerkUser, session: SessionDep, settings: SettingsDep, now: Now,
    delegators: Delegators,
) -> ReportOut:
    """Record a report (báo cáo), optionally linked to the incoming document that brought it."""
    report = svc.create_report(session=session, actor=clerk, data=body, now=now, delegators=delegators)
    session.refresh(report)
    body_out = report_out(report, {clerk.id: clerk.username}, settings.tz)
    session.commit()
    response.headers["Location"] = f"/api/v1/reports/{report.id}"
    return body_out


@router.get("", name="list", response_model=Page[ReportOut], responses=error_responses(422))
def list_reports(
    user: CurrentUser, session: SessionDep, settings: SettingsDep, delegators: Delegators,
    filters: Annotated[ReportFilters, Depends()],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0, le=MAX_INT32)] = 0,
) -> Page[ReportOut]:
    """Reports you may see, newest first. ``q`` ignores case and diacritics."""
    items, total = svc.list_reports(session=session, user=user, filters=filters, limit=limit, offset=offset,
                                    delegators=delegators)
    names = svc.usernames(session=session, user_ids=(r.created_by_id for r in items))
    return Page(items=[report_out(r, names, settings.tz) for r in items], total=total, limit=limit, offset=offset)


@router.get("/{report_id}", name="get", response_model=ReportOut, responses=error_responses(404, 422))
def get_report(
    report_id: ReportId, user: CurrentUser, session: SessionDep, settings: SettingsDep, delegators: Delegators
) -> ReportOut:
    report = svc.get_visible_report(session=session, user=user, report_id=report_id, delegators=delegators)
    return report_out(report, svc.usernames(session=session, user_ids=[report.created_by_id]), settings.tz)


@router.post(
    "/{report_id}/appendices/import",
    name="import",
    status_code=201,
    response_model=ImportOut,
    responses=error_responses(403, 404, 409, 413, 422),
)
def import_appendix(
    report_id: ReportId,
    file: Annotated[UploadFile, File(description=".txt/.tsv (tab-separated, as copied from the report), .csv or "
                                                 f".xlsx; at most {MAX_APPENDIX_BYTES // (1024 * 1024)} MB")],
    number: Annotated[str, Form(min_length=1, max_length=40, description='Appendix number as printed: "I", "II"')],
    clerk: ClerkUser,
    session: SessionDep,
    now: Now,
    delegators: Delegators,
    title: Annotated[str | None, Form(max_length=500, description="Title; default: the file's own heading")] = None,
    replace: Annotated[bool, Form(description="Replace an appendix already imported under this number")] = False,
) -> ImportOut:
    """Import an appendix (phụ lục). Rows that cannot be read are reported as warnings with their line;
    each group's computed total is checked against its declared total, exactly in đồng."""
    number = nfc(number).strip()
    if not _NUMBER.fullmatch(number):
        raise ValidationFailed("number", msg('an appendix number such as "I" or "II" (letters, digits, "." or "-")'),
                               code="appendix.number_invalid")
    report = svc.get_visible_report(session=session, user=clerk, report_id=report_id, delegators=delegators)
    data = file.file.read(MAX_APPENDIX_BYTES + 1)
    if len(data) > MAX_APPENDIX_BYTES:
        raise PayloadTooLarge(msg("appendix files are limited to {mb} MB", mb=MAX_APPENDIX_BYTES // (1024 * 1024)))
    appendix, groups = svc.import_appendix(
        session=session, report=report, actor=clerk, data=data, filename=file.filename, number=number,
        title=nfc(title).strip() or None if title else None, replace=replace, now=now,
    )
    body = ImportOut(
        appendix_id=appendix.id, kind=appendix.kind, rows_imported=appendix.rows_imported,
        groups=[_totals(g) for g in groups], warnings=[ImportWarning(**w) for w in appendix.warnings],
    )
    session.commit()
    return body


@router.get(
    "/{report_id}/appendices/{appendix_id}", name="reports-get-appendix", response_model=AppendixOut,
    responses=error_responses(404, 422),
)
def get_appendix(
    report_id: ReportId, appendix_id: AppendixId, user: CurrentUser, session: SessionDep, settings: SettingsDep,
    delegators: Delegators,
) -> AppendixOut:
    """An appendix with its groups (declared and computed totals) and their rows, in file order."""
    report = svc.get_visible_report(session=session, user=user, report_id=report_id, delegators=delegators)
    appendix: Appendix = svc.get_appendix(session=session, report=report, appendix_id=appendix_id)
    records = svc.appendix_records(session=session, appendix=appendix)
    names = svc.usernames(session=session, user_ids=[appendix.imported_by_id])
    return AppendixOut(
        id=appendix.id, report_id=report.id, number=appendix.number, title=appendix.title, kind=appendix.kind,
        source_filename=appendix.source_filename, source_format=appendix.source_format, sha256=appendix.sha256,
        size=appendix.size, headers=appendix.headers, money_unit=appendix.money_unit,
        rows_imported=appendix.rows_imported, warnings=[ImportWarning(**w) for w in appendix.warnings],
        imported_by=names.get(appendix.imported_by_id, ""), imported_at=appendix.imported_at.astimezone(settings.tz),
        groups=[
            GroupOut(
                id=g.id, title=g.title, code=g.code, position=g.position, declared_total_vnd=g.declared_total_vnd,
                declared_line=g.declared_line, computed_total_vnd=g.computed_total_vnd, matches=g.matches,
                rows=[_row_out(r) for r in records.get(g.id, [])],
            )
            for g in appendix.groups
        ],
    )


@router.get("/{report_id}/summary", name="summary", response_model=ReportSummary, responses=error_responses(404, 422))
def summary(report_id: ReportId, user: CurrentUser, session: SessionDep, delegators: Delegators) -> ReportSummary:
    """Budget and number of projects by status (every status listed) and by group."""
    report = svc.get_visible_report(session=session, user=user, report_id=report_id, delegators=delegators)
    figures = project_svc.report_summary(session=session, report=report)
    return ReportSummary(
        report_id=figures.report_id, projects=figures.projects, budget_vnd=figures.budget_vnd,
        projects_without_budget=figures.projects_without_budget,
        by_status=[StatusFigures(status=s.status, projects=s.projects, budget_vnd=s.budget_vnd)
                   for s in figures.by_status],
        by_group=[GroupFigures(**vars(g)) for g in figures.by_group],
    )


def _state(project: ProjectRecord) -> ProjectState:
    return ProjectState(code=project.code, group=project.group.title, status=project.status,
                        status_text=project.status_text, budget_vnd=project.budget_vnd)


def _brief(project: ProjectRecord) -> ProjectBrief:
    return ProjectBrief(code=project.code, name=project.name, owner=project.owner, group=project.group.title,
                        status=project.status, budget_vnd=project.budget_vnd)


@router.get(
    "/{report_id}/compare/{other_id}", name="compare", response_model=Comparison, responses=error_responses(404, 422)
)
def compare(
    report_id: ReportId, other_id: OtherReportId, user: CurrentUser, session: SessionDep, delegators: Delegators
) -> Comparison:
    """Which projects changed status or budget from this report to the other (same issuer), which were
    added and which disappeared. Matched by code and name, then name, then code and owner."""
    report = svc.get_visible_report(session=session, user=user, report_id=report_id, delegators=delegators)
    other = svc.get_visible_report(session=session, user=user, report_id=other_id, delegators=delegators)
    result = project_svc.compare_reports(session=session, report=report, other=other)
    return Comparison(
        report_id=report.id, other_id=other.id, matched=len(result.pairs),
        unchanged=len(result.pairs) - len(result.changed),
        changed=[
            ProjectChange(
                name=c.after.name, owner=c.after.owner, matched_by=c.matched_by, before=_state(c.before),
                after=_state(c.after), status_changed=c.status_changed, budget_changed=c.budget_changed,
                budget_change_vnd=c.budget_change_vnd,
            )
            for c in result.changed
        ],
        added=[_brief(p) for p in result.added],
        removed=[_brief(p) for p in result.removed],
    )


@projects_router.get("", name="projects-list", response_model=Page[ProjectOut], responses=error_responses(422))
def list_projects(
    user: CurrentUser, session: SessionDep, delegators: Delegators,
    filters: Annotated[ProjectFilters, Depends()],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0, le=MAX_INT32)] = 0,
) -> Page[ProjectOut]:
    """Project records across the reports you may see. ``owner`` and ``q`` ignore case, diacritics and
    punctuation: ``owner=so tt`` finds "Sở TT & TT"."""
    items, total = project_svc.list_projects(session=session, user=user, filters=filters, limit=limit,
                                             offset=offset, delegators=delegators)
    return Page(items=[project_out(p) for p in items], total=total, limit=limit, offset=offset)
