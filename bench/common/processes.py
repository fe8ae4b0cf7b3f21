"""Processes, from /proc: their CPU time while a benchmark runs, and a server's memory.

The whole-machine figure (``machine.py``) says how busy the machine was; these say whose work it
was (the server, PostgreSQL, the load generator, or other people's jobs), so that a number
measured next to a busy neighbour can be told apart from one that is slow by itself.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import NamedTuple, Self

from bench.common.machine import CLK_TCK


class ProcInfo(NamedTuple):
    comm: str
    ppid: int
    cpu_s: float  # user + system since the process started
    start_ticks: int


def proc_stat(pid: int) -> ProcInfo | None:
    """One process's /proc/<pid>/stat, or None if it is gone or unreadable."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return ProcInfo(comm, int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK, int(fields[19]))


def all_procs() -> dict[int, ProcInfo]:
    procs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := proc_stat(int(entry))) is not None:
            procs[int(entry)] = info
    return procs


def descendants(procs: dict[int, ProcInfo], root: int) -> set[int]:
    """``root`` and every process below it (uvicorn's supervisor and its workers)."""
    tree = {root} if root in procs else set()
    grew = True
    while grew:
        grew = False
        for pid, info in procs.items():
            if info.ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree


def cmdline(pid: int) -> str | None:
    """The command line, spaces for NULs: PostgreSQL backends show their user and database here."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM (kB) of a process."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def reset_peak_memory(pid: int) -> None:
    """Start the process's VmHWM again from its VmRSS (``clear_refs``), so that it then reads the
    peak of what follows, to the page, however short it was."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


class Sampler:
    """A background thread that calls ``sample()`` every ``interval`` seconds inside a ``with`` block."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        """Runs before the thread starts."""

    def finish(self) -> None:
        """Runs after the thread has stopped."""

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> Self:
        self.start()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.finish()


class ProcessSampler(Sampler):
    """The CPU every process used inside the ``with`` block.

    /proc is read every ``interval`` seconds and each process's last reading is kept, so processes
    that exit inside the window (pgbench's PostgreSQL backends, other people's test runs) are still
    counted up to their last sighting. A process seen at the start counts from there; one born later
    counts whole. ``classify`` sees every reading first, to sort the processes into groups.
    """

    def __init__(self, interval: float = 0.5) -> None:
        super().__init__(interval)
        self.me = os.getpid()
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}

    def classify(self, procs: dict[int, ProcInfo]) -> None:
        """Called with every reading of /proc, before the CPU times are kept."""

    def used_s(self, pid: int) -> float:
        """CPU seconds ``pid`` used in the window (up to its last sighting)."""
        return self.last[pid] - self.first.get(pid, 0.0)

    def sample(self, initial: bool = False) -> None:
        procs = all_procs()
        for pid, info in procs.items():
            if pid not in self.first:
                self.first[pid] = info.cpu_s if initial else 0.0
        self.classify(procs)
        for pid, info in procs.items():
            self.last[pid] = info.cpu_s

    def start(self) -> None:
        self.sample(initial=True)

    def finish(self) -> None:
        self.sample()
