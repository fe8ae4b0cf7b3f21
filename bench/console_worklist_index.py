"""The console's work list query (app.services.documents.work_list_page) with and without a candidate
index on the priority order, per kind of user, on a reused database.

    .venv/bin/python bench/console_worklist_index.py --reuse <db>                 # the candidate below
    .venv/bin/python bench/console_worklist_index.py --reuse <db> --index "CREATE INDEX …"

For each user it calls ``work_list_page`` as the work list page does (app/console/routes/documents.py
``work_list``: awaiting_me, 50 a page, priority order), records the statements it sends over the big
tables, and runs ``EXPLAIN (ANALYZE, BUFFERS)`` of each ``--repeat`` times (the median execution
time is reported). Then, in one transaction, it creates the candidate index, ANALYZEs the table (an
expression index's statistics), runs the same statements again and ROLLS BACK: the database is left
as it was (the index is never committed; ``--keep-index`` commits it). Plans go to
``bench/plans/console-worklist-<N>-<user>-<without|with>-index-<i>.txt``.

Holding CREATE INDEX's lock for the run blocks writers of incoming_documents: run it with no server on
the database.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.audit import _heavy  # noqa: E402
from bench.common import ROOT  # noqa: E402
from bench.common.postgres import Pg  # noqa: E402
from bench.common.results import command_line, git_commit, shown, write_json  # noqa: E402
from bench.console import DEFAULT_USERS  # noqa: E402

# The work list's order (app.workflow.worklist.priority_order_sql) as an index: the same expressions,
# so that the planner can read the index in the ORDER BY's order and stop after a page. Partial: an
# archived or recalled document is on nobody's list (no slip-moving action fires from those states).
CANDIDATE = (
    "CREATE INDEX ix_incoming_documents_priority ON incoming_documents ("
    "(CASE WHEN urgency = 'flash' THEN 0 WHEN urgency = 'very_urgent' THEN 1 WHEN urgency = 'urgent' THEN 2 "
    "WHEN urgency = 'normal' THEN 3 ELSE 4 END), (effective_due_date IS NULL), effective_due_date, received_at, id) "
    "WHERE state NOT IN ('archived', 'recalled')"
)


def capture(session, settings, user) -> list[tuple[str, object]]:
    """The statements the work list page's work_list_page call sends, in order."""
    from sqlalchemy import event

    from app.console.deps import reader_for
    from app.schemas.documents import DocumentFilters
    from app.services.documents import work_list_page

    captured: list[tuple[str, object]] = []
    engine = session.get_bind()

    def record(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    reader = reader_for(session, user, settings)
    event.listen(engine, "before_cursor_execute", record)
    try:
        work_list_page(session=session, user=user, filters=DocumentFilters(), limit=50, offset=0,
                       today=reader.today, tz=settings.tz, delegators=reader.delegators,
                       exact_up_to=settings.exact_total_up_to)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return [(s, p) for s, p in captured if _heavy(s)]


def explain(cursor, statement: str, parameters, repeat: int) -> tuple[list[float], str]:
    times, plan = [], ""
    for _ in range(repeat):
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        rows = [r[0] for r in cursor.fetchall()]
        plan = "\n".join(rows)
        found = re.search(r"Execution Time: ([\d.]+) ms", plan)
        times.append(float(found.group(1)) if found else float("nan"))
    return times, plan


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reuse", required=True)
    p.add_argument("--users", default=DEFAULT_USERS)
    p.add_argument("--index", default=CANDIDATE, help="the CREATE INDEX statement to try")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--keep-index", action="store_true", help="commit the index instead of rolling it back")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="a PostgreSQL setting for the session before the EXPLAINs (e.g. jit=off); repeat")
    p.add_argument("--pg-host", default="127.0.0.1")
    p.add_argument("--pg-port", type=int, default=5432)
    p.add_argument("--pg-user", default="postgres")
    args = p.parse_args(argv)

    from app.config import Settings
    from app.db import make_engine, make_sessionmaker
    from app.services import organisation as org

    pg = Pg(args.pg_host, args.pg_port, args.pg_user)
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="congvan-worklist-")),
                        database_url=pg.sqlalchemy_url(args.reuse))
    users = dict(item.split("=", 1) for item in args.users.split(","))
    engine = make_engine(settings)
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    suffix = "".join(f"-{x.replace('=', '_')}" for x in args.set)
    result: dict[str, object] = {"benchmark": "console-worklist-index", "command": " ".join(command_line()),
                                 "commit": git_commit(), "database_name": args.reuse, "index": args.index,
                                 "repeat": args.repeat, "settings": args.set, "users": {}}
    plans = ROOT / "bench" / "plans"
    try:
        with make_sessionmaker(engine)() as session:
            documents = session.execute(__import__("sqlalchemy").text("SELECT count(*) FROM incoming_documents")).scalar()
            statements = {}
            for kind, username in users.items():
                user = org.get_user(session=session, username=username)
                statements[username] = capture(session, settings, user)
            session.rollback()
            raw = session.connection().connection.driver_connection
            cursor = raw.cursor()
            for setting in args.set:
                name, value = setting.split("=", 1)
                cursor.execute(f"SET {name} = {value}")
            for phase in ("without", "with"):
                if phase == "with":
                    started = time.perf_counter()
                    cursor.execute(args.index)
                    built = time.perf_counter() - started
                    cursor.execute("ANALYZE incoming_documents")
                    result["index_build_s"] = round(built, 1)
                    print(f"index built in {built:.1f} s (+ ANALYZE)", flush=True)
                for kind, username in users.items():
                    entry = result["users"].setdefault(username, {"kind": kind, "statements": []})  # type: ignore[union-attr]
                    for i, (statement, parameters) in enumerate(statements[username], 1):
                        times, plan = explain(cursor, statement, parameters, args.repeat)
                        median = statistics.median(times)
                        suffix = "".join(f"-{x.replace('=', '_')}" for x in args.set)
                        path = plans / f"console-worklist-{documents}-{username}-{phase}-index{suffix}-{i}.txt"
                        path.write_text(f"-- work list of {username} ({kind}), statement {i} of "
                                        f"{len(statements[username])}, {phase} the candidate index; execution "
                                        f"times over {args.repeat} runs: {', '.join(f'{t:.1f}' for t in times)} ms"
                                        f"\n-- index: {args.index}\n-- settings: {args.set or 'the server defaults'}\n-- parameters: {parameters}\n\n{statement}\n\n"
                                        f"{plan}\n")
                        if phase == "without":
                            entry["statements"].append({"sql_head": statement[:120].replace("\n", " "),
                                                        "without_ms": times})
                        else:
                            entry["statements"][i - 1]["with_ms"] = times
                        entry["statements"][i - 1][f"{phase}_plan"] = str(path.relative_to(ROOT))
                        print(f"  {phase:<7} {username:<16} statement {i}: median {median:8.1f} ms "
                              f"({', '.join(f'{t:.0f}' for t in times)})", flush=True)
            if args.keep_index:
                raw.commit()
                print("index committed", flush=True)
            else:
                raw.rollback()
    finally:
        engine.dispose()
    out = ROOT / "bench" / "results" / f"console-worklist-index-{documents}-{stamp}{suffix}.json"
    write_json(out, result)
    print(f"results: {shown(out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
