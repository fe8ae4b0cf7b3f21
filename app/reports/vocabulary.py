"""The fixed vocabularies of API.md's "Reports and appendices", and how report tables word them."""

from __future__ import annotations

import re
from enum import StrEnum

from app.text import fold


class AppendixKind(StrEnum):
    projects = "projects"  # danh sách dự án: code, name, owner, budget, planned years, status, notes
    table = "table"  # any other table: headers and cells kept as text
    indicators = "indicators"  # chỉ tiêu: baseline, current value, target


class ProjectStatus(StrEnum):
    not_started = "not_started"  # Chưa thực hiện
    preparing = "preparing"  # Đang lập dự án / kế hoạch / thuyết minh
    in_progress = "in_progress"  # Đang thực hiện
    completed = "completed"  # Hoàn thành
    stopped = "stopped"  # Ngưng thực hiện


class BudgetBasis(StrEnum):
    estimated = "estimated"  # Kinh phí (ước)
    approved = "approved"  # Kinh phí (đã phê duyệt)


# Folded beginnings of the status cell. Order matters: "chua" before anything that it contains.
_STATUS_WORDS: list[tuple[re.Pattern[str], ProjectStatus]] = [
    (re.compile(r"^(chua (thuc hien|trien khai|bat dau|lap du an|khoi cong))"), ProjectStatus.not_started),
    (re.compile(r"^(dang |da )?(ngung|tam ngung|dung|huy|thoi)( thuc hien| trien khai)?\b"), ProjectStatus.stopped),
    (re.compile(r"^(da )?hoan (thanh|tat)"), ProjectStatus.completed),
    (re.compile(r"^(dang )?(lap|chuan bi|tham dinh|trinh|xin chu truong)\b"), ProjectStatus.preparing),
    (re.compile(r"^dang (thuc hien|trien khai|dau thau|thi cong)"), ProjectStatus.in_progress),
]


def project_status(text: str) -> ProjectStatus | None:
    """The status a cell's words name, or None: ``Đang lập kế hoạch`` → preparing."""
    folded = fold(text)
    for pattern, status in _STATUS_WORDS:
        if pattern.match(folded):
            return status
    return None


def budget_basis(header: str) -> BudgetBasis | None:
    """``Kinh phí (ước)`` → estimated; ``Kinh phí (đã phê duyệt)`` → approved; else not stated."""
    folded = fold(header)
    if "phe duyet" in folded:
        return BudgetBasis.approved
    if re.search(r"\buoc\b|du kien|du toan", folded):
        return BudgetBasis.estimated
    return None
