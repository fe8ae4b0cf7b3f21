"""The run, start to end: a fresh database, the API side, the raw side, verification, the result.

The order matters: the API side runs first on an empty table and the raw side after it, each
after waiting for a quiet machine and with its CPU and lock watched; the database is dropped
however the run ends (``unwind_on_signals``).
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sqlite3
import tempfile
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import bench.registration
from app.config import Settings
from bench.common import ROOT
from bench.common.accounts import login
from bench.common.machine import STACK, machine_facts, wait_for_quiet
from bench.common.postgres import Pg, postgresql_facts
from bench.common.results import command_line, git_commit, shown, uncommitted, write_json
from bench.common.server import serving, unwind_on_signals
from bench.registration.api import POSTERS, run_api_load
from bench.registration.observe import CpuAccountant, LockSampler
from bench.registration.raw import raw_context, run_pgbench, run_psycopg
from bench.registration.report import print_summary
from bench.registration.verify import verify_numbers, verify_numbers_sqlite
from bench.registration.workload import CLERK, PASSWORD, RAW_REGISTER, prepare_database
from bench.registration.wrk import wrk_threads_for, wrk_version

# Stored in every result: how to read its numbers.
NOTES = [
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
]
PG_SETTINGS = ["fsync", "synchronous_commit", "wal_sync_method", "shared_buffers", "max_connections", "commit_delay"]


def run_facts(pg: Pg, dbname: str) -> tuple[dict[str, object], dict[str, object]]:
    """The machine (with PostgreSQL's settings that bear on commit cost) and the commit measured,
    with whether app/ or migrations/ had uncommitted changes."""
    machine = {
        **machine_facts([*STACK, "httpx", "psycopg", "uvloop", "httptools"]),
        **postgresql_facts(pg.conninfo(dbname), PG_SETTINGS, with_units=False),
    }
    return machine, {"commit": git_commit(), "app_uncommitted_changes": bool(uncommitted("app", "migrations"))}


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, int]:
    """The options, with the HTTP client chosen and the wrk thread count that divides the clients."""
    parser = argparse.ArgumentParser(prog="python -m bench.registration",
                                     description=bench.registration.__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql",
                        help="database the API runs on; sqlite: the data directory's file (a temporary directory), "
                        "no raw side and no lock sampling (default postgresql)")
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
    if args.backend == "sqlite":
        args.raw = "none"  # pgbench speaks PostgreSQL only
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

    return args, wrk_threads


@dataclass
class Run:
    """One run's database and the dates every document carries."""

    pg: Pg
    dbname: str
    tmpdir: Path
    settings: Settings
    document_date: date
    year: int
    wrk_threads: int

    @property
    def conninfo(self) -> str:
        return self.pg.conninfo(self.dbname)

    @property
    def on_sqlite(self) -> bool:
        return self.settings.database_url is None

    def lock_sampler(self) -> LockSampler | nullcontext:
        """The counter lock's holder, sampled on PostgreSQL; SQLite has no view of its lock."""
        return nullcontext() if self.on_sqlite else LockSampler(self.conninfo)

    def verify(self, register_code: str, expected: int) -> dict[str, object]:
        if self.on_sqlite:
            return verify_numbers_sqlite(self.tmpdir / "congvan.db", register_code, self.year, expected)
        return verify_numbers(self.conninfo, register_code, self.year, expected)


def api_side(args: argparse.Namespace, run: Run) -> tuple[dict[str, object], int]:
    """The API under load: warm-up, then the measured window with CPU and lock watched; the server
    is stopped before the raw side. Returns the side's summary and the warm-up's successes."""
    with serving(run.settings, run.tmpdir / "uvicorn.log", app=args.app, workers=args.workers) as server:
        token = login(server.base_url, CLERK, PASSWORD)
        print(f"uvicorn up at {server.base_url} with {args.workers} worker(s); warming up {args.warmup} s")
        # Warm-up and measured run use different symbol numbers (seq0), so no body repeats.
        warm = run_api_load(args.http_client, server.base_url, token, args.clients, args.warmup, 0,
                            run.document_date, run.tmpdir, run.wrk_threads, "warm")
        print(f"measuring the API for {args.duration} s with {args.http_client}")
        with CpuAccountant(run.dbname, server.process.pid) as api_cpu, run.lock_sampler() as api_locks:
            api = run_api_load(args.http_client, server.base_url, token, args.clients, args.duration, 1_000_000,
                               run.document_date, run.tmpdir, run.wrk_threads, "run")
    if "wrk" in api:
        api_cpu.child_exited(int(api["wrk"].pop("pid")), float(api["wrk"]["cpu_s"]), "wrk")
        api["warmup_wrk"] = warm.get("wrk")
        if warm.get("wrk"):
            warm["wrk"].pop("pid", None)
    api["client"] = args.http_client
    api["warmup_ok"] = int(warm["ok"])
    api["warmup_errors"] = int(warm["errors"])
    api["warmup_first_errors"] = warm["first_errors"]
    api["lock"] = api_locks.summary() if api_locks is not None else None
    api["cpu"] = api_cpu.summary(int(api["ok"]))
    return api, int(warm["ok"])


def raw_side(args: argparse.Namespace, run: Run, background: dict[str, object]) -> tuple[dict[str, dict], int]:
    """The same transaction in raw SQL, by each driver asked for, each after waiting for quiet;
    returns the sides by driver and the warm-ups' successes."""
    raws: dict[str, dict[str, object]] = {}
    warm_raw = 0
    if args.raw == "none":
        return raws, warm_raw
    ctx = raw_context(run.conninfo, run.settings.tz, run.document_date)
    for driver in {"both": ["pgbench", "psycopg"], "none": []}.get(args.raw, [args.raw]):
        background[f"before_raw_{driver}_pct"] = wait_for_quiet(args.quiet_below, args.quiet_wait)
        print(f"raw SQL via {driver}: warming up {args.warmup} s, measuring {args.duration} s")
        if driver == "pgbench":
            warm = run_pgbench(run.pg, run.dbname, ctx, args.clients, args.warmup, run.tmpdir, args.pgbench_threads,
                               "warm")
            with CpuAccountant(run.dbname) as raw_cpu, LockSampler(run.conninfo) as raw_locks:
                raws[driver] = run_pgbench(run.pg, run.dbname, ctx, args.clients, args.duration, run.tmpdir,
                                           args.pgbench_threads, "run")
        else:
            warm = run_psycopg(run.pg, run.dbname, ctx, args.clients, args.warmup)
            with CpuAccountant(run.dbname) as raw_cpu, LockSampler(run.conninfo) as raw_locks:
                raws[driver] = run_psycopg(run.pg, run.dbname, ctx, args.clients, args.duration)
        warm_raw += int(warm["ok"])
        raws[driver]["warmup_ok"] = warm["ok"]
        raws[driver]["lock"] = raw_locks.summary()
        raws[driver]["cpu"] = raw_cpu.summary(int(raws[driver]["ok"]))
    return raws, warm_raw


def main(argv: list[str] | None = None) -> int:
    args, wrk_threads = parse_args(argv)
    unwind_on_signals()  # the finally below drops the database
    pg = Pg(args.pg_host, args.pg_port, args.pg_user)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    dbname = f"congvan_bench_{stamp.replace('-', '_')}"
    tmpdir = Path(tempfile.mkdtemp(prefix="congvan-bench-"))
    on_sqlite = args.backend == "sqlite"
    # SQLite: the data directory's file (what `congvan serve` uses with no database URL).
    settings = Settings(data_dir=tmpdir) if on_sqlite else Settings(database_url=pg.sqlalchemy_url(dbname), data_dir=tmpdir)
    today = datetime.now(UTC).astimezone(settings.tz).date()
    run = Run(pg, dbname, tmpdir, settings, today - timedelta(days=7), today.year, wrk_threads)

    print(f"database {settings.resolved_database_url if on_sqlite else dbname}; data dir {tmpdir}")
    if not on_sqlite:
        pg.create_database(dbname)
    try:
        prepare_database(settings)
        if on_sqlite:
            facts = {**machine_facts([*STACK, "httpx", "uvloop", "httptools"]), "sqlite": sqlite3.sqlite_version,
                     "data_dir_filesystem": _filesystem_of(tmpdir)}
            git = {"commit": git_commit(), "app_uncommitted_changes": bool(uncommitted("app", "migrations"))}
        else:
            facts, git = run_facts(pg, dbname)

        background: dict[str, object] = {"before_api_pct": wait_for_quiet(args.quiet_below, args.quiet_wait)}
        api, warm_ok = api_side(args, run)
        verify_api = run.verify("main", expected=warm_ok + int(api["ok"]))

        raws, warm_raw = raw_side(args, run, background)
        raw = next(iter(raws.values()), None)  # pgbench when both ran
        verify_raw = None
        ratio = None
        if raw is not None:
            raw_total = warm_raw + sum(int(r["ok"]) for r in raws.values())
            verify_raw = verify_numbers(run.conninfo, RAW_REGISTER, run.year, expected=raw_total)
            ratio = float(api["rate_per_s"]) / float(raw["rate_per_s"]) if raw["rate_per_s"] else 0.0
        result: dict[str, object] = {
            "benchmark": "registration",
            "timestamp": stamp,
            "command": shlex.join(command_line()),
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
                "backend": args.backend,
                "database": str(settings.resolved_database_url) if on_sqlite else dbname,
            },
            "machine": facts,
            "git": git,
            "api": api,
            "raw": raw,
            "raw_all": raws,
            "ratio_api_to_raw": None if ratio is None else round(ratio, 3),
            "target_ratio": 0.5,
            "target_met": None if ratio is None else ratio >= 0.5,
            "verification": {"api": verify_api, "raw": verify_raw},
            "background_busy_pct": background,
            "notes": NOTES,
        }
        print_summary(result)
        if not args.no_write:
            path = Path(args.results_dir) / f"registration-{stamp}.json"
            write_json(path, result)
            print(f"wrote {shown(path)}")
        ok = verify_api["gapless_unique"] and (verify_raw is None or verify_raw["gapless_unique"]) and api["errors"] == 0
        return 0 if ok else 1
    finally:
        if on_sqlite:
            if args.keep_db:
                print(f"kept {tmpdir}")
            else:
                shutil.rmtree(tmpdir, ignore_errors=True)
        else:
            if args.keep_db:
                print(f"kept database {dbname}")
            else:
                pg.drop_database(dbname)
            shutil.rmtree(tmpdir, ignore_errors=True)


def _filesystem_of(path: Path) -> str:
    """The mount the SQLite file lives on (``/proc/mounts``): what an fsync costs depends on it."""
    best = ("", "?", "?")
    for line in Path("/proc/mounts").read_text().splitlines():
        _dev, mount, fstype, *_ = line.split()
        if str(path.resolve()).startswith(mount) and len(mount) > len(best[0]):
            best = (mount, fstype, _dev)
    return f"{best[1]} on {best[0]} ({best[2]})"
