"""The API side from Python threads: one keep-alive connection per client, a new document per request.

wrk (``wrk.py``) is the default load generator; these clients are the fallback where it is not
installed and a cross-check of its numbers (``--http-client stdlib|httpx``).
"""

from __future__ import annotations

import http.client
import json
from datetime import date
from pathlib import Path

import httpx

from bench.registration.load import ClientResult, run_clients, summarise
from bench.registration.workload import API_PATH, document_body
from bench.registration.wrk import run_wrk


class _HttpxPoster:
    """One keep-alive connection through httpx (the client the project already uses)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        self.client.get("/health")  # open the connection before the clock starts

    def post(self, body: bytes) -> tuple[int, bytes]:
        response = self.client.post(API_PATH, content=body, headers={"Content-Type": "application/json"})
        return response.status_code, response.content

    def close(self) -> None:
        self.client.close()


class _StdlibPoster:
    """One keep-alive connection through http.client: a few times cheaper per request than httpx,
    which matters when the load generator shares two cores with the server and PostgreSQL."""

    def __init__(self, base_url: str, token: str) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn.request("GET", "/health")
        self.conn.getresponse().read()

    def post(self, body: bytes) -> tuple[int, bytes]:
        self.conn.request("POST", API_PATH, body=body, headers=self.headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


POSTERS = {"stdlib": _StdlibPoster, "httpx": _HttpxPoster}


class _Registering:
    """One client: each step registers the next document of its own sequence."""

    def __init__(self, poster: _HttpxPoster | _StdlibPoster, client_id: int, seq0: int, document_date: date) -> None:
        self.poster, self.client_id, self.seq, self.document_date = poster, client_id, seq0, document_date

    def step(self) -> tuple[str, bytes]:
        self.seq += 1
        body = json.dumps(document_body(self.client_id, self.seq, self.document_date), ensure_ascii=False).encode()
        try:
            code, content = self.poster.post(body)
            return str(code), content
        except (httpx.HTTPError, OSError, http.client.HTTPException) as exc:
            return type(exc).__name__, str(exc).encode()

    def close(self) -> None:
        self.poster.close()


def drive_api(base_url: str, token: str, clients: int, duration: float, seq0: int,
              document_date: date, http_client: str = "stdlib") -> tuple[list[ClientResult], float, float]:
    """Run ``clients`` keep-alive client threads for ``duration`` seconds; returns results, elapsed and
    the start (perf_counter)."""
    poster_class = POSTERS[http_client]
    return run_clients(lambda i: _Registering(poster_class(base_url, token), i, seq0, document_date),
                       clients, duration, ok_status="201")


def run_api_load(http_client: str, base_url: str, token: str, clients: int, duration: float, seq0: int,
                 document_date: date, workdir: Path, wrk_threads: int, tag: str) -> dict[str, object]:
    """Drive the API for ``duration`` seconds with the chosen client; returns summarise()'s dict."""
    if http_client == "wrk":
        if duration <= 0:
            return summarise([], 0.0, 0.0, ok_status="201")
        return run_wrk(base_url, token, clients, wrk_threads, duration, seq0, document_date, workdir, tag)
    results, elapsed, start = drive_api(base_url, token, clients, duration, seq0=seq0,
                                        document_date=document_date, http_client=http_client)
    return summarise(results, elapsed, start, ok_status="201")
