"""Project records across reports: finding them, a report's figures, and two reports compared."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import Appendix, AppendixGroup, ProjectRecord, Report, User
from app.reports.vocabulary import ProjectStatus
from app.schemas.reports import ProjectFilters
from app.services.access import visible_reports
from app.services.reports import match_key
from app.text import search_terms
from app.i18n import msg


def list_projects(
    *, session: Session, user: User, filters: ProjectFilters, limit: int, offset: int,
    delegators: Sequence[User] = (),
) -> tuple[list[ProjectRecord], int]:
    """A page of the project records of visible reports, in report and file order."""
    query = select(ProjectRecord).where(
        ProjectRecord.report_id.in_(select(Report.id).where(visible_reports(user, delegators=delegators)))
    )
    if filters.status:
        query = query.where(ProjectRecord.status == filters.status.value)
    if filters.owner and match_key(filters.owner):
        query = query.where(ProjectRecord.owner_key.contains(match_key(filters.owner), autoescape=True))
    if filters.report_id is not None:
        query = query.where(ProjectRecord.report_id == filters.report_id)
    if filters.q:
        for term in search_terms(filters.q):
            query = query.where(ProjectRecord.search_text.contains(term, autoescape=True))
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = session.scalars(
        query.order_by(ProjectRecord.report_id, ProjectRecord.appendix_id, ProjectRecord.position, ProjectRecord.id)
        .limit(limit)
        .offset(offset)
    )
    return list(page), total


@dataclass
class StatusLine:
    status: ProjectStatus | None
    projects: int
    budget_vnd: int


@dataclass
class GroupLine:
    group_id: int
    appendix_number: str
    title: str
    projects: int
    budget_vnd: int
    declared_total_vnd: int | None
    matches: bool | None


@dataclass
class Summary:
    report_id: int
    projects: int
    budget_vnd: int
    projects_without_budget: int
    by_status: list[StatusLine]
    by_group: list[GroupLine]


def report_summary(*, session: Session, report: Report) -> Summary:
    """Budget and count of the report's projects by status (every status listed) and by group."""
    # Summed here, in Python integers: SQLite's SUM fails past 2**63 where PostgreSQL's widens.
    rows = session.execute(
        select(ProjectRecord.status, ProjectRecord.group_id, ProjectRecord.budget_vnd)
        .where(ProjectRecord.report_id == report.id)
    ).all()
    status_figures: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    group_figures: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for status, group_id, budget in rows:
        for figures in (status_figures[status], group_figures[group_id]):
            figures[0] += 1
            figures[1] += budget or 0
    by_status = [StatusLine(s, *status_figures.get(s.value, (0, 0))) for s in ProjectStatus]
    if None in status_figures:
        by_status.append(StatusLine(None, *status_figures[None]))
    groups = session.execute(
        select(AppendixGroup, Appendix.number)
        .join(Appendix, Appendix.id == AppendixGroup.appendix_id)
        .where(Appendix.report_id == report.id, AppendixGroup.id.in_(list(group_figures)))
        .order_by(Appendix.id, AppendixGroup.position)
    )
    by_group = [
        GroupLine(group.id, number, group.title, *group_figures[group.id], group.declared_total_vnd, group.matches)
        for group, number in groups
    ]
    without = sum(1 for _status, _group, budget in rows if budget is None)
    return Summary(
        report_id=report.id,
        projects=sum(line.projects for line in by_status),
        budget_vnd=sum(line.budget_vnd for line in by_status),
        projects_without_budget=without,
        by_status=by_status,
        by_group=by_group,
    )


# --- comparing two reports ----------------------------------------------------------------


@dataclass
class Change:
    before: ProjectRecord
    after: ProjectRecord
    matched_by: str

    @property
    def status_changed(self) -> bool:
        return self.before.status != self.after.status or (
            self.before.status is None and (self.before.status_text or "") != (self.after.status_text or "")
        )

    @property
    def budget_changed(self) -> bool:
        return self.before.budget_vnd != self.after.budget_vnd

    @property
    def budget_change_vnd(self) -> int | None:
        if self.before.budget_vnd is None or self.after.budget_vnd is None:
            return None
        return self.after.budget_vnd - self.before.budget_vnd


@dataclass
class ComparisonResult:
    pairs: list[Change]
    added: list[ProjectRecord]
    removed: list[ProjectRecord]

    @property
    def changed(self) -> list[Change]:
        return [p for p in self.pairs if p.status_changed or p.budget_changed]


def _projects(session: Session, report: Report) -> list[ProjectRecord]:
    return list(session.scalars(
        select(ProjectRecord).where(ProjectRecord.report_id == report.id)
        .order_by(ProjectRecord.appendix_id, ProjectRecord.position, ProjectRecord.id)
    ))


def compare_reports(*, session: Session, report: Report, other: Report) -> ComparisonResult:
    """What changed from ``report`` (before) to ``other`` (after), two reports of the same issuer.

    Projects are matched in three passes, each only among those still unmatched: the same code
    and name; then the same name (a project that moved to another group got a new code); then
    the same code and owner (a project renamed in place). A key shared by several projects on
    either side is ambiguous and never matched in the last two passes.
    """
    if report.issuer_key != other.issuer_key:
        raise ValidationFailed(
            "other_id",
            msg("report {id} is from '{other_issuer}', not '{issuer}': only reports of the same issuer are compared",
                id=other.id, other_issuer=other.issuer, issuer=report.issuer),
            code="report.other_issuer",
        )
    before, after = _projects(session, report), _projects(session, other)
    pairs: list[Change] = []
    passes: list[tuple[str, Callable[[ProjectRecord], Hashable | None], bool]] = [
        ("code_and_name", lambda p: (p.code, p.name_key) if p.code else None, False),
        ("name", lambda p: p.name_key or None, True),
        ("code_and_owner", lambda p: (p.code, p.owner_key) if p.code and p.owner_key else None, True),
    ]
    for matched_by, key, unique_only in passes:
        counts_before = Counter(key(p) for p in before)
        counts_after = Counter(key(p) for p in after)
        waiting: dict[Hashable, list[ProjectRecord]] = defaultdict(list)
        for project in after:
            k = key(project)
            if k is not None and (not unique_only or counts_after[k] == 1):
                waiting[k].append(project)
        still_before = []
        for project in before:
            k = key(project)
            candidates = waiting.get(k) if k is not None and (not unique_only or counts_before[k] == 1) else None
            if candidates:
                pairs.append(Change(project, candidates.pop(0), matched_by))
            else:
                still_before.append(project)
        matched_after = {id(p.after) for p in pairs}
        before = still_before
        after = [p for p in after if id(p) not in matched_after]
    return ComparisonResult(pairs=pairs, added=after, removed=before)
