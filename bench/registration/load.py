"""N concurrent clients for a fixed time, and the summary every side reports.

The API's Python clients and the raw side's psycopg threads run the same way (each opens its
connection, all start the clock together, each times its own requests until the deadline), and
every side, wrk and pgbench included, is summarised with the same fields, so the sides compare
field by field.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bench.common.stats import percentile


@dataclass
class ClientResult:
    latencies: list[float] = field(default_factory=list)  # successful requests only
    finished: list[float] = field(default_factory=list)  # their completion times (perf_counter)
    statuses: Counter[str] = field(default_factory=Counter)
    first_errors: list[str] = field(default_factory=list)
    last_finish: float = 0.0


class Client(Protocol):
    def step(self) -> tuple[str, bytes]:
        """One request or transaction: its status and what came back (kept for the first failures)."""

    def close(self) -> None: ...


def run_clients(open_client: Callable[[int], Client], clients: int, duration: float,
                ok_status: str) -> tuple[list[ClientResult], float, float]:
    """``clients`` threads, each with its own ``open_client(i)``, stepping for ``duration`` seconds
    from a common start; returns their results, the elapsed time and the start (perf_counter)."""
    results = [ClientResult() for _ in range(clients)]
    box: dict[str, float] = {}

    def start_clock() -> None:
        # Runs once, when every client has its connection open; the clock starts together.
        box["start"] = time.perf_counter()
        box["deadline"] = box["start"] + duration

    barrier = threading.Barrier(clients + 1, action=start_clock)

    def run(i: int) -> None:
        out = results[i]
        try:
            client = open_client(i)
        except Exception:
            barrier.abort()  # release the others; run_clients raises BrokenBarrierError
            raise
        try:
            barrier.wait()
            deadline = box["deadline"]
            while True:
                begin = time.perf_counter()
                if begin >= deadline:
                    break
                status, content = client.step()
                end = time.perf_counter()
                out.statuses[status] += 1
                if status == ok_status:
                    out.latencies.append(end - begin)
                    out.finished.append(end)
                elif len(out.first_errors) < 3:
                    out.first_errors.append(f"{status}: {content[:300].decode(errors='replace')}")
            out.last_finish = time.perf_counter()
        finally:
            client.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait(timeout=60)
    for t in threads:
        t.join()
    elapsed = max(r.last_finish for r in results) - box["start"]
    return results, elapsed, box["start"]


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


def rate_by_quarter(results: list[ClientResult], start: float, elapsed: float) -> list[float] | None:
    """Successful requests per second in each quarter of the window: a falling rate means
    something grows with the table (a plan gone bad, an index to maintain) rather than noise."""
    if not elapsed:
        return None
    counts = [0, 0, 0, 0]
    for r in results:
        for t in r.finished:
            counts[min(3, max(0, int(4 * (t - start) / elapsed)))] += 1
    return [round(c / (elapsed / 4), 1) for c in counts]


def summarise(results: list[ClientResult], elapsed: float, start: float, ok_status: str) -> dict[str, object]:
    """A side's counts, rates and client-side latencies (of the successful requests)."""
    statuses: Counter[str] = Counter()
    for r in results:
        statuses.update(r.statuses)
    total = sum(statuses.values())
    ok = statuses.get(ok_status, 0)
    return {
        "requests": total,
        "ok": ok,
        "errors": total - ok,
        "statuses": dict(statuses),
        "first_errors": [e for r in results for e in r.first_errors][:5],
        "elapsed_s": round(elapsed, 3),
        "rate_per_s": round(ok / elapsed, 1) if elapsed else 0.0,
        "rate_by_quarter_per_s": rate_by_quarter(results, start, elapsed),
        **latency_summary([v for r in results for v in r.latencies]),
    }
