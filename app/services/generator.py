"""Realistic synthetic data for benchmarks: documents walked through their slip over years.

Arrivals follow working days (more on Mondays, few on weekends, a lull around Tết), the urgency
mix of a ministry, a pool of issuers, and each document goes along the slip with realistic
delays: registration and presentation mostly the same day, office opinion, the leadership's
direction to a lead unit (plus cooperating and informed units), a unit leader's hand-over, the
specialist's result; about one document in ten finishes after its deadline. Every event is
produced by the workflow's own state machines, so the log is one the application could have
written. Rows are inserted in bulk (executemany in batches), bypassing HTTP but not the schema.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from app.models import Assignment, DocumentEvent, IncomingDocument, Register, RegisterCounter, Unit, User
from app.services import organisation as org
from app.text import fold
from app.workflow import deadlines
from app.workflow.calendar import WorkingCalendar
from app.workflow.machine import InvalidTransition, assignment_after, document_after
from app.workflow.symbols import parse_symbol
from app.workflow.vocabulary import Role

UTC = ZoneInfo("UTC")

UNITS = [
    ("VP", "Văn phòng"), ("VPB", "Văn phòng Ban"), ("TTĐ", "Trung tâm Thông tin điện tử"),
    ("URG", "Vụ Ứng dụng CNTT"), ("KHTC", "Vụ Kế hoạch - Tài chính"), ("TCCB", "Vụ Tổ chức cán bộ"),
    ("PC", "Vụ Pháp chế"), ("HTQT", "Vụ Hợp tác quốc tế"), ("TTRA", "Thanh tra Bộ"), ("KHCN", "Vụ Khoa học và Công nghệ"),
]
ISSUERS = [
    ("UBND tỉnh Bình Dương", "UBND"), ("UBND thành phố Đà Nẵng", "UBND"), ("Sở Thông tin và Truyền thông Hà Nội", "STTTT"),
    ("Bộ Nội vụ", "BNV"), ("Bộ Tài chính", "BTC"), ("Văn phòng Chính phủ", "VPCP"), ("Bộ Kế hoạch và Đầu tư", "BKHĐT"),
    ("Ban chỉ đạo chương trình CNTT tỉnh Bình Dương", "BCĐ"), ("UBND tỉnh Quảng Ninh", "UBND"),
    ("Sở Tài chính tỉnh Nghệ An", "STC"), ("Tập đoàn Bưu chính Viễn thông Việt Nam", "VNPT"),
    ("Bộ Công an", "BCA"), ("Bộ Giáo dục và Đào tạo", "BGDĐT"), ("UBND tỉnh Cần Thơ", "UBND"),
    ("Bộ Y tế", "BYT"), ("Thanh tra Chính phủ", "TTCP"), ("Kiểm toán Nhà nước", "KTNN"), ("Bộ Tư pháp", "BTP"),
]
TYPES = ["BC", "CV", "QĐ", "TB", "KH", "TTr", "GM", "CV", "CV", "BC"]  # CV: an official letter (no type code)
SUBJECTS = [
    "Báo cáo tình hình ứng dụng công nghệ thông tin", "Về việc cử cán bộ tham dự hội nghị",
    "Kế hoạch chuyển đổi số năm", "Đề nghị góp ý dự thảo Thông tư", "Thông báo kết luận của Thủ tướng",
    "Về việc triển khai dịch vụ công trực tuyến", "Báo cáo sơ kết công tác cải cách hành chính",
    "Tờ trình phê duyệt dự án đầu tư", "Giấy mời họp triển khai nhiệm vụ", "Quyết định thành lập tổ công tác",
]
URGENCY = (["normal"] * 85) + (["urgent"] * 10) + (["very_urgent"] * 4) + ["flash"]
CONFIDENTIALITY = (["confidential"] * 6) + (["secret"] * 3) + ["top_secret"]
SECRET_REGISTER = "gen_mat"  # the generated confidential documents' register


@dataclass
class Staff:
    clerk: User
    office_leader: User
    leader: User
    unit_leaders: dict[int, User]  # unit id → leader
    specialists: dict[int, list[User]]
    units: list[Unit]


def ensure_staff(*, session: Session, password: str) -> Staff:
    """The organisation the generated documents move through (created once, reused after)."""
    existing = {u.code: u for u in session.scalars(select(Unit))}
    for code, name in UNITS:
        if code not in existing:
            existing[code] = org.create_unit(session=session, code=code, name=name)
    units = [existing[code] for code, _ in UNITS]

    def user(username: str, role: Role, unit: str, full_name: str) -> User:
        found = org.get_user(session=session, username=username)
        return found or org.create_user(session=session, username=username, password=password, roles=[role],
                                        unit_code=unit, full_name=full_name)

    staff = Staff(
        clerk=user("gen_vanthu", Role.clerk, "VP", "Văn thư (dữ liệu mẫu)"),
        office_leader=user("gen_chanhvp", Role.office_leader, "VP", "Chánh Văn phòng (dữ liệu mẫu)"),
        leader=user("gen_lanhdao", Role.leader, "VP", "Lãnh đạo Bộ (dữ liệu mẫu)"),
        unit_leaders={}, specialists={}, units=units,
    )
    for unit in units:
        slug = fold(unit.code).replace(" ", "")
        staff.unit_leaders[unit.id] = user(f"gen_truong_{slug}", Role.unit_leader, unit.code, f"Trưởng {unit.name}")
        staff.specialists[unit.id] = [
            user(f"gen_cv{i}_{slug}", Role.specialist, unit.code, f"Chuyên viên {i} {unit.name}") for i in (1, 2)
        ]
    org.ensure_default_register(session=session)
    if session.scalar(select(Register.id).where(Register.code == SECRET_REGISTER)) is None:
        org.create_register(session=session, code=SECRET_REGISTER, name="Sổ văn bản mật (dữ liệu mẫu)",
                            confidential=True, clerk_usernames=[staff.clerk.username])
    session.flush()
    return staff


class _Stop(Exception):
    """The simulated future: later steps have not happened yet."""


@dataclass
class _Walk:
    """One document's life as it is simulated: events and assignments, state by the machines."""

    doc: dict
    now: datetime
    state: str = "registered"
    events: list[dict] = field(default_factory=list)
    assignments: list[dict] = field(default_factory=list)

    def event(self, action: str, at: datetime, actor: User, *, assignment: dict | None = None,
              comment: str | None = None, data: dict | None = None, resolve: bool = False) -> None:
        if at > self.now:
            raise _Stop
        before = self.state
        after = document_after(before, action)
        if resolve:
            after = document_after(after, "resolve")
        if assignment is not None and action in {"assign", "complete", "acknowledge"}:
            assignment["state"] = assignment_after(assignment["state"], action)
        self.state = after
        self.events.append({
            "document_id": self.doc["id"], "seq": len(self.events) + 1, "action": action, "from_state": before,
            "to_state": after, "actor_id": actor.id, "on_behalf_of_id": None,
            "assignment_id": assignment["id"] if assignment else None, "at": at, "comment": comment,
            "data": data or {},
        })


class Generator:
    """Simulates ``count`` documents arriving between ``start`` and ``end`` (local dates)."""

    def __init__(self, *, staff: Staff, calendar: WorkingCalendar, tz: ZoneInfo, now: datetime, seed: int) -> None:
        self.staff, self.calendar, self.tz, self.now = staff, calendar, tz, now
        self.rng = random.Random(seed)
        self.unit_codes = {u.id: u.code for u in staff.units}

    # --- time helpers ---------------------------------------------------------------------

    def local(self, day: date, hour: float) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz) + timedelta(hours=hour)

    def later_working(self, at: datetime, days: int, hour: float | None = None) -> datetime:
        """``days`` working days after ``at`` (0: the same day), at office hour ``hour``."""
        day = self.calendar.add_working_days(at.astimezone(self.tz).date(), days)
        if hour is None:
            hour = self.rng.uniform(7.5, 16.5)
        moment = self.local(day, hour)
        return max(moment, at + timedelta(minutes=5))

    def soon(self, at: datetime, lo_min: float, hi_min: float) -> datetime:
        """A few minutes or hours later, spilling to the next working day after office hours."""
        moment = at + timedelta(minutes=self.rng.uniform(lo_min, hi_min))
        local = moment.astimezone(self.tz)
        if local.hour >= 17 or not self.calendar.is_working_day(local.date()):
            return self.later_working(at, 1, self.rng.uniform(7.5, 9.5))
        return moment

    def arrivals(self, count: int, start: date, end: date) -> list[datetime]:
        """Arrival times with weekday weights, almost nothing on days off, a lull around Tết."""
        days, weights = [], []
        day = start
        while day <= end:
            weight = 0.02 if not self.calendar.is_working_day(day) else (1.25 if day.weekday() == 0 else 1.0)
            if day.month == 2 and day.day <= 25 or day.month == 1 and day.day >= 25:
                weight *= 0.4  # Tết falls in late January or February
            days.append(day)
            weights.append(weight)
            day += timedelta(days=1)
        picked = self.rng.choices(days, weights, k=count)
        times = [self.local(d, self.rng.uniform(7.5, 16.8)) for d in picked]
        times.sort()
        return times

    # --- one document ---------------------------------------------------------------------

    def walk(self, doc: dict, next_assignment_id: Callable[[], int]) -> _Walk:
        rng, s = self.rng, self.staff
        w = _Walk(doc=doc, now=self.now)
        urgent = doc["urgency"] != "normal"
        received: datetime = doc["received_at"]
        registered = self.soon(received, 5, 60) if urgent else (
            self.soon(received, 10, 180) if rng.random() < 0.85 else self.later_working(received, rng.choice([1, 1, 2, 3]))
        )
        doc["created_at"] = doc["updated_at"] = registered
        w.events.append({
            "document_id": doc["id"], "seq": 1, "action": "register", "from_state": None, "to_state": "registered",
            "actor_id": s.clerk.id, "on_behalf_of_id": None, "assignment_id": None, "at": registered, "comment": None,
            "data": {"register_code": doc["_register_code"], "year": doc["year"], "arrival_number": doc["arrival_number"],
                     "due_date": doc["due_date"].isoformat() if doc["due_date"] else None},
        })
        try:
            at = self.soon(registered, 5, 240) if rng.random() < 0.9 else self.later_working(registered, rng.choice([1, 2]))
            w.event("submit", at, s.clerk)
            if rng.random() < 0.01:
                w.event("recall", self.soon(at, 30, 600), s.clerk, comment="Cơ quan gửi thu hồi")
                return w
            if rng.random() < 0.04:
                at = self.soon(at, 60, 480)
                w.event("return", at, s.office_leader, comment="Đề nghị bổ sung hồ sơ")
                if rng.random() < 0.15:
                    return w  # the clerk keeps it (sent back to its sender)
                at = self.later_working(at, 1)
                w.event("submit", at, s.clerk)
            at = self.soon(at, 30, 480)
            if rng.random() < 0.6:
                named = rng.random() < 0.7  # else reported to the leadership as a whole
                w.event("propose", at, s.office_leader, comment="Kính trình Lãnh đạo Bộ",
                        data={"to_username": s.leader.username, "to_full_name": s.leader.full_name} if named else {})
                director = s.leader
                at = self.later_working(at, rng.choice([0, 0, 1, 1, 2]))
            else:
                director = s.office_leader
            self.direct(w, at, director, next_assignment_id)
            self.handle(w, next_assignment_id)
            resolved_at = w.events[-1]["at"]
            if w.state == "resolved" and rng.random() < 0.01:
                w.event("recall", self.soon(resolved_at, 60, 900), s.clerk, comment="Cơ quan gửi thu hồi")
            elif w.state == "resolved" and rng.random() < 0.6:
                w.event("archive", self.later_working(resolved_at, rng.randint(1, 20)), s.clerk,
                        data={"case_file_code": f"HS-{doc['year']}-{rng.randint(1, 300):03d}"})
        except _Stop:
            pass
        return w

    def direct(self, w: _Walk, at: datetime, director: User, next_id: Callable[[], int]) -> None:
        rng = self.rng
        chosen = rng.sample(self.staff.units, k=1 + (rng.random() < 0.3) + (rng.random() < 0.1) + (rng.random() < 0.3))
        roles = ["lead"] + [rng.choice(["cooperate", "inform"]) for _ in chosen[1:]]
        if at > w.now:
            raise _Stop
        due = w.doc["due_date"]
        dues = [due] * len(chosen)
        if due is None and rng.random() < 0.6:
            # Deadlines on the units only (as on the seed slip): the lead's is the document's.
            day = at.astimezone(self.tz).date()
            dues = [self.calendar.add_working_days(day, rng.randint(3, 12)) if i == 0 or rng.random() < 0.6
                    else None for i in range(len(chosen))]
        for unit, role, unit_due in zip(chosen, roles, dues, strict=True):
            w.assignments.append({"id": next_id(), "document_id": w.doc["id"], "unit_id": unit.id, "role": role,
                                  "state": "pending", "assignee_id": None, "due_date": unit_due, "created_at": at})
        w.event("direct", at, director, comment="Giao xử lý", data={
            "due_date": due.isoformat() if due else None, "from_due_date": due.isoformat() if due else None,
            "assignments": [{"assignment_id": a["id"], "unit_code": u.code, "role": a["role"],
                             "due_date": a["due_date"].isoformat() if a["due_date"] else None}
                            for a, u in zip(w.assignments, chosen, strict=True)]})

    def handle(self, w: _Walk, next_id: Callable[[], int]) -> None:
        """Unit work: hand-overs, notes, results, acknowledgements, in time order."""
        rng, s = self.rng, self.staff
        directed_at = w.events[-1]["at"]
        steps: list[tuple[datetime, int, Callable[[], None]]] = []
        for order, a in enumerate(w.assignments):
            unit_leader = s.unit_leaders[a["unit_id"]]
            if a["role"] == "inform":
                if rng.random() < 0.85:
                    ack = self.later_working(directed_at, rng.randint(0, 3))
                    steps.append((ack, order, lambda a=a, ack=ack, u=unit_leader: w.event("acknowledge", ack, u, assignment=a)))
                continue
            assigned = self.later_working(directed_at, rng.choice([0, 0, 1, 1, 2]))
            specialist = rng.choice(s.specialists[a["unit_id"]])

            def do_assign(a=a, at=assigned, u=unit_leader, sp=specialist):
                a["assignee_id"] = sp.id
                w.event("assign", at, u, assignment=a, data={"assignment_id": a["id"], "assignee_username": sp.username,
                                                                "due_date": a["due_date"].isoformat() if a["due_date"] else None,
                                                                "from_due_date": a["due_date"].isoformat() if a["due_date"] else None})
            steps.append((assigned, order, do_assign))
            if a["due_date"] is not None and rng.random() > 0.1:
                span = max(0, self.calendar.working_days_between(assigned.astimezone(self.tz).date(), a["due_date"]))
                done = self.later_working(assigned, rng.randint(0, span))
            else:
                done = self.later_working(assigned, rng.randint(1, 12))
            if rng.random() < 0.3:
                note = assigned + (done - assigned) / 2
                steps.append((note, order, lambda a=a, at=note, sp=specialist: w.event(
                    "report", at, sp, assignment=a, comment="Đang xử lý")))
            steps.append((done, order, lambda a=a, at=done, sp=specialist: w.event(
                "complete", at, sp, assignment=a, comment="Đã xử lý xong", resolve=a["role"] == "lead",
                data={"assignment_id": a["id"], "role": a["role"]})))
        if rng.random() < 0.08:
            extended_at = self.later_working(directed_at, rng.randint(1, 6))
            steps.append((extended_at, len(w.assignments), lambda at=extended_at: self.extend(w, at)))
        if rng.random() < 0.01:
            recalled_at = self.later_working(directed_at, rng.randint(0, 4))
            steps.append((recalled_at, len(w.assignments) + 1, lambda at=recalled_at: w.event(
                "recall", at, s.clerk, comment="Cơ quan gửi thu hồi")))
        steps.sort(key=lambda step: (step[0], step[1]))
        for _, _, run in steps:
            try:
                run()
            except InvalidTransition:
                # E.g. a cooperating unit's hand-over after the lead resolved the document:
                # that step never happened, and the unit's part stays as it was.
                continue


    def extend(self, w: _Walk, at: datetime) -> None:
        """The leader moves a deadline later: the document's, or one open assignment's."""
        open_parts = [a for a in w.assignments if a["state"] != "done"]
        subject = self.rng.choice(open_parts) if open_parts and self.rng.random() < 0.5 else None
        old = subject["due_date"] if subject is not None else w.doc["due_date"]
        new = self.calendar.add_working_days(max(old, at.astimezone(self.tz).date()) if old else
                                             at.astimezone(self.tz).date(), self.rng.randint(2, 10))
        w.event("extend", at, self.staff.leader, assignment=subject, comment="Gia hạn", data={
            "assignment_id": subject["id"] if subject else None,
            "unit_code": self.unit_codes[subject["unit_id"]] if subject else None,
            "from_due_date": old.isoformat() if old else None, "to_due_date": new.isoformat()})
        if subject is not None:
            subject["due_date"] = new
        else:
            w.doc["due_date"] = new


def _bulk_insert(session: Session, table, rows: list[dict]) -> None:  # noqa: ANN001
    """COPY on PostgreSQL (an order of magnitude faster than INSERTs); executemany elsewhere."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = [c.name for c in table.columns if c.name in rows[0]]
    json_columns = {c.name for c in table.columns if c.type.__class__.__name__ == "JSON"}
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c], ensure_ascii=False) if c in json_columns else row[c] for c in columns])
    cursor.close()


def generate(*, session: Session, count: int, start: date, end: date, tz: ZoneInfo, now: datetime, seed: int = 30,
             batch: int = 20_000, password: str = "generated-password", progress: Callable[[int], None] | None = None) -> int:
    """Insert ``count`` simulated documents with their events and assignments; return the count."""
    from app.services.calendar import load_calendar

    staff = ensure_staff(session=session, password=password)
    session.commit()
    calendar = load_calendar(session=session)
    gen = Generator(staff=staff, calendar=calendar, tz=tz, now=now, seed=seed)
    registers = {code: session.scalar(select(Register).where(Register.code == code))
                 for code in ("main", SECRET_REGISTER)}
    assert all(registers.values())
    next_doc = (session.scalar(select(func.max(IncomingDocument.id))) or 0) + 1
    next_assignment = [(session.scalar(select(func.max(Assignment.id))) or 0) + 1]

    def assignment_id() -> int:
        next_assignment[0] += 1
        return next_assignment[0] - 1

    counters: dict[tuple[int, int], int] = defaultdict(int)  # (register id, year) → last number
    for register_id, year, last in session.execute(
        select(RegisterCounter.register_id, RegisterCounter.year, RegisterCounter.last_number)
        .where(RegisterCounter.register_id.in_([r.id for r in registers.values()]))
    ):
        counters[register_id, year] = last
    arrivals = gen.arrivals(count, start, end)
    rng = gen.rng
    done = 0
    for offset in range(0, len(arrivals), batch):
        docs, events, assignments = [], [], []
        for received in arrivals[offset:offset + batch]:
            local_day = received.astimezone(tz).date()
            year = local_day.year
            confidentiality = rng.choice(CONFIDENTIALITY) if rng.random() < 0.03 else "normal"
            register = registers["main" if confidentiality == "normal" else SECRET_REGISTER]
            counters[register.id, year] += 1
            number_in_register = counters[register.id, year]
            issuer, issuer_code = rng.choice(ISSUERS)
            kind = rng.choice(TYPES)
            number = next_doc  # unique, so generated documents never look like duplicates
            symbol = f"{number}/{issuer_code}-VP" if kind == "CV" else f"{number}/{kind}-{issuer_code}"
            parsed = parse_symbol(symbol)
            urgency = rng.choice(URGENCY)
            due = None
            if rng.random() < 0.7:
                due = calendar.add_working_days(local_day, rng.randint(1, 3) if urgency != "normal" else rng.randint(5, 15))
            summary = f"{rng.choice(SUBJECTS)} {year} (số {number_in_register})"
            doc = {
                "id": next_doc, "register_id": register.id, "year": year, "arrival_number": number_in_register,
                "received_at": received, "symbol": symbol, "symbol_key": fold(symbol).replace(" ", ""),
                "document_number": parsed.document_number, "document_type": parsed.document_type,
                "issuer_code": parsed.issuer_code, "symbol_year": parsed.year, "symbol_warning": parsed.warning,
                "document_date": local_day - timedelta(days=rng.randint(0, 6)), "issuer": issuer,
                "issuer_key": fold(issuer), "summary": summary, "urgency": urgency, "confidentiality": confidentiality,
                "due_date": due, "page_count": rng.randint(1, 40), "signer_name": None, "signer_position": None,
                "channel": rng.choice(["paper", "electronic", "electronic"]), "notes": None, "case_file_code": None,
                "state": "registered", "version": 1, "search_text": fold(f"{symbol} {summary} {issuer}"),
                "duplicate_of_id": None, "created_by_id": staff.clerk.id, "_register_code": register.code,
            }
            next_doc += 1
            walk = gen.walk(doc, assignment_id)
            doc["state"] = walk.state
            doc["version"] = len(walk.events)
            doc["updated_at"] = walk.events[-1]["at"]
            doc["case_file_code"] = next((e["data"].get("case_file_code") for e in walk.events if e["action"] == "archive"), None)
            del doc["_register_code"]
            parts = [deadlines.Part(a["id"], a["role"], a["state"], a["due_date"]) for a in walk.assignments]
            doc["effective_due_date"] = deadlines.document_deadline(doc["due_date"], deadlines.lead_due_date(parts))
            doc["overdue_after"] = deadlines.overdue_after(doc["state"], doc["due_date"], parts)
            docs.append(doc)
            assignments.extend(walk.assignments)
            events.extend(walk.events)
        _bulk_insert(session, IncomingDocument.__table__, docs)
        if assignments:
            _bulk_insert(session, Assignment.__table__, assignments)
        _bulk_insert(session, DocumentEvent.__table__, events)
        session.commit()
        done += len(docs)
        if progress:
            progress(done)
    for (register_id, year), last in counters.items():
        exists = session.scalar(select(RegisterCounter.last_number).where(
            RegisterCounter.register_id == register_id, RegisterCounter.year == year))
        if exists is None:
            session.add(RegisterCounter(register_id=register_id, year=year, last_number=last))
        else:
            session.execute(update(RegisterCounter).where(RegisterCounter.register_id == register_id,
                                                          RegisterCounter.year == year).values(last_number=last))
    if session.get_bind().dialect.name == "postgresql":
        for table in ("incoming_documents", "assignments", "document_events"):
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    # Statistics for the planner: without them SQLite probes an assignment's events through the
    # (action, at) index and the overdue list of a few thousand documents takes seconds, not 0.2 s.
    session.execute(text("ANALYZE"))
    session.commit()
    return done
