"""Registration throughput: the HTTP API against the same transaction in raw SQL.

One command, one fresh PostgreSQL database (dropped at the end):

    .venv/bin/python bench/registration.py --duration 20 --clients 16

1. creates ``congvan_bench_<timestamp>``, runs the migrations, creates a clerk;
2. starts uvicorn (``app.main:app``, ``--workers 2`` by default) on that database and drives
   ``POST /api/v1/incoming-documents`` with N concurrent keep-alive clients for a fixed time,
   every request a distinct valid document (received_at left to the server);
3. verifies the API's arrival numbers are exactly 1..N (no gap, no duplicate);
4. runs the same transaction in raw SQL with N concurrent connections (pgbench with a
   generated script by default, or psycopg threads): lock+increment the counter row, insert
   the document, insert its event, commit; verifies those numbers too;
5. prints a summary and writes ``bench/results/registration-<timestamp>.json``.

Only the project's own dependencies and the stdlib are used (httpx, psycopg, uvicorn,
SQLAlchemy); pgbench is the PostgreSQL client binary. See bench/README.md.
"""

from __future__ import annotations

import argparse
import glob
import http.client
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Self
from zoneinfo import ZoneInfo

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Settings
from app.text import fold

CLERK = "bench_clerk"
PASSWORD = "bench password, not a secret"
RAW_REGISTER = "bench_raw"
API_PATH = "/api/v1/incoming-documents"

# A realistic body: Vietnamese summary (~190 chars) and issuer, as clerks type them.
ISSUER = "Ban chỉ đạo chương trình CNTT tỉnh Bình Dương"
SUMMARY = (
    "Báo cáo sơ kết 02 năm thực hiện Quyết định số 721/QĐ-UBND ngày 11/03/2011 của UBND tỉnh "
    "về việc ban hành Kế hoạch ứng dụng CNTT trong hoạt động của cơ quan nhà nước tỉnh Bình Dương"
)


# --- small helpers -----------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary(latencies_s: list[float]) -> dict[str, float | None]:
    values = sorted(latencies_s)
    ms = lambda v: None if v is None else round(v * 1000, 3)
    return {
        "p50_ms": ms(percentile(values, 50)),
        "p90_ms": ms(percentile(values, 90)),
        "p99_ms": ms(percentile(values, 99)),
        "max_ms": ms(values[-1] if values else None),
        "mean_ms": ms(sum(values) / len(values) if values else None),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[str, int, float, int] | None:
    """(comm, ppid, cpu seconds, start time in ticks) of a process, or None if gone / unreadable."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return comm, int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK, int(fields[19])


def _all_procs() -> dict[int, tuple[str, int, float, int]]:
    procs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _proc_stat(int(entry))) is not None:
            procs[int(entry)] = info
    return procs


def _descendants(procs: dict[int, tuple[str, int, float, int]], root: int) -> set[int]:
    tree = {root} if root in procs else set()
    grew = True
    while grew:
        grew = False
        for pid, info in procs.items():
            if info[1] in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree


class CpuAccountant:
    """Where the machine's CPU went while one side ran, by group of processes.

    /proc is read every ``interval`` seconds and each process's last reading is kept, so
    processes that exit during the window (pgbench's PostgreSQL backends, other people's
    test runs) are still counted up to their last sighting. Groups: the uvicorn server tree,
    PostgreSQL (backends of the benchmark database, and the shared WAL writer, checkpointer
    etc.), pgbench, this process (the load generator), and everything else ("other jobs",
    including backends of other databases: a busy neighbour makes every number here worse,
    so it is reported).
    """

    def __init__(self, dbname: str, server_pid: int | None = None, interval: float = 0.5) -> None:
        self.dbname = dbname
        self.server_pid = server_pid
        self.interval = interval
        self.me = os.getpid()
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.group: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _classify(self, procs: dict[int, tuple[str, int, float, int]]) -> None:
        server = _descendants(procs, self.server_pid) if self.server_pid else set()
        for pid, (comm, _ppid, cpu, _start) in procs.items():
            if pid not in self.group:
                if pid == self.me:
                    self.group[pid] = "load_generator"
                elif pid in server:
                    self.group[pid] = "server"
                elif comm.startswith("postgres"):
                    self.group[pid] = self._postgres_group(pid)
                elif comm == "pgbench":
                    self.group[pid] = "pgbench"
                else:
                    self.group[pid] = "other_jobs"
            self.last[pid] = cpu

    def _postgres_group(self, pid: int) -> str:
        """Backends of our database and the shared background processes are ours; backends of
        other databases (other people's tests) are other jobs."""
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return "postgres"
        parts = title.split()
        # "postgres: 15/main: <user> <database> <host>(<port>) <state>" for a client backend
        if len(parts) >= 5 and (parts[4].endswith(")") or parts[4] == "[local]"):
            return "postgres" if parts[3] == self.dbname else "other_jobs"
        return "postgres"

    def _sample(self, initial: bool = False) -> None:
        procs = _all_procs()
        for pid, info in procs.items():
            if pid not in self.first:
                # Seen at the start: count from here. Born later: all of its CPU is in the window.
                self.first[pid] = info[2] if initial else 0.0
        self._classify(procs)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> Self:
        self.busy0, self.total0 = _machine_times()
        self._sample(initial=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.busy1, self.total1 = _machine_times()

    def summary(self, done: int) -> dict[str, float]:
        groups: Counter[str] = Counter()
        for pid, cpu in self.last.items():
            groups[self.group[pid]] += cpu - self.first.get(pid, 0.0)
        busy = (self.busy1 - self.busy0) / CLK_TCK
        capacity = (self.total1 - self.total0) / CLK_TCK
        out: dict[str, float] = {"machine_busy_s": round(busy, 3),
                                 "machine_utilisation_pct": round(100 * busy / capacity, 1) if capacity else 0.0}
        for name in ("server", "postgres", "pgbench", "load_generator", "other_jobs"):
            out[f"{name}_s"] = round(groups.get(name, 0.0), 3)
        out["unaccounted_s"] = round(busy - sum(groups.values()), 3)  # kernel threads, sub-interval processes
        out["other_jobs_pct_of_machine"] = round(100 * out["other_jobs_s"] / capacity, 1) if capacity else 0.0
        if done:
            for name in ("server", "postgres", "pgbench", "load_generator", "other_jobs", "unaccounted", "machine_busy"):
                out[f"{name}_ms_per_tx"] = round(1000 * out[f"{name}_s"] / done, 3)
        return out


def _machine_times() -> tuple[float, float]:
    with open("/proc/stat") as fh:
        cpu = [int(x) for x in fh.readline().split()[1:]]
    return sum(cpu) - cpu[3] - cpu[4], sum(cpu)


def background_busy_pct(seconds: float = 1.0) -> float:
    """How busy the machine is with nothing of ours running (other jobs skew every number)."""
    busy0, total0 = _machine_times()
    time.sleep(seconds)
    busy1, total1 = _machine_times()
    return round(100 * (busy1 - busy0) / max(1, total1 - total0), 1)


def wait_for_quiet(limit_pct: float, max_wait: float) -> list[float]:
    """Sample background load until it is under ``limit_pct`` or ``max_wait`` passes; returns the samples."""
    samples = [background_busy_pct()]
    deadline = time.monotonic() + max_wait
    while samples[-1] > limit_pct and time.monotonic() < deadline:
        print(f"  machine is {samples[-1]}% busy with other work; waiting for it to settle")
        time.sleep(4)
        samples.append(background_busy_pct())
    return samples


# --- who holds the counter lock, and doing what --------------------------------------------------


class LockSampler:
    """Samples pg_stat_activity of the benchmark database while a side runs.

    Every registration takes the same counter row lock, so throughput is 1 / (time the lock is
    held). Each sample finds the backend the others wait for and notes what it is doing: running
    SQL, flushing WAL at commit, or *idle in transaction*, i.e. waiting for the application to
    send its next statement. The last is time the application spends inside the critical section.
    """

    QUERY = """
        WITH a AS (
            SELECT pid, state, wait_event_type, wait_event, pg_blocking_pids(pid) AS blockers
            FROM pg_stat_activity
            WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
        )
        SELECT pid, state, wait_event_type, wait_event, cardinality(blockers) > 0,
               EXISTS (SELECT 1 FROM a b WHERE a.pid = ANY(b.blockers))
        FROM a
    """

    def __init__(self, conninfo: str, interval: float = 0.1) -> None:
        self.conninfo = conninfo
        self.interval = interval
        self.samples = 0
        self.held = 0
        self.waiting_total = 0
        self.in_transaction_total = 0
        self.holder: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def describe(state: str | None, wait_type: str | None, wait_event: str | None) -> str:
        if state == "idle in transaction":
            return "idle in transaction (waiting for the application)"
        if state == "active" and wait_type is None:
            return "running SQL (on CPU)"
        if (wait_event or "").startswith("WAL"):
            return "commit: flushing WAL"
        return f"{state}: {wait_type}/{wait_event}"

    def _run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(self.QUERY).fetchall()
                self.samples += 1
                holders = [r for r in rows if r[5] and r[2] != "Lock"]
                self.waiting_total += sum(1 for r in rows if r[4])
                self.in_transaction_total += sum(1 for r in rows if r[1] in ("active", "idle in transaction"))
                if holders:
                    self.held += 1
                    for r in holders:
                        self.holder[self.describe(r[1], r[2], r[3])] += 1
                self._stop.wait(self.interval)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, object]:
        n = max(1, self.samples)
        held = max(1, self.held)
        return {
            "samples": self.samples,
            "interval_s": self.interval,
            "lock_contended_pct": round(100 * self.held / n, 1),
            "mean_backends_waiting_for_lock": round(self.waiting_total / n, 2),
            "mean_backends_in_transaction": round(self.in_transaction_total / n, 2),
            "holder_doing_pct": {k: round(100 * v / held, 1) for k, v in self.holder.most_common()},
        }


# --- database setup ----------------------------------------------------------------------------


@dataclass
class Pg:
    host: str
    port: int
    user: str

    def conninfo(self, dbname: str) -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    def sqlalchemy_url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"


def create_database(pg: Pg, dbname: str) -> None:
    with psycopg.connect(pg.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')


def drop_database(pg: Pg, dbname: str) -> None:
    with psycopg.connect(pg.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def prepare_schema(settings: Settings) -> None:
    from app.db import make_engine, make_sessionmaker
    from app.migrate import upgrade_to_head
    from app.services import organisation as org
    from app.workflow.vocabulary import Role

    upgrade_to_head(settings)
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            org.create_user(session=session, username=CLERK, password=PASSWORD, roles=[Role.clerk],
                            full_name="Bench Clerk")
            session.commit()
    finally:
        engine.dispose()


def machine_facts(pg: Pg, dbname: str) -> dict[str, object]:
    with psycopg.connect(pg.conninfo(dbname)) as conn:
        version = conn.execute("SELECT version()").fetchone()[0]
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
            (["fsync", "synchronous_commit", "wal_sync_method", "shared_buffers", "max_connections",
              "commit_delay"],),
        ).fetchall())
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import fastapi
    import pydantic
    import sqlalchemy
    import uvicorn

    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "postgresql": version,
        "postgresql_settings": settings,
        "packages": {
            "fastapi": fastapi.__version__,
            "pydantic": pydantic.VERSION,
            "sqlalchemy": sqlalchemy.__version__,
            "uvicorn": uvicorn.__version__,
            "httpx": httpx.__version__,
            "psycopg": psycopg.__version__,
            "uvloop": _installed("uvloop"),
            "httptools": _installed("httptools"),
        },
    }


def git_facts() -> dict[str, object]:
    """The commit measured, and whether app/ or migrations/ had uncommitted changes."""
    def git(*argv: str) -> str:
        proc = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=False)
        return proc.stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD") or None,
        "app_uncommitted_changes": bool(git("status", "--porcelain", "--", "app", "migrations")),
    }


def _installed(module: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(module)
    except importlib.metadata.PackageNotFoundError:
        return None


# --- the API side ------------------------------------------------------------------------------


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]


def start_server(settings: Settings, workers: int, log_path: Path, app: str = "app.main:app") -> Server:
    port = free_port()
    env = {
        **os.environ,
        "CONGVAN_DATA_DIR": str(settings.data_dir),
        "CONGVAN_DATABASE_URL": settings.resolved_database_url,
    }
    cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
           "--log-level", "warning", "--no-access-log"]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    log = open(log_path, "wb")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 60
        healthy = 0
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited during start-up; see {log_path}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{server.base_url}/health", timeout=1).status_code == 200:
                    healthy += 1
                    # With several workers, give every worker time to import and build the app.
                    if healthy >= 3 * workers:
                        return server
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not become healthy in 60 s")
    except BaseException:
        stop_server(server)
        raise


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


def login(base_url: str) -> str:
    response = httpx.post(f"{base_url}/api/v1/auth/token", data={"username": CLERK, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return response.json()["access_token"]


def document_body(client_id: int, seq: int, document_date: date) -> dict[str, object]:
    """A valid registration body; (client, seq) makes the symbol, so duplicate detection never fires."""
    return {
        "symbol": f"{seq}/BC-BENCH{client_id:02d}",
        "document_date": document_date.isoformat(),
        "issuer": ISSUER,
        "summary": SUMMARY,
        "urgency": "normal",
        "page_count": 3,
        "signer_name": "Nguyễn Văn A",
        "channel": "paper",
    }


@dataclass
class ClientResult:
    latencies: list[float] = field(default_factory=list)  # successful requests only
    finished: list[float] = field(default_factory=list)  # their completion times (perf_counter)
    statuses: Counter[str] = field(default_factory=Counter)
    first_errors: list[str] = field(default_factory=list)
    last_finish: float = 0.0


class _HttpxPoster:
    """One keep-alive connection through httpx (the client the project already uses)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        self.client.get("/health")  # open the connection before the clock starts

    def post(self, body: bytes) -> tuple[int, bytes]:
        response = self.client.post(API_PATH, content=body, headers={"Content-Type": "application/json"})
        return response.status_code, response.content

    def close(self) -> None:
        self.client.close()


class _StdlibPoster:
    """One keep-alive connection through http.client: a few times cheaper per request than httpx,
    which matters when the load generator shares two cores with the server and PostgreSQL."""

    def __init__(self, base_url: str, token: str) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn.request("GET", "/health")
        self.conn.getresponse().read()

    def post(self, body: bytes) -> tuple[int, bytes]:
        self.conn.request("POST", API_PATH, body=body, headers=self.headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


POSTERS = {"stdlib": _StdlibPoster, "httpx": _HttpxPoster}


def drive_api(base_url: str, token: str, clients: int, duration: float, seq0: int,
              document_date: date, http_client: str = "stdlib") -> tuple[list[ClientResult], float]:
    """Run ``clients`` keep-alive client threads for ``duration`` seconds; returns results and elapsed."""
    results = [ClientResult() for _ in range(clients)]
    box: dict[str, float] = {}
    poster_class = POSTERS[http_client]

    def start_clock() -> None:
        # Runs once, when every client has its connection open; the clock starts together.
        box["start"] = time.perf_counter()
        box["deadline"] = box["start"] + duration

    barrier = threading.Barrier(clients + 1, action=start_clock)

    def run(i: int) -> None:
        out = results[i]
        try:
            poster = poster_class(base_url, token)
        except Exception:
            barrier.abort()  # release the others; drive_api raises BrokenBarrierError
            raise
        try:
            barrier.wait()
            deadline = box["deadline"]
            seq = seq0
            while True:
                begin = time.perf_counter()
                if begin >= deadline:
                    break
                seq += 1
                body = json.dumps(document_body(i, seq, document_date), ensure_ascii=False).encode()
                try:
                    code, content = poster.post(body)
                    status = str(code)
                except (httpx.HTTPError, OSError, http.client.HTTPException) as exc:
                    content = str(exc).encode()
                    status = type(exc).__name__
                end = time.perf_counter()
                out.statuses[status] += 1
                if status == "201":
                    out.latencies.append(end - begin)
                    out.finished.append(end)
                elif len(out.first_errors) < 3:
                    out.first_errors.append(f"{status}: {content[:300].decode(errors='replace')}")
            out.last_finish = time.perf_counter()
        finally:
            poster.close()

    threads = []
    for i in range(clients):
        t = threading.Thread(target=run, args=(i,), daemon=True)
        t.start()
        threads.append(t)
    barrier.wait(timeout=60)
    for t in threads:
        t.join()
    elapsed = max(r.last_finish for r in results) - box["start"]
    return results, elapsed, box["start"]


def rate_by_quarter(results: list[ClientResult], start: float, elapsed: float) -> list[float]:
    """Successful requests per second in each quarter of the window: a falling rate means
    something grows with the table (a plan gone bad, an index to maintain) rather than noise."""
    counts = [0, 0, 0, 0]
    for r in results:
        for t in r.finished:
            counts[min(3, max(0, int(4 * (t - start) / elapsed)))] += 1
    return [round(c / (elapsed / 4), 1) for c in counts]


def summarise(results: list[ClientResult], elapsed: float, start: float) -> dict[str, object]:
    latencies = [v for r in results for v in r.latencies]
    statuses: Counter[str] = Counter()
    for r in results:
        statuses.update(r.statuses)
    total = sum(statuses.values())
    errors = total - statuses.get("201", 0)
    return {
        "requests": total,
        "ok": len(latencies),
        "errors": errors,
        "statuses": dict(statuses),
        "first_errors": [e for r in results for e in r.first_errors][:5],
        "elapsed_s": round(elapsed, 3),
        "rate_per_s": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "rate_by_quarter_per_s": rate_by_quarter(results, start, elapsed),
        **latency_summary(latencies),
    }


# --- the raw SQL side --------------------------------------------------------------------------


@dataclass
class RawContext:
    register_id: int
    user_id: int
    year: int
    document_date: date


def raw_context(conninfo: str, tz: ZoneInfo, document_date: date) -> RawContext:
    """A register of its own for the raw run, its counter row, and the clerk's id."""
    year = datetime.now(UTC).astimezone(tz).year
    with psycopg.connect(conninfo) as conn:
        register_id = conn.execute(
            "INSERT INTO registers (code, name, confidential, created_at) VALUES (%s, %s, false, now()) RETURNING id",
            (RAW_REGISTER, "Raw SQL benchmark register"),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO register_counters (register_id, year, last_number) VALUES (%s, %s, 0) "
            "ON CONFLICT DO NOTHING",
            (register_id, year),
        )
        user_id = conn.execute("SELECT id FROM users WHERE username = %s", (CLERK,)).fetchone()[0]
    return RawContext(register_id, user_id, year, document_date)


def _raw_statements(ctx: RawContext) -> tuple[str, str, str]:
    """The three statements of one registration, with the values the API would store.

    ``{n}`` is the arrival number from the counter, ``{doc}`` the new document's id; the
    pgbench and psycopg drivers substitute their own placeholders.
    """
    f_summary, f_issuer = fold(SUMMARY), fold(ISSUER)
    lock = (
        "UPDATE register_counters SET last_number = last_number + 1 "
        f"WHERE register_id = {ctx.register_id} AND year = {ctx.year} RETURNING last_number"
    )
    symbol = "CAST({n} AS text) || '/BC-RAW'"
    insert_doc = (
        "INSERT INTO incoming_documents (register_id, year, arrival_number, received_at, symbol, symbol_key, "
        "document_number, document_type, issuer_code, symbol_year, symbol_warning, document_date, issuer, "
        "issuer_key, summary, urgency, confidentiality, due_date, page_count, signer_name, signer_position, "
        "channel, notes, state, version, search_text, duplicate_of_id, created_by_id, created_at, updated_at) "
        f"VALUES ({ctx.register_id}, {ctx.year}, {{n}}, now(), {symbol}, lower({symbol}), "
        f"CAST({{n}} AS text), 'BC', 'RAW', NULL, NULL, DATE '{ctx.document_date.isoformat()}', "
        f"{sql_literal(ISSUER)}, {sql_literal(f_issuer)}, {sql_literal(SUMMARY)}, 'normal', 'normal', NULL, 3, "
        f"{sql_literal('Nguyễn Văn A')}, NULL, 'paper', NULL, 'registered', 1, "
        f"lower({symbol}) || ' ' || {sql_literal(f_summary)} || ' ' || {sql_literal(f_issuer)}, NULL, "
        f"{ctx.user_id}, now(), now()) RETURNING id"
    )
    insert_event = (
        "INSERT INTO document_events (document_id, seq, action, from_state, to_state, actor_id, on_behalf_of_id, "
        "at, comment, data) VALUES "
        f"({{doc}}, 1, 'register', NULL, 'registered', {ctx.user_id}, NULL, now(), NULL, "
        f"json_build_object('register_code', '{RAW_REGISTER}', 'year', {ctx.year}, 'arrival_number', CAST({{n}} AS integer)))"
    )
    return lock, insert_doc, insert_event


def pgbench_script(ctx: RawContext) -> str:
    lock, insert_doc, insert_event = _raw_statements(ctx)
    sub = {"n": ":last_number", "doc": ":id"}
    return "\n".join([
        "BEGIN;",
        f"{lock} \\gset",
        f"{insert_doc.format(**sub)} \\gset",
        f"{insert_event.format(**sub)};",
        "COMMIT;",
        "",
    ])


def run_pgbench(pg: Pg, dbname: str, ctx: RawContext, clients: int, duration: float, workdir: Path,
                threads: int, tag: str) -> dict[str, object]:
    script = workdir / "registration.sql"
    script.write_text(pgbench_script(ctx))
    prefix = workdir / f"pgbench-{tag}"
    cmd = ["pgbench", "-h", pg.host, "-p", str(pg.port), "-U", pg.user, "-n", "-M", "prepared",
           "-c", str(clients), "-j", str(threads), "-T", str(max(1, round(duration))), "-f", str(script),
           "-l", f"--log-prefix={prefix}", dbname]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    latencies: list[float] = []
    finishes: list[float] = []
    failed_logged = 0
    for path in glob.glob(f"{prefix}.*"):
        with open(path) as fh:
            for line in fh:
                # client_id transaction_no time script_no time_epoch time_us [...]
                parts = line.split()
                if parts[2] in ("failed", "skipped"):
                    failed_logged += 1
                    continue
                latencies.append(int(parts[2]) / 1e6)
                finishes.append(int(parts[4]) + int(parts[5]) / 1e6)
    out = proc.stdout
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    return {
        "driver": "pgbench",
        "command": shlex.join(cmd),
        "script": script.read_text(),
        "ok": len(latencies),
        "errors": int(failed.group(1)) if failed else failed_logged,
        "elapsed_s": round(duration, 3),
        "rate_per_s": round(float(tps.group(1)), 1) if tps else round(len(latencies) / duration, 1),
        "rate_by_quarter_per_s": rate_by_quarter(
            [ClientResult(finished=finishes)],
            min((f - lat for f, lat in zip(finishes, latencies, strict=True)), default=0.0),
            max(1, round(duration)),
        ),
        **latency_summary(latencies),
        "pgbench_stdout_tail": out.strip().splitlines()[-8:],
    }


def run_psycopg(pg: Pg, dbname: str, ctx: RawContext, clients: int, duration: float) -> dict[str, object]:
    lock, insert_doc, insert_event = _raw_statements(ctx)
    insert_doc = insert_doc.replace("{n}", "%(n)s")
    insert_event = insert_event.replace("{n}", "%(n)s").replace("{doc}", "%(doc)s")
    results = [ClientResult() for _ in range(clients)]
    box: dict[str, float] = {}

    def start_clock() -> None:
        box["start"] = time.perf_counter()
        box["deadline"] = box["start"] + duration

    barrier = threading.Barrier(clients + 1, action=start_clock)

    def worker(i: int) -> None:
        out = results[i]
        try:
            conn = psycopg.connect(pg.conninfo(dbname))
        except psycopg.Error:
            barrier.abort()
            raise
        with conn:
            barrier.wait()
            deadline = box["deadline"]
            while True:
                begin = time.perf_counter()
                if begin >= deadline:
                    break
                try:
                    with conn.transaction():
                        n = conn.execute(lock).fetchone()[0]
                        doc = conn.execute(insert_doc, {"n": n}).fetchone()[0]
                        conn.execute(insert_event, {"n": n, "doc": doc})
                    status = "ok"
                except psycopg.Error as exc:
                    status = type(exc).__name__
                end = time.perf_counter()
                out.statuses[status] += 1
                if status == "ok":
                    out.latencies.append(end - begin)
                    out.finished.append(end)
            out.last_finish = time.perf_counter()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait(timeout=60)
    for t in threads:
        t.join()
    elapsed = max(r.last_finish for r in results) - box["start"]
    latencies = [v for r in results for v in r.latencies]
    errors = sum(sum(c for s, c in r.statuses.items() if s != "ok") for r in results)
    return {
        "driver": "psycopg threads",
        "rate_by_quarter_per_s": rate_by_quarter(results, box["start"], elapsed),
        "ok": len(latencies),
        "errors": errors,
        "elapsed_s": round(elapsed, 3),
        "rate_per_s": round(len(latencies) / elapsed, 1),
        **latency_summary(latencies),
    }


# --- verification ------------------------------------------------------------------------------


def verify_numbers(conninfo: str, register_code: str, year: int, expected: int | None) -> dict[str, object]:
    """Arrival numbers of the register/year must be exactly 1..N; events and counter must agree."""
    with psycopg.connect(conninfo) as conn:
        count, lo, hi, distinct = conn.execute(
            "SELECT count(*), min(d.arrival_number), max(d.arrival_number), count(DISTINCT d.arrival_number) "
            "FROM incoming_documents d JOIN registers r ON r.id = d.register_id WHERE r.code = %s AND d.year = %s",
            (register_code, year),
        ).fetchone()
        events = conn.execute(
            "SELECT count(*) FROM document_events e JOIN incoming_documents d ON d.id = e.document_id "
            "JOIN registers r ON r.id = d.register_id WHERE r.code = %s AND d.year = %s",
            (register_code, year),
        ).fetchone()[0]
        counter = conn.execute(
            "SELECT c.last_number FROM register_counters c JOIN registers r ON r.id = c.register_id "
            "WHERE r.code = %s AND c.year = %s",
            (register_code, year),
        ).fetchone()
    counter_value = counter[0] if counter else None
    ok = (
        count > 0 and lo == 1 and hi == count and distinct == count and events == count
        and counter_value == count and (expected is None or expected == count)
    )
    return {
        "register": register_code, "year": year, "count": count, "min": lo, "max": hi,
        "distinct": distinct, "events": events, "counter": counter_value, "expected": expected,
        "gapless_unique": ok,
    }


# --- main --------------------------------------------------------------------------------------


def fmt(v: object, width: int = 10) -> str:
    if v is None:
        return "-".rjust(width)
    if isinstance(v, float):
        return f"{v:,.1f}".rjust(width)
    return str(v).rjust(width)


def print_summary(result: dict[str, object]) -> None:
    config = result["config"]
    print()
    print(f"registration benchmark  {result['timestamp']}  ({config['clients']} clients, "
          f"{config['duration_s']} s per side, uvicorn workers={config['workers']}, app {config['app']})")
    print(f"{'side':<28}{'ok':>10}{'errors':>10}{'req/s':>10}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}"
          f"{'max ms':>10}")
    sides = [("API (HTTP, uvicorn)", result["api"])]
    sides += [(f"raw SQL ({r['driver']})", r) for r in (result["raw_all"] or {}).values()]
    for name, side in sides:
        print(f"{name:<28}{fmt(side['ok'])}{fmt(side['errors'])}{fmt(side['rate_per_s'])}{fmt(side['p50_ms'])}"
              f"{fmt(side['p90_ms'])}{fmt(side['p99_ms'])}{fmt(side['max_ms'])}")
    for name, side in sides:
        print(f"rate by quarter of the window, {name}: {side['rate_by_quarter_per_s']} req/s")
    ratio = result["ratio_api_to_raw"]
    if ratio is not None:
        print(f"ratio API/raw ({result['raw']['driver']}) = {ratio:.3f}  (target >= {result['target_ratio']})  "
              f"{'MET' if result['target_met'] else 'NOT MET'}")
    for key, v in result["verification"].items():
        if v:
            print(f"verify {key:<4}: count={v['count']} min={v['min']} max={v['max']} distinct={v['distinct']} "
                  f"events={v['events']} counter={v['counter']} -> {'OK' if v['gapless_unique'] else 'FAILED'}")
    for name, side in sides:
        c = side["cpu"]
        parts = ", ".join(f"{group.replace('_', ' ')} {c[f'{group}_ms_per_tx']}" for group in
                          ("server", "postgres", "pgbench", "load_generator", "other_jobs")
                          if c.get(f"{group}_ms_per_tx"))
        print(f"cpu  {name}: machine {c['machine_utilisation_pct']}% busy; CPU ms per registration: {parts}")
        if c["other_jobs_pct_of_machine"] > 10:
            print(f"  WARNING: other jobs used {c['other_jobs_pct_of_machine']}% of the machine during this side; "
                  "its numbers are not trustworthy")
    for name, side in sides:
        lock = side["lock"]
        doing = ", ".join(f"{v}% {k}" for k, v in lock["holder_doing_pct"].items())
        print(f"lock {name}: contended {lock['lock_contended_pct']}% of samples, "
              f"{lock['mean_backends_waiting_for_lock']} backends waiting on average; holder: {doing}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20, help="seconds of measured load per side (default 20)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients / connections (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds before each side (default 3)")
    parser.add_argument("--raw", choices=["pgbench", "psycopg", "both", "none"], default="pgbench",
                        help="raw SQL driver; the ratio uses pgbench when both are run; none skips the raw "
                        "side (quick A/B of API changes) (default pgbench)")
    parser.add_argument("--app", default="app.main:app",
                        help="ASGI app for uvicorn (default app.main:app); another module:attr on PYTHONPATH "
                        "benchmarks a variant, e.g. a proposed change")
    parser.add_argument("--http-client", choices=sorted(POSTERS), default="stdlib",
                        help="API load generator: stdlib http.client (cheapest, default) or httpx")
    parser.add_argument("--quiet-below", type=float, default=10,
                        help="before each side, wait while other work keeps the machine busier than this %% (default 10)")
    parser.add_argument("--quiet-wait", type=float, default=120,
                        help="longest wait for a quiet machine, seconds (default 120); the load is recorded either way")
    parser.add_argument("--pgbench-threads", type=int, default=2, help="pgbench -j (default 2)")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--results-dir", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--no-write", action="store_true", help="print only, write no JSON")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    args = parser.parse_args(argv)

    # Make SIGTERM (and SIGINT where a background shell ignores it) unwind through the
    # finally below, so the server is stopped and the database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    pg = Pg(args.pg_host, args.pg_port, args.pg_user)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    dbname = f"congvan_bench_{stamp.replace('-', '_')}"
    tmpdir = Path(tempfile.mkdtemp(prefix="congvan-bench-"))
    settings = Settings(database_url=pg.sqlalchemy_url(dbname), data_dir=tmpdir)
    tz = settings.tz
    today = datetime.now(UTC).astimezone(tz).date()
    document_date = today - timedelta(days=7)
    year = today.year
    server: Server | None = None

    print(f"database {dbname}; data dir {tmpdir}")
    create_database(pg, dbname)
    try:
        prepare_schema(settings)
        facts = machine_facts(pg, dbname)

        # --- API -------------------------------------------------------------------------------
        background = {"before_api_pct": wait_for_quiet(args.quiet_below, args.quiet_wait)}
        server = start_server(settings, args.workers, tmpdir / "uvicorn.log", args.app)
        token = login(server.base_url)
        print(f"uvicorn up at {server.base_url} with {args.workers} worker(s); warming up {args.warmup} s")
        warm_results, _, _ = drive_api(server.base_url, token, args.clients, args.warmup, seq0=0,
                                    document_date=document_date, http_client=args.http_client)
        warm_ok = sum(len(r.latencies) for r in warm_results)
        warm_errors = sum(sum(r.statuses.values()) for r in warm_results) - warm_ok
        print(f"measuring the API for {args.duration} s")
        with CpuAccountant(dbname, server.process.pid) as api_cpu, LockSampler(pg.conninfo(dbname)) as api_locks:
            api_results, elapsed, api_start = drive_api(server.base_url, token, args.clients, args.duration, seq0=1_000_000,
                                             document_date=document_date, http_client=args.http_client)
        api = summarise(api_results, elapsed, api_start)
        api["warmup_ok"] = warm_ok
        api["warmup_errors"] = warm_errors
        api["lock"] = api_locks.summary()
        api["cpu"] = api_cpu.summary(int(api["ok"]))
        stop_server(server)
        server = None
        verify_api = verify_numbers(pg.conninfo(dbname), "main", year, expected=warm_ok + int(api["ok"]))

        # --- raw SQL ---------------------------------------------------------------------------
        ctx = raw_context(pg.conninfo(dbname), tz, document_date)
        raws: dict[str, dict[str, object]] = {}
        drivers = {"both": ["pgbench", "psycopg"], "none": []}.get(args.raw, [args.raw])
        warm_raw = 0
        for driver in drivers:
            background[f"before_raw_{driver}_pct"] = wait_for_quiet(args.quiet_below, args.quiet_wait)
            print(f"raw SQL via {driver}: warming up {args.warmup} s, measuring {args.duration} s")
            if driver == "pgbench":
                warm = run_pgbench(pg, dbname, ctx, args.clients, args.warmup, tmpdir, args.pgbench_threads, "warm")
                with CpuAccountant(dbname) as raw_cpu, LockSampler(pg.conninfo(dbname)) as raw_locks:
                    raws[driver] = run_pgbench(pg, dbname, ctx, args.clients, args.duration, tmpdir,
                                               args.pgbench_threads, "run")
            else:
                warm = run_psycopg(pg, dbname, ctx, args.clients, args.warmup)
                with CpuAccountant(dbname) as raw_cpu, LockSampler(pg.conninfo(dbname)) as raw_locks:
                    raws[driver] = run_psycopg(pg, dbname, ctx, args.clients, args.duration)
            warm_raw += int(warm["ok"])
            raws[driver]["warmup_ok"] = warm["ok"]
            raws[driver]["lock"] = raw_locks.summary()
            raws[driver]["cpu"] = raw_cpu.summary(int(raws[driver]["ok"]))
        raw = raws[drivers[0]] if drivers else None
        verify_raw = None
        ratio = None
        if raw is not None:
            raw_total = warm_raw + sum(int(r["ok"]) for r in raws.values())
            verify_raw = verify_numbers(pg.conninfo(dbname), RAW_REGISTER, year, expected=raw_total)
            ratio = float(api["rate_per_s"]) / float(raw["rate_per_s"]) if raw["rate_per_s"] else 0.0
        result: dict[str, object] = {
            "benchmark": "registration",
            "timestamp": stamp,
            "command": shlex.join(_display_argv()),
            "cwd": str(Path.cwd()),
            "config": {
                "duration_s": args.duration, "clients": args.clients, "workers": args.workers, "app": args.app,
                "warmup_s": args.warmup, "raw_driver": args.raw, "pgbench_threads": args.pgbench_threads,
                "api_client": f"{args.clients} threads, one keep-alive {args.http_client} connection each",
                "database": dbname,
            },
            "machine": facts,
            "git": git_facts(),
            "api": api,
            "raw": raw,
            "raw_all": raws,
            "ratio_api_to_raw": None if ratio is None else round(ratio, 3),
            "target_ratio": 0.5,
            "target_met": None if ratio is None else ratio >= 0.5,
            "verification": {"api": verify_api, "raw": verify_raw},
            "background_busy_pct": background,
            "notes": [
                "rates count successful requests/transactions only; latencies are client-side, per request",
                (
                    "cpu.*: CPU seconds during the measured window by process group, sampled from /proc every "
                    "0.5 s; other_jobs is everything not ours (a busy neighbour skews every number)"
                ),
                (
                    "lock.*: pg_stat_activity sampled every 0.1 s; holder_doing_pct says what the backend "
                    "holding the counter row lock was doing; 'idle in transaction' is time the client (the "
                    "app, or pgbench) spends inside the critical section between statements"
                ),
            ],
        }
        print_summary(result)
        if not args.no_write:
            out_dir = Path(args.results_dir)
            out_dir.mkdir(parents=True, exist_ok=True)
            path = out_dir / f"registration-{stamp}.json"
            path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
            print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        ok = verify_api["gapless_unique"] and (verify_raw is None or verify_raw["gapless_unique"]) and api["errors"] == 0
        return 0 if ok else 1
    finally:
        if server is not None:
            stop_server(server)
        if args.keep_db:
            print(f"kept database {dbname}")
        else:
            drop_database(pg, dbname)
        shutil.rmtree(tmpdir, ignore_errors=True)


def _display_argv() -> list[str]:
    """The command as typed, with the interpreter shown relative to the repository when inside it."""
    argv = list(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    for i in (0, 1):
        try:
            if os.path.isabs(argv[i]):
                argv[i] = os.path.relpath(argv[i], ROOT) if argv[i].startswith(f"{ROOT}/") else argv[i]
        except (ValueError, IndexError):
            pass
    return argv


if __name__ == "__main__":
    raise SystemExit(main())
