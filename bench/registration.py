"""Registration throughput: the HTTP API against the same transaction in raw SQL.

One command, one fresh PostgreSQL database (dropped at the end):

    .venv/bin/python bench/registration.py --duration 20 --clients 16

1. creates ``congvan_bench_<timestamp>``, runs the migrations, creates a clerk;
2. starts uvicorn (``app.main:app``, ``--workers 2`` by default) on that database and drives
   ``POST /api/v1/incoming-documents`` with N concurrent keep-alive connections for a fixed time,
   every request a distinct valid document (received_at left to the server), from wrk (a C load
   generator, when installed) or Python threads (``--http-client``);
3. verifies the API's arrival numbers are exactly 1..N (no gap, no duplicate);
4. runs the same transaction in raw SQL with N concurrent connections (pgbench with a
   generated script by default, or psycopg threads): lock+increment the counter row, insert
   the document, insert its event, commit; verifies those numbers too;
5. prints a summary and writes ``bench/results/registration-<timestamp>.json``.

Only the project's own dependencies and the stdlib are used (httpx, psycopg, uvicorn,
SQLAlchemy); pgbench is the PostgreSQL client binary, wrk the Debian package of the HTTP
benchmarking tool (``apt-get install -y wrk``). See bench/README.md.
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
import string
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
from bench.machine import CLK_TCK, busy_pct, machine_times

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
    etc.), pgbench, the load generator (this process, and wrk when it drives the API), and
    everything else ("other jobs", including backends of other databases: a busy neighbour
    makes every number here worse, so it is reported).

    A child that exits inside the window (wrk) is read one last time from ``os.wait4`` via
    ``child_exited``: /proc only had it up to the last sample before it exited.
    """

    def __init__(self, dbname: str, server_pid: int | None = None, interval: float = 0.5) -> None:
        self.dbname = dbname
        self.server_pid = server_pid
        self.interval = interval
        self.me = os.getpid()
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.group: dict[int, str] = {}
        self.comm: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _classify(self, procs: dict[int, tuple[str, int, float, int]]) -> None:
        server = _descendants(procs, self.server_pid) if self.server_pid else set()
        for pid, (comm, ppid, cpu, _start) in procs.items():
            if pid not in self.group:
                self.comm[pid] = comm
                if pid == self.me:
                    self.group[pid] = "load_generator"
                elif pid in server:
                    self.group[pid] = "server"
                elif comm == "wrk" and ppid == self.me:
                    self.group[pid] = "load_generator"
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
        self.busy0, self.total0 = machine_times()
        self._sample(initial=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.busy1, self.total1 = machine_times()

    def child_exited(self, pid: int, cpu_s: float, comm: str) -> None:
        """The whole CPU time of a load-generator child born and reaped inside the window
        (``ru_utime + ru_stime`` from ``os.wait4``), replacing its last /proc reading."""
        self.first[pid] = 0.0
        self.last[pid] = cpu_s
        self.group[pid] = "load_generator"
        self.comm[pid] = comm

    def summary(self, done: int) -> dict[str, float]:
        groups: Counter[str] = Counter()
        wrk = 0.0
        for pid, cpu in self.last.items():
            groups[self.group[pid]] += cpu - self.first.get(pid, 0.0)
            if self.group[pid] == "load_generator" and self.comm.get(pid) == "wrk":
                wrk += cpu - self.first.get(pid, 0.0)
        busy = (self.busy1 - self.busy0) / CLK_TCK
        capacity = (self.total1 - self.total0) / CLK_TCK
        out: dict[str, float] = {"machine_busy_s": round(busy, 3),
                                 "machine_utilisation_pct": round(100 * busy / capacity, 1) if capacity else 0.0}
        for name in ("server", "postgres", "pgbench", "load_generator", "other_jobs"):
            out[f"{name}_s"] = round(groups.get(name, 0.0), 3)
        if wrk:
            out["load_generator_wrk_s"] = round(wrk, 3)  # part of load_generator_s; the rest is this script
        out["unaccounted_s"] = round(busy - sum(groups.values()), 3)  # kernel threads, sub-interval processes
        out["other_jobs_pct_of_machine"] = round(100 * out["other_jobs_s"] / capacity, 1) if capacity else 0.0
        if done:
            for name in ("server", "postgres", "pgbench", "load_generator", "load_generator_wrk", "other_jobs",
                         "unaccounted", "machine_busy"):
                if f"{name}_s" in out:
                    out[f"{name}_ms_per_tx"] = round(1000 * out[f"{name}_s"] / done, 3)
        return out


def wait_for_quiet(limit_pct: float, max_wait: float) -> list[float]:
    """Sample background load until it is under ``limit_pct`` or ``max_wait`` passes; returns the samples."""
    samples = [busy_pct()]
    deadline = time.monotonic() + max_wait
    while samples[-1] > limit_pct and time.monotonic() < deadline:
        print(f"  machine is {samples[-1]}% busy with other work; waiting for it to settle")
        time.sleep(4)
        samples.append(busy_pct())
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
              document_date: date, http_client: str = "stdlib") -> tuple[list[ClientResult], float, float]:
    """Run ``clients`` keep-alive client threads for ``duration`` seconds; returns results, elapsed and
    the start (perf_counter)."""
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


# --- the API side through wrk ------------------------------------------------------------------
#
# wrk is a C HTTP load generator (epoll, one event loop per thread, a LuaJIT state per thread):
# the HTTP counterpart of pgbench, so neither side of the comparison is limited by a Python
# client sharing the cores with the server. The Lua script below makes every request a distinct
# document, counts responses by status, and times each 201 from the moment request() builds it
# to the moment response() sees it (pairing them through the symbol echoed in the body), which
# is what the Python clients measure. wrk's own latency histogram covers every response and is
# adjusted for coordinated omission (stats_correct), so it is kept for reference only.
#
# wrk stops at -d and abandons the requests in flight, which the server may still commit: the
# database would then hold up to --clients documents wrk never saw answered, and the 1..N check
# could not be exact. So the script keeps its own clock (CLOCK_MONOTONIC through LuaJIT's FFI):
# after ``duration`` seconds a thread sends nothing more (request() returns an empty string,
# which wrk "writes" as zero bytes), waits for the answers to the POSTs it has in flight, and
# stops its event loop; when every thread has stopped, this script sends wrk SIGINT, which
# makes it print its report and call done() at once. -d is only a safety limit.

WRK_DRAIN_LIMIT_S = 30  # added to -d: the longest wait for the last answers before wrk gives up
WRK_JSON_MARK = "BENCH_WRK_JSON "
WRK_SEQ_FORMAT = "%d/BC-BENCH%02d"  # Lua string.format of document_body()'s symbol

WRK_LUA = r"""-- Generated by bench/registration.py for one wrk run; see run_wrk() there.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
int getpid(void);
int gettid(void);
]]
local C = ffi.C
local ts = ffi.new("bench_timespec")

local function now()  -- seconds, CLOCK_MONOTONIC (Python's time.monotonic())
   C.clock_gettime(1, ts)
   return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local PATH = $path
local HEADERS = { ["Authorization"] = $authorization, ["Content-Type"] = "application/json" }
local BODY_HEAD = $body_head
local BODY_TAIL = $body_tail
local SYMBOL = $symbol_format
local MARK = $mark

-- setup() and done() run in wrk's main Lua state; init(), request() and response() in each
-- thread's own state. done() reads the per-thread globals below with thread:get().
local threads = {}

function setup(thread)
   thread:set("thread_index", #threads)
   threads[#threads + 1] = thread
end

posts, answered, unmatched, parked = 0, 0, 0, 0
statuses, latencies, finished, first_errors = {}, {}, {}, {}
start_s, deadline_s, last_s, drained_s = nil, nil, nil, nil

local seq0, duration, seq = 0, 0, 0
local sent_at = {}

function init(args)
   -- args holds what follows "--" on wrk's command line, name=value (wrk may pass the URL too)
   local named = {}
   for i = 0, #args do
      local name, value = string.match(args[i] or "", "^(%w+)=(.*)$$")
      if name then
         named[name] = value
      end
   end
   seq0 = assert(tonumber(named.seq0), "seq0=N missing")
   duration = assert(tonumber(named.duration), "duration=S missing")
end

local function drain(t)
   -- After the deadline, once every POST this thread sent has its answer, stop its loop.
   if drained_s == nil and deadline_s ~= nil and t >= deadline_s and answered >= posts then
      drained_s = t
      wrk.thread:stop()
   end
end

function request()
   if C.gettid() == C.getpid() then
      -- wrk builds one request in its main thread to check the script; it is never sent.
      return wrk.format("POST", PATH, HEADERS, BODY_HEAD .. string.format(SYMBOL, 0, 0) .. BODY_TAIL)
   end
   local t = now()
   if start_s == nil then
      start_s, deadline_s = t, t + duration
   end
   if t >= deadline_s then
      parked = parked + 1
      drain(t)
      return ""  -- nothing more on this connection
   end
   seq = seq + 1
   posts = posts + 1
   local symbol = string.format(SYMBOL, seq0 + seq, thread_index)
   sent_at[symbol] = t
   return wrk.format("POST", PATH, HEADERS, BODY_HEAD .. symbol .. BODY_TAIL)
end

function response(status, headers, body)
   local t = now()
   answered = answered + 1
   last_s = t
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
   if status == 201 then
      finished[#finished + 1] = t
      local symbol = string.match(body, '"symbol"%s*:%s*"([^"]*)"')
      local t0 = symbol and sent_at[symbol]
      if t0 then
         sent_at[symbol] = nil
         latencies[#latencies + 1] = t - t0
      else
         unmatched = unmatched + 1
      end
   elseif #first_errors < 3 then
      first_errors[#first_errors + 1] = key .. ": " .. string.sub(body, 1, 300)
   end
   drain(t)
end

local function encode(v)
   local kind = type(v)
   if kind == "nil" then
      return "null"
   elseif kind == "boolean" then
      return tostring(v)
   elseif kind == "number" then
      if v ~= v or v == math.huge or v == -math.huge then
         return "null"
      elseif v == math.floor(v) and math.abs(v) < 2 ^ 53 then
         return string.format("%d", v)
      end
      return string.format("%.17g", v)
   elseif kind == "string" then
      local escaped = v:gsub('[%c"\\]', function(c)
         if c == '"' or c == "\\" then
            return "\\" .. c
         end
         return string.format("\\u%04x", c:byte())
      end)
      return '"' .. escaped .. '"'
   elseif kind == "table" then
      local parts = {}
      if #v > 0 or next(v) == nil then
         for i = 1, #v do
            parts[i] = encode(v[i])
         end
         return "[" .. table.concat(parts, ",") .. "]"
      end
      for k, item in pairs(v) do
         parts[#parts + 1] = encode(tostring(k)) .. ":" .. encode(item)
      end
      return "{" .. table.concat(parts, ",") .. "}"
   end
   return encode(tostring(v))
end

function done(summary, latency, requests)
   local per_thread = {}
   for i, thread in ipairs(threads) do
      local t = {}
      for _, name in ipairs({ "thread_index", "posts", "answered", "unmatched", "parked", "statuses",
                              "latencies", "finished", "first_errors", "start_s", "deadline_s",
                              "last_s", "drained_s" }) do
         t[name] = thread:get(name)
      end
      per_thread[i] = t
   end
   local ms = function(us) return us / 1000 end
   io.write(MARK, encode({
      requests = summary.requests,
      duration_us = summary.duration,
      bytes = summary.bytes,
      errors = summary.errors,
      latency_ms = {
         p50 = ms(latency:percentile(50)), p90 = ms(latency:percentile(90)),
         p99 = ms(latency:percentile(99)), max = ms(latency.max), mean = ms(latency.mean),
      },
      threads = per_thread,
   }), "\n")
   io.flush()
end
"""


def lua_string(value: str) -> str:
    """A Lua string literal of ``value``'s UTF-8 bytes (decimal escapes for anything unusual)."""
    out = []
    for byte in value.encode():
        out.append(chr(byte) if 32 <= byte < 127 and byte not in (34, 92) else f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def wrk_script(token: str, document_date: date) -> str:
    """The Lua script: the body is document_body()'s JSON around the symbol, byte for byte."""
    placeholder = "@@symbol@@"
    template = json.dumps({**document_body(0, 0, document_date), "symbol": placeholder}, ensure_ascii=False)
    head, tail = template.split(placeholder)
    for client, seq in ((0, 1), (1, 1_000_123), (7, 42)):
        lua_symbol = WRK_SEQ_FORMAT.replace("%d", str(seq), 1).replace("%02d", f"{client:02d}")
        if head + lua_symbol + tail != json.dumps(document_body(client, seq, document_date), ensure_ascii=False):
            raise AssertionError("the wrk body template does not match document_body()")
    values = {"path": API_PATH, "authorization": f"Bearer {token}", "body_head": head, "body_tail": tail,
              "symbol_format": WRK_SEQ_FORMAT, "mark": WRK_JSON_MARK}
    return string.Template(WRK_LUA).substitute({k: lua_string(v) for k, v in values.items()})


def wrk_version() -> str | None:
    proc = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    line = (proc.stdout or proc.stderr).splitlines()[0] if (proc.stdout or proc.stderr) else ""
    return line.split(" Copyright")[0].strip() or None


def wrk_threads_for(clients: int, threads: int) -> int:
    """wrk gives every thread connections // threads connections: keep the count exact."""
    return max(d for d in range(1, max(1, min(threads, clients)) + 1) if clients % d == 0)


def _task_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def run_wrk(base_url: str, token: str, clients: int, threads: int, duration: float, seq0: int,
            document_date: date, workdir: Path, tag: str) -> dict[str, object]:
    """One wrk run of ``duration`` seconds; returns the same summary as summarise() plus ``wrk``."""
    script = workdir / f"wrk-{tag}.lua"
    script.write_text(wrk_script(token, document_date), encoding="utf-8")
    out_path, err_path = workdir / f"wrk-{tag}.out", workdir / f"wrk-{tag}.err"
    cmd = ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{math.ceil(duration) + WRK_DRAIN_LIMIT_S}s",
           "--timeout", "60s", "--latency", "-s", str(script), base_url, "--", f"seq0={seq0}", f"duration={float(duration)!r}"]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
    launched = time.monotonic()
    status: int | None = None
    usage = None
    signalled = False
    seen_workers = False
    try:
        while True:
            pid, wait_status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status = wait_status
                break
            if err_path.stat().st_size:
                # A script that does not load makes wrk send GET / instead: never let it run.
                time.sleep(0.2)
                raise RuntimeError(f"wrk reported an error:\n{err_path.read_text(errors='replace')}")
            tasks = _task_count(proc.pid)
            seen_workers = seen_workers or tasks > 1
            late = time.monotonic() >= launched + duration
            if late and seen_workers and tasks <= 1 and not signalled:
                # Every thread has had the answers to all its POSTs and stopped: report now.
                os.kill(proc.pid, signal.SIGINT)
                signalled = True
            time.sleep(0.01 if late else 0.05)
    finally:
        if status is None:
            proc.kill()
            _, status, _ = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_bytes().decode(errors="replace")
    stderr = err_path.read_text(errors="replace")
    line = next((ln for ln in stdout.splitlines() if ln.startswith(WRK_JSON_MARK)), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed (exit {proc.returncode}): {shlex.join(cmd)}\n{stdout}\n{stderr}")
    data = json.loads(line[len(WRK_JSON_MARK):])
    report = [ln for ln in stdout.splitlines() if not ln.startswith(WRK_JSON_MARK)]
    return summarise_wrk(data, cmd, report, signalled, usage.ru_utime + usage.ru_stime, proc.pid, clients, threads)


def summarise_wrk(data: dict, cmd: list[str], report: list[str], signalled: bool, cpu_s: float, pid: int,
                  clients: int, threads: int) -> dict[str, object]:
    # A Lua table has no key for a nil value: every per-thread field may be missing.
    per_thread = [{"start_s": None, "deadline_s": None, "last_s": None, "drained_s": None, **t} for t in data["threads"]]
    statuses: Counter[str] = Counter()
    for t in per_thread:
        statuses.update({str(k): int(v) for k, v in dict(t["statuses"] or {}).items()})
    posts = sum(int(t["posts"]) for t in per_thread)
    answered = sum(int(t["answered"]) for t in per_thread)
    errors_by_kind = {k: int(v) for k, v in data["errors"].items()}
    if posts > answered:
        statuses["no_response"] = posts - answered  # sent, never answered: the server may have committed them
    if errors_by_kind.get("connect"):
        statuses["connect_error"] = errors_by_kind["connect"]
    total = sum(statuses.values())
    ok = statuses.get("201", 0)
    starts = [t["start_s"] for t in per_thread if t["start_s"] is not None]
    ends = [t["last_s"] for t in per_thread if t["last_s"] is not None]
    start = min(starts, default=0.0)
    elapsed = max(ends) - start if ends else 0.0
    latencies = [v for t in per_thread for v in (t["latencies"] or [])]
    unmatched = sum(int(t["unmatched"]) for t in per_thread)
    checks = []
    if answered != int(data["requests"]):
        checks.append(f"the script saw {answered} responses, wrk counted {data['requests']}")
    http_errors = sum(v for k, v in statuses.items() if k.isdigit() and int(k) > 399)
    if http_errors != errors_by_kind.get("status", 0):
        checks.append(f"the script saw {http_errors} responses > 399, wrk counted {errors_by_kind.get('status')}")
    if not signalled:
        checks.append("wrk ran until its -d safety limit: some thread never had all its answers")
    if posts > answered:
        checks.append(f"{posts - answered} POSTs got no response (abandoned by wrk or lost with the connection)")
    if unmatched:
        checks.append(f"{unmatched} responses 201 did not echo a symbol this run sent: no latency for them")
    for kind in ("connect", "read", "write", "timeout"):
        if errors_by_kind.get(kind):
            checks.append(f"wrk socket errors: {kind} {errors_by_kind[kind]}")
    return {
        "requests": total,
        "ok": ok,
        "errors": total - ok,
        "statuses": dict(statuses),
        "first_errors": [e for t in per_thread for e in (t["first_errors"] or [])][:5],
        "elapsed_s": round(elapsed, 3),
        "rate_per_s": round(ok / elapsed, 1) if elapsed else 0.0,
        "rate_by_quarter_per_s": (
            rate_by_quarter([ClientResult(finished=t["finished"] or []) for t in per_thread], start, elapsed)
            if elapsed else None
        ),
        **latency_summary(latencies),
        "wrk": {
            "command": shlex.join(cmd),
            "threads": threads,
            "connections": clients,
            "pid": pid,
            "cpu_s": round(cpu_s, 3),
            "posts_sent": posts,
            "responses": answered,
            "requests_completed": int(data["requests"]),
            "non_2xx_3xx": errors_by_kind.get("status", 0),
            "socket_errors": {k: errors_by_kind.get(k, 0) for k in ("connect", "read", "write", "timeout")},
            "duration_s": round(int(data["duration_us"]) / 1e6, 3),
            "stopped_after_drain": signalled,
            "drain_s": round(max(ends) - max(t["deadline_s"] for t in per_thread if t["deadline_s"]), 3)
            if ends else None,
            "unmatched_201": unmatched,
            "latency_ms_all_responses_wrk": {k: round(float(v), 3) for k, v in data["latency_ms"].items()},
            "checks": checks,
            "report": report,
        },
    }


def run_api_load(http_client: str, base_url: str, token: str, clients: int, duration: float, seq0: int,
                 document_date: date, workdir: Path, wrk_threads: int, tag: str) -> dict[str, object]:
    """Drive the API for ``duration`` seconds with the chosen client; returns summarise()'s dict."""
    if http_client == "wrk":
        if duration <= 0:
            return {"requests": 0, "ok": 0, "errors": 0, "statuses": {}, "first_errors": [], "elapsed_s": 0.0,
                    "rate_per_s": 0.0, "rate_by_quarter_per_s": None, **latency_summary([])}
        return run_wrk(base_url, token, clients, wrk_threads, duration, seq0, document_date, workdir, tag)
    results, elapsed, start = drive_api(base_url, token, clients, duration, seq0=seq0,
                                        document_date=document_date, http_client=http_client)
    return summarise(results, elapsed, start)


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
          f"{config['duration_s']} s per side, uvicorn workers={config['workers']}, app {config['app']}, "
          f"HTTP client {config['http_client']})")
    print(f"{'side':<28}{'ok':>10}{'errors':>10}{'req/s':>10}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}"
          f"{'max ms':>10}")
    sides = [("API (HTTP, uvicorn)", result["api"])]
    sides += [(f"raw SQL ({r['driver']})", r) for r in (result["raw_all"] or {}).values()]
    for name, side in sides:
        print(f"{name:<28}{fmt(side['ok'])}{fmt(side['errors'])}{fmt(side['rate_per_s'])}{fmt(side['p50_ms'])}"
              f"{fmt(side['p90_ms'])}{fmt(side['p99_ms'])}{fmt(side['max_ms'])}")
    for name, side in sides:
        quarters = side.get("rate_by_quarter_per_s")
        print(f"rate by quarter of the window, {name}: {'-' if quarters is None else quarters} req/s")
    api = result["api"]
    if api.get("warmup_errors") or api.get("errors"):
        print(f"API errors: warm-up {api.get('warmup_errors')}, measured {api['errors']}; statuses {api['statuses']}; "
              f"first: {(api['first_errors'] or api.get('warmup_first_errors') or ['-'])[0]}")
    for label, run in (("warm-up", api.get("warmup_wrk")), ("measured", api.get("wrk"))):
        if run:
            sockets = ", ".join(f"{k} {v}" for k, v in run["socket_errors"].items() if v) or "none"
            print(f"wrk {label}: {run['posts_sent']} POSTs, {run['responses']} answered (wrk counted "
                  f"{run['requests_completed']}, {run['non_2xx_3xx']} non-2xx/3xx, socket errors: {sockets}); "
                  f"last answer {run['drain_s']} s after the deadline; wrk CPU {run['cpu_s']} s")
            for check in run["checks"]:
                print(f"  WARNING: wrk {label}: {check}")
    ratio = result["ratio_api_to_raw"]
    if ratio is not None:
        print(f"ratio API/raw ({result['raw']['driver']}) = {ratio:.3f}  (target >= {result['target_ratio']})  "
              f"{'MET' if result['target_met'] else 'NOT MET'}")
    for key, v in result["verification"].items():
        if v:
            print(f"verify {key:<4}: count={v['count']} min={v['min']} max={v['max']} distinct={v['distinct']} "
                  f"events={v['events']} counter={v['counter']} expected={v['expected']} "
                  f"-> {'OK' if v['gapless_unique'] else 'FAILED'}")
            if v["expected"] is not None and v["expected"] != v["count"]:
                print(f"  MISMATCH: the database holds {v['count']} documents of register {v['register']} but the "
                      f"load generator counted {v['expected']} successes (warm-up + measured)")
    for name, side in sides:
        c = side["cpu"]
        parts = ", ".join(f"{group.replace('_', ' ')} {c[f'{group}_ms_per_tx']}"
                          + (f" (of which wrk {c['load_generator_wrk_ms_per_tx']})"
                             if group == "load_generator" and c.get("load_generator_wrk_ms_per_tx") else "")
                          for group in ("server", "postgres", "pgbench", "load_generator", "other_jobs")
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
    parser.add_argument("--http-client", choices=sorted([*POSTERS, "wrk"]), default=None,
                        help="API load generator: wrk (C, epoll; the HTTP counterpart of pgbench; default when "
                        "installed), stdlib http.client threads (the default without wrk) or httpx threads")
    parser.add_argument("--wrk-threads", type=int, default=2,
                        help="wrk -t (default 2, like --pgbench-threads); lowered to divide --clients")
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
    wrk_found = shutil.which("wrk") is not None
    if args.http_client is None:
        args.http_client = "wrk" if wrk_found else "stdlib"
        if not wrk_found:
            print("note: wrk not found (apt-get install -y wrk); driving the API with stdlib http.client threads")
    elif args.http_client == "wrk" and not wrk_found:
        parser.error("--http-client wrk: wrk is not installed (apt-get install -y wrk)")
    wrk_threads = wrk_threads_for(args.clients, args.wrk_threads)
    if args.http_client == "wrk" and wrk_threads != args.wrk_threads:
        print(f"note: wrk -t {wrk_threads} instead of {args.wrk_threads}, so that each thread has the same "
              f"number of the {args.clients} connections")

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
        # Warm-up and measured run use different symbol numbers (seq0), so no body repeats.
        warm = run_api_load(args.http_client, server.base_url, token, args.clients, args.warmup, 0,
                            document_date, tmpdir, wrk_threads, "warm")
        warm_ok = int(warm["ok"])
        warm_errors = int(warm["errors"])
        print(f"measuring the API for {args.duration} s with {args.http_client}")
        with CpuAccountant(dbname, server.process.pid) as api_cpu, LockSampler(pg.conninfo(dbname)) as api_locks:
            api = run_api_load(args.http_client, server.base_url, token, args.clients, args.duration, 1_000_000,
                               document_date, tmpdir, wrk_threads, "run")
        if "wrk" in api:
            api_cpu.child_exited(int(api["wrk"].pop("pid")), float(api["wrk"]["cpu_s"]), "wrk")
            api["warmup_wrk"] = warm.get("wrk")
            if warm.get("wrk"):
                warm["wrk"].pop("pid", None)
        api["client"] = args.http_client
        api["warmup_ok"] = warm_ok
        api["warmup_errors"] = warm_errors
        api["warmup_first_errors"] = warm["first_errors"]
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
                "http_client": args.http_client,
                "api_client": (
                    f"{wrk_version()}: {wrk_threads} threads, {args.clients} keep-alive connections, one distinct "
                    "document per request (Lua script)" if args.http_client == "wrk" else
                    f"{args.clients} threads, one keep-alive {args.http_client} connection each"
                ),
                "wrk_threads": wrk_threads if args.http_client == "wrk" else None,
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
                    "with wrk, api latencies are timed by its Lua script from building each request to its 201 "
                    "response (paired through the symbol the response echoes); wrk's own histogram (all responses, "
                    "corrected for coordinated omission) is under api.wrk.latency_ms_all_responses_wrk"
                ),
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
