"""Demo data: the seed's organisation, one user per role, the seed's document and its report.

The report 08/BC-BCĐ is recorded against the seed document with its appendices imported from
the seed text (``app/reports/samples``): Phụ lục I (55 projects), Phụ lục II (31 agencies) and
the body's indicator table, so ``GET /projects`` has something to show.

Passwords are generated on the first run, printed, and kept in ``<data_dir>/demo-credentials.txt``
(mode 0600), so a demo database never ships with guessable logins.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Appendix, IncomingDocument, Report, Unit
from app.schemas.documents import DocumentCreate
from app.schemas.reports import ReportCreate
from app.services import exchange
from app.services import organisation as org
from app.services.demo_exchange import load_demo_inbox
from app.services.signatures import Verification
from app.services.documents import identity_keys, register_document
from app.services.reports import create_report, import_appendix
from app.workflow.vocabulary import Role

UNITS = [
    ("LDB", "Lãnh đạo Bộ", None),
    ("VP", "Văn phòng Bộ", None),
    ("VPB", "Văn phòng Ban", None),
    ("TTĐ", "Trung tâm Thông tin điện tử", None),
    ("URG", "Vụ Ứng dụng công nghệ thông tin", None),
]

# username, full name, unit, roles
USERS = [
    ("admin", "Quản trị hệ thống", "VP", [Role.admin]),
    ("vanthu", "Nguyễn Thị Văn Thư", "VP", [Role.clerk]),
    ("chanhvp", "Trần Văn Chánh", "VP", [Role.office_leader]),
    ("anhhong", "Nguyễn Văn Hồng", "LDB", [Role.leader]),
    ("truongvp", "Lê Văn Trưởng", "VP", [Role.unit_leader]),
    ("truongttd", "Phạm Thị Thông", "TTĐ", [Role.unit_leader]),
    ("chuyenvien", "Đỗ Văn Chuyên", "VP", [Role.specialist]),
    ("kiemtoan", "Hoàng Thị Kiểm", "VP", [Role.auditor]),
]

SEED_DOCUMENT = DocumentCreate(
    symbol="08/BC-BCĐ",
    document_date=date(2013, 8, 12),
    issuer="Ban chỉ đạo chương trình CNTT tỉnh Bình Dương",
    summary=(
        "Báo cáo sơ kết 02 năm thực hiện Quyết định số 721/QĐ-UBND ngày 11/03/2011 của UBND tỉnh "
        "về việc ban hành Kế hoạch ứng dụng CNTT trong hoạt động của cơ quan nhà nước tỉnh Bình Dương "
        "giai đoạn 2011-2015"
    ),
    urgency="normal",
    received_at=datetime(2013, 8, 15, 8, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
    channel="paper",
    signer_position="Trưởng ban",
)


SAMPLES = Path(__file__).resolve().parent.parent / "reports" / "samples"

# number, title, sample file: the appendices of the seed report.
SEED_APPENDICES = [
    ("I", "Danh sách các dự án ứng dụng CNTT (Phụ lục I)", "phu-luc-I.txt"),
    ("II", "Tình hình triển khai phần mềm quản lý văn bản (Phụ lục II)", "phu-luc-II.txt"),
    ("CT", "Các chỉ tiêu đạt được so với mục tiêu đã đề ra (trong thân báo cáo)", "chi-tieu.txt"),
]


@dataclass
class DemoResult:
    credentials: dict[str, str]
    credentials_file: Path
    document_id: int
    created: bool
    report_id: int | None = None
    inbox_ids: list[int] = field(default_factory=list)
    # The first and last local arrival day of the registered documents: the audit's from/to that
    # holds them (the audit defaults to this year, and the seed arrived in 2013).
    arrivals: tuple[date, date] | None = None


def _load_credentials(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split(":", 1) for line in path.read_text().splitlines() if ":" in line)
    return {user.strip(): pw.strip() for user, pw in pairs}


def _save_credentials(path: Path, credentials: dict[str, str]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.writelines(f"{user}: {pw}\n" for user, pw in credentials.items())


def load_demo(*, session: Session, data_dir: Path, tz: ZoneInfo, now: datetime,
              ours: exchange.Ours | None = None, verification: Verification | None = None) -> DemoResult:
    """Create what is missing; running it twice changes nothing. With ``ours`` (who we are on the
    document exchange), two electronic documents wait in the inbox too."""
    org.ensure_default_register(session=session)
    for code, name, parent in UNITS:
        if session.scalar(select(Unit.id).where(Unit.code == code)) is None:
            org.create_unit(session=session, code=code, name=name, parent_code=parent)

    creds_file = data_dir / "demo-credentials.txt"
    credentials = _load_credentials(creds_file)
    created = False
    for username, full_name, unit, roles in USERS:
        if org.get_user(session=session, username=username) is None:
            credentials[username] = f"demo-{secrets.token_urlsafe(9)}"
            org.create_user(
                session=session,
                username=username,
                password=credentials[username],
                roles=roles,
                full_name=full_name,
                unit_code=unit,
            )
            created = True
    data_dir.mkdir(parents=True, exist_ok=True)
    _save_credentials(creds_file, credentials)

    symbol_key, issuer_key = identity_keys(SEED_DOCUMENT.symbol, SEED_DOCUMENT.issuer)
    document = session.scalar(
        select(IncomingDocument).where(
            IncomingDocument.symbol_key == symbol_key, IncomingDocument.issuer_key == issuer_key
        )
    )
    if document is None:
        clerk = org.get_user(session=session, username="vanthu")
        assert clerk is not None
        document = register_document(
            session=session, actor=clerk, data=SEED_DOCUMENT, now=SEED_DOCUMENT.received_at, tz=tz
        ).document
        walk_seed_slip(session=session, document_id=document.id, tz=tz)
        created = True
    report, report_created = ensure_seed_report(session=session, document=document)
    inbox_ids: list[int] = []
    if ours is not None:
        clerk = org.get_user(session=session, username="vanthu")
        assert clerk is not None
        inbox_ids = load_demo_inbox(session=session, clerk=clerk, root=data_dir / "attachments", ours=ours,
                                    now=now, tz=tz, verification=verification)
    return DemoResult(credentials, creds_file, document.id, created or report_created, report.id, inbox_ids,
                      arrival_span(session=session, tz=tz))


def arrival_span(*, session: Session, tz: ZoneInfo) -> tuple[date, date] | None:
    """The local days the registered documents arrived on, first and last (None: no document)."""
    first, last = session.execute(select(func.min(IncomingDocument.received_at),
                                         func.max(IncomingDocument.received_at))).one()
    if first is None:
        return None
    return first.astimezone(tz).date(), last.astimezone(tz).date()  # min and max keep the UTC column type


def ensure_seed_report(*, session: Session, document: IncomingDocument) -> tuple[Report, bool]:
    """The seed report, linked to the seed document, with each missing appendix imported."""
    clerk = org.get_user(session=session, username="vanthu")
    assert clerk is not None
    created = False
    report = session.scalar(select(Report).where(Report.incoming_document_id == document.id))
    if report is None:
        data = ReportCreate(symbol=document.symbol, title=document.summary, issuer=document.issuer,
                            report_date=document.document_date, incoming_document_id=document.id)
        report = create_report(session=session, actor=clerk, data=data, now=document.received_at)
        created = True
    for number, title, filename in SEED_APPENDICES:
        present = session.scalar(select(Appendix.id).where(Appendix.report_id == report.id, Appendix.number == number))
        if present is None:
            import_appendix(session=session, report=report, actor=clerk, data=(SAMPLES / filename).read_bytes(),
                            filename=filename, number=number, title=title, replace=False, now=document.received_at)
            created = True
    return report, created


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2013, 8, day, hour, minute, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


# The seed slip's route, dated as on the paper: submitted on arrival, the office's opinion
# ("B/có: A. Hồng - Thủ trưởng"), the leadership's direction to VP, VPB and TTĐ, then the
# unit leader's hand-over to a specialist ("D 23.8").
SEED_ROUTE: list[tuple[str, datetime, dict]] = [
    ("vanthu", _at(15, 9), {"action": "submit"}),
    ("chanhvp", _at(15, 14), {"action": "propose", "comment": "B/có: A. Hồng - Thủ trưởng", "to_username": "anhhong"}),
    ("anhhong", _at(16, 10), {
        "action": "direct",
        "comment": "Kết luận: giao VP chủ trì tổng hợp; VPB phối hợp; TTĐ để biết, cập nhật số liệu",
        "assignments": [
            {"unit_code": "VP", "role": "lead", "due_date": "2013-08-30"},
            {"unit_code": "VPB", "role": "cooperate", "due_date": "2013-08-30"},
            {"unit_code": "TTĐ", "role": "inform"},
        ],
    }),
    ("truongvp", _at(23, 8, 30), {"action": "assign", "assignee_username": "chuyenvien",
                                 "comment": "Đ/c Chuyên nghiên cứu, tham mưu báo cáo"}),
]


def walk_seed_slip(*, session: Session, document_id: int, tz: ZoneInfo) -> None:
    """Take the seed document through its slip with the demo users, through the real workflow."""
    from pydantic import TypeAdapter

    from app.schemas.workflow import ActionRequest
    from app.services.workflow import apply_action

    adapter: TypeAdapter = TypeAdapter(ActionRequest)
    for username, at, body in SEED_ROUTE:
        user = org.get_user(session=session, username=username)
        assert user is not None
        apply_action(session=session, user=user, document_id=document_id, request=adapter.validate_python(body),
                     now=at.astimezone(ZoneInfo("UTC")), tz=tz)
