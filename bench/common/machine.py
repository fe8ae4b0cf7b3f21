"""The whole machine: how busy it is, waiting for it to be quiet, and the facts a result records.

Other work on a shared two-core machine changes every number, so each benchmark records how busy
the machine was, waits for quiet before it measures, and says what it ran on.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import time
from collections.abc import Iterable
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
STACK = ("fastapi", "pydantic", "sqlalchemy", "uvicorn")  # the packages every result names


def machine_times() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat (idle and iowait are not busy)."""
    with open("/proc/stat") as fh:
        cpu = [int(x) for x in fh.readline().split()[1:]]
    return sum(cpu) - cpu[3] - cpu[4], sum(cpu)


def busy_pct(seconds: float = 1.0) -> float:
    """How busy the whole machine is over ``seconds``, in per cent."""
    busy0, total0 = machine_times()
    time.sleep(seconds)
    busy1, total1 = machine_times()
    return round(100 * (busy1 - busy0) / max(1, total1 - total0), 1)


def wait_for_quiet(limit_pct: float, max_wait: float, pause_s: float = 4.0) -> list[float]:
    """Sample the machine until it is under ``limit_pct`` busy or ``max_wait`` seconds pass, ``pause_s``
    apart; returns the samples (the last is the reading the measurement starts on). Says so once
    when it waits."""
    samples = [busy_pct()]
    deadline = time.monotonic() + max_wait
    if samples[-1] > limit_pct and max_wait > 0:
        print(f"  machine is {samples[-1]}% busy with other work; waiting up to {max_wait:g} s for it to settle",
              flush=True)
    while samples[-1] > limit_pct and time.monotonic() < deadline:
        time.sleep(pause_s)
        samples.append(busy_pct())
    return samples


def _first_field(path: str, key: str) -> str | None:
    """The value after ``key`` on the first line of a /proc file that starts with it."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def package_versions(names: Iterable[str]) -> dict[str, str | None]:
    """Installed versions (None: not installed)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def machine_facts(packages: Iterable[str] = STACK) -> dict[str, object]:
    """CPUs, memory, platform, Python, the versions of ``packages`` and the load when the run began."""
    mem = _first_field("/proc/meminfo", "MemTotal")
    return {
        "nproc": os.cpu_count(),
        "cpu_model": _first_field("/proc/cpuinfo", "model name") or "",
        "mem_total_kb": int(mem.split()[0]) if mem else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "packages": package_versions(packages),
        "loadavg_at_start": os.getloadavg(),
    }
