"""edXML messages in (``POST /api/v1/exchange/messages``): the server's memory for one 50 MB
message, and the rate of 1 MB messages from several clients. One command, JSON results.

    .venv/bin/python bench/exchange.py                          # SQLite, a temporary data directory
    .venv/bin/python bench/exchange.py --backend postgresql     # a fresh database at 127.0.0.1:5432

1. creates a fresh database (SQLite in a temporary data directory, or PostgreSQL
   ``congvan_exchange_<timestamp>``), migrates it and creates the hub connector's account (role
   ``exchange``); the attachments go to the temporary data directory either way;
2. starts uvicorn (``--workers``, one by default) and logs in; one 1 MB message warms the path up;
3. memory: sends once a message of three ``--big-mb`` (12) MiB PDFs, about 51 MB of edXML (the
   limit is 50 MiB), while a thread reads the VmRSS of the server's processes every 20 ms and
   their VmHWM counts from just before: the server's RSS before, the peak while it is taken in,
   and after; goal: growth < 150 MB;
4. throughput: ``--clients`` (4) threads, one keep-alive httpx client each, send ~1 MB messages
   (one ``--small-kb`` (740) KiB PDF) for ``--warmup`` s, then ``--duration`` s measured:
   messages/s, p50/p95 latency, errors; goal: at least 20/s;
5. prints a summary and writes ``bench/results/exchange-<backend>-<timestamp>.json``.

Every answer must be a 201 whose attachments have the SHA-256 of the bytes sent. Every message is
distinct (its DocumentId, and each PDF's first line), so nothing is deduplicated or superseded; the
random bytes after that line are new each run and shared by the PDFs of one size, so the client
builds a message without holding or hashing more than one copy of them.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the repository first

from app.config import Settings  # noqa: E402
from bench.common import ROOT  # noqa: E402
from bench.common.accounts import ensure_user, login  # noqa: E402
from bench.common.machine import wait_for_quiet  # noqa: E402
from bench.common.postgres import Pg, postgresql_facts  # noqa: E402
from bench.common.processes import Sampler, all_procs, descendants, memory_kb, proc_stat, reset_peak_memory  # noqa: E402
from bench.common.results import run_record, shown, write_json  # noqa: E402
from bench.common.server import serving, unwind_on_signals  # noqa: E402
from bench.common.stats import percentile  # noqa: E402
from tests.exchange_helpers import document_message  # noqa: E402

HUB, PASSWORD = "bench_hub", "a bench passphrase"
SENDER = "000.00.00.B01"
LINE = 57  # bytes per line of base64.encodebytes: whole lines encode on their own
CLOSE_PAYLOAD = b"</edXML:ContentTransferEncoded>"
GOAL_GROWTH_MB, GOAL_RATE = 150, 20.0
PG_SETTINGS = ["fsync", "synchronous_commit", "shared_buffers"]


# --- the messages ------------------------------------------------------------------------------


class Pdfs:
    """PDF-looking files of one size, distinct by their first line: ``%PDF-1.4`` and a label, then
    the same random bytes, base64-encoded once."""

    def __init__(self, size: int) -> None:
        self.rest = os.urandom(size - LINE)
        self.rest_base64 = base64.encodebytes(self.rest)

    def make(self, label: str) -> tuple[list[bytes], str]:
        """The file's base64 in pieces, and its SHA-256."""
        first = f"%PDF-1.4\n% congvan bench {label}".ljust(LINE - 1).encode() + b"\n"
        assert len(first) == LINE, label
        digest = hashlib.sha256(first)
        digest.update(self.rest)
        return [base64.encodebytes(first), self.rest_base64], digest.hexdigest()


def message(to: str, number: str, notation: str, payloads: list[list[bytes]]) -> list[bytes]:
    """A document message (``tests.exchange_helpers.document_message``) in pieces, each PDF's
    base64 where the helper leaves an empty payload."""
    names = [(f"{notation}-{number}-{i}.pdf", "application/pdf", b"") for i in range(1, len(payloads) + 1)]
    text = document_message(document_id=f"{SENDER},2026/11/20,{number}/{notation}", number=number,
                            notation=notation, to=(to,), sender=SENDER, attachments=names)
    head, *tails = text.split(CLOSE_PAYLOAD)
    pieces = [head]
    for payload, tail in zip(payloads, tails, strict=True):
        pieces += [*payload, CLOSE_PAYLOAD + tail]
    return pieces


def send(client: httpx.Client, pieces: list[bytes], sha256s: list[str]) -> str | None:
    """POST the message streamed from its pieces; None if it was taken in intact, else what went wrong."""
    try:
        response = client.post("/api/v1/exchange/messages", content=iter(pieces),
                               headers={"Content-Length": str(sum(map(len, pieces)))})
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if response.status_code != 201:
        return f"{response.status_code}: {response.text[:300]}"
    got = [a["sha256"] for a in response.json()["attachments"]]
    return None if got == sha256s else f"attachments' SHA-256 {got} instead of {sha256s}"


def client_for(base_url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=300,
                        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"})


# --- memory ------------------------------------------------------------------------------------


class RssSampler(Sampler):
    """The summed VmRSS (kB) of ``pids``, every ``interval`` seconds: the highest reading."""

    def __init__(self, pids: Iterable[int], interval: float = 0.02) -> None:
        super().__init__(interval)
        self.pids = list(pids)
        self.peak_kb = 0
        self.samples = 0

    def rss_kb(self) -> int:
        return sum(memory_kb(pid).get("VmRSS", 0) for pid in self.pids)

    def sample(self) -> None:
        self.peak_kb = max(self.peak_kb, self.rss_kb())
        self.samples += 1

    def start(self) -> None:
        self.sample()

    def finish(self) -> None:
        self.sample()


def memory(base_url: str, token: str, pid: int, to: str, args: argparse.Namespace, label: str) -> dict[str, object]:
    """One big message. The peak is the higher of the sampled VmRSS and the VmHWM, which is reset
    just before (for one process, the exact peak; for several, the sum of theirs, an upper bound)."""
    pdfs = Pdfs(args.big_mb * 1024 * 1024)
    made = [pdfs.make(f"{label} big {i}") for i in range(3)]
    pieces = message(to, "1", f"BIG-{label}", [payload for payload, _ in made])
    tree = descendants(all_procs(), pid)
    sampler = RssSampler(tree)
    for server_pid in tree:
        reset_peak_memory(server_pid)
    before_kb = sampler.rss_kb()
    with client_for(base_url, token) as client, sampler:
        started = time.perf_counter()
        error = send(client, pieces, [sha for _, sha in made])
        seconds = time.perf_counter() - started
        time.sleep(0.5)  # what the server gives back once it has answered
    after_kb = sampler.rss_kb()
    hwm_kb = sum(memory_kb(server_pid).get("VmHWM", 0) for server_pid in tree)
    peak_kb = max(sampler.peak_kb, hwm_kb)
    return {
        "message_bytes": sum(map(len, pieces)), "attachment_bytes": args.big_mb * 1024 * 1024, "attachments": 3,
        "seconds": round(seconds, 2), "error": error, "server_pids": sorted(tree), "samples": sampler.samples,
        "rss_before_mb": mb(before_kb), "rss_peak_sampled_mb": mb(sampler.peak_kb), "vmhwm_mb": mb(hwm_kb),
        "rss_peak_mb": mb(peak_kb), "rss_after_mb": mb(after_kb), "growth_mb": mb(peak_kb - before_kb),
    }


def mb(kb: int) -> float:
    return round(kb / 1024, 1)


# --- throughput --------------------------------------------------------------------------------


def throughput(base_url: str, token: str, pid: int, to: str, args: argparse.Namespace,
               label: str) -> dict[str, object]:
    """``--clients`` threads sending messages one after another; what started in the measured window
    counts, until its answer (the rate's seconds run to the last one); the server's CPU over it."""
    pdfs = Pdfs(args.small_kb * 1024)
    tree = descendants(all_procs(), pid)
    latencies: list[float] = []  # ms, of every answer in the measured window
    errors: list[str] = []
    sizes: list[int] = []  # bytes of every message sent in it
    lock = threading.Lock()
    measured_from = time.perf_counter() + args.warmup
    until = measured_from + args.duration
    finished = [measured_from]

    def client_thread(n: int) -> None:
        mine: list[float] = []
        wrong: list[str] = []
        mine_sizes: list[int] = []
        with client_for(base_url, token) as client:
            seq, done_at = 0, measured_from
            while time.perf_counter() < until:
                seq += 1
                payload, sha256 = pdfs.make(f"{label} c{n} {seq}")
                pieces = message(to, str(seq), f"TP{n}-{label}", [payload])
                started = time.perf_counter()
                error = send(client, pieces, [sha256])
                done_at = time.perf_counter()
                if started >= measured_from:
                    mine.append((done_at - started) * 1000)
                    mine_sizes.append(sum(map(len, pieces)))
                    if error:
                        wrong.append(error)
        with lock:
            latencies.extend(mine)
            errors.extend(wrong)
            sizes.extend(mine_sizes)
            finished.append(done_at)

    threads = [threading.Thread(target=client_thread, args=(n,)) for n in range(args.clients)]
    for t in threads:
        t.start()
    time.sleep(max(0.0, measured_from - time.perf_counter()))
    cpu_before = server_cpu_s(tree)
    for t in threads:
        t.join()
    cpu_s = server_cpu_s(tree) - cpu_before
    seconds = max(finished) - measured_from
    ok = len(latencies) - len(errors)
    latencies.sort()
    return {
        "clients": args.clients, "warmup_s": args.warmup, "duration_s": args.duration, "seconds": round(seconds, 2),
        "messages": len(latencies), "ok": ok, "errors": len(errors), "first_errors": errors[:5],
        "message_bytes_mean": round(sum(sizes) / max(1, len(sizes))),
        "rate_per_s": round(ok / seconds, 2), "p50_ms": round(percentile(latencies, 50) or 0, 1),
        "p95_ms": round(percentile(latencies, 95) or 0, 1), "max_ms": round(latencies[-1] if latencies else 0, 1),
        "server_cpu_ms_per_message": round(1000 * cpu_s / max(1, len(latencies)), 1),
    }


def server_cpu_s(pids: Iterable[int]) -> float:
    return sum(info.cpu_s for pid in pids if (info := proc_stat(pid)) is not None)


# --- the run -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers")
    parser.add_argument("--big-mb", type=int, default=12, help="MiB of each of the big message's three PDFs")
    parser.add_argument("--small-kb", type=int, default=740, help="KiB of the small messages' PDF")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--skip", choices=["memory", "throughput"], help="run only the other part")
    parser.add_argument("--quiet-below", type=float, default=20.0, help="machine busy %% to wait under")
    parser.add_argument("--quiet-wait", type=float, default=60.0, help="longest wait for it, s")
    parser.add_argument("--tag", default="")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    return parser.parse_args(argv)


def summary(result: dict[str, object]) -> list[str]:
    lines = [f"exchange on {result['backend']}, {result['workers']} worker(s); {result['machine']['cpu_model']}, "
             f"{result['machine']['nproc']} cores"]
    if m := result.get("memory"):
        met = not m["error"] and m["growth_mb"] < GOAL_GROWTH_MB
        lines.append(f"memory: one {m['message_bytes'] / 1e6:.1f} MB message in {m['seconds']} s: server RSS "
                     f"{m['rss_before_mb']} MB before, {m['rss_peak_mb']} peak, {m['rss_after_mb']} after; growth "
                     f"{m['growth_mb']} MB (goal < {GOAL_GROWTH_MB}: {'met' if met else 'NOT met'})"
                     + (f"; ERROR {m['error']}" if m["error"] else ""))
    if t := result.get("throughput"):
        met = not t["errors"] and t["rate_per_s"] >= GOAL_RATE
        lines.append(f"throughput: {t['ok']} messages of {t['message_bytes_mean'] / 1e6:.2f} MB in {t['seconds']} s "
                     f"from {t['clients']} clients: {t['rate_per_s']}/s (goal >= {GOAL_RATE:g}: "
                     f"{'met' if met else 'NOT met'}), p50 {t['p50_ms']} ms, p95 {t['p95_ms']} ms, "
                     f"{t['errors']} errors" + (f": {t['first_errors'][0]}" if t["errors"] else "")
                     + f"; server CPU {t['server_cpu_ms_per_message']} ms a message")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    unwind_on_signals()
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    pg = Pg(args.pg_host, args.pg_port, args.pg_user)
    dbname = f"congvan_exchange_{stamp}"
    result = run_record("exchange", "bench/exchange.py", tag=args.tag, backend=args.backend, workers=args.workers,
                        packages=("fastapi", "pydantic", "sqlalchemy", "uvicorn", "lxml", "httpx"))
    with tempfile.TemporaryDirectory(prefix="congvan-exchange-") as tmp:
        url = pg.sqlalchemy_url(dbname) if args.backend == "postgresql" else None
        if url:
            pg.create_database(dbname)
        try:
            settings = Settings(data_dir=Path(tmp), database_url=url)
            if url:
                result["machine"].update(postgresql_facts(pg.conninfo(dbname), PG_SETTINGS, with_units=True))
            from app.migrate import upgrade_to_head

            upgrade_to_head(settings)
            ensure_user(settings, HUB, PASSWORD, "exchange", "Kết nối trục liên thông (benchmark)")
            with serving(settings, Path(tmp) / "server.log", workers=args.workers) as server:
                pid = server.process.pid
                token = login(server.base_url, HUB, PASSWORD)
                warm = Pdfs(args.small_kb * 1024)
                payload, sha256 = warm.make(f"{stamp} warm-up")
                with client_for(server.base_url, token) as client:
                    if error := send(client, message(settings.organ_id, "1", f"WARM-{stamp}", [payload]), [sha256]):
                        raise RuntimeError(f"the warm-up message was not taken in: {error}")
                for part, measure in (("memory", memory), ("throughput", throughput)):
                    if args.skip != part:
                        result[f"machine_busy_before_{part}_pct"] = wait_for_quiet(args.quiet_below,
                                                                                   args.quiet_wait)[-1]
                        result[part] = measure(server.base_url, token, pid, settings.organ_id, args, stamp)
                result["server_rss_mb_at_end"] = round(sum(
                    memory_kb(p).get("VmRSS", 0) for p in descendants(all_procs(), pid)) / 1024, 1)
            result["server_log_tail"] = (Path(tmp) / "server.log").read_text(errors="replace").splitlines()[-10:]
        finally:
            if url:
                pg.drop_database(dbname)
    out = ROOT / "bench" / "results" / f"exchange-{args.backend}-{stamp}{'-' + args.tag if args.tag else ''}.json"
    write_json(out, result)
    for line in summary(result):
        print(line)
    print(f"written: {shown(out)}")
    failed = (result.get("memory") or {}).get("error") or (result.get("throughput") or {}).get("errors")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
