"""Which status message the sender of an electronic document is told, and when (the one owner).

QCVN 102:2016's status codes, as the hub's SDK defines them. We send 01–06 as the document moves
on its slip and 15/16 when we accept or reject a sender's revoke, update or replace; we receive
13 (the sender asks for the document back). Each of 01–06 is sent at most once per document: a
document directed twice (after a return) has been "directed" once as far as the sender cares.
"""

from __future__ import annotations

from enum import StrEnum

from app.workflow.vocabulary import DocumentState


class StatusCode(StrEnum):
    received = "01"  # đã đến: our software took it in, the clerk has not yet acted
    refused = "02"  # từ chối: returned by the clerk (wrong, not ours)
    registered = "03"  # tiếp nhận: registered in the arrival book
    directed = "04"  # phân công: the leadership directed it to units
    in_progress = "05"  # đang xử lý: a unit started work on it
    resolved = "06"  # hoàn thành
    recall_request = "13"  # lấy lại: the sender asks for it back (we receive this one)
    change_accepted = "15"  # đồng ý cập nhật/lấy lại
    change_rejected = "16"  # từ chối cập nhật/lấy lại


DESCRIPTIONS: dict[StatusCode, str] = {
    StatusCode.received: "Đã đến - Phần mềm quản lý văn bản đã nhận nhưng văn thư chưa xử lý",
    StatusCode.refused: "Từ chối tiếp nhận văn bản",
    StatusCode.registered: "Tiếp nhận - Văn thư đã đăng ký văn bản đến",
    StatusCode.directed: "Phân công - Lãnh đạo đã giao đơn vị xử lý",
    StatusCode.in_progress: "Đang xử lý văn bản đến",
    StatusCode.resolved: "Hoàn thành xử lý văn bản đến",
    StatusCode.recall_request: "Yêu cầu lấy lại văn bản",
    StatusCode.change_accepted: "Đồng ý yêu cầu cập nhật, thay thế hoặc thu hồi văn bản",
    StatusCode.change_rejected: "Từ chối yêu cầu cập nhật, thay thế hoặc thu hồi văn bản",
}

# Progress reports: each told once per document. 15/16 answer one request each and may repeat.
ONCE_PER_DOCUMENT: frozenset[StatusCode] = frozenset(
    {StatusCode.received, StatusCode.refused, StatusCode.registered, StatusCode.directed,
     StatusCode.in_progress, StatusCode.resolved}
)

# The unit-level actions that are "work on it" (a unit leader's hand-over, a note, the result).
_UNIT_WORK = frozenset({"assign", "report", "complete"})


def statuses_after_action(action: str, from_state: str, to_state: str) -> list[StatusCode]:
    """The status messages a slip action causes, in the order they are sent; whether each was
    already sent for the document is the caller's question (``ONCE_PER_DOCUMENT``)."""
    codes: list[StatusCode] = []
    if action == "direct":
        codes.append(StatusCode.directed)
    if action in _UNIT_WORK:
        codes.append(StatusCode.in_progress)
    if to_state == DocumentState.resolved and from_state != DocumentState.resolved:
        codes.append(StatusCode.resolved)
    return codes


def description(code: str, detail: str | None = None) -> str:
    """The Vietnamese text sent with a code, with the clerk's reason when there is one."""
    base = DESCRIPTIONS.get(StatusCode(code), "") if code in StatusCode._value2member_map_ else ""
    return f"{base}: {detail}" if detail and base else (detail or base)
