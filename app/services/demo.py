"""Demo data: the seed's organisation, one user per role, and the seed's document.

Passwords are generated on the first run, printed, and kept in ``<data_dir>/demo-credentials.txt``
(mode 0600), so a demo database never ships with guessable logins.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api.schemas.documents import DocumentCreate
from app.models import IncomingDocument, Unit
from app.services import organisation as org
from app.services.documents import identity_keys, register_document
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


@dataclass
class DemoResult:
    credentials: dict[str, str]
    credentials_file: Path
    document_id: int
    created: bool


def _load_credentials(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split(":", 1) for line in path.read_text().splitlines() if ":" in line)
    return {user.strip(): pw.strip() for user, pw in pairs}


def _save_credentials(path: Path, credentials: dict[str, str]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.writelines(f"{user}: {pw}\n" for user, pw in credentials.items())


def load_demo(*, session: Session, data_dir: Path, tz: ZoneInfo, now: datetime) -> DemoResult:
    """Create what is missing; running it twice changes nothing."""
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
    return DemoResult(credentials, creds_file, document.id, created)


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

    from app.api.schemas.workflow import ActionRequest
    from app.services.workflow import apply_action

    adapter: TypeAdapter = TypeAdapter(ActionRequest)
    for username, at, body in SEED_ROUTE:
        user = org.get_user(session=session, username=username)
        assert user is not None
        apply_action(session=session, user=user, document_id=document_id, request=adapter.validate_python(body),
                     now=at.astimezone(ZoneInfo("UTC")), tz=tz)
