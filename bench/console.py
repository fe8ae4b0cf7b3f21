"""Web console pages at scale: server time and bytes of the work list, the documents list and the
document page, signed in as each kind of generated user.

    .venv/bin/python bench/console.py --reuse congvan_audit_<stamp>            # a database bench/audit.py kept
    .venv/bin/python bench/console.py --reuse <db> --requests 50 --profile     # + in-process SQL breakdown, plans

The database is one ``bench/audit.py --keep`` generated (``congvan generate``: its users are
``gen_vanthu`` clerk, ``gen_chanhvp`` office leader, ``gen_lanhdao`` leader, ``gen_truong_<unit>``
unit leaders, ``gen_cv<i>_<unit>`` specialists, all with the generator's default password).

1. starts uvicorn (``python -m uvicorn app.main:app``, one worker; bench.common.server) on it;
2. signs in to the console as a browser does (GET /console/login, the form's ``csrf_token``, POST
   username/password/csrf_token; the session is the cookie) as each user of ``--users``;
3. for each user and page: ``--warmup`` requests, then ``--requests`` timed ones over one keep-alive
   connection; p50/p95/max (nearest rank) of the client's wall time per request (localhost, so this
   is the server's time plus a loopback round trip), and the ``Server-Timing`` header if the app
   sends one. Pages: the work list ``/console/``; the documents list ``/console/documents`` (no
   filter, ``q=thong tu``, ``urgency=urgent``, both); the document page of three documents the user
   may see: the one with the longest history (most events), the newest one, and the first of the
   user's own work list (a page a user opens from the list, with its action forms);
4. bytes transferred uncached: the page's body (as sent: the request says ``Accept-Encoding: gzip,
   deflate, br`` as a browser does, and the answer's ``Content-Encoding`` is recorded) plus the static
   assets every page loads (console.css, htmx.min.js), measured the same way;
5. with ``--profile``: the same pages in-process (``app.main.create_app`` on the same database,
   FastAPI's TestClient), every SQL statement timed by an engine listener, and ``EXPLAIN (ANALYZE,
   BUFFERS)`` of the slow ones written to ``bench/plans/console-<backend>-<N>-<page>-<user>-<i>.txt``;
6. writes ``bench/results/console-postgresql-<N>-<timestamp>.json`` and prints a table. The database
   is never dropped.

Target (the web console issue, at 1 000 000 documents on PostgreSQL): server time p95 < 100 ms per
page, each page < 150 kB transferred uncached.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the repository first

from bench.audit import (  # noqa: E402 - the audit benchmark's database, facts and load meter, not copies
    LEADER_PASSWORD,
    OthersMeter,
    _explain,
    _heavy,
    _short,
    audit_machine_facts,
    database_facts,
    open_database,
)
from bench.common import ROOT  # noqa: E402
from bench.common.machine import wait_for_quiet  # noqa: E402
from bench.common.processes import memory_kb  # noqa: E402
from bench.common.results import command_line, git_commit, shown, uncommitted, write_json  # noqa: E402
from bench.common.server import serving, unwind_on_signals  # noqa: E402
from bench.common.stats import percentile  # noqa: E402

TARGET_MS = 100.0
TARGET_BYTES = 150_000
BROWSER_ENCODINGS = "gzip, deflate, br"
ASSETS = ["/console/static/console.css", "/console/static/htmx.min.js"]
# The generated staff (app.services.generator.ensure_staff); a unit leader and a specialist of one unit.
DEFAULT_USERS = "clerk=gen_vanthu,office_leader=gen_chanhvp,leader=gen_lanhdao,unit_leader=gen_truong_khtc," \
                "specialist=gen_cv1_khtc"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
DOCUMENT_LINK = re.compile(r'href="/console/documents/(\d+)"')
LIST_FILTERS: list[tuple[str, dict[str, str]]] = [
    ("documents", {}),
    ("documents q=thong tu", {"q": "thong tu"}),
    ("documents urgency=urgent", {"urgency": "urgent"}),
    ("documents q=thong tu&urgency=urgent", {"q": "thong tu", "urgency": "urgent"}),
]


@dataclass
class Page:
    name: str  # work list | documents … | document:<kind>
    path: str
    params: dict[str, str] = field(default_factory=dict)
    note: str = ""

    @property
    def url(self) -> str:
        return self.path + (f"?{urlencode(self.params)}" if self.params else "")


# --- signing in --------------------------------------------------------------------------------------


def sign_in(base_url: str, username: str, password: str) -> httpx.Client:
    """A client with the console's session cookie, signed in through the login form as a browser is."""
    client = httpx.Client(base_url=base_url, timeout=600, follow_redirects=False,
                          headers={"Accept-Encoding": BROWSER_ENCODINGS, "Accept": "text/html"})
    form = client.get("/console/login")
    form.raise_for_status()
    found = CSRF.search(form.text)
    if not found:
        raise RuntimeError("the login form has no csrf_token")
    answer = client.post("/console/login", data={"username": username, "password": password,
                                                 "csrf_token": found.group(1)})
    if answer.status_code != 303:
        raise RuntimeError(f"signing in as {username}: {answer.status_code} {answer.text[:300]}")
    return client


# --- which documents the document page shows ----------------------------------------------------------


def pick_documents(db, usernames: list[str], top: int = 2000) -> dict[str, dict[str, dict[str, object]]]:
    """Per user, the documents of their document page: the longest history they may see (most
    events, among the ``top`` longest of the database), and the newest they may see."""
    from sqlalchemy import func, select

    from app.db import make_engine, make_sessionmaker
    from app.models import DocumentEvent, IncomingDocument
    from app.services import organisation as org
    from app.services.access import visible_documents

    engine = make_engine(db.settings)
    picks: dict[str, dict[str, dict[str, object]]] = {}
    try:
        with make_sessionmaker(engine, read_only=True)() as session:
            started = time.perf_counter()
            longest = session.execute(
                select(DocumentEvent.document_id, func.count().label("n")).group_by(DocumentEvent.document_id)
                .order_by(func.count().desc(), DocumentEvent.document_id).limit(top)).all()
            events_of = {d: n for d, n in longest}
            print(f"  the {top} longest histories: {events_of[longest[0][0]]}–{longest[-1][1]} events "
                  f"({time.perf_counter() - started:.1f} s)", flush=True)
            for username in usernames:
                user = org.get_user(session=session, username=username)
                if user is None:
                    raise RuntimeError(f"no user {username} in {db.name}")
                seen = visible_documents(user)
                visible = set(session.scalars(select(IncomingDocument.id).where(
                    IncomingDocument.id.in_(list(events_of)), seen)))
                long_id = max(visible, key=lambda d: (events_of[d], -d)) if visible else None
                newest = session.scalar(select(IncomingDocument.id).where(seen)
                                        .order_by(IncomingDocument.id.desc()).limit(1))
                picks[username] = {}
                for kind, doc_id in (("long history", long_id), ("newest", newest)):
                    if doc_id is None:
                        continue
                    picks[username][kind] = _document_facts(session, doc_id)
    finally:
        engine.dispose()
    return picks


def _document_facts(session, doc_id: int) -> dict[str, object]:
    from sqlalchemy import func, select

    from app.models import Assignment, DocumentEvent, IncomingDocument

    doc = session.get(IncomingDocument, doc_id)
    return {"id": doc_id, "state": doc.state, "urgency": doc.urgency, "confidentiality": doc.confidentiality,
            "events": session.scalar(select(func.count()).where(DocumentEvent.document_id == doc_id)),
            "assignments": session.scalar(select(func.count()).where(Assignment.document_id == doc_id)),
            "received_at": str(doc.received_at)}


# --- measuring ---------------------------------------------------------------------------------------


def fetch(client: httpx.Client, url: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.get(url)
    response.read()
    return (time.perf_counter() - started) * 1000, response


def measure(client: httpx.Client, page: Page, args: argparse.Namespace, meter: OthersMeter) -> dict[str, object]:
    for _ in range(args.warmup):
        fetch(client, page.url)
    latencies: list[float] = []
    server_timings: list[str] = []
    statuses: set[int] = set()
    response = None
    with meter:
        for _ in range(args.requests):
            ms, response = fetch(client, page.url)
            latencies.append(ms)
            statuses.add(response.status_code)
            if "server-timing" in response.headers:
                server_timings.append(response.headers["server-timing"])
    assert response is not None
    values = sorted(latencies)
    body = response.content
    if args.dump_bodies:
        args.dump_bodies.mkdir(parents=True, exist_ok=True)
        (args.dump_bodies / (re.sub(r"[^\w.=-]+", "_", f"{page.name}-{client.user}") + ".html")).write_bytes(body)
    return {
        "page": page.name, "url": page.url, "note": page.note, "n": len(values),
        "p50_ms": round(percentile(values, 50), 1), "p95_ms": round(percentile(values, 95), 1),
        "max_ms": round(values[-1], 1), "min_ms": round(values[0], 1), "mean_ms": round(sum(values) / len(values), 1),
        "statuses": sorted(statuses), "body_bytes": len(body), "wire_bytes": response.num_bytes_downloaded,
        "content_encoding": response.headers.get("content-encoding"),
        "gzip6_bytes": len(gzip.compress(body, 6)), "cache_control": response.headers.get("cache-control"),
        "server_timing": server_timings[:3] or None, "body_sha256": hashlib.sha256(body).hexdigest()[:16],
        "rows": len(set(DOCUMENT_LINK.findall(body.decode(errors="replace")))),
        "others_cpu_pct": meter.others_pct(),
    }


def measure_assets(client: httpx.Client) -> list[dict[str, object]]:
    out = []
    for path in ASSETS:
        ms, response = fetch(client, path)
        body = response.content
        out.append({"path": path, "status": response.status_code, "body_bytes": len(body),
                    "wire_bytes": response.num_bytes_downloaded,
                    "content_encoding": response.headers.get("content-encoding"),
                    "gzip6_bytes": len(gzip.compress(body, 6)), "cache_control": response.headers.get("cache-control"),
                    "etag": response.headers.get("etag"), "last_modified": response.headers.get("last-modified"),
                    "ms": round(ms, 1)})
    return out


def first_work_item(client: httpx.Client) -> int | None:
    _, response = fetch(client, "/console/")
    found = DOCUMENT_LINK.search(response.text)
    return int(found.group(1)) if found else None


# --- the SQL behind each page, in-process -----------------------------------------------------------------


def profile(args: argparse.Namespace, db, users: dict[str, str], pages: dict[str, list[Page]],
            plans_dir: Path) -> list[dict[str, object]]:
    """Each page once more in-process, its statements timed; EXPLAIN ANALYZE of the slow ones."""
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from app.main import create_app

    app = create_app(db.settings)
    engine = app.state.engine
    captured: list[dict[str, object]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("started", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        started = conn.info["started"].pop()
        captured.append({"ms": (time.perf_counter() - started) * 1000, "statement": statement,
                         "parameters": parameters})

    out: list[dict[str, object]] = []
    plans_dir.mkdir(parents=True, exist_ok=True)
    with TestClient(app, follow_redirects=False) as browser:
        for kind, username in users.items():
            browser.cookies.clear()
            form = browser.get("/console/login")
            browser.post("/console/login", data={"username": username, "password": args.password,
                                                 "csrf_token": CSRF.search(form.text).group(1)})
            for page in pages[username]:
                if args.only and not re.search(args.only, page.name):
                    continue
                browser.get(page.url)  # warm
                captured.clear()
                started = time.perf_counter()
                response = browser.get(page.url)
                total = (time.perf_counter() - started) * 1000
                statements = list(captured)
                sql_ms = sum(s["ms"] for s in statements)
                slow = sorted(statements, key=lambda s: -s["ms"])
                entry = {"user": username, "kind": kind, "page": page.name, "url": page.url,
                         "status": response.status_code, "total_ms": round(total, 1), "sql_ms": round(sql_ms, 1),
                         "statements": len(statements),
                         "slowest": [{"ms": round(s["ms"], 1), "sql": s["statement"][:160].replace("\n", " ")}
                                     for s in slow[:4]],
                         "plans": []}
                for i, s in enumerate(slow, 1):
                    if s["ms"] < args.plan_over_ms or not _heavy(s["statement"]):
                        break
                    name = re.sub(r"[^\w=-]+", "_", f"{page.name}-{username}").strip("_")
                    path = plans_dir / f"console-{db.backend}-{args.documents_label}-{name}-{i}.txt"
                    with app.state.read_sessionmaker() as session:
                        plan = _explain(session, db.backend, s["statement"], s["parameters"])
                    params = s["parameters"]
                    params = params if len(repr(params)) < 2000 else f"{repr(params)[:2000]}…"
                    path.write_text(f"-- console {page.url} as {username} ({kind}): statement {i} by time, "
                                    f"{s['ms']:.1f} ms in the page (page {total:.0f} ms, SQL {sql_ms:.0f} ms, "
                                    f"{len(statements)} statements)\n-- parameters: {params}\n\n"
                                    f"{_short(s['statement'])}\n\n{plan}\n")
                    entry["plans"].append(str(path.relative_to(ROOT)))
                out.append(entry)
                print(f"  profile {username:<16} {page.name:<38} page {total:7.1f} ms  SQL {sql_ms:7.1f} ms in "
                      f"{len(statements):>2} statements; slowest {slow[0]['ms'] if slow else 0:.1f} ms", flush=True)
    engine.dispose()
    return out


# --- output ---------------------------------------------------------------------------------------------


def print_table(result: dict[str, object]) -> None:
    assets = result["assets"]
    asset_body = sum(a["body_bytes"] for a in assets)  # type: ignore[union-attr]
    asset_wire = sum(a["wire_bytes"] for a in assets)  # type: ignore[union-attr]
    print(f"\n{result['database_name']}: {result['database'].get('documents', '?'):,} documents")
    print("assets: " + ", ".join(f"{a['path'].rsplit('/', 1)[-1]} {a['body_bytes']:,} B (wire {a['wire_bytes']:,}, "
                                 f"{a['content_encoding'] or 'no encoding'}, gzip-6 would be {a['gzip6_bytes']:,})"
                                 for a in assets))  # type: ignore[union-attr]
    print(f"{'user':<16} {'page':<38} {'n':>3} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'page B':>8} "
          f"{'+assets B':>9} {'rows':>4} {'oth%':>4}  met")
    for r in result["measurements"]:  # type: ignore[union-attr]
        total = r["wire_bytes"] + asset_wire
        met = r["p95_ms"] < TARGET_MS and total < TARGET_BYTES and r["statuses"] == [200]
        status = "" if r["statuses"] == [200] else f"  statuses {r['statuses']}"
        print(f"{r['user']:<16} {r['page']:<38} {r['n']:>3} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} "
              f"{r['max_ms']:>8.1f} {r['wire_bytes']:>8,} {total:>9,} {r['rows']:>4} {r['others_cpu_pct']:>4.0f}  "
              f"{'yes' if met else 'NO'}{status}")
    print(f"(+assets = the page as sent + {asset_wire:,} B of assets as sent; bodies uncompressed "
          f"{asset_body:,} B of assets)")


# --- main -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reuse", required=True, help="the PostgreSQL database to measure (bench/audit.py --keep)")
    p.add_argument("--users", default=DEFAULT_USERS, help="kind=username,… (default: %(default)s)")
    p.add_argument("--password", default=LEADER_PASSWORD, help="the generated users' password")
    p.add_argument("--requests", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--only", default=None, help="regex: measure only matching page names")
    p.add_argument("--app", default="app.main:app",
                   help="the ASGI app uvicorn serves (a bench/variants module with PYTHONPATH=bench/variants)")
    p.add_argument("--profile", action="store_true", help="in-process SQL breakdown and plans after the run")
    p.add_argument("--plan-over-ms", type=float, default=20.0, help="EXPLAIN statements slower than this")
    p.add_argument("--dump-bodies", type=Path, default=None, help="write each page's last body here")
    p.add_argument("--quiet-below", type=float, default=20.0)
    p.add_argument("--quiet-wait", type=float, default=30.0)
    p.add_argument("--tag", default="")
    p.add_argument("--pg-host", default="127.0.0.1")
    p.add_argument("--pg-port", type=int, default=5432)
    p.add_argument("--pg-user", default="postgres")
    args = p.parse_args(argv)
    args.backend = "postgresql"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    unwind_on_signals()
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    db = open_database(args, stamp)  # --reuse: never created, never dropped
    users = dict(item.split("=", 1) for item in args.users.split(","))
    result: dict[str, object] = {
        "benchmark": "console", "tag": args.tag, "command": shlex.join(command_line()),
        "started_at": datetime.now().astimezone().isoformat(), "database_name": db.name,
        "git": {"commit": git_commit(), "dirty": uncommitted("app", "migrations")},
        "config": {"requests": args.requests, "warmup": args.warmup, "users": users,
                   "accept_encoding": BROWSER_ENCODINGS, "server": f"python -m uvicorn {args.app} (1 worker)",
                   "env": {k: os.environ[k] for k in ("PGOPTIONS", "CONGVAN_EXACT_TOTAL_UP_TO", "PYTHONPATH")
                           if k in os.environ}},
        "target": {"p95_ms": TARGET_MS, "bytes": TARGET_BYTES},
    }
    log_path = Path(tempfile.mkstemp(prefix="congvan-console-server-", suffix=".log")[1])
    try:
        result["machine"] = audit_machine_facts("postgresql", db.conninfo)
        today = datetime.now(db.settings.tz).date()
        result["database"] = database_facts(db, (today - timedelta(days=365), today))
        args.documents_label = result["database"]["documents"]  # type: ignore[index]
        print(f"database: {json.dumps(result['database'], default=str)}", flush=True)
        picks = pick_documents(db, list(users.values()))
        result["documents_picked"] = picks
        out = ROOT / "bench" / "results" / f"console-postgresql-{args.documents_label}-{stamp}.json"
        measurements: list[dict[str, object]] = []
        pages: dict[str, list[Page]] = {}
        with serving(db.settings, log_path, app=args.app) as server:
            pid = server.process.pid
            result["server"] = {"rss_kb_after_start": memory_kb(pid).get("VmRSS")}
            for kind, username in users.items():
                client = sign_in(server.base_url, username, args.password)
                client.user = username  # type: ignore[attr-defined]
                if "assets" not in result:
                    result["assets"] = measure_assets(client)
                work_item = first_work_item(client)
                user_pages = [Page("work list", "/console/")]
                user_pages += [Page(name, "/console/documents", params) for name, params in LIST_FILTERS]
                for doc_kind, facts in picks.get(username, {}).items():
                    user_pages.append(Page(f"document: {doc_kind}", f"/console/documents/{facts['id']}",
                                           note=json.dumps(facts, default=str)))
                if work_item is not None:
                    with_facts = _facts_of(db, work_item)
                    picks[username]["first on the work list"] = with_facts
                    user_pages.append(Page("document: first on the work list", f"/console/documents/{work_item}",
                                           note=json.dumps(with_facts, default=str)))
                pages[username] = user_pages
                for page in user_pages:
                    if args.only and not re.search(args.only, page.name):
                        continue
                    before = wait_for_quiet(args.quiet_below, args.quiet_wait, pause_s=2)[-1]
                    meter = OthersMeter(pid, db.name)
                    m = {"user": username, "kind": kind, **measure(client, page, args, meter),
                         "machine_busy_before_pct": before}
                    measurements.append(m)
                    print(f"  {username:<16} {page.name:<38} p50 {m['p50_ms']:7.1f}  p95 {m['p95_ms']:7.1f}  "
                          f"max {m['max_ms']:7.1f} ms  {m['body_bytes']:>7,} B  rows {m['rows']}  "
                          f"others {m['others_cpu_pct']}%  {m['statuses']}", flush=True)
                    result["measurements"] = measurements
                    write_json(out, result)
                client.close()
            result["server"].update(memory_kb(pid))  # type: ignore[union-attr]
        result["measurements"] = measurements
        result["server_log_tail"] = log_path.read_text(errors="replace").splitlines()[-10:]
        write_json(out, result)
        if args.profile and args.app != "app.main:app":
            print("--profile measures the shipped app in-process, not --app: skipped", flush=True)
        elif args.profile:
            result["profile"] = profile(args, db, users, pages, ROOT / "bench" / "plans")
            write_json(out, result)
        result["finished_at"] = datetime.now().astimezone().isoformat()
        write_json(out, result)
        print_table(result)
        print(f"\nresults: {shown(out)}\ndatabase kept: {db.name}")
        return 0 if all(m["statuses"] == [200] for m in measurements) else 1
    finally:
        import shutil

        shutil.rmtree(db.settings.data_dir, ignore_errors=True)  # only the server's secret key
        log_path.unlink(missing_ok=True)


def _facts_of(db, doc_id: int) -> dict[str, object]:
    from app.db import make_engine, make_sessionmaker

    engine = make_engine(db.settings)
    try:
        with make_sessionmaker(engine, read_only=True)() as session:
            return _document_facts(session, doc_id)
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
