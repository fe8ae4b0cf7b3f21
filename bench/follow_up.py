"""Follow-up (đôn đốc) at scale: the day's reminder scan on a million documents, and the rate of
webhook deliveries. One command, PostgreSQL, JSON results.

    .venv/bin/python bench/follow_up.py                                   # a fresh 1 000 000-document database
    .venv/bin/python bench/follow_up.py --database congvan_followup_1m    # an existing (generated) one
    .venv/bin/python bench/follow_up.py --documents 300000 --skip webhooks

1. **the scan** (``--skip scan`` to leave it out): creates ``congvan_followup_<timestamp>``
   (or uses ``--database NAME``), migrates it (``congvan migrate``) and fills it with ``congvan
   generate --documents N`` in subprocesses, timing the generator; then ``VACUUM (ANALYZE)`` (also
   on a reused database with ``--vacuum``). The scan's day is the last working day on or before
   the last arrival (``--day`` to choose), at 07:31 local (Asia/Ho_Chi_Minh), just after the
   digest hour, when the worker runs it:

   * the read, ``app.services.notifications.reminders(session, today=day, due_soon_days=2)``, in a
     fresh session each time: one untimed warm-up, then ``--runs`` (5) timed; median, min, max,
     the reminders found (due soon / overdue, recipients), and each SQL statement's own time
     (a cursor-execute listener), so the SELECT's time is told apart from the Python around it;
   * ``EXPLAIN (ANALYZE, BUFFERS)`` of the scan's SELECT (the statement the listener saw, with its
     parameters) to ``bench/plans/postgresql-<N>-follow-up-reminders.txt``;
   * the day's scan, ``app.services.follow_up.run_daily_scan(factory, FollowUpConfig(tz=...),
     now=...)``: the read and writing every notice, webhook event and digest in one transaction;
     ``--scan-runs`` (5) times, the day's ``reminder_scans``, ``notifications``, ``digests`` and
     ``webhook_deliveries`` rows deleted before each; the notices written, statements issued and
     their time;

2. **webhooks** (``--skip webhooks``): on a fresh, migrated database of its own
   (``congvan_followup_wh_<timestamp>``, dropped at the end) a ``Webhook`` owned by an admin points
   at a ``ThreadingHTTPServer`` on 127.0.0.1 in a child process answering 204 (HTTP/1.1
   keep-alive, it records every ``webhook-id`` and verifies the Standard Webhooks signature of the
   first 100); for each of ``--workers`` (1,4): ``--deliveries`` (2000) pending ``WebhookDelivery``
   rows are inserted, then that many threads run ``app.services.webhooks.deliver_due(factory,
   DeliveryPolicy(allow_private=True, batch=25))`` until it returns 0 (as the worker's loop does);
   deliveries/s from the start to the last thread's end, and the check that every delivery
   arrived exactly once and is ``delivered`` in the database;

3. writes ``bench/results/follow-up-postgresql-<N>-<timestamp>.json`` (the command, the commit,
   machine facts, PostgreSQL's settings, the database's sizes, every measurement) and prints a
   summary. A database the run created is dropped unless ``--keep``.

Goal (the scan): under 5 s at 1 000 000 documents. See bench/README.md.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from datetime import time as clock
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from statistics import median
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the repository first

from app.config import Settings  # noqa: E402
from bench.common import ROOT  # noqa: E402
from bench.common.accounts import ensure_user  # noqa: E402
from bench.common.machine import STACK, machine_times, wait_for_quiet  # noqa: E402
from bench.common.postgres import Pg, postgresql_facts  # noqa: E402
from bench.common.results import run_record, shown, write_json  # noqa: E402
from bench.common.server import server_env, unwind_on_signals  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SCAN_AT = clock(7, 31)  # just after CONGVAN_DIGEST_AT (07:30), when the worker scans
GOAL_SCAN_S = 5.0
PG_SETTINGS = ["shared_buffers", "work_mem", "effective_cache_size", "max_parallel_workers_per_gather", "jit",
               "random_page_cost", "synchronous_commit", "fsync"]
ADMIN, ADMIN_PASSWORD = "bench_webhook_admin", "a bench webhook admin passphrase"


# --- the machine while a step runs --------------------------------------------------------------------


@contextmanager
def busy(into: dict[str, object]):
    """How busy the whole machine was (per cent of all CPUs) while the block ran, into ``into['machine_busy_pct']``."""
    busy0, total0 = machine_times()
    yield
    busy1, total1 = machine_times()
    into["machine_busy_pct"] = round(100 * (busy1 - busy0) / max(1, total1 - total0), 1)


# --- the SQL a call issues ----------------------------------------------------------------------------


class Statements:
    """Every statement an engine executes inside the ``with`` block, with its parameters and its own
    time (cursor execute to its return: the server's work and the round trip, not fetching rows)."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        self.engine, self.seen = engine, []
        self._started: dict[int, float] = {}

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001, PLR0913
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001, PLR0913
        seconds = time.perf_counter() - self._started.pop(id(cursor), time.perf_counter())
        self.seen.append((statement, parameters, seconds))  # list.append: safe from several threads

    def __enter__(self) -> Statements:
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def summary(self) -> dict[str, object]:
        kinds: dict[str, list[float]] = {}
        for statement, _, seconds in self.seen:
            kinds.setdefault(_kind(statement), []).append(seconds)
        return {"statements": len(self.seen), "sql_seconds": round(sum(s for *_, s in self.seen), 3),
                "by_kind": {k: {"n": len(v), "seconds": round(sum(v), 3)}
                            for k, v in sorted(kinds.items(), key=lambda kv: -sum(kv[1]))}}


def _kind(statement: str) -> str:
    """``SELECT … FROM notifications``, ``INSERT INTO notifications``, ``SAVEPOINT`` …: statements grouped."""
    words = statement.split()
    verb = words[0].upper() if words else "?"
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"):
        return verb
    m = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", statement, re.IGNORECASE)
    return f"{verb} {m[1] if m else '?'}"


# --- the database of the scan -------------------------------------------------------------------------


def migrate_and_generate(args: argparse.Namespace, settings: Settings) -> dict[str, object]:
    """``congvan migrate`` and ``congvan generate --documents N`` in subprocesses, timed."""
    env = server_env(settings)
    out: dict[str, object] = {}
    for name, cmd in (("migrate", [sys.executable, "-m", "app.cli", "migrate"]),
                      ("generate", [sys.executable, "-m", "app.cli", "generate", "--documents", str(args.documents),
                                    "--seed", str(args.seed)])):
        print(f"$ {shlex.join(cmd[1:])}", flush=True)
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip())
            if name == "generate" and not line.lstrip()[:1].isdigit() or line.strip().endswith("00,000 documents"):
                print("   ", line.rstrip(), flush=True)  # every 100 000, and the last line
        if proc.wait() != 0:
            raise RuntimeError(f"{name} failed:\n" + "\n".join(lines[-20:]))
        out[name] = {"command": shlex.join(cmd[1:]), "wall_seconds": round(time.perf_counter() - started, 1),
                     "output_tail": lines[-2:]}
    m = re.search(r"generated ([\d,]+) documents arriving (\S+) – (\S+) in ([\d.]+) s \(([\d,]+)/s\)",
                  out["generate"]["output_tail"][-1])  # type: ignore[index]
    if m:
        out["generate"]["reported"] = {"documents": int(m[1].replace(",", "")), "first_day": m[2],  # type: ignore[index]
                                       "last_day": m[3], "seconds": float(m[4]), "rate_per_s": int(m[5].replace(",", ""))}
    return out


def vacuum(conninfo: str) -> dict[str, object]:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return {"statement": "VACUUM (ANALYZE)", "seconds": round(time.perf_counter() - started, 1)}


SIZES = """SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relname IN ('incoming_documents', 'assignments', 'ix_assignments_open',
'ix_assignments_unit_state', 'ix_incoming_documents_state_due', 'pk_assignments', 'pk_incoming_documents')"""


def database_facts(session) -> dict[str, object]:  # noqa: ANN001
    from sqlalchemy import func, select, text

    from app.models import Assignment, IncomingDocument

    first, last = session.execute(select(func.min(IncomingDocument.received_at),
                                         func.max(IncomingDocument.received_at))).one()
    states = dict(session.execute(select(Assignment.state, func.count()).group_by(Assignment.state)).all())
    return {
        "documents": session.scalar(select(func.count()).select_from(IncomingDocument)),
        "assignments": session.scalar(select(func.count()).select_from(Assignment)),
        "assignments_by_state": states,
        "documents_by_state": dict(session.execute(select(IncomingDocument.state, func.count())
                                                   .group_by(IncomingDocument.state)).all()),
        "arrivals": [str(first), str(last)],
        "database_bytes": session.scalar(select(func.pg_database_size(func.current_database()))),
        "relation_bytes": dict(session.execute(text(SIZES)).all()),
    }


def scan_day(session, last_arrival: datetime, wanted: str | None) -> date:  # noqa: ANN001
    """``--day``, or the last working day on or before the last arrival (and today)."""
    from app.services.calendar import load_calendar

    calendar = load_calendar(session=session)
    if wanted:
        day = date.fromisoformat(wanted)
        if not calendar.is_working_day(day):
            raise SystemExit(f"--day {day} is not a working day: there is no scan on it")
        return day
    day = min(last_arrival.astimezone(TZ).date(), datetime.now(TZ).date())
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


def clear_day(factory, day: date, now: datetime) -> dict[str, int]:  # noqa: ANN001
    """Delete what a scan of ``day`` wrote, so that the next one scans it again."""
    from sqlalchemy import delete

    from app.models import Digest, Notification, ReminderScan, WebhookDelivery

    with factory() as session:
        gone = {
            "notifications": session.execute(delete(Notification).where(
                Notification.day == day, Notification.kind.in_(("due_soon", "overdue")))).rowcount,
            "digests": session.execute(delete(Digest).where(Digest.day == day)).rowcount,
            "webhook_deliveries": session.execute(delete(WebhookDelivery).where(
                WebhookDelivery.created_at == now, WebhookDelivery.event_type.like("assignment.%"))).rowcount,
            "reminder_scans": session.execute(delete(ReminderScan).where(ReminderScan.day == day)).rowcount,
        }
        session.commit()
    return gone


def written(factory, day: date, now: datetime) -> dict[str, object]:  # noqa: ANN001
    from sqlalchemy import func, select

    from app.models import Digest, Notification, ReminderScan, WebhookDelivery

    with factory() as session:
        by_kind = dict(session.execute(select(Notification.kind, func.count()).where(
            Notification.day == day, Notification.kind.in_(("due_soon", "overdue"))).group_by(Notification.kind)).all())
        return {
            "notices": sum(by_kind.values()), "notices_by_kind": by_kind,
            "digests": session.scalar(select(func.count()).select_from(Digest).where(Digest.day == day)),
            "webhook_deliveries": session.scalar(select(func.count()).select_from(WebhookDelivery).where(
                WebhookDelivery.created_at == now)),
            "reminder_scan_row": session.scalar(select(ReminderScan.reminders).where(ReminderScan.day == day)),
        }


def seconds_stats(values: list[float]) -> dict[str, object]:
    return {"runs_s": [round(v, 3) for v in values], "median_s": round(median(values), 3),
            "min_s": round(min(values), 3), "max_s": round(max(values), 3)}


def explain(engine, statement: str, parameters) -> str:  # noqa: ANN001
    """``EXPLAIN (ANALYZE, BUFFERS)`` of one captured statement, run with its own parameters."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters).all()
        conn.rollback()
    return "\n".join(r[0] for r in rows)


def measure_scan(args: argparse.Namespace, settings: Settings, stamp: str) -> dict[str, object]:
    from app.db import make_engine, make_sessionmaker
    from app.services.follow_up import FollowUpConfig, run_daily_scan
    from app.services.notifications import reminders

    engine = make_engine(settings)
    factory = make_sessionmaker(engine)
    out: dict[str, object] = {}
    try:
        with factory() as session:
            out["database"] = facts = database_facts(session)
            day = scan_day(session, datetime.fromisoformat(facts["arrivals"][1]), args.day)  # type: ignore[index]
        now = datetime.combine(day, SCAN_AT, tzinfo=TZ)
        out["day"], out["now"] = day.isoformat(), now.isoformat()
        print(f"  {facts['documents']:,} documents, {facts['assignments']:,} assignments; scanning {day} at {now:%H:%M} "
              f"local", flush=True)

        # the read
        def read() -> tuple[float, list, Statements]:
            with factory() as session, Statements(engine) as log:
                started = time.perf_counter()
                found = reminders(session, today=day, due_soon_days=2)
                return time.perf_counter() - started, found, log

        read_out: dict[str, object] = {"call": "reminders(session, today=day, due_soon_days=2)"}
        read_out["machine_busy_before_pct"] = wait_for_quiet(args.quiet_below, args.quiet_wait)[-1]
        first_s, found, _ = read()
        read_out["first_s"] = round(first_s, 3)
        times, sql = [], []
        with busy(read_out):
            for _ in range(args.runs):
                seconds, found, log = read()
                times.append(seconds)
                sql.append(log)
        read_out.update(seconds_stats(times))
        main_statement = max(sql[-1].seen, key=lambda s: s[2])
        read_out["select_s"] = [round(max(s for *_, s in log.seen), 3) for log in sql]
        read_out["sql"] = sql[-1].summary()
        read_out["reminders"] = len(found)
        read_out["by_kind"] = {k: sum(1 for r in found if r.kind == k) for k in ("due_soon", "overdue")}
        read_out["with_assignee"] = sum(1 for r in found if len(r.recipients) == 1)
        read_out["recipient_pairs"] = sum(len(r.recipients) for r in found)
        read_out["distinct_recipients"] = len(set().union(*(r.recipients for r in found))) if found else 0
        read_out["without_recipient"] = sum(1 for r in found if not r.recipients)
        out["read"] = read_out
        print(f"  read: median {read_out['median_s']} s over {args.runs} (first {read_out['first_s']} s), "
              f"{len(found):,} reminders", flush=True)

        plan = explain(engine, main_statement[0], main_statement[1])
        plan_path = ROOT / "bench" / "plans" / f"postgresql-{facts['documents']}-follow-up-reminders.txt"
        plan_path.parent.mkdir(parents=True, exist_ok=True)
        plan_path.write_text(f"-- {stamp}, day {day}\n-- parameters: {main_statement[1]}\n{main_statement[0]}\n\n"
                             f"{plan}\n")
        out["explain"] = {"file": str(shown(plan_path)), "statement": main_statement[0],
                          "parameters": main_statement[1], "plan": plan.splitlines()}

        # the day's scan: the read, the notices, webhook events and digests, one transaction
        config = FollowUpConfig(tz=TZ)
        scan_out: dict[str, object] = {"call": "run_daily_scan(factory, FollowUpConfig(tz=Asia/Ho_Chi_Minh), now=now)",
                                       "cleared_before_first": clear_day(factory, day, now)}
        scan_out["machine_busy_before_pct"] = wait_for_quiet(args.quiet_below, args.quiet_wait)[-1]
        times, results, logs = [], [], []
        with busy(scan_out):
            for i in range(args.scan_runs):
                if i:
                    clear_day(factory, day, now)
                with Statements(engine) as log:
                    started = time.perf_counter()
                    returned = run_daily_scan(factory, config, now=now)
                    times.append(time.perf_counter() - started)
                logs.append(log)
                if returned is None:
                    raise RuntimeError(f"run_daily_scan did nothing on {day} (a day off, or already scanned)")
                results.append({"returned": returned, **written(factory, day, now)})
                print(f"  scan {i + 1}/{args.scan_runs}: {times[-1]:.2f} s, {returned:,} reminders, "
                      f"{results[-1]['notices']:,} notices", flush=True)
        scan_out.update(seconds_stats(times))
        scan_out["sql"] = logs[-1].summary()
        scan_out["written"] = results[-1]
        scan_out["same_every_run"] = all(r == results[0] for r in results)
        scan_out["kept_rows_of_last_run"] = not args.clean_after
        if args.clean_after:
            clear_day(factory, day, now)
        out["scan"] = scan_out
        out["goal_s"] = GOAL_SCAN_S
        out["goal_met"] = {"read": read_out["median_s"] < GOAL_SCAN_S, "scan": scan_out["median_s"] < GOAL_SCAN_S}
    finally:
        engine.dispose()
    return out


# --- webhooks -------------------------------------------------------------------------------------------


def receiver_main(conn, secret: str, verify_first: int) -> None:  # noqa: ANN001
    """The receiver's process: a ThreadingHTTPServer answering 204, HTTP/1.1 keep-alive. Sends its
    port, then on any message back the ids it saw (in arrival order) and the signature checks."""
    from standardwebhooks.webhooks import Webhook as Verifier

    seen: list[str] = []
    checks = {"verified": 0, "bad": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                seen.append(self.headers["webhook-id"])
                check = len(seen) <= verify_first
            if check:
                try:
                    Verifier(secret).verify(body, {k.lower(): v for k, v in self.headers.items()})
                    ok = True
                except Exception:  # noqa: BLE001
                    ok = False
                with lock:
                    checks["verified" if ok else "bad"] += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.send(server.server_address[1])
    while True:
        message = conn.recv()
        with lock:
            conn.send({"ids": list(seen), **checks})
            seen.clear()
            checks.update(verified=0, bad=0)
        if message == "stop":
            server.shutdown()
            return


def measure_webhooks(args: argparse.Namespace, pg: Pg, stamp: str) -> dict[str, object]:
    from sqlalchemy import func, select

    from app.db import make_engine, make_sessionmaker
    from app.migrate import upgrade_to_head
    from app.models import User, Webhook, WebhookDelivery
    from app.models.base import utcnow
    from app.services import webhooks

    dbname = f"congvan_followup_wh_{stamp}"
    out: dict[str, object] = {"database": dbname, "deliveries": args.deliveries, "batch": args.batch,
                              "call": f"deliver_due(factory, DeliveryPolicy(allow_private=True, batch={args.batch})) "
                                      "until it returns 0, in each thread"}
    secret = "whsec_" + "QmVuY2ggd2ViaG9vayBzZWNyZXQsIG5vdCBhIHNlY3JldCE="  # 32 bytes, base64
    tmp = Path(tempfile.mkdtemp(prefix="congvan-followup-wh-"))
    pg.create_database(dbname)
    parent, child = mp.Pipe()
    receiver = mp.get_context("spawn").Process(target=receiver_main, args=(child, secret, 100), daemon=True)
    engine = None
    try:
        settings = Settings(data_dir=tmp, database_url=pg.sqlalchemy_url(dbname))
        upgrade_to_head(settings)
        ensure_user(settings, ADMIN, ADMIN_PASSWORD, "admin", "Quản trị (benchmark)")
        receiver.start()
        port = parent.recv()
        out["receiver"] = f"ThreadingHTTPServer in a child process (pid {receiver.pid}), 204, HTTP/1.1 keep-alive"
        engine = make_engine(settings)
        factory = make_sessionmaker(engine)
        with factory() as session:
            owner = session.scalar(select(User).where(User.username == ADMIN))
            hook = Webhook(owner_id=owner.id, url=f"http://127.0.0.1:{port}/hook", events=["*"], secret=secret,
                           active=True, created_at=utcnow())
            session.add(hook)
            session.commit()
            hook_id = hook.id
        policy = webhooks.DeliveryPolicy(allow_private=True, batch=args.batch)
        runs = []
        for workers in args.workers:
            run: dict[str, object] = {"workers": workers}
            prefix = f"msg_bench_{stamp}_w{workers}_"
            with factory() as session:
                now = utcnow()
                session.add_all(WebhookDelivery(
                    webhook_id=hook_id, message_id=f"{prefix}{i}", event_type="assignment.overdue",
                    payload={"type": "assignment.overdue", "timestamp": now.isoformat(), "data": {
                        "document_id": 100_000 + i, "arrival_number": i + 1, "symbol": f"{100_000 + i}/UBND-VP",
                        "assignment_id": 200_000 + i, "unit_name": "Vụ Kế hoạch - Tài chính",
                        "due_date": "2026-12-01"}},
                    state="pending", attempts=0, next_attempt_at=now, created_at=now) for i in range(args.deliveries))
                session.commit()
            run["machine_busy_before_pct"] = wait_for_quiet(args.quiet_below, args.quiet_wait)[-1]
            errors: list[BaseException] = []
            counts: list[int] = []
            barrier = threading.Barrier(workers + 1)

            def work() -> None:
                try:
                    barrier.wait()
                    mine = 0
                    while n := webhooks.deliver_due(factory, policy):
                        mine += n
                    counts.append(mine)
                except BaseException as exc:  # noqa: BLE001
                    errors.append(exc)

            threads = [threading.Thread(target=work) for _ in range(workers)]
            for t in threads:
                t.start()
            with busy(run), Statements(engine) as log:
                barrier.wait()
                started = time.perf_counter()
                for t in threads:
                    t.join(timeout=600)
                elapsed = time.perf_counter() - started
            run["sql"] = log.summary()  # summed over the threads: with 4, more than the wall time
            parent.send("report")
            report = parent.recv()
            ids = [i for i in report["ids"] if i.startswith(prefix)]
            with factory() as session:
                states = dict(session.execute(select(WebhookDelivery.state, func.count()).where(
                    WebhookDelivery.message_id.like(f"{prefix}%")).group_by(WebhookDelivery.state)).all())
                attempts = session.scalar(select(func.max(WebhookDelivery.attempts)).where(
                    WebhookDelivery.message_id.like(f"{prefix}%")))
            expected = {f"{prefix}{i}" for i in range(args.deliveries)}
            run.update({
                "seconds": round(elapsed, 3), "deliveries_per_s": round(args.deliveries / elapsed, 1),
                "delivered_by_thread": sorted(counts), "errors": [repr(e) for e in errors],
                "received": len(ids), "received_distinct": len(set(ids)), "received_other": len(report["ids"]) - len(ids),
                "signatures_verified": report["verified"], "signatures_bad": report["bad"],
                "db_states": states, "max_attempts": attempts,
                "exactly_once": (len(ids) == args.deliveries and set(ids) == expected and not errors
                                 and states == {"delivered": args.deliveries} and attempts == 1
                                 and report["bad"] == 0),
            })
            runs.append(run)
            print(f"  webhooks, {workers} worker(s): {run['deliveries_per_s']} deliveries/s ({elapsed:.2f} s), "
                  f"received {len(ids)} ({len(set(ids))} distinct), exactly once: {run['exactly_once']}", flush=True)
        out["runs"] = runs
    finally:
        if receiver.is_alive():
            parent.send("stop")
            parent.recv()
            receiver.join(timeout=10)
        if engine is not None:
            engine.dispose()
        pg.drop_database(dbname)
        shutil.rmtree(tmp, ignore_errors=True)
    return out


# --- the run ----------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database", help="use this existing PostgreSQL database (migrated and generated) for the scan")
    p.add_argument("--documents", type=int, default=1_000_000, help="documents to generate (default 1 000 000)")
    p.add_argument("--seed", type=int, default=30)
    p.add_argument("--vacuum", action="store_true", help="VACUUM (ANALYZE) a --database before measuring")
    p.add_argument("--day", help="the scan's day (YYYY-MM-DD, a working day; default: the last one in the data)")
    p.add_argument("--runs", type=int, default=5, help="timed reads (default 5)")
    p.add_argument("--scan-runs", type=int, default=5, help="timed scans (default 5)")
    p.add_argument("--clean-after", action="store_true", help="delete the last scan's rows at the end")
    p.add_argument("--deliveries", type=int, default=2000)
    p.add_argument("--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4],
                   help="worker threads, one run each (default 1,4)")
    p.add_argument("--batch", type=int, default=25)
    p.add_argument("--skip", choices=["scan", "webhooks"])
    p.add_argument("--keep", action="store_true", help="keep a database this run created")
    p.add_argument("--tag", default="")
    p.add_argument("--quiet-below", type=float, default=30.0)
    p.add_argument("--quiet-wait", type=float, default=60.0)
    p.add_argument("--pg-host", default="127.0.0.1")
    p.add_argument("--pg-port", type=int, default=5432)
    p.add_argument("--pg-user", default="postgres")
    return p.parse_args(argv)


def summary(result: dict) -> list[str]:
    lines = []
    if scan := result.get("scan"):
        facts, read, day_scan = scan["database"], scan["read"], scan["scan"]
        lines += [
            f"scan at {facts['documents']:,} documents ({facts['assignments']:,} assignments), day {scan['day']}:",
            f"  read  median {read['median_s']} s (min {read['min_s']}, max {read['max_s']}, first {read['first_s']}); "
            f"its SELECT {median(read['select_s'])} s; {read['reminders']:,} reminders "
            f"({read['by_kind']['due_soon']:,} due soon, {read['by_kind']['overdue']:,} overdue)",
            f"  scan  median {day_scan['median_s']} s (min {day_scan['min_s']}, max {day_scan['max_s']}); "
            f"{day_scan['written']['notices']:,} notices, {day_scan['written']['digests']} digests, "
            f"{day_scan['sql']['statements']:,} statements ({day_scan['sql']['sql_seconds']} s in SQL)",
            f"  goal < {GOAL_SCAN_S} s: read {'met' if scan['goal_met']['read'] else 'MISSED'}, "
            f"scan {'met' if scan['goal_met']['scan'] else 'MISSED'}; plan: {scan['explain']['file']}",
        ]
    if hooks := result.get("webhooks"):
        for run in hooks["runs"]:
            lines.append(f"webhooks {run['workers']} worker(s): {run['deliveries_per_s']} deliveries/s, "
                         f"{run['received']} received, exactly once: {run['exactly_once']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    unwind_on_signals()
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    pg = Pg(args.pg_host, args.pg_port, args.pg_user)
    result = run_record("follow-up", "bench/follow_up.py", tag=args.tag,
                        packages=[*STACK, "psycopg", "httpx", "standardwebhooks"])
    name = args.database or f"congvan_followup_{stamp}"
    created = False
    tmp = Path(tempfile.mkdtemp(prefix="congvan-followup-"))
    try:
        result["machine"].update(postgresql_facts(pg.conninfo("postgres"), PG_SETTINGS, with_units=True))
        if args.skip != "scan":
            settings = Settings(data_dir=tmp, database_url=pg.sqlalchemy_url(name))
            scan: dict[str, object] = {"database_name": name, "reused": bool(args.database)}
            if not args.database:
                pg.create_database(name)
                created = True
                scan["setup"] = migrate_and_generate(args, settings)
            if not args.database or args.vacuum:
                scan["maintenance"] = vacuum(pg.conninfo(name))
            scan.update(measure_scan(args, settings, stamp))
            result["scan"] = scan
        if args.skip != "webhooks":
            result["webhooks"] = measure_webhooks(args, pg, stamp)
    finally:
        if created and not args.keep:
            pg.drop_database(name)
        shutil.rmtree(tmp, ignore_errors=True)
    documents = (result.get("scan") or {}).get("database", {}).get("documents")
    out = ROOT / "bench" / "results" / (f"follow-up-postgresql-{documents or 'webhooks'}-{stamp}"
                                        f"{'-' + args.tag if args.tag else ''}.json")
    write_json(out, result)
    for line in summary(result):
        print(line)
    print(f"written: {shown(out)}")
    if created and args.keep:
        print(f"database kept: {name}  (again: --database {name})")
    hooks_ok = all(r["exactly_once"] for r in (result.get("webhooks") or {}).get("runs", []))
    return 0 if hooks_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
