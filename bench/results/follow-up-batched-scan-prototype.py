"""Prototype, not product code: the day's notices of 2026-12-03 written in bulk on the follow-up database, to size
the fix proposed in bench/README.md (follow_up.py). Everything is rolled back.

    .venv/bin/python bench/results/follow-up-batched-scan-prototype.py [DATABASE]
"""
import sys, time
from datetime import date, datetime
from zoneinfo import ZoneInfo
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
from sqlalchemy import select, delete
from sqlalchemy.dialects.postgresql import insert
from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.models import Notification, User
from app.services.notifications import reminders, TEXTS
from app.services.documents import visible_ids
from app.services.delegations import delegators_for
from app.services import webhooks

tz = ZoneInfo("Asia/Ho_Chi_Minh"); day = date(2026, 12, 3); now = datetime(2026, 12, 3, 7, 31, tzinfo=tz)
engine = make_engine(Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:5432/" + (sys.argv[1] if len(sys.argv) > 1 else "congvan_followup_1m"), data_dir="/tmp/congvan-fu-proto"))
with make_sessionmaker(engine)() as session:
    session.execute(delete(Notification).where(Notification.day == day, Notification.kind.in_(("due_soon", "overdue"))))
    t0 = time.perf_counter()
    found = reminders(session, today=day, due_soon_days=2)
    t1 = time.perf_counter()
    by_user = {}
    for r in found:
        for u in r.recipients:
            by_user.setdefault(u, []).append(r)
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(sorted(by_user))))}
    rows = []
    for uid, mine in by_user.items():
        user = users[uid]
        seen = visible_ids(session=session, user=user, ids=[r.document_id for r in mine],
                           delegators=delegators_for(session=session, user=user, today=day))
        rows += [dict(user_id=uid, kind=r.kind, document_id=r.document_id, assignment_id=r.assignment_id,
                      assignment_key=r.assignment_id, day=day, at=now,
                      text=TEXTS[r.kind].format(doc=f"{r.symbol} (số đến {r.arrival_number})", due=r.deadline, unit=r.unit_name))
                 for r in mine if r.document_id in seen]
    subscribers = webhooks.active(session)  # once, not once per reminder
    t2 = time.perf_counter()
    session.execute(insert(Notification).on_conflict_do_nothing(
        index_elements=["user_id", "kind", "document_id", "assignment_key", "day"]), rows)  # insertmanyvalues
    t3 = time.perf_counter()
    print(f"reminders {len(found)} in {t1-t0:.2f} s; visibility for {len(by_user)} users, {len(rows)} rows in {t2-t1:.2f} s; "
          f"insert in {t3-t2:.2f} s; total {t3-t0:.2f} s")
    session.rollback()
engine.dispose()
