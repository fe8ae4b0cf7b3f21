"""The incoming register (sổ đăng ký văn bản đến) for a period, in Decree 30's columns."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, Select, Text, and_, case, cast, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from app.models import Assignment, DocumentEvent, IncomingDocument, Unit, User
from app.services.audit.facts import tune_for_audit
from app.services.audit.scope import AuditPeriod, IdRange, audit_scope, id_range, period_clause
from app.text import FORMULA_PREFIXES

# Decree 30, Appendix III (and legal document codes): the full names printed in the register.
TYPE_NAMES = {
    "NQ": "Nghị quyết", "QĐ": "Quyết định", "CT": "Chỉ thị", "QC": "Quy chế", "QyĐ": "Quy định",
    "TC": "Thông cáo", "TB": "Thông báo", "HD": "Hướng dẫn", "CTr": "Chương trình", "KH": "Kế hoạch",
    "PA": "Phương án", "ĐA": "Đề án", "DA": "Dự án", "BC": "Báo cáo", "BB": "Biên bản", "TTr": "Tờ trình",
    "HĐ": "Hợp đồng", "CĐ": "Công điện", "BGN": "Bản ghi nhớ", "BTT": "Bản thỏa thuận", "GUQ": "Giấy ủy quyền",
    "GM": "Giấy mời", "GGT": "Giấy giới thiệu", "GNP": "Giấy nghỉ phép", "PG": "Phiếu gửi", "PC": "Phiếu chuyển",
    "PB": "Phiếu báo", "SY": "Bản sao y", "TrS": "Bản trích sao", "SL": "Bản sao lục", "NĐ": "Nghị định",
    "TT": "Thông tư", "TTLT": "Thông tư liên tịch",
}

COLUMNS = [
    "Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu", "Ngày tháng văn bản", "Tên loại và trích yếu nội dung",
    "Đơn vị hoặc người nhận", "Ngày chuyển", "Ký nhận", "Ghi chú",
]


# The receiving units' names in one cell, lead first, then cooperating, then informed (by code within a
# role). Not a comma: unit names may hold one ("Vụ Kế hoạch, Tài chính").
RECEIVER_SEPARATOR = "; "


def book_name(period: AuditPeriod) -> str:
    """The downloads' file name, without its extension."""
    return f"so-den-{period.register_code or 'tat-ca'}-{period.date_from}-{period.date_to}"


def book_title(period: AuditPeriod) -> str:
    """The workbook's title line."""
    return f"SỔ ĐĂNG KÝ VĂN BẢN ĐẾN — từ {period.date_from:%d/%m/%Y} đến {period.date_to:%d/%m/%Y}"


class RegisterLine(NamedTuple):
    """One line of the book, its cells in the book's column order."""

    received_on: date
    arrival_number: int
    issuer: str
    symbol: str
    document_date: date
    type_and_summary: str
    receivers: str  # the units' names (RECEIVER_SEPARATOR between them)
    handed_over_on: date | None
    signature: str  # left blank: the receiving unit signs the printed book
    notes: str


def register_book(
    *, session: Session, user: User, period: AuditPeriod, tz: ZoneInfo, in_database: bool = True
) -> list[RegisterLine]:
    """One line per document, in arrival-number order within each register year.

    A year is about 100 000 lines at a ministry, so this is written for rows in bulk: only the
    columns the book prints (not whole documents with their eager relationships), the receiving
    units and hand-over dates of the whole period in one query each over the period's id range
    (scope.id_range), every result fetched at once, and little Python per line.
    """
    tune_for_audit(session)
    ids = id_range(session=session, period=period, tz=tz)
    if in_database and session.get_bind().dialect.name == "postgresql":
        return _register_book_in_sql(session=session, user=user, period=period, tz=tz, ids=ids)
    return _register_book_in_python(session=session, user=user, period=period, tz=tz, ids=ids)


def _register_book_in_python(
    *, session: Session, user: User, period: AuditPeriod, tz: ZoneInfo, ids: IdRange
) -> list[RegisterLine]:
    """Any database: three range queries, joined here."""
    connection = session.connection()  # plain rows: no ORM bookkeeping for 100 000 of them
    documents = connection.execute(
        select(IncomingDocument.id, IncomingDocument.received_at, IncomingDocument.arrival_number,
               IncomingDocument.issuer, IncomingDocument.symbol, IncomingDocument.document_date,
               IncomingDocument.document_type, IncomingDocument.summary, IncomingDocument.notes,
               IncomingDocument.state, IncomingDocument.case_file_code)
        .where(IncomingDocument.id.between(*ids), and_(period_clause(period, tz), audit_scope(user)))
        .order_by(IncomingDocument.register_id, IncomingDocument.year, IncomingDocument.arrival_number)
    ).all()
    receivers: dict[int, list[tuple[int, str, str]]] = {}
    role_order = {"lead": 0, "cooperate": 1, "inform": 2}
    for document_id, code, name, role in connection.execute(
        select(Assignment.document_id, Unit.code, Unit.name, Assignment.role)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.document_id.between(*ids))
    ).all():
        receivers.setdefault(document_id, []).append((role_order.get(role, 3), code, name))
    handed: dict[int, datetime] = {}
    for document_id, at in connection.execute(
        select(DocumentEvent.document_id, func.min(DocumentEvent.at))
        .where(DocumentEvent.document_id.between(*ids), DocumentEvent.action == "direct")
        .group_by(DocumentEvent.document_id)
    ).all():
        handed[document_id] = at  # handed over: the first direction
    local_day = _LocalDays(tz)
    lines = []
    for d in documents:
        units = receivers.get(d.id)
        at = handed.get(d.id)
        note = _note(d.notes, d.state, d.case_file_code)
        lines.append(RegisterLine(
            local_day(d.received_at),
            d.arrival_number,
            d.issuer,
            d.symbol,
            d.document_date,
            f"{TYPE_NAMES.get(d.document_type, 'Công văn')}: {d.summary}",
            RECEIVER_SEPARATOR.join(name for _, _, name in sorted(units)) if units else "",
            local_day(at) if at is not None else None,
            "",
            note,
        ))
    return lines


def _register_book_in_sql(
    *, session: Session, user: User, period: AuditPeriod, tz: ZoneInfo, ids: IdRange
) -> list[RegisterLine]:
    """PostgreSQL: the same lines, every cell made in one statement (see ``_cells_in_sql``)."""
    cells, query = _cells_in_sql(user=user, period=period, tz=tz, ids=ids)
    rows = session.connection().execute(query.add_columns(*cells)).all()
    return [RegisterLine._make(row) for row in rows]


def register_book_csv_lines(*, session: Session, user: User, period: AuditPeriod, tz: ZoneInfo) -> list[str] | None:
    """The book's lines as CSV text written by PostgreSQL (RFC 4180 quoting, as Python's ``csv``
    module writes them: a cell with a comma, a double quote or a line break is quoted, its
    quotes doubled), in ``register_book``'s order. A year is about 100 000 lines; having the
    database write them saves fetching and formatting them cell by cell here.

    None on other databases: write ``register_book``'s lines with the ``csv`` module instead.
    """
    if session.get_bind().dialect.name != "postgresql":
        return None
    tune_for_audit(session)
    ids = id_range(session=session, period=period, tz=tz)
    cells, query = _cells_in_sql(user=user, period=period, tz=tz, ids=ids)
    line = func.concat_ws(",", *(
        func.coalesce(func.to_char(c, "YYYY-MM-DD"), "") if i in _DATE_CELLS
        else cast(c, Text) if i in _PLAIN_CELLS
        else _csv_cell(c)
        for i, c in enumerate(cells)
    ))
    return list(session.connection().execute(query.add_columns(line)).scalars())


_DATE_CELLS = (0, 4, 7)  # received on, document date, handed over on: never quoted
_PLAIN_CELLS = (1, 8)  # the arrival number, the blank signature: never quoted


def _csv_cell(value: ColumnElement[str]) -> ColumnElement[str]:
    """A text cell as ``app.tables.csv_blocks`` writes it: made inert if it starts like a formula
    (``app.text.inert``), then quoted if it holds a comma, a quote or a line break."""
    text = case((func.left(value, 1).in_(FORMULA_PREFIXES), func.concat("'", value)), else_=value)
    return case(
        (text.regexp_match('[,"\r\n]'), func.concat('"', func.replace(text, '"', '""'), '"')),
        else_=func.coalesce(text, ""),
    )


def _cells_in_sql(
    *, user: User, period: AuditPeriod, tz: ZoneInfo, ids: IdRange
) -> tuple[list[ColumnElement[Any]], Select[Any]]:
    """PostgreSQL: the ten cells of each line as expressions, and the ordered query over the
    period's documents to add them to. Each document's receiving units' names (lead, cooperating,
    informed; then by code) and first direction are aggregated over the id range, local days
    come from ``timezone()``, type names and notes are composed in SQL."""
    role_rank = case({"lead": 0, "cooperate": 1, "inform": 2}, value=Assignment.role, else_=3)
    receivers = (
        select(Assignment.document_id,
               func.string_agg(Unit.name, aggregate_order_by(literal_column(f"'{RECEIVER_SEPARATOR}'"), role_rank,
                                                             Unit.code.collate("C")))
               .label("units"))
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.document_id.between(*ids))
        .group_by(Assignment.document_id)
        .subquery()
    )
    handed_over = (
        select(DocumentEvent.document_id,
               func.min(DocumentEvent.at).label("at"))
        .where(DocumentEvent.document_id.between(*ids), DocumentEvent.action == "direct")
        .group_by(DocumentEvent.document_id)
        .subquery()
    )
    type_name = case(TYPE_NAMES, value=IncomingDocument.document_type, else_="Công văn")
    state_note = case(_STATE_NOTES, value=IncomingDocument.state, else_=None)
    cells: list[ColumnElement[Any]] = [
        cast(func.timezone(tz.key, IncomingDocument.received_at), Date),
        IncomingDocument.arrival_number,
        IncomingDocument.issuer,
        IncomingDocument.symbol,
        IncomingDocument.document_date,
        func.concat(type_name, ": ", IncomingDocument.summary),
        func.coalesce(receivers.c.units, ""),
        cast(func.timezone(tz.key, handed_over.c.at), Date),
        literal(""),
        func.concat_ws("; ", func.nullif(IncomingDocument.notes, ""), state_note,
                       func.nullif(func.concat("Hồ sơ ", IncomingDocument.case_file_code), "Hồ sơ ")),
    ]
    query = (
        select()
        .select_from(IncomingDocument)
        .outerjoin(receivers, receivers.c.document_id == IncomingDocument.id)
        .outerjoin(handed_over, handed_over.c.document_id == IncomingDocument.id)
        .where(IncomingDocument.id.between(*ids), and_(period_clause(period, tz), audit_scope(user)))
        .order_by(IncomingDocument.register_id, IncomingDocument.year, IncomingDocument.arrival_number)
    )
    return cells, query


class _LocalDays:
    """The local calendar day of UTC instants, with the zone's offset looked up once per UTC
    hour (the book's lines arrive a few an hour). An hour in which the offset changes is
    converted instant by instant."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.offsets: dict[datetime, timedelta | None] = {}

    def __call__(self, at: datetime) -> date:
        hour = at.replace(minute=0, second=0, microsecond=0)
        if hour not in self.offsets:
            start = hour.astimezone(self.tz).utcoffset()
            end = (hour + timedelta(hours=1)).astimezone(self.tz).utcoffset()
            self.offsets[hour] = start if start == end else None
        offset = self.offsets[hour]
        return (at + offset).date() if offset is not None else at.astimezone(self.tz).date()


def _note(notes: str | None, state: str, case_file_code: str | None) -> str:
    if not notes and state not in _STATE_NOTES and not case_file_code:
        return ""
    return "; ".join(n for n in (notes, _STATE_NOTES.get(state), case_file_code and f"Hồ sơ {case_file_code}") if n)


_STATE_NOTES = {"recalled": "Đã thu hồi", "returned": "Trả lại văn thư"}


def register_book_xlsx(lines: list[RegisterLine], title: str) -> bytes:
    """The register as an Excel workbook: a title, a header row, dates as dates (dd/mm/yyyy),
    the summary wrapped, frozen header, fitted widths, set up to print (A4 landscape, one page
    wide, the header row repeated on every page).

    Written with XlsxWriter, row by row in constant memory: a year is about 100 000 lines, a
    million cells (4 s; openpyxl took 7.4 s in write-only mode and 12.6 s and half a GB in its
    ordinary mode, measured; see bench/README.md). Text is written as text, never as a formula,
    whatever it starts with.
    """
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"constant_memory": True, "in_memory": True})
    sheet = workbook.add_worksheet("So den")
    for column, width in enumerate([12, 9, 32, 18, 12, 60, 20, 12, 12, 24]):
        sheet.set_column(column, column, width)
    sheet.freeze_panes(2, 0)
    # Printed as the paper book: A4 landscape, the header row atop every page, all ten columns on
    # one page's width and as many pages down as the lines take.
    sheet.set_paper(9)  # A4
    sheet.set_landscape()
    sheet.repeat_rows(1)
    sheet.fit_to_pages(1, 0)
    sheet.write_string(0, 0, title, workbook.add_format({"bold": True, "font_size": 13}))
    header = workbook.add_format({"bold": True, "text_wrap": True, "valign": "vcenter"})
    for column, name in enumerate(COLUMNS):
        sheet.write_string(1, column, name, header)
    day = workbook.add_format({"num_format": "DD/MM/YYYY"})
    wrapped = workbook.add_format({"text_wrap": True, "valign": "top"})
    for row, line in enumerate(lines, start=2):
        for column, value in enumerate(line):
            if value is None or value == "":
                continue
            if column in _DATE_CELLS:
                sheet.write_datetime(row, column, datetime.combine(value, datetime.min.time()), day)
            elif column == 1:
                sheet.write_number(row, column, value)
            else:
                sheet.write_string(row, column, value, wrapped if column == 5 else None)
    workbook.close()
    return buffer.getvalue()



