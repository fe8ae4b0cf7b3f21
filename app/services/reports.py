"""Reports (báo cáo): recording them, importing their appendices (phụ lục), reading them back.

An import runs in the request's one transaction: the file is read and parsed completely before
anything is written, and the rows, groups and appendix are flushed together, so a failure
leaves no half-imported appendix behind.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound, ValidationFailed
from app.models import (
    Appendix,
    AppendixGroup,
    IncomingDocument,
    IndicatorRecord,
    ProjectRecord,
    Report,
    TableRow,
    User,
)
from app.reports.parser import NoTable, parse_appendix
from app.reports.records import (
    ParsedAppendix,
    ParsedIndicator,
    ParsedProject,
    ParsedTableRow,
)
from app.reports.sources import UnreadableFile, read_source
from app.schemas.reports import ReportCreate, ReportFilters
from app.services.access import visible_documents, visible_reports
from app.services.attachments import safe_filename
from app.services.documents import identity_keys
from app.text import fold, search_terms
from app.i18n import msg

_NOT_WORD = re.compile(r"[^0-9a-z]+")
MAX_BIGINT = 2**63 - 1


def match_key(value: str | None) -> str:
    """Folded, punctuation-free: ``Sở TT&TT`` and ``Sở TT & TT`` both give ``so tt tt``."""
    return _NOT_WORD.sub(" ", fold(value or "")).strip()


# --- reports ------------------------------------------------------------------------------


def create_report(
    *, session: Session, actor: User, data: ReportCreate, now: datetime, delegators: Sequence[User] = ()
) -> Report:
    if data.incoming_document_id is not None:
        linked = session.scalar(
            select(IncomingDocument.id).where(
                IncomingDocument.id == data.incoming_document_id,
                visible_documents(actor, delegators=delegators),
            )
        )
        if linked is None:
            raise ValidationFailed(
                "incoming_document_id", msg("incoming document {id} does not exist", id=data.incoming_document_id),
                code="document.not_found")
    symbol_key, issuer_key = identity_keys(data.symbol, data.issuer)
    existing = session.scalar(
        select(Report.id).where(
            Report.symbol_key == symbol_key, Report.issuer_key == issuer_key, Report.report_date == data.report_date
        )
    )
    if existing is not None:
        # A report is recorded once. Its id is named only to whoever may see it (a report follows
        # its document's visibility): the others learn no more than that the report is recorded.
        visible = session.scalar(
            select(Report.id).where(Report.id == existing, visible_reports(actor, delegators=delegators)))
        what = dict(symbol=data.symbol, issuer=data.issuer, date=data.report_date.isoformat())
        if visible is None:
            raise Conflict(msg("report {symbol} of {issuer} dated {date} is already recorded", **what),
                           code="report.duplicate")
        raise Conflict(msg("report {symbol} of {issuer} dated {date} is already recorded (id {id})", id=existing,
                           **what), code="report.duplicate", duplicate_of=existing)
    report = Report(
        symbol=data.symbol,
        symbol_key=symbol_key,
        title=data.title,
        issuer=data.issuer,
        issuer_key=issuer_key,
        report_date=data.report_date,
        incoming_document_id=data.incoming_document_id,
        search_text=fold(f"{data.symbol} {data.title} {data.issuer}"),
        created_by_id=actor.id,
        created_at=now,
    )
    session.add(report)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(msg("a concurrent request recorded the same report; retry to see it"),
                       code="report.concurrent") from exc
    return report


def get_visible_report(
    *, session: Session, user: User, report_id: int, delegators: Sequence[User] = ()
) -> Report:
    report = session.scalar(select(Report).where(Report.id == report_id, visible_reports(user, delegators=delegators)))
    if report is None:
        raise NotFound(msg("report {id} does not exist", id=report_id), code="report.not_found")
    return report


def list_reports(
    *, session: Session, user: User, filters: ReportFilters, limit: int, offset: int,
    delegators: Sequence[User] = (),
) -> tuple[list[Report], int]:
    """A page of visible reports, newest report date first (then id)."""
    query = select(Report).where(visible_reports(user, delegators=delegators))
    if filters.q:
        for term in search_terms(filters.q):
            query = query.where(Report.search_text.contains(term, autoescape=True))
    if filters.issuer:
        query = query.where(Report.issuer_key.contains(fold(filters.issuer), autoescape=True))
    if filters.incoming_document_id is not None:
        query = query.where(Report.incoming_document_id == filters.incoming_document_id)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = session.scalars(query.order_by(Report.report_date.desc(), Report.id.desc()).limit(limit).offset(offset))
    return list(page), total


def report_ids_for(*, session: Session, document_ids: Iterable[int]) -> dict[int, list[int]]:
    """The reports linked to each of ``document_ids``, in one query."""
    ids = list(set(document_ids))
    found: dict[int, list[int]] = defaultdict(list)
    if ids:
        rows = session.execute(
            select(Report.incoming_document_id, Report.id)
            .where(Report.incoming_document_id.in_(ids))
            .order_by(Report.id)
        )
        for document_id, report_id in rows:
            found[document_id].append(report_id)
    return found


# --- importing an appendix ----------------------------------------------------------------


@dataclass
class _Limits:
    warnings: list[dict[str, Any]]

    def clip(self, value: str | None, size: int, line: int | None, what: str) -> str | None:
        if value is None or len(value) <= size:
            return value
        self.warnings.append({"line": line, "message": f"{what} longer than {size} characters was cut"})
        return value[: size - 1] + "…"


def read_appendix(data: bytes, filename: str | None) -> tuple[str, ParsedAppendix, list[dict[str, Any]]]:
    """Parse an uploaded file: (format, appendix, warnings), or 422 saying why it cannot be read."""
    try:
        source = read_source(data, filename)
        parsed = parse_appendix(source.rows)
    except (UnreadableFile, NoTable) as exc:
        raise ValidationFailed("file", msg("the file cannot be read: {reason}", reason=str(exc)),
                               code="appendix.unreadable") from exc
    warnings = [{"line": line, "message": message} for line, message in source.warnings]
    warnings += [{"line": w.line, "message": w.message} for w in parsed.warnings]
    if any((g.computed_total_vnd or 0) > MAX_BIGINT for g in parsed.groups):
        raise ValidationFailed("file", msg("a group's amounts add up to more than can be stored; check the units"),
                               code="appendix.amount_too_large")
    if parsed.row_count == 0:
        first = "; ".join(f"line {w['line']}: {w['message']}" for w in warnings[:3] if w["line"])
        text = msg("the table has no rows that could be read ({lines})", lines=first) if first else msg(
            "the table has no rows that could be read")
        raise ValidationFailed("file", text, code="appendix.no_rows")
    return source.format, parsed, warnings


def import_appendix(
    *,
    session: Session,
    report: Report,
    actor: User,
    data: bytes,
    filename: str | None,
    number: str,
    title: str | None,
    replace: bool,
    now: datetime,
) -> tuple[Appendix, list[AppendixGroup]]:
    """Read ``data`` and store it as appendix ``number`` of ``report`` (replacing it if asked)."""
    source_format, parsed, warnings = read_appendix(data, filename)
    existing = session.scalar(select(Appendix).where(Appendix.report_id == report.id, Appendix.number == number))
    if existing is not None:
        if not replace:
            raise Conflict(
                msg("appendix {number} of report {report} is already imported (id {id}); send replace=true to "
                    "replace it", number=number, report=report.id, id=existing.id),
                code="appendix.duplicate")
        # Table by table through the ORM, so the session forgets the old rows (the database would cascade).
        for model in (ProjectRecord, TableRow, IndicatorRecord, AppendixGroup):
            session.execute(delete(model).where(model.appendix_id == existing.id))
        session.execute(delete(Appendix).where(Appendix.id == existing.id))

    limits = _Limits(warnings)
    appendix = Appendix(
        report_id=report.id,
        number=number,
        title=limits.clip(title or parsed.title, 500, None, "the title"),
        kind=parsed.kind.value,
        source_filename=safe_filename(filename),
        source_format=source_format,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        headers=parsed.headers,
        money_unit=parsed.money_unit,
        rows_imported=parsed.row_count,
        warnings=warnings,
        imported_by_id=actor.id,
        imported_at=now,
    )
    session.add(appendix)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(msg("appendix {number} was imported by a concurrent request; retry with replace=true",
                           number=number), code="appendix.concurrent") from exc

    groups: list[AppendixGroup] = []
    position = 0
    for index, parsed_group in enumerate(parsed.groups, start=1):
        group = AppendixGroup(
            appendix_id=appendix.id,
            position=index,
            title=limits.clip(parsed_group.title, 500, None, "a group title") or "",
            code=limits.clip(parsed_group.code, 32, None, "a group code"),
            declared_total_vnd=parsed_group.declared_total_vnd,
            declared_line=parsed_group.declared_line,
            computed_total_vnd=parsed_group.computed_total_vnd,
            row_count=len(parsed_group.records),
        )
        session.add(group)
        session.flush()
        groups.append(group)
        for record in parsed_group.records:
            position += 1
            session.add(_record_row(record, report=report, appendix=appendix, group=group, position=position,
                                    limits=limits))
    session.flush()
    appendix.warnings = list(warnings)  # clipping may have added some
    session.flush()
    return appendix, groups


def _record_row(
    record: ParsedProject | ParsedTableRow | ParsedIndicator,
    *,
    report: Report,
    appendix: Appendix,
    group: AppendixGroup,
    position: int,
    limits: _Limits,
) -> ProjectRecord | TableRow | IndicatorRecord:
    line = record.line
    common = {"appendix_id": appendix.id, "group_id": group.id, "position": position, "line": line,
              "source_text": record.text}
    if isinstance(record, ParsedProject):
        owner = limits.clip(record.owner, 255, line, "the owner")
        return ProjectRecord(
            **common,
            report_id=report.id,
            code=limits.clip(record.code, 32, line, "the code"),
            name=record.name,
            name_key=match_key(record.name),
            owner=owner,
            owner_key=match_key(owner) if owner else None,
            budget_vnd=record.budget_vnd,
            budget_basis=record.budget_basis.value if record.budget_basis else None,
            planned_years=record.planned_years,
            status=record.status.value if record.status else None,
            status_text=limits.clip(record.status_text, 255, line, "the status"),
            notes=record.notes,
            search_text=fold(" ".join(
                p for p in (record.code, record.name, record.owner, record.status_text, record.notes) if p
            )),
        )
    if isinstance(record, ParsedIndicator):
        return IndicatorRecord(
            **common,
            report_id=report.id,
            indicator=record.indicator,
            baseline_text=limits.clip(record.baseline_text, 255, line, "the baseline"),
            current_text=limits.clip(record.current_text, 255, line, "the current value"),
            target_text=limits.clip(record.target_text, 255, line, "the target"),
            baseline_value=_number_text(record.baseline_value, line, limits),
            current_value=_number_text(record.current_value, line, limits),
            target_value=_number_text(record.target_value, line, limits),
            unit=record.unit,
            baseline_year=record.baseline_year,
            target_year=record.target_year,
        )
    return TableRow(
        **common,
        code=limits.clip(record.code, 32, line, "the code"),
        cells=record.cells,
        numbers=record.numbers,
    )


def _number_text(value: str | None, line: int, limits: _Limits) -> str | None:
    if value is not None and len(value) > 40:
        limits.warnings.append({"line": line, "message": f"the number {value[:20]}… is too long; not read"})
        return None
    return value


def get_appendix(*, session: Session, report: Report, appendix_id: int) -> Appendix:
    appendix = session.scalar(select(Appendix).where(Appendix.id == appendix_id, Appendix.report_id == report.id))
    if appendix is None:
        raise NotFound(msg("appendix {id} does not exist in report {report}", id=appendix_id, report=report.id),
                       code="appendix.not_found")
    return appendix


def appendix_records(
    *, session: Session, appendix: Appendix
) -> dict[int, list[ProjectRecord | TableRow | IndicatorRecord]]:
    """The appendix's records by group id, in file order."""
    model = {"projects": ProjectRecord, "table": TableRow, "indicators": IndicatorRecord}[appendix.kind]
    by_group: dict[int, list[Any]] = defaultdict(list)
    rows = session.scalars(select(model).where(model.appendix_id == appendix.id).order_by(model.position, model.id))
    for row in rows:
        by_group[row.group_id].append(row)
    return by_group


def usernames(*, session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    return {user_id: name for user_id, name in session.execute(select(User.id, User.username).where(User.id.in_(ids)))}
