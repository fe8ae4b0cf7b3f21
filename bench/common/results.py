"""What a run records about itself, and the JSON file it writes to ``bench/results/``.

A number is only worth keeping with the command that produced it and the commit it measured, so
every result carries both, written the same way by every benchmark.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from bench.common import ROOT


def command_line() -> list[str]:
    """The command as typed, with the interpreter and script shown relative to the repository when inside it."""
    argv = list(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    for i in (0, 1):
        try:
            if os.path.isabs(argv[i]):
                argv[i] = os.path.relpath(argv[i], ROOT) if argv[i].startswith(f"{ROOT}/") else argv[i]
        except (ValueError, IndexError):
            pass
    return argv


def git(*argv: str) -> str:
    """git's output in the repository, stripped; "" if git fails."""
    try:
        proc = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=False, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return proc.stdout.strip()


def git_commit() -> str | None:
    """The commit measured."""
    return git("rev-parse", "HEAD") or None


def uncommitted(*paths: str) -> list[str]:
    """Files under ``paths`` that differ from the commit (the commit alone does not say what ran)."""
    return [line[3:] for line in git("status", "--porcelain", "--", *paths).splitlines()]


def run_record(benchmark: str, script: str, *, tag: str | None, packages: Iterable[str],
               **extra: object) -> dict[str, object]:
    """The head of a result: what ran (the command, the commit, what under app/, migrations/ and
    the script differed from it), when, ``extra`` settings, and the machine with ``packages``' versions."""
    from bench.common.machine import machine_facts

    return {"benchmark": benchmark, "tag": tag, "command": shlex.join(command_line()), "commit": git_commit(),
            "uncommitted": uncommitted("app", "migrations", script),
            "started_at": datetime.now().astimezone().isoformat(), **extra, "machine": machine_facts(packages)}


def shown(path: Path) -> Path:
    """``path`` relative to the repository when inside it."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def write_json(path: Path, result: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
