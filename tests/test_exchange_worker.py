"""The worker as deployments run it: inside `congvan serve` by default, or as `congvan worker`
processes beside a server that runs none. A real fake hub receives the status messages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import _free_port, login
from tests.exchange_helpers import XML, FakeHub, document_message

API = "/api/v1"


def _env(settings, hub_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "CONGVAN_DATA_DIR": str(settings.data_dir),
            "CONGVAN_DATABASE_URL": settings.resolved_database_url, "CONGVAN_ORGAN_ID": settings.organ_id,
            "CONGVAN_EXCHANGE_ENDPOINT": hub_url, "CONGVAN_WORKER_POLL_S": "0.2", **extra}


def _wait(predicate, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _serve(settings, hub_url: str, **extra: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--log-level",
                                "warning"], env=_env(settings, hub_url, **extra))
    base = f"http://127.0.0.1:{port}"
    if not _wait(lambda: _healthy(base)):
        _stop([process])
        pytest.fail("congvan serve did not start")
    return process, base


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _send(base: str, number: str) -> None:
    with httpx.Client(base_url=base) as http:
        response = http.post(f"{API}/exchange/messages", headers={**login(http, "hub"), **XML},
                             content=document_message(document_id=f"G22,2026/11/20,{number}/VPCP", number=number,
                                                      notation="VPCP"))
        assert response.status_code == 201, response.text


def test_congvan_serve_delivers_status_messages_by_itself(settings, staff):
    with FakeHub() as hub:
        server, base = _serve(settings, hub.url)
        try:
            _send(base, "701")
            assert _wait(lambda: len(hub.accepted) == 1), "the in-process worker delivered nothing"
        finally:
            _stop([server])
    assert b"<edXML:StatusCode>01</edXML:StatusCode>" in hub.accepted[0][1]


def test_separate_worker_processes_deliver_each_message_once(settings, staff):
    with FakeHub() as hub:
        server, base = _serve(settings, hub.url, CONGVAN_RUN_WORKER="false")
        workers = [subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=_env(settings, hub.url),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
        try:
            for number in range(710, 720):
                _send(base, str(number))
            assert _wait(lambda: len(hub.accepted) >= 10), f"{len(hub.accepted)} of 10 delivered"
            time.sleep(1)  # time enough for a second delivery, were there one
        finally:
            _stop([server, *workers])
    ids = [message_id for message_id, _ in hub.accepted]
    assert len(ids) == len(set(ids)) == 10
