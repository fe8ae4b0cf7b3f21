"""Whole-machine CPU readings shared by the benchmarks: other work on a shared two-core machine
changes every number, so each benchmark records how busy the machine was and waits for quiet."""

from __future__ import annotations

import os
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


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
