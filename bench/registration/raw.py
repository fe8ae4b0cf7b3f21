"""The raw SQL side: the registration transaction without the app, from pgbench or psycopg threads.

Lock and increment the counter row, insert the document, insert its event, commit: the same rows
the API writes, with the same values, so the ratio of the two rates is what the app costs on top
of the bare transaction. It registers into a register of its own, verified like the API's.
"""

from __future__ import annotations

import glob
import re
import shlex
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from app.text import fold
from bench.common.postgres import Pg
from bench.registration.load import ClientResult, latency_summary, rate_by_quarter, run_clients, summarise
from bench.registration.workload import CLERK, ISSUER, RAW_REGISTER, SUMMARY


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


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


class _Transacting:
    """One psycopg connection: each step is one registration transaction."""

    def __init__(self, conninfo: str, statements: tuple[str, str, str]) -> None:
        self.conn = psycopg.connect(conninfo)
        self.lock, self.insert_doc, self.insert_event = statements

    def step(self) -> tuple[str, bytes]:
        try:
            with self.conn.transaction():
                n = self.conn.execute(self.lock).fetchone()[0]
                doc = self.conn.execute(self.insert_doc, {"n": n}).fetchone()[0]
                self.conn.execute(self.insert_event, {"n": n, "doc": doc})
            return "ok", b""
        except psycopg.Error as exc:
            return type(exc).__name__, str(exc).encode()

    def close(self) -> None:
        self.conn.close()


def run_psycopg(pg: Pg, dbname: str, ctx: RawContext, clients: int, duration: float) -> dict[str, object]:
    lock, insert_doc, insert_event = _raw_statements(ctx)
    statements = (lock, insert_doc.replace("{n}", "%(n)s"),
                  insert_event.replace("{n}", "%(n)s").replace("{doc}", "%(doc)s"))
    results, elapsed, start = run_clients(lambda _i: _Transacting(pg.conninfo(dbname), statements),
                                          clients, duration, ok_status="ok")
    summary = summarise(results, elapsed, start, ok_status="ok")
    # The raw sides report the same fields as each other (pgbench has no per-status counts).
    return {"driver": "psycopg threads",
            **{k: v for k, v in summary.items() if k not in ("requests", "statuses", "first_errors")}}
