"""The role × state × action matrix, written out by hand from API.md's actions table.

Deliberately independent of ``app.workflow`` (this module imports nothing from it), so that
a mistake in the rules shows up as a difference. Two tests read it: the pure one
(tests/workflow/test_permissions_matrix.py, every cell through ``allowed_actions`` and
``authorize``) and the thin HTTP sample (tests/test_workflow_matrix.py, a few cells through
the real API).
"""

from __future__ import annotations

# The staff of tests/conftest.py that the matrix covers (secret_clerk is the confidential register's).
USERS = ["clerk", "office_leader", "leader", "unit_leader_vp", "unit_leader_ttd", "specialist", "auditor", "admin"]
ACTIONS = ["submit", "propose", "direct", "return", "assign", "report", "complete", "acknowledge", "extend", "recall",
           "archive"]

# Each scenario is a state of tests/workflow_helpers.PATHS: the document's state and its assignments
# (unit, role, assignment state, assignee) as that path leaves them. "direct" gives VP the lead and
# TTĐ "inform"; "assign" hands VP's lead to the specialist; the specialist's "complete" resolves it.
SCENARIOS: dict[str, tuple[str, tuple[tuple[str, str, str, str | None], ...]]] = {
    "registered": ("registered", ()),
    "office_review": ("office_review", ()),
    "leadership_review": ("leadership_review", ()),
    "in_progress": ("in_progress", (("VP", "lead", "pending", None), ("TTĐ", "inform", "pending", None))),
    "in_progress_assigned": ("in_progress", (("VP", "lead", "in_progress", "specialist"),
                                             ("TTĐ", "inform", "pending", None))),
    "resolved": ("resolved", (("VP", "lead", "done", "specialist"), ("TTĐ", "inform", "pending", None))),
    "archived": ("archived", (("VP", "lead", "done", "specialist"), ("TTĐ", "inform", "pending", None))),
    "returned": ("returned", ()),
    "recalled": ("recalled", ()),
}

# scenario → {(user, action)} that must succeed; every other (user, action) is refused.
ALLOWED: dict[str, set[tuple[str, str]]] = {
    "registered": {("clerk", "submit"), ("clerk", "recall")},
    "office_review": {("office_leader", "propose"), ("office_leader", "direct"), ("office_leader", "return"),
                      ("leader", "direct"), ("leader", "return"), ("leader", "extend"), ("clerk", "recall")},
    "leadership_review": {("leader", "direct"), ("leader", "return"), ("leader", "extend"), ("clerk", "recall")},
    "in_progress": {("unit_leader_vp", "assign"), ("unit_leader_vp", "report"), ("unit_leader_ttd", "acknowledge"),
                    ("leader", "extend"), ("clerk", "recall")},
    "in_progress_assigned": {("unit_leader_vp", "report"), ("unit_leader_vp", "complete"),
                             ("specialist", "report"), ("specialist", "complete"),
                             ("unit_leader_ttd", "acknowledge"), ("leader", "extend"), ("clerk", "recall")},
    "resolved": {("unit_leader_ttd", "acknowledge"), ("clerk", "archive"), ("clerk", "recall")},
    "archived": set(),
    "returned": {("clerk", "submit"), ("clerk", "recall")},
    "recalled": set(),
}

# Users whose roles can never take the action get 403 (not 409), whatever the state.
NEVER: dict[str, set[str]] = {
    "submit": {"office_leader", "leader", "unit_leader_vp", "unit_leader_ttd", "specialist", "auditor", "admin"},
    "archive": {"office_leader", "leader", "unit_leader_vp", "unit_leader_ttd", "specialist", "auditor", "admin"},
    "recall": {"office_leader", "leader", "unit_leader_vp", "unit_leader_ttd", "specialist", "auditor", "admin"},
    "direct": {"clerk", "unit_leader_vp", "unit_leader_ttd", "specialist", "auditor", "admin"},
    "extend": {"clerk", "office_leader", "unit_leader_vp", "unit_leader_ttd", "specialist", "auditor", "admin"},
}

# Pinned refusals, 403 (this person may not) or 409 (not now), each telling a different rule apart.
REFUSALS: dict[tuple[str, str, str], int] = {
    ("registered", "leader", "submit"): 403,  # a leader never submits
    ("registered", "leader", "direct"): 409,  # a leader directs, but not before review
    ("leadership_review", "office_leader", "direct"): 403,  # office leaders direct from office review only
    ("in_progress_assigned", "unit_leader_ttd", "assign"): 403,  # an informed unit has nobody to assign
    ("resolved", "specialist", "complete"): 409,  # the lead assignment is already done
    ("archived", "clerk", "recall"): 409,  # an archived document is no longer live
}

# Pinned successes and the document's state after each.
SUCCESSES: dict[tuple[str, str, str], str] = {
    ("office_review", "office_leader", "propose"): "leadership_review",
    ("in_progress", "unit_leader_vp", "assign"): "in_progress",
    ("in_progress_assigned", "specialist", "complete"): "resolved",  # the lead is done
    ("resolved", "unit_leader_ttd", "acknowledge"): "resolved",
    ("resolved", "clerk", "archive"): "archived",
}
