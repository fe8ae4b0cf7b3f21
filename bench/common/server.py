"""The server under test: uvicorn in its own process group on a free port, on the run's database;
stopped (the whole group) however the run ends.

Every benchmark measures the app as it is deployed, over HTTP, so each starts one of these.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.config import Settings
from bench.common import ROOT


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(settings: Settings) -> dict[str, str]:
    """The environment for the server (and any ``congvan`` subprocess) on ``settings``' database:
    its data directory, and its database URL unless it is the data directory's SQLite file."""
    env = {**os.environ, "CONGVAN_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["CONGVAN_DATABASE_URL"] = settings.resolved_database_url
    else:
        env.pop("CONGVAN_DATABASE_URL", None)
    return env


def start_server(settings: Settings, log_path: Path, app: str = "app.main:app", workers: int = 1) -> Server:
    """uvicorn on ``settings``' database, once it answers /health (with several workers, 3 answers a
    worker, so that every worker has imported and built the app before the clock starts)."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
           "--log-level", "warning", "--no-access-log"]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    log = open(log_path, "wb")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(cmd, env=server_env(settings), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", process)
    needed = 3 * workers if workers > 1 else 1
    try:
        deadline = time.monotonic() + 60
        healthy = 0
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited during start-up; see {log_path}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{server.base_url}/health", timeout=1).status_code == 200:
                    healthy += 1
                    if healthy >= needed:
                        return server
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not become healthy in 60 s")
    except BaseException:
        stop_server(server)
        raise


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


@contextmanager
def serving(settings: Settings, log_path: Path, app: str = "app.main:app", workers: int = 1) -> Iterator[Server]:
    """``start_server`` for the ``with`` block; stopped when it ends, however it ends."""
    server = start_server(settings, log_path, app, workers)
    try:
        yield server
    finally:
        stop_server(server)


def unwind_on_signals() -> None:
    """Make SIGTERM (and SIGINT, where a background shell ignores it) unwind through the callers'
    ``finally``, so the server is stopped and the database dropped."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
