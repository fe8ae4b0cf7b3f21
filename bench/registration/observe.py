"""What happened while a side ran, besides the requests: where the machine's CPU went, by group of
processes, and who held the counter row lock, doing what.

Every registration takes the same counter row lock, so throughput is 1 / (time the lock is held);
these two say whether that time goes to SQL, to WAL flushes, or to the client between statements,
and what each registration cost the server, PostgreSQL and the load generator in CPU.
"""

from __future__ import annotations

from collections import Counter

import psycopg

from bench.common.machine import CLK_TCK, machine_times
from bench.common.processes import ProcessSampler, ProcInfo, Sampler, cmdline, descendants


class CpuAccountant(ProcessSampler):
    """Where the machine's CPU went while one side ran, by group of processes.

    Groups: the uvicorn server tree, PostgreSQL (backends of the benchmark database, and the
    shared WAL writer, checkpointer etc.), pgbench, the load generator (this process, and wrk when
    it drives the API), and everything else ("other jobs", including backends of other databases:
    a busy neighbour makes every number here worse, so it is reported).

    A child that exits inside the window (wrk) is read one last time from ``os.wait4`` via
    ``child_exited``: /proc only had it up to the last sample before it exited.
    """

    def __init__(self, dbname: str, server_pid: int | None = None, interval: float = 0.5) -> None:
        super().__init__(interval)
        self.dbname = dbname
        self.server_pid = server_pid
        self.group: dict[int, str] = {}
        self.comm: dict[int, str] = {}

    def classify(self, procs: dict[int, ProcInfo]) -> None:
        server = descendants(procs, self.server_pid) if self.server_pid else set()
        for pid, info in procs.items():
            if pid not in self.group:
                self.comm[pid] = info.comm
                if pid == self.me:
                    self.group[pid] = "load_generator"
                elif pid in server:
                    self.group[pid] = "server"
                elif info.comm == "wrk" and info.ppid == self.me:
                    self.group[pid] = "load_generator"
                elif info.comm.startswith("postgres"):
                    self.group[pid] = self._postgres_group(pid)
                elif info.comm == "pgbench":
                    self.group[pid] = "pgbench"
                else:
                    self.group[pid] = "other_jobs"

    def _postgres_group(self, pid: int) -> str:
        """Backends of our database and the shared background processes are ours; backends of
        other databases (other people's tests) are other jobs."""
        title = cmdline(pid)
        if title is None:
            return "postgres"
        parts = title.split()
        # "postgres: 15/main: <user> <database> <host>(<port>) <state>" for a client backend
        if len(parts) >= 5 and (parts[4].endswith(")") or parts[4] == "[local]"):
            return "postgres" if parts[3] == self.dbname else "other_jobs"
        return "postgres"

    def start(self) -> None:
        self.busy0, self.total0 = machine_times()
        super().start()

    def finish(self) -> None:
        super().finish()
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
        for pid in self.last:
            groups[self.group[pid]] += self.used_s(pid)
            if self.group[pid] == "load_generator" and self.comm.get(pid) == "wrk":
                wrk += self.used_s(pid)
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


class LockSampler(Sampler):
    """Samples pg_stat_activity of the benchmark database while a side runs.

    Each sample finds the backend the others wait for and notes what it is doing: running SQL,
    flushing WAL at commit, or *idle in transaction*, i.e. waiting for the application to send its
    next statement. The last is time the application spends inside the critical section.
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
        super().__init__(interval)
        self.conninfo = conninfo
        self.samples = 0
        self.held = 0
        self.waiting_total = 0
        self.in_transaction_total = 0
        self.holder: Counter[str] = Counter()

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
        # One connection for the whole window; the first sample at once, not after an interval.
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self._stop.is_set():
                self.sample_with(conn)
                self._stop.wait(self.interval)

    def sample_with(self, conn: psycopg.Connection) -> None:
        rows = conn.execute(self.QUERY).fetchall()
        self.samples += 1
        holders = [r for r in rows if r[5] and r[2] != "Lock"]
        self.waiting_total += sum(1 for r in rows if r[4])
        self.in_transaction_total += sum(1 for r in rows if r[1] in ("active", "idle in transaction"))
        if holders:
            self.held += 1
            for r in holders:
                self.holder[self.describe(r[1], r[2], r[3])] += 1

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
