"""The fixed vocabularies of API.md: roles, states, urgency, confidentiality, channels."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    clerk = "clerk"  # văn thư
    office_leader = "office_leader"  # lãnh đạo Văn phòng
    leader = "leader"  # lãnh đạo cơ quan/Bộ
    unit_leader = "unit_leader"  # lãnh đạo đơn vị
    specialist = "specialist"  # chuyên viên
    auditor = "auditor"
    admin = "admin"
    exchange = "exchange"  # the hub connector's account: delivers edXML messages, nothing else


class DocumentState(StrEnum):
    registered = "registered"
    office_review = "office_review"
    leadership_review = "leadership_review"
    in_progress = "in_progress"
    resolved = "resolved"
    archived = "archived"
    returned = "returned"
    recalled = "recalled"


# States in which a document still waits for someone: deadlines and "overdue" apply.
OPEN_STATES: frozenset[DocumentState] = frozenset(
    {
        DocumentState.registered,
        DocumentState.office_review,
        DocumentState.leadership_review,
        DocumentState.in_progress,
        DocumentState.returned,
    }
)


class AssignmentState(StrEnum):
    pending = "pending"
    in_progress = "in_progress"
    done = "done"


class AssignmentRole(StrEnum):
    lead = "lead"  # chủ trì
    cooperate = "cooperate"  # phối hợp
    inform = "inform"  # để biết


class Urgency(StrEnum):
    normal = "normal"  # thường
    urgent = "urgent"  # khẩn
    very_urgent = "very_urgent"  # thượng khẩn
    flash = "flash"  # hỏa tốc


class Confidentiality(StrEnum):
    normal = "normal"
    confidential = "confidential"  # mật
    secret = "secret"  # tối mật
    top_secret = "top_secret"  # tuyệt mật


class Channel(StrEnum):
    paper = "paper"
    electronic = "electronic"
