"""Audit, search and list latency at scale: one command, a fresh generated database, JSON results.

    .venv/bin/python bench/audit.py --backend postgresql --documents 100000
    .venv/bin/python bench/audit.py --backend postgresql --documents 1000000
    .venv/bin/python bench/audit.py --backend sqlite --documents 100000

1. creates a fresh database (PostgreSQL: ``congvan_audit_<timestamp>``; SQLite: a temporary data
   directory), migrates it (``app.migrate.upgrade_to_head``) and fills it with ``congvan generate
   --documents N`` in a subprocess, recording the generator's rate; then VACUUM ANALYZE (PostgreSQL)
   or ANALYZE (SQLite), as a database that has been in use would have had. ``--reuse NAME`` (a
   database name, or a SQLite data directory) skips all of that and measures an existing one;
2. starts uvicorn (``python -m uvicorn app.main:app``, one worker) on it and logs in as
   ``gen_lanhdao`` (a leader: sees every document) and as an auditor it creates;
3. measures every endpoint sequentially over one keep-alive connection: ``--warmup`` requests,
   then ``--requests`` timed ones; p50/p95/max (nearest rank). Audit endpoints use a one-year
   arrival range (from = today − 365 days, to = today); then the server's VmRSS and VmHWM;
4. captures the SQL the heavy endpoints issue (by calling the same service functions in this
   process with a statement listener) and writes ``EXPLAIN (ANALYZE, BUFFERS)`` (PostgreSQL) or
   ``EXPLAIN QUERY PLAN`` (SQLite) of each to ``bench/plans/<backend>-<N>-<name>.txt``;
5. writes ``bench/results/audit-<backend>-<N>-<timestamp>.json`` (the command, machine facts,
   generation, every measurement) and prints a table. The database is dropped at the end unless
   ``--keep`` (or ``--reuse``) is given.

Targets (issue 5, at 1 000 000 documents on PostgreSQL): audit endpoints < 1 s p95 for a one-year
range, ``q`` search < 200 ms p95, a list page < 50 ms p95. See bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the repository first

from app.config import Settings
from bench.common import ROOT
from bench.common.accounts import ensure_user, login
from bench.common.machine import STACK, machine_facts, wait_for_quiet
from bench.common.postgres import Pg, postgresql_facts
from bench.common.processes import ProcessSampler, ProcInfo, cmdline, memory_kb
from bench.common.results import command_line, git_commit, shown, uncommitted, write_json
from bench.common.server import server_env, serving, unwind_on_signals
from bench.common.stats import percentile

LEADER = "gen_lanhdao"
LEADER_PASSWORD = "generated-password"  # the generator's default
AUDITOR = "bench_auditor"
AUDITOR_PASSWORD = "bench auditor password, not a secret"
TARGET_MS = {"audit": 1000.0, "search": 200.0, "list": 50.0}
SEARCHES = ["bao cao", "ubnd da nang", "thong tu", "quang ninh", "54321/", "bc-vnpt"]
GROUPINGS = ["unit", "urgency", "issuer", "document_type", "month"]
DOCS = "/api/v1/incoming-documents"
PG_SETTINGS = ["shared_buffers", "work_mem", "effective_cache_size", "max_parallel_workers_per_gather", "jit",
               "random_page_cost", "maintenance_work_mem"]


# --- what a result records about the run ------------------------------------------------------------


def git_facts() -> dict[str, object]:
    """The commit, and the uncommitted files among those the measured queries come from."""
    return {"commit": git_commit(),
            "dirty": uncommitted("app/services/audit", "app/services/documents.py", "app/models", "migrations")}


def audit_machine_facts(backend: str, conninfo: str | None) -> dict[str, object]:
    if backend == "postgresql" and conninfo:
        return {**machine_facts([*STACK, "psycopg"]), **postgresql_facts(conninfo, PG_SETTINGS, with_units=True)}
    import sqlite3

    return {**machine_facts(), "sqlite": sqlite3.sqlite_version}


# --- other people's load ----------------------------------------------------------------------------


class OthersMeter(ProcessSampler):
    """CPU used by processes that are not this benchmark's while a case runs.

    Ours: this process, the uvicorn server, the PostgreSQL backends of the benchmark database and
    their parallel workers. Everything else (other people's test runs, their PostgreSQL backends,
    autovacuum) is "others", reported as a share of the machine.
    """

    def __init__(self, server_pid: int, dbname: str | None, interval: float = 0.5) -> None:
        super().__init__(interval)
        self.server_pid, self.dbname = server_pid, dbname
        self.ours: dict[int, bool] = {}

    def classify(self, procs: dict[int, ProcInfo]) -> None:
        for pid, info in procs.items():
            if pid not in self.ours:
                self.ours[pid] = self._is_ours(pid, info.ppid)

    def _is_ours(self, pid: int, ppid: int) -> bool:
        if pid in (self.me, self.server_pid) or ppid == self.server_pid:
            return True
        title = cmdline(pid)
        if title is None or not title.startswith("postgres:"):
            return False
        if self.dbname and f" {self.dbname} " in title:
            return True
        m = re.search(r"parallel worker for PID (\d+)", title)
        return bool(m and self.ours.get(int(m[1])))

    def start(self) -> None:
        self.started = time.perf_counter()
        super().start()

    def finish(self) -> None:
        super().finish()
        self.elapsed = time.perf_counter() - self.started

    def others_pct(self) -> float:
        others = sum(self.used_s(pid) for pid in self.last if not self.ours.get(pid))
        return round(100 * others / max(1e-9, self.elapsed * (os.cpu_count() or 1)), 1)


# --- the database ------------------------------------------------------------------------------------


@dataclass
class Database:
    backend: str
    name: str  # PostgreSQL database name, or the SQLite data directory
    settings: Settings
    created: bool
    pg: Pg | None = None

    @property
    def conninfo(self) -> str | None:
        return self.pg.conninfo(self.name) if self.pg else None


def open_database(args: argparse.Namespace, stamp: str) -> Database:
    if args.backend == "postgresql":
        pg = Pg(args.pg_host, args.pg_port, args.pg_user)
        name = args.reuse or f"congvan_audit_{stamp}"
        data_dir = Path(tempfile.mkdtemp(prefix="congvan-audit-"))
        if not args.reuse:
            pg.create_database(name)
        return Database("postgresql", name, Settings(data_dir=data_dir, database_url=pg.sqlalchemy_url(name)),
                        not args.reuse, pg)
    data_dir = Path(args.reuse) if args.reuse else Path(tempfile.mkdtemp(prefix="congvan-audit-sqlite-"))
    return Database("sqlite", str(data_dir), Settings(data_dir=data_dir, database_url=None), not args.reuse)


def drop_database(db: Database) -> None:
    if db.pg is not None:
        db.pg.drop_database(db.name)
        shutil.rmtree(db.settings.data_dir, ignore_errors=True)
    else:
        shutil.rmtree(db.name, ignore_errors=True)


def generate(args: argparse.Namespace, db: Database) -> dict[str, object]:
    """``congvan generate`` in a subprocess; its own reported rate and ours (wall clock)."""
    cmd = [sys.executable, "-m", "app.cli", "generate", "--documents", str(args.documents), "--seed", str(args.seed)]
    if args.years:
        cmd += ["--years", str(args.years)]
    print(f"$ {shlex.join(cmd)}", flush=True)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=server_env(db.settings), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.rstrip())
        print("   ", line.rstrip(), flush=True)
    if proc.wait() != 0:
        raise RuntimeError("generator failed:\n" + "\n".join(lines[-20:]))
    elapsed = time.perf_counter() - started
    reported = None
    m = re.search(r"generated ([\d,]+) documents arriving (\S+) – (\S+) in ([\d.]+) s \(([\d,]+)/s\)", lines[-1])
    if m:
        reported = {"documents": int(m[1].replace(",", "")), "first_day": m[2], "last_day": m[3],
                    "seconds": float(m[4]), "rate_per_s": int(m[5].replace(",", ""))}
    return {"command": shlex.join(cmd[1:]), "wall_seconds": round(elapsed, 1),
            "wall_rate_per_s": round(args.documents / elapsed), "reported": reported, "output_tail": lines[-3:]}


def maintenance(db: Database) -> dict[str, object]:
    """What a database in use has had from autovacuum (PostgreSQL) / ``ANALYZE`` (SQLite)."""
    started = time.perf_counter()
    if db.backend == "postgresql":
        import psycopg

        with psycopg.connect(db.conninfo, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")
        what = "VACUUM (ANALYZE)"
    else:
        import sqlite3

        conn = sqlite3.connect(Path(db.settings.resolved_database_url.removeprefix("sqlite:///")))
        conn.execute("ANALYZE")
        conn.close()
        what = "ANALYZE"
    return {"statement": what, "seconds": round(time.perf_counter() - started, 1)}


def database_facts(db: Database, period: tuple[date, date]) -> dict[str, object]:
    from sqlalchemy import func, select

    from app.db import make_engine, make_sessionmaker
    from app.models import Assignment, DocumentEvent, IncomingDocument
    from app.services.audit.scope import AuditPeriod, period_clause

    engine = make_engine(db.settings)
    facts: dict[str, object] = {}
    try:
        with make_sessionmaker(engine, read_only=True)() as session:
            facts["documents"] = session.scalar(select(func.count()).select_from(IncomingDocument))
            facts["events"] = session.scalar(select(func.count()).select_from(DocumentEvent))
            facts["assignments"] = session.scalar(select(func.count()).select_from(Assignment))
            facts["documents_in_period"] = session.scalar(
                select(func.count()).select_from(IncomingDocument)
                .where(period_clause(AuditPeriod(*period), db.settings.tz)))
            first, last = session.execute(select(func.min(IncomingDocument.received_at),
                                                 func.max(IncomingDocument.received_at))).one()
            facts["arrivals"] = [str(first), str(last)]
            if db.backend == "postgresql":
                facts["database_bytes"] = session.scalar(select(func.pg_database_size(func.current_database())))
                facts["relations"] = {r[0]: r[1] for r in session.execute(_PG_SIZES)}
            else:
                path = Path(db.settings.resolved_database_url.removeprefix("sqlite:///"))
                facts["database_bytes"] = path.stat().st_size
    finally:
        engine.dispose()
    return facts


def _pg_sizes():
    from sqlalchemy import text

    return text("SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
                "AND c.relkind IN ('r', 'i') AND pg_total_relation_size(c.oid) > 1000000 ORDER BY 2 DESC")


_PG_SIZES = _pg_sizes()


def ensure_auditor(db: Database) -> None:
    ensure_user(db.settings, AUDITOR, AUDITOR_PASSWORD, "auditor", "Kiểm toán (benchmark)")


# --- what is measured --------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    group: str  # audit | search | list | other
    path: str
    params: dict[str, object]
    user: str = LEADER
    requests: int | None = None  # default: --requests


def cases(args: argparse.Namespace, period: dict[str, str], mid_id: int) -> list[Case]:
    out = [Case(f"processing-times:{g}", "audit", "/api/v1/audit/processing-times", {**period, "group_by": g})
           for g in GROUPINGS]
    out += [
        Case("stage-durations", "audit", "/api/v1/audit/stage-durations", dict(period)),
        Case("overdue", "audit", "/api/v1/audit/overdue", dict(period)),
        Case("compliance", "audit", "/api/v1/audit/compliance", dict(period)),
        Case("processing-times:unit (csv)", "audit", "/api/v1/audit/processing-times",
             {**period, "group_by": "unit", "format": "csv"}),
        Case("document-as-of", "audit", f"/api/v1/audit/documents/{mid_id}", {}),
    ]
    if not args.skip_register_book:
        out.append(Case("register-book (csv)", "audit", "/api/v1/audit/register-book", {**period, "format": "csv"},
                        requests=args.register_book_requests))
    out += [Case(f"q={q}", "search", DOCS, {"q": q, "limit": 50}) for q in SEARCHES]
    out += [
        Case("list", "list", DOCS, {"limit": 50}),
        Case("list state=in_progress", "list", DOCS, {"limit": 50, "state": "in_progress"}),
        Case("list offset=10000", "list", DOCS, {"limit": 50, "offset": 10_000}),
        Case("list overdue=true", "list", DOCS, {"limit": 50, "overdue": "true"}),
    ]
    if args.auditor_requests:
        out += [Case(f"{c.name} [auditor]", c.group, c.path, c.params, user=AUDITOR, requests=args.auditor_requests)
                for c in out[:8]]
    return out


def measure(client: httpx.Client, case: Case, headers: dict[str, str], args: argparse.Namespace, requests: int,
            meter: OthersMeter) -> dict[str, object]:
    latencies, statuses, body = [], set(), b""
    for _ in range(args.warmup):
        client.get(case.path, params=case.params, headers=headers).read()
    with meter:
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(case.path, params=case.params, headers=headers)
            body = response.content
            latencies.append((time.perf_counter() - started) * 1000)
            statuses.add(response.status_code)
    values = sorted(latencies)
    rows: int | None = None
    total: int | None = None
    if body[:1] == b"{":
        data = json.loads(body)
        rows = len(data.get("rows", data.get("items", [])))
        total = data.get("total")
    elif body.startswith(b"\xef\xbb\xbf"):
        rows = body.count(b"\r\n") - 1
    dump = args.dump_bodies
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)
        (dump / (re.sub(r"[^\w.=-]+", "_", case.name) + ".out")).write_bytes(body)
    target = TARGET_MS.get(case.group)
    p95 = percentile(values, 95)
    return {
        "name": case.name, "group": case.group, "user": case.user, "path": case.path, "params": case.params,
        "n": len(values), "p50_ms": round(percentile(values, 50), 1), "p95_ms": round(p95, 1),
        "max_ms": round(values[-1], 1), "min_ms": round(values[0], 1),
        "mean_ms": round(sum(values) / len(values), 1), "statuses": sorted(statuses), "bytes": len(body),
        "rows": rows, "total": total, "body_sha256": hashlib.sha256(body).hexdigest()[:16],
        "target_ms": target, "met": (p95 < target and statuses == {200}) if target else None,
        "others_cpu_pct": meter.others_pct(),
    }


# --- plans -------------------------------------------------------------------------------------------------


def capture_plans(args: argparse.Namespace, db: Database, period: tuple[date, date], plans_dir: Path) -> list[str]:
    """Run the heavy service calls in-process, record their SQL, EXPLAIN each statement once."""
    from sqlalchemy import event

    from app.services.presenters import documents_out
    from app.db import make_engine, make_sessionmaker
    from app.models.base import utcnow
    from app.schemas.documents import DocumentFilters
    from app.services import documents as docs
    from app.services import organisation as org
    from app.services.audit import figures, timeline
    from app.services.audit.scope import AuditPeriod
    from app.services.calendar import load_calendar
    from app.services.workflow import identities_for

    tz = db.settings.tz
    now = utcnow()
    today = now.astimezone(tz).date()
    audit_period = AuditPeriod(*period)
    engine = make_engine(db.settings)
    captured: list[tuple[str, object]] = []
    recording = [False]

    @event.listens_for(engine, "before_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany):
        if recording[0] and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, parameters))

    written: list[str] = []
    plans_dir.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    try:
        with make_sessionmaker(engine, read_only=True)() as session:
            leader = org.get_user(session=session, username=LEADER)
            calendar = load_calendar(session=session)

            def page(offset: int = 0, **filters: object) -> Callable[[], object]:
                def run() -> object:
                    reader = identities_for(session=session, user=leader, today=today)
                    items, _ = docs.list_documents(session=session, user=leader, filters=DocumentFilters(**filters),
                                                   limit=50, offset=offset, today=today, tz=tz,
                                                   exact_up_to=db.settings.exact_total_up_to)
                    return documents_out(items, reader, now, tz)
                return run

            calls: list[tuple[str, Callable[[], object]]] = [
                ("processing-times", lambda: figures.processing_times(
                    session=session, user=leader, period=audit_period, group_by="unit", calendar=calendar,
                    today=today, tz=tz)),
                ("stage-durations", lambda: figures.stage_durations(
                    session=session, user=leader, period=audit_period, calendar=calendar, tz=tz)),
                ("overdue", lambda: timeline.overdue(
                    session=session, user=leader, period=audit_period, as_of=today, today=today, calendar=calendar,
                    tz=tz)),
                ("compliance", lambda: figures.compliance(
                    session=session, user=leader, period=audit_period, calendar=calendar, now=now, tz=tz)),
            ]
            if not args.skip_register_book:
                from app.services.audit import register_book

                calls.append(("register-book", lambda: register_book.register_book(
                    session=session, user=leader, period=audit_period, tz=tz)))
            calls += [(f"q-{re.sub(r'[^a-z0-9]+', '_', q).strip('_')}", page(q=q)) for q in SEARCHES]
            calls += [("list", page()), ("list-in_progress", page(state="in_progress")),
                      ("list-overdue", page(overdue=True)),
                      ("list-offset_10000", page(offset=10_000))]
            for name, call in calls:
                captured.clear()
                recording[0] = True
                started = time.perf_counter()
                call()
                elapsed = time.perf_counter() - started
                recording[0] = False
                statements = [(s, p) for s, p in captured if _heavy(s)]
                seen.clear()
                for i, (statement, parameters) in enumerate(statements, 1):
                    key = hashlib.sha256((statement + repr(parameters)).encode()).hexdigest()
                    if key in seen:
                        continue
                    seen.add(key)
                    path = plans_dir / f"{db.backend}-{args.documents}-{name}-{i}-{_label(statement)}.txt"
                    plan = _explain(session, db.backend, statement, parameters)
                    shown = parameters if len(repr(parameters)) < 2000 else f"{repr(parameters)[:2000]}…"
                    path.write_text(f"-- {name}: statement {i} of {len(statements)}; in-process call took "
                                    f"{elapsed * 1000:.0f} ms in all\n-- parameters: {shown}\n\n"
                                    f"{_short(statement)}\n\n{plan}\n")
                    written.append(str(path.relative_to(ROOT)))
                    print(f"  plan {path.name}", flush=True)
                session.rollback()
    finally:
        engine.dispose()
    return written


def _label(statement: str) -> str:
    """A short name for what a statement does, for the plan's file name."""
    head = statement.lstrip()
    rules = [
        ("min(incoming_documents.id +", "id-range"),
        ("percentile_cont", "figures"),
        ("lead(", "stays"),
        ("from_due_date", "deadline-changes"),
        ("->>", "deadline-changes"),
        ("JSON_EXTRACT", "deadline-changes"),
        ("document_events.to_state IN", "open-documents"),
        ("registered_at", "facts"),
        ("FROM assignments JOIN units", "open-assignments" if "NOT (EXISTS" in statement else "assignments"),
        ("document_events.action = ", "handed-over"),
    ]
    if "count(*) FILTER" in statement:
        return "figures"
    if "ORDER BY incoming_documents.register_id" in statement:
        return "book"
    if head.startswith("SELECT count(*)"):
        return "count"
    for needle, label in rules:
        if needle in statement:
            return label
    if head.startswith("SELECT incoming_documents.id \nFROM") or head.startswith("SELECT incoming_documents.id\nFROM"):
        return "page-ids"
    if "FROM assignments" in statement:
        return "page-assignments"
    if head.startswith("SELECT incoming_documents.id, incoming_documents.register_id"):
        return "page-documents"
    return "statement"


def _heavy(statement: str) -> bool:
    """Statements over the big tables (not the user, calendar, delegation and report look-ups)."""
    head = statement.split("FROM", 1)[-1]
    return bool(re.search(r"\b(incoming_documents|document_events|assignments)\b", head))


def _short(statement: str) -> str:
    return statement if len(statement) < 20_000 else statement[:20_000] + "\n…(truncated)"


def _explain(session, backend: str, statement: str, parameters) -> str:
    raw = session.connection().connection.driver_connection
    cursor = raw.cursor()
    try:
        if backend == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if backend == "postgresql":
        return "\n".join(r[0] for r in rows)
    return "\n".join(" | ".join(str(c) for c in r) for r in rows)


# --- output ------------------------------------------------------------------------------------------------


def print_table(result: dict[str, object]) -> None:
    print()
    print(f"{result['backend']}  {result['documents']:,} documents  (period {result['period']['from']} – "
          f"{result['period']['to']}: {result['database'].get('documents_in_period', '?'):,} documents)")
    gen = result.get("generation")
    if gen:
        rate = (gen.get("reported") or {}).get("rate_per_s") or gen["wall_rate_per_s"]
        print(f"generator: {rate:,} documents/s ({gen['wall_seconds']} s wall)")
    print(f"{'endpoint':<42} {'n':>3} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'rows':>7} {'others%':>7} "
          f"{'target':>7}  met")
    for r in result["measurements"]:  # type: ignore[union-attr]
        met = {True: "yes", False: "NO", None: ""}[r["met"]]
        target = f"{r['target_ms']:.0f}" if r["target_ms"] else ""
        status = "" if r["statuses"] == [200] else f"  statuses {r['statuses']}"
        print(f"{r['name']:<42} {r['n']:>3} {r['p50_ms']:>9.1f} {r['p95_ms']:>9.1f} {r['max_ms']:>9.1f} "
              f"{r['rows'] if r['rows'] is not None else '':>7} {r['others_cpu_pct']:>7.0f} {target:>7}  {met}{status}")
    server = result["server"]
    print(f"server RSS: {server.get('rss_kb_after_start', 0) / 1024:.0f} MB after start, "
          f"{server.get('VmRSS', 0) / 1024:.0f} MB after the run, peak (VmHWM) {server.get('VmHWM', 0) / 1024:.0f} MB")


# --- main ---------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    p.add_argument("--documents", type=int, default=100_000)
    p.add_argument("--years", type=int, default=None, help="arrival span (generator default: 1 per 100 000)")
    p.add_argument("--seed", type=int, default=30)
    p.add_argument("--reuse", default=None, help="measure an existing database (name, or SQLite data dir)")
    p.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    p.add_argument("--no-maintenance", action="store_true", help="skip VACUUM ANALYZE / ANALYZE after generating")
    p.add_argument("--requests", type=int, default=20)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--auditor-requests", type=int, default=5, help="audit endpoints again as an auditor (0: skip)")
    p.add_argument("--register-book-requests", type=int, default=5)
    p.add_argument("--skip-register-book", action="store_true")
    p.add_argument("--only", default=None, help="regex: measure only matching case names")
    p.add_argument("--no-plans", action="store_true")
    p.add_argument("--dump-bodies", type=Path, default=None, help="write each endpoint's last response here")
    p.add_argument("--quiet-below", type=float, default=20.0,
                   help="before each case, wait until the machine is less than this %% busy ...")
    p.add_argument("--quiet-wait", type=float, default=60.0, help="... for at most this many seconds")
    p.add_argument("--tag", default="", help="free text stored in the results (e.g. 'baseline')")
    p.add_argument("--pg-host", default="127.0.0.1")
    p.add_argument("--pg-port", type=int, default=5432)
    p.add_argument("--pg-user", default="postgres")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    unwind_on_signals()  # the server stops and the finally below drops the database
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    command = shlex.join(command_line())
    db = open_database(args, stamp)
    result: dict[str, object] = {
        "benchmark": "audit", "tag": args.tag, "command": command, "started_at": datetime.now().astimezone().isoformat(),
        "backend": args.backend, "documents": args.documents, "database_name": db.name, "reused": bool(args.reuse),
        "git": git_facts(),
    }
    log_path = Path(tempfile.mkstemp(prefix="congvan-audit-server-", suffix=".log")[1])
    try:
        if not args.reuse:
            from app.migrate import upgrade_to_head

            started = time.perf_counter()
            upgrade_to_head(db.settings)
            result["migrate_seconds"] = round(time.perf_counter() - started, 1)
            result["generation"] = generate(args, db)
            if not args.no_maintenance:
                result["maintenance"] = maintenance(db)
        ensure_auditor(db)
        result["machine"] = audit_machine_facts(args.backend, db.conninfo)
        today = datetime.now(db.settings.tz).date()
        period = (today - timedelta(days=365), today)
        period_params = {"from": period[0].isoformat(), "to": period[1].isoformat()}
        result["period"] = period_params
        result["database"] = database_facts(db, period)
        print(f"database: {json.dumps(result['database'], default=str)}", flush=True)

        with serving(db.settings, log_path) as server:
            pid = server.process.pid
            result["server"] = {"command": "python -m uvicorn app.main:app (1 worker)",
                                "rss_kb_after_start": memory_kb(pid).get("VmRSS")}
            headers = {LEADER: {"Authorization": f"Bearer {login(server.base_url, LEADER, LEADER_PASSWORD)}"},
                       AUDITOR: {"Authorization": f"Bearer {login(server.base_url, AUDITOR, AUDITOR_PASSWORD)}"}}
            mid_id = max(1, int(result["database"]["documents"]) // 2)  # type: ignore[arg-type, index]
            measurements = []
            with httpx.Client(base_url=server.base_url, timeout=600) as client:
                for case in cases(args, period_params, mid_id):
                    if args.only and not re.search(args.only, case.name):
                        continue
                    before = wait_for_quiet(args.quiet_below, args.quiet_wait, pause_s=2)[-1]
                    meter = OthersMeter(pid, db.name if db.backend == "postgresql" else None)
                    m = measure(client, case, headers[case.user], args, case.requests or args.requests, meter)
                    m["machine_busy_before_pct"] = before
                    measurements.append(m)
                    print(f"  {m['name']:<42} p50 {m['p50_ms']:>9.1f}  p95 {m['p95_ms']:>9.1f}  "
                          f"max {m['max_ms']:>9.1f} ms  rows {m['rows']}  others {m['others_cpu_pct']}%"
                          f"  {m['statuses']}", flush=True)
            result["measurements"] = measurements
            result["server"].update(memory_kb(pid))  # type: ignore[union-attr]
        result["server_log_tail"] = log_path.read_text(errors="replace").splitlines()[-10:]

        out = ROOT / "bench" / "results" / f"audit-{args.backend}-{args.documents}-{stamp}.json"

        def save() -> None:
            result["finished_at"] = datetime.now().astimezone().isoformat()
            write_json(out, result)

        save()  # the measurements are safe even if capturing the plans fails
        if not args.no_plans:
            result["plans"] = capture_plans(args, db, period, ROOT / "bench" / "plans")
            save()
        print_table(result)
        print(f"\nresults: {shown(out)}")
        if args.keep or args.reuse:
            print(f"database kept: {db.name}  (again: --reuse {db.name})")
        failed = [m["name"] for m in measurements if m["statuses"] != [200]]
        return 1 if failed else 0
    finally:
        if db.created and not args.keep:
            drop_database(db)
        if db.backend == "postgresql":
            shutil.rmtree(db.settings.data_dir, ignore_errors=True)  # only the server's secret key
        log_path.unlink(missing_ok=True)


if __name__ == "__main__":
    raise SystemExit(main())
