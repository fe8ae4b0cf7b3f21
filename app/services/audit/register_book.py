"""The incoming register (sổ đăng ký văn bản đến) for a period, in Decree 30's columns."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app.models import Assignment, DocumentEvent, IncomingDocument, Unit, User
from app.services.audit.facts import tune_for_audit
from app.services.audit.scope import AuditPeriod, audit_scope, id_range, period_clause

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


@dataclass(frozen=True)
class RegisterLine:
    received_on: date
    arrival_number: int
    issuer: str
    symbol: str
    document_date: date
    type_and_summary: str
    receivers: str
    handed_over_on: date | None
    signature: str  # left blank: the receiving unit signs the printed book
    notes: str

    def cells(self) -> list[object]:
        return [self.received_on, self.arrival_number, self.issuer, self.symbol, self.document_date,
                self.type_and_summary, self.receivers, self.handed_over_on, self.signature, self.notes]


def register_book(*, session: Session, user: User, period: AuditPeriod, tz: ZoneInfo) -> list[RegisterLine]:
    """One line per document, in arrival-number order within each register year.

    Reads only the columns the book prints (not whole documents with their eager relationships),
    and the receiving units and hand-over dates of the whole period in one query each, over the
    period's id range (scope.id_range) rather than in batches of ids.
    """
    tune_for_audit(session)
    ids = id_range(session=session, period=period, tz=tz)
    connection = session.connection()  # plain rows: no ORM bookkeeping for 100 000 of them
    documents = connection.execute(
        select(IncomingDocument.id, IncomingDocument.received_at, IncomingDocument.arrival_number,
               IncomingDocument.issuer, IncomingDocument.symbol, IncomingDocument.document_date,
               IncomingDocument.document_type, IncomingDocument.summary, IncomingDocument.notes,
               IncomingDocument.state, IncomingDocument.case_file_code)
        .where(IncomingDocument.id.between(*ids), and_(period_clause(period, tz), audit_scope(user)))
        .order_by(IncomingDocument.register_id, IncomingDocument.year, IncomingDocument.arrival_number)
    ).all()
    wanted = {d.id for d in documents}
    receivers: dict[int, list[tuple[int, str]]] = {}
    handed: dict[int, datetime] = {}
    role_order = {"lead": 0, "cooperate": 1, "inform": 2}
    for document_id, code, role in connection.execute(
        select(Assignment.document_id, Unit.code, Assignment.role).join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.document_id.between(*ids))
        .order_by(Assignment.document_id, Assignment.id)
    ):
        if document_id in wanted:
            receivers.setdefault(document_id, []).append((role_order.get(role, 3), code))
    for document_id, at in connection.execute(
        select(DocumentEvent.document_id, DocumentEvent.at)
        .where(DocumentEvent.document_id.between(*ids), DocumentEvent.action == "direct")
        .order_by(DocumentEvent.document_id, DocumentEvent.seq)
    ):
        if document_id in wanted:
            handed.setdefault(document_id, at)
    units = {document_id: ", ".join([code for _, code in sorted(pairs)]) for document_id, pairs in receivers.items()}
    lines = []
    for d in documents:
        kind = TYPE_NAMES.get(d.document_type or "", "Công văn")
        notes = "; ".join(n for n in (d.notes, _state_note(d.state), d.case_file_code and f"Hồ sơ {d.case_file_code}")
                          if n)
        lines.append(RegisterLine(
            received_on=d.received_at.astimezone(tz).date(),
            arrival_number=d.arrival_number,
            issuer=d.issuer,
            symbol=d.symbol,
            document_date=d.document_date,
            type_and_summary=f"{kind}: {d.summary}",
            receivers=units.get(d.id, ""),
            handed_over_on=handed[d.id].astimezone(tz).date() if d.id in handed else None,
            signature="",
            notes=notes,
        ))
    return lines


def _state_note(state: str) -> str | None:
    return {"recalled": "Đã thu hồi", "returned": "Trả lại văn thư"}.get(state)


def register_book_xlsx(lines: list[RegisterLine], title: str) -> bytes:
    """The register as an Excel workbook: a header row, dates as dates, frozen header, fitted widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "So den"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(COLUMNS)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for line in lines:
        sheet.append([_plain(v) for v in line.cells()])
    for row in sheet.iter_rows(min_row=3):
        for column in (0, 4, 7):
            if row[column].value is not None:
                row[column].number_format = "DD/MM/YYYY"
        row[5].alignment = Alignment(wrap_text=True, vertical="top")
    widths = [12, 9, 32, 18, 12, 60, 20, 12, 12, 24]
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _plain(value: object) -> object:
    """Text that starts like a formula must stay text in Excel (no formula injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
