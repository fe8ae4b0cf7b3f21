"""Registering and finding incoming documents."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, column, exists, func, select, table, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, DuplicateDocument, Forbidden, NotFound, ValidationFailed
from app.i18n import Invalid, msg
from app.models import Assignment, IdempotencyKey, IncomingDocument, Register, Unit, User
from app.models.documents import SQLITE_SEARCH_TABLE
from app.schemas.documents import DocumentCreate, DocumentFilters
from app.services import numbering, rule_columns
from app.services.access import may_register_into, visible_documents
from app.services.delegations import Standing
from app.services.organisation import get_register
from app.text import fold, search_terms
from app.workflow import deadlines
from app.workflow.symbols import parse_symbol
from app.workflow.vocabulary import Confidentiality, DocumentState
from app.workflow.worklist import on_work_list_sql, priority_key, priority_order_sql, work_list_arms_sql

# A client clock a little ahead of ours is not an error; a day ahead is.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Registration:
    document: IncomingDocument
    replayed: bool  # True when an Idempotency-Key retry returned the earlier document


@dataclass
class RegistrationRows:
    """What registering a document writes, as column values: the document's, its ``register``
    event's and its Idempotency-Key's (None without one); the arrival number and ids come from
    the database."""

    document: dict[str, Any]
    event: dict[str, Any]
    idempotency: dict[str, Any] | None
    symbol: str  # as parsed
    symbol_key: str
    issuer_key: str
    fingerprint: str | None  # of the request, with an Idempotency-Key only


def identity_keys(symbol: str, issuer: str) -> tuple[str, str]:
    """Folded symbol and issuer: what makes two registrations the same document."""
    return fold(symbol).replace(" ", ""), fold(issuer)


def request_fingerprint(data: DocumentCreate) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def registration_rows(
    *, register: Register, actor: User, data: DocumentCreate, now: datetime, tz: ZoneInfo, idempotency_key: str | None
) -> RegistrationRows:
    """The checks that need no query, then the rows registering writes but for the arrival
    number and the ids. No session: the API's endpoints and the benchmarks' variants share it."""
    received_at = data.received_at or now
    received_day = received_at.astimezone(tz).date()
    if received_at > now + CLOCK_SKEW:
        raise ValidationFailed("received_at", msg("must not be in the future"), code="date.future")
    if data.document_date > now.astimezone(tz).date():
        raise ValidationFailed("document_date", msg("must not be in the future"), code="date.future")
    if data.document_date > received_day:
        raise ValidationFailed("document_date", msg("must not be after the arrival date"), code="date.after_arrival")
    if data.due_date is not None and data.due_date < received_day:
        raise ValidationFailed("due_date", msg("must not be before the arrival date"), code="date.before_arrival")

    parsed = parse_symbol(data.symbol)
    symbol_key, issuer_key = identity_keys(parsed.symbol, data.issuer)
    # What a retry with the same Idempotency-Key must match; without a key there is nothing to match.
    fingerprint = request_fingerprint(data) if idempotency_key else None
    year = received_day.year

    columns = dict(
        register_id=register.id,
        year=year,
        received_at=received_at,
        symbol=parsed.symbol,
        symbol_key=symbol_key,
        document_number=parsed.document_number,
        document_type=parsed.document_type,
        issuer_code=parsed.issuer_code,
        symbol_year=parsed.year,
        symbol_warning=parsed.warning,
        symbol_as_written=parsed.as_written,
        document_date=data.document_date,
        issuer=data.issuer,
        issuer_key=issuer_key,
        summary=data.summary,
        urgency=data.urgency.value,
        confidentiality=data.confidentiality.value,
        due_date=data.due_date,
        effective_due_date=deadlines.document_deadline(data.due_date, None),  # no assignments yet
        overdue_after=deadlines.overdue_after(DocumentState.registered.value, data.due_date, []),
        page_count=data.page_count,
        signer_name=data.signer_name,
        signer_position=data.signer_position,
        channel=data.channel.value,
        notes=data.notes,
        case_file_code=None,
        state=DocumentState.registered.value,
        version=1,
        search_text=fold(f"{parsed.symbol} {data.summary} {data.issuer}"),
        duplicate_of_id=None,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    event = dict(
        seq=1,
        action="register",
        from_state=None,
        to_state=DocumentState.registered.value,
        actor_id=actor.id,
        on_behalf_of_id=None,
        assignment_id=None,
        at=now,
        comment=None,
        data={
            "register_code": register.code,
            "year": year,
            "due_date": data.due_date.isoformat() if data.due_date else None,
        },
    )
    key = (
        dict(user_id=actor.id, key=idempotency_key, request_hash=fingerprint, created_at=now)
        if idempotency_key
        else None
    )
    return RegistrationRows(columns, event, key, parsed.symbol, symbol_key, issuer_key, fingerprint)


def register_document(
    *,
    session: Session,
    actor: User,
    data: DocumentCreate,
    now: datetime,
    tz: ZoneInfo,
    idempotency_key: str | None = None,
) -> Registration:
    """Register an incoming document and give it the next arrival number of its register/year.

    Leaves the writes uncommitted; the caller should commit straight away, since from the
    number on every other registration of the register and year waits for this transaction.
    A refused write (the same document, the same Idempotency-Key) is undone on its own; what
    the caller did before in the same transaction stays.
    """
    try:
        register = get_register(session=session, code=data.register_code)
    except NotFound as exc:
        raise ValidationFailed("register_code", exc.detail, code="register.unknown") from exc
    if not may_register_into(actor, register):
        raise Forbidden(msg("you may not register documents in register '{register}'", register=register.code),
                        code="register.not_yours")
    if data.confidentiality != Confidentiality.normal and not register.confidential:
        raise ValidationFailed(
            "confidentiality",
            msg("a {confidentiality} document must go in a confidential register, not '{register}'",
                confidentiality=data.confidentiality.value, register=register.code),
            code="register.not_confidential",
        )

    rows = registration_rows(
        register=register, actor=actor, data=data, now=now, tz=tz, idempotency_key=idempotency_key
    )
    columns, event, key = rows.document, rows.event, rows.idempotency
    symbol_key, issuer_key, fingerprint = rows.symbol_key, rows.issuer_key, rows.fingerprint
    # Checks that need no query ran above. A retried Idempotency-Key and an already registered
    # document are not looked for first: the unique indexes on the key and on the document's
    # identity refuse them inside the registering statement, which then takes no number, and
    # only then is the earlier registration looked up. The usual registration, neither a retry
    # nor a duplicate, costs no lookup; a race between two such requests is settled the same way.
    columns["duplicate_of_id"] = original_id = (
        _original(session=session, symbol_key=symbol_key, issuer_key=issuer_key, document_date=data.document_date)
        if data.allow_duplicate  # a knowing duplicate is registered with a link to its original
        else None
    )
    # A duplicate of a document the clerk may not see (a confidential register's) is registered
    # as if there were none, linked to its original for those who see both: a refusal, even one
    # without the id, would confirm a guessed symbol, issuer and date (API.md, Errors; issue 11).
    for attempt in (1, 2):
        try:
            # From here the register's counter row is locked until the caller commits.
            numbered = _write(session, document=columns, event=event, idempotency=key)
            break
        except IntegrityError as exc:
            # The same Idempotency-Key (replay its document, even if the same document's
            # identity is what tripped) or the same document (a duplicate), registered earlier
            # or by a concurrent request. The failed write took no number.
            earlier = _replay(session=session, actor=actor, idempotency_key=idempotency_key, fingerprint=fingerprint)
            if earlier is not None:
                return earlier
            original_id = _original(
                session=session, symbol_key=symbol_key, issuer_key=issuer_key, document_date=data.document_date
            )
            seen = None if original_id is None else _first_seen(
                session=session, actor=actor, symbol_key=symbol_key, issuer_key=issuer_key,
                document_date=data.document_date)
            if original_id is not None and (data.allow_duplicate or seen is None) and attempt == 1:
                # The original was registered by a concurrent request after the look-up above
                # (a knowing duplicate is registered all the same), or no registration of it is
                # one the clerk may see: registered, linked to the original.
                columns["duplicate_of_id"] = original_id
                continue
            if seen is not None:
                raise _duplicate(rows.symbol, data, seen) from exc
            raise Conflict(msg("a concurrent registration conflicted with this one; retry the request"),
                           code="document.concurrent_registration") from exc
    # The document as written, built here rather than read back: the caller commits (and so
    # releases the counter) before presenting it, and presenting it then needs no query.
    document = IncomingDocument(
        **columns,
        id=numbered.document_id,
        arrival_number=numbered.arrival_number,
        register=register,
        created_by=actor,
        assignments=[],
    )
    return Registration(document, replayed=False)


def _write(
    session: Session, *, document: dict[str, Any], event: dict[str, Any], idempotency: dict[str, Any] | None
) -> numbering.Numbered:
    """``numbering.insert_numbered``, undone alone if it fails.

    In a per-statement session (the API on PostgreSQL) the failed statement undid itself and
    the session is merely reset. In a transaction (SQLite, the demo, scripts) a savepoint keeps
    whatever the caller did before the registration.
    """
    if session.connection().get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        try:
            return numbering.insert_numbered(session=session, document=document, event=event, idempotency=idempotency)
        except IntegrityError:
            session.rollback()
            raise
    with session.begin_nested():
        return numbering.insert_numbered(session=session, document=document, event=event, idempotency=idempotency)


def _replay(
    *, session: Session, actor: User, idempotency_key: str | None, fingerprint: str | None
) -> Registration | None:
    """The earlier registration made with this Idempotency-Key, if any."""
    if not idempotency_key:
        return None
    earlier = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == actor.id, IdempotencyKey.key == idempotency_key)
    )
    if earlier is None:
        return None
    if earlier.request_hash != fingerprint:
        raise ValidationFailed("Idempotency-Key", msg("this key was already used with a different request body"),
                               code="idempotency_key.reused")
    return Registration(session.get_one(IncomingDocument, earlier.document_id), replayed=True)


def _original(*, session: Session, symbol_key: str, issuer_key: str, document_date: date) -> int | None:
    """The id of the first registration of the same document (symbol, issuer, date), if any."""
    return session.scalar(
        select(IncomingDocument.id).where(
            IncomingDocument.symbol_key == symbol_key,
            IncomingDocument.issuer_key == issuer_key,
            IncomingDocument.document_date == document_date,
            IncomingDocument.duplicate_of_id.is_(None),
        )
    )


def _first_seen(*, session: Session, actor: User, symbol_key: str, issuer_key: str, document_date: date) -> int | None:
    """The first registration of the same document that ``actor`` may see, if any (the original,
    or a copy registered where the original is hidden from them)."""
    return session.scalar(
        select(func.min(IncomingDocument.id)).where(
            IncomingDocument.symbol_key == symbol_key,
            IncomingDocument.issuer_key == issuer_key,
            IncomingDocument.document_date == document_date,
            visible_documents(actor),
        )
    )


def probable_duplicate(*, session: Session, actor: User, symbol: str, issuer: str, document_date: date) -> int | None:
    """The registration of the same document (symbol, issuer, date; folded as registering folds
    them) that ``actor`` may see, if any: the one a registration would be refused as a duplicate
    of. A document hidden from ``actor`` is never named, as registering never names it."""
    try:
        parsed = parse_symbol(symbol)
    except Invalid:
        return None  # junk the registration refuses on its own
    symbol_key, issuer_key = identity_keys(parsed.symbol, issuer)
    return _first_seen(session=session, actor=actor, symbol_key=symbol_key, issuer_key=issuer_key,
                       document_date=document_date)


def visible_ids(
    *, session: Session, user: User, ids: Collection[int], delegators: Sequence[User] = ()
) -> set[int]:
    """Those of ``ids`` that ``user`` may see: for answers that name another document (a
    duplicate's original), which must say nothing of a document hidden from the reader."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    return set(session.scalars(
        select(IncomingDocument.id).where(IncomingDocument.id.in_(wanted),
                                          visible_documents(user, delegators=delegators))
    ))


def _duplicate(symbol: str, data: DocumentCreate, original_id: int) -> DuplicateDocument:
    return DuplicateDocument(
        msg("{symbol} of {issuer} dated {date} is already registered (id {id}); send allow_duplicate=true to "
            "register it again", symbol=symbol, issuer=data.issuer, date=data.document_date.isoformat(), id=original_id),
        duplicate_of=original_id,
    )


def get_visible_document(
    *, session: Session, user: User, document_id: int, delegators: Sequence[User] = ()
) -> IncomingDocument:
    document = session.scalar(
        select(IncomingDocument).where(
            IncomingDocument.id == document_id, visible_documents(user, delegators=delegators)
        )
    )
    if document is None:
        raise NotFound(msg("incoming document {id} does not exist", id=document_id), code="document.not_found")
    return document


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


def _search_clause(session: Session, term: str) -> ColumnElement[bool]:
    """One folded query term must occur in the document's folded search text."""
    if session.get_bind().dialect.name == "sqlite" and len(term) >= 3 and not set(term) & {"%", "_", "\\"}:
        fts = table(SQLITE_SEARCH_TABLE, column("rowid"), column("search_text"))
        return IncomingDocument.id.in_(select(fts.c.rowid).where(fts.c.search_text.like(f"%{term}%")))
    return IncomingDocument.search_text.contains(term, autoescape=True)


def document_query(
    *,
    session: Session,
    user: User,
    filters: DocumentFilters,
    today: date,
    tz: ZoneInfo,
    delegators: Sequence[Standing] = (),
) -> Select[tuple[IncomingDocument]]:
    """The visible documents matching ``filters``, unordered."""
    query = select(IncomingDocument).where(visible_documents(user, delegators=delegators))
    if filters.q:
        for term in search_terms(filters.q):
            query = query.where(_search_clause(session, term))
    if filters.state:
        query = query.where(IncomingDocument.state == filters.state.value)
    if filters.urgency:
        query = query.where(IncomingDocument.urgency == filters.urgency.value)
    if filters.confidentiality:
        query = query.where(IncomingDocument.confidentiality == filters.confidentiality.value)
    if filters.register_code:
        query = query.where(
            IncomingDocument.register_id.in_(select(Register.id).where(Register.code == filters.register_code))
        )
    if filters.year:
        query = query.where(IncomingDocument.year == filters.year)
    if filters.issuer:
        query = query.where(IncomingDocument.issuer_key.contains(fold(filters.issuer), autoescape=True))
    if filters.unit_code:
        query = query.where(
            exists().where(
                Assignment.document_id == IncomingDocument.id,
                Assignment.unit_id == Unit.id,
                Unit.code == filters.unit_code,
            )
        )
    if filters.overdue is not None:
        clause = rule_columns.overdue_sql(today)
        query = query.where(clause if filters.overdue else ~clause)
    if filters.awaiting_me is not None:
        actors = [rule_columns.actor_of(user)] + [rule_columns.actor_of(d, lent_to=d.lent_to) for d in delegators]
        clause = on_work_list_sql(actors, rule_columns.work_document(), rule_columns.assignments)
        query = query.where(clause if filters.awaiting_me else ~clause)
    if filters.received_from:
        query = query.where(IncomingDocument.received_at >= local_day_bounds(filters.received_from, tz)[0])
    if filters.received_to:
        query = query.where(IncomingDocument.received_at < local_day_bounds(filters.received_to, tz)[1])
    return query


def list_documents(
    *,
    session: Session,
    user: User,
    filters: DocumentFilters,
    limit: int,
    offset: int,
    today: date,
    tz: ZoneInfo,
    delegators: Sequence[User] = (),
    exact_up_to: int,
) -> tuple[list[IncomingDocument], Total]:
    """A page of visible documents, newest arrival first (then id), and how many match.

    The page is found on the bare table (ids only: an index walk, with no joined eager loading
    repeated for every row skipped over) in a subquery, and only its documents are loaded. The
    total needs no count when the page itself shows where the list ends (a short, non-empty
    page); otherwise see ``count_matches``.
    """
    query = document_query(
        session=session, user=user, filters=filters, today=today, tz=tz, delegators=delegators
    )
    ids_only = query.with_only_columns(IncomingDocument.id, maintain_column_froms=True)
    page_ids = ids_only.order_by(IncomingDocument.received_at.desc(), IncomingDocument.id.desc()).limit(limit).offset(offset)
    page = list(session.scalars(select(IncomingDocument).where(IncomingDocument.id.in_(page_ids.scalar_subquery()))))
    page.sort(key=lambda d: (d.received_at, d.id), reverse=True)  # the subquery's order
    if page and len(page) < limit:
        return page, Total(offset + len(page), is_estimate=False)
    return page, count_matches(session, ids_only, bound=max(exact_up_to, offset + limit))


def work_list_page(
    *, session: Session, user: User, filters: DocumentFilters, limit: int, offset: int, today: date, tz: ZoneInfo,
    delegators: Sequence[User] = (), exact_up_to: int,
) -> tuple[list[IncomingDocument], Total]:
    """A page of what awaits ``user`` (``filters`` narrow it further; their ``awaiting_me`` is this
    list's own) in priority order (app.workflow.worklist.priority_key: most urgent, nearest deadline,
    longest waiting), and how many there are, counted as ``list_documents`` counts. Found arm by arm (app.workflow.worklist's
    ``work_list_arms_sql``): each arm's first ``offset + limit`` in priority order (a walk of the
    priority index for a dense arm such as a clerk's resolved documents, a small set for a sparse one
    such as a leader's proposals), merged and ordered again. The same documents as the OR of the
    arms in one query, which PostgreSQL reads to its end to sort: 2.7 s for a clerk at a million
    documents, against tens of milliseconds this way (bench/results/console-pages-issue15.md)."""
    base = document_query(session=session, user=user, filters=filters.model_copy(update={"awaiting_me": None}),
                          today=today, tz=tz, delegators=delegators)
    actors = [rule_columns.actor_of(user)] + [rule_columns.actor_of(d, lent_to=d.lent_to) for d in delegators]
    arms = work_list_arms_sql(actors, rule_columns.work_document(), rule_columns.assignments)
    if not arms:
        return [], Total(0, is_estimate=False)
    d = IncomingDocument
    columns = (d.id, d.urgency, d.effective_due_date, d.received_at)
    ordering = priority_order_sql(d.urgency, d.effective_due_date, d.received_at, d.id)
    firsts = [base.where(arm).with_only_columns(*columns, maintain_column_froms=True).order_by(*ordering)
              .limit(offset + limit) for arm in arms]
    merged = _union(firsts)
    page_ids = (select(merged.c.id).order_by(*priority_order_sql(merged.c.urgency, merged.c.effective_due_date,
                                                                 merged.c.received_at, merged.c.id))
                .limit(limit).offset(offset))
    page = list(session.scalars(select(d).where(d.id.in_(page_ids.scalar_subquery()))))
    page.sort(key=lambda x: priority_key(x.urgency, x.effective_due_date, x.received_at, x.id))
    if page and len(page) < limit:
        return page, Total(offset + len(page), is_estimate=False)
    bound = max(exact_up_to, offset + limit)
    every = [base.where(arm).with_only_columns(d.id, maintain_column_froms=True).limit(bound + 1) for arm in arms]
    matches = _union(every)
    return page, count_matches(session, select(matches.c.id), bound=bound)


def _union(selects: list[Select[Any]]) -> Any:
    """UNION of selects that have their own ORDER BY and LIMIT, as a subquery; each is wrapped in a
    subquery of its own, which SQLite requires of a compound's members."""
    members = [select(*sub.c).select_from(sub) for sub in (s.subquery() for s in selects)]
    return (union(*members) if len(members) > 1 else members[0]).subquery()


@dataclass(frozen=True)
class Total:
    """How many documents match a list's filters; ``is_estimate`` when not counted to the end."""

    value: int
    is_estimate: bool


def count_matches(session: Session, ids_only: Select[Any], *, bound: int) -> Total:
    """Count the matches one by one up to ``bound``; beyond it say only that there are more.

    An exact count of a common word (``q=thong tu`` at a million documents: 232 124 matches)
    rechecks every matching row and takes longer than the page itself; counting stops at
    ``bound + 1``, which is then the total, flagged as an estimate: "more than ``bound``". A
    planner's row estimate was tried and dropped: for two common words it was off by up to five
    times (``bao cao``: 39 798 estimated, 200 334 counted), worse than an honest lower bound.
    """
    counted = session.scalar(select(func.count()).select_from(ids_only.limit(bound + 1).subquery())) or 0
    return Total(counted, is_estimate=counted > bound)
