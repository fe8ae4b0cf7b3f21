"""Document reads under a flood of wrong logins (issue 11, finding 3): one command, JSON results.

    .venv/bin/python bench/login_flood.py                      # PostgreSQL, fresh database
    .venv/bin/python bench/login_flood.py --backend sqlite

1. creates a fresh database, migrates it, creates a clerk and registers one document over HTTP;
2. starts uvicorn (one worker, the deployed defaults) with the per-address login limit lifted
   (``CONGVAN_LOGIN_MAX_FAILURES_PER_CLIENT``), so that every flood attempt costs a password hash
   as it would from many addresses; the per-username limit stays, and each attempt names a new
   username, so no attempt is throttled: the worst case for the hashing threads;
3. ``--readers`` threads read the document (``GET /incoming-documents/{id}``, keep-alive) for
   ``--seconds`` with no flood (the baseline), then again for the same time while ``--clients``
   threads send ``--attempts`` wrong logins each (the bounded flood) as fast as the server answers;
4. prints and writes ``bench/results/login-flood-<backend>-<timestamp>.json``: read latency
   p50/p90/p99/max in both windows, the flood's answers by status and its rate.

The finding it answers: with hashing on the threads that serve documents, 48 wrong logins from 8
clients pushed a document read to 3.6 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from bench.common.accounts import ensure_user, login  # noqa: E402
from bench.common.machine import machine_facts  # noqa: E402
from bench.common.postgres import Pg  # noqa: E402
from bench.common.results import command_line, git_commit, write_json  # noqa: E402
from bench.common.server import serving, unwind_on_signals  # noqa: E402
from bench.common.stats import percentile  # noqa: E402

CLERK, PASSWORD = "flood_clerk", "a bench passphrase"


def read_latencies(base_url: str, token: str, path: str, readers: int, seconds: float,
                   during: threading.Event | None = None) -> list[float]:
    """Each reader's request latencies (ms) for ``seconds`` (from when ``during`` is set, if given)."""
    found: list[float] = []
    lock = threading.Lock()

    def reader() -> None:
        mine = []
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            client.get(path).raise_for_status()
            if during is not None:
                during.wait()
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                started = time.perf_counter()
                client.get(path).raise_for_status()
                mine.append((time.perf_counter() - started) * 1000)
        with lock:
            found.extend(mine)

    threads = [threading.Thread(target=reader) for _ in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(found)


def flood(base_url: str, clients: int, attempts: int, start: threading.Event) -> tuple[Counter, float]:
    answers: Counter = Counter()
    lock = threading.Lock()

    def client_thread(n: int) -> None:
        got = Counter()
        with httpx.Client(base_url=base_url, timeout=120) as client:
            start.wait()
            for i in range(attempts):
                response = client.post("/api/v1/auth/token",
                                       data={"username": f"nobody_{n}_{i}", "password": "wrong password"})
                got[response.status_code] += 1
        with lock:
            answers.update(got)

    threads = [threading.Thread(target=client_thread, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    began = time.perf_counter()
    start.set()
    for t in threads:
        t.join()
    return answers, time.perf_counter() - began


def summary(latencies: list[float]) -> dict[str, float | int | None]:
    return {"requests": len(latencies), "p50_ms": percentile(latencies, 50), "p90_ms": percentile(latencies, 90),
            "p99_ms": percentile(latencies, 99), "max_ms": latencies[-1] if latencies else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0, help="each window: baseline, then under the flood")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--attempts", type=int, default=6, help="wrong logins per flood client")
    parser.add_argument("--tag", default="")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    args = parser.parse_args()
    unwind_on_signals()
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    pg = Pg(args.pg_host, args.pg_port, args.pg_user)
    dbname = f"congvan_flood_{stamp}"
    with tempfile.TemporaryDirectory() as tmp:
        url = pg.sqlalchemy_url(dbname) if args.backend == "postgresql" else None
        if url:
            pg.create_database(dbname)
        try:
            settings = Settings(data_dir=Path(tmp), database_url=url)
            from app.migrate import upgrade_to_head

            upgrade_to_head(settings)
            ensure_user(settings, CLERK, PASSWORD, "clerk", "Văn thư thử")
            import os

            os.environ["CONGVAN_LOGIN_MAX_FAILURES_PER_CLIENT"] = "1000000"
            with serving(settings, Path(tmp) / "server.log") as server:
                token = login(server.base_url, CLERK, PASSWORD)
                created = httpx.post(f"{server.base_url}/api/v1/incoming-documents", timeout=30,
                                     headers={"Authorization": f"Bearer {token}"},
                                     json={"symbol": "1/CV-FLOOD", "document_date": "2026-11-02",
                                           "issuer": "Bộ Tài chính", "summary": "Về việc đo thử", "urgency": "normal"})
                created.raise_for_status()
                path = f"/api/v1/incoming-documents/{created.json()['id']}"
                baseline = read_latencies(server.base_url, token, path, args.readers, args.seconds)
                start = threading.Event()
                flood_result: dict[str, object] = {}

                def run_flood() -> None:
                    answers, took = flood(server.base_url, args.clients, args.attempts, start)
                    flood_result.update(answers=dict(answers), seconds=round(took, 2))

                flooding = threading.Thread(target=run_flood)
                flooding.start()
                under = read_latencies(server.base_url, token, path, args.readers, args.seconds, during=start)
                flooding.join()
        finally:
            if url:
                pg.drop_database(dbname)
    result = {
        "command": command_line(), "commit": git_commit(), "tag": args.tag, "backend": args.backend,
        "readers": args.readers, "seconds": args.seconds, "clients": args.clients, "attempts": args.attempts,
        "baseline": summary(baseline), "under_flood": summary(under), "flood": flood_result,
        "machine": machine_facts(),
    }
    print(f"reads, no flood:    {summary(baseline)}")
    print(f"reads, under flood: {summary(under)}")
    print(f"flood: {flood_result}")
    out = ROOT / "bench" / "results" / f"login-flood-{args.backend}-{stamp}{'-' + args.tag if args.tag else ''}.json"
    write_json(out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
