"""Parallel registrations over real HTTP against real server processes.

Numbers must come out 1..N with no gap and no duplicate, whatever fails in between, and
an Idempotency-Key retried in parallel must produce one document.
"""

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select

from app.db import make_sessionmaker
from app.models import IncomingDocument
from tests.conftest import PASSWORD, document_body

URL = "/api/v1/incoming-documents"


def token(base_url: str, username: str = "clerk") -> dict[str, str]:
    response = httpx.post(f"{base_url}/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def post_all(bodies_and_urls, headers_for):
    """POST every (base_url, body, extra_headers) at once from a thread pool."""

    limits = httpx.Limits(max_connections=len(bodies_and_urls))
    clients = {url: httpx.Client(base_url=url, timeout=60, limits=limits) for url in headers_for}

    def send(item):
        base_url, body, extra = item
        return clients[base_url].post(URL, json=body, headers={**headers_for[base_url], **extra})

    try:
        with ThreadPoolExecutor(max_workers=len(bodies_and_urls)) as pool:
            return list(pool.map(send, bodies_and_urls))
    finally:
        for http in clients.values():
            http.close()


def numbers_in_db(engine) -> list[int]:
    with make_sessionmaker(engine)() as session:
        return sorted(session.scalars(select(IncomingDocument.arrival_number)).all())


def test_fifty_parallel_registrations_get_1_to_50(live_servers, engine):
    server = live_servers[0].base_url
    headers = {server: token(server)}
    work = [(server, document_body(symbol=f"{i}/BC-SS", summary=f"Báo cáo số {i}"), {}) for i in range(50)]
    responses = post_all(work, headers)
    assert [r.status_code for r in responses] == [201] * 50
    assert sorted(r.json()["arrival_number"] for r in responses) == list(range(1, 51))
    assert numbers_in_db(engine) == list(range(1, 51))


def test_failed_registrations_in_the_crowd_take_no_number(live_servers, engine):
    server = live_servers[0].base_url
    headers = {server: token(server)}
    first = httpx.post(f"{server}{URL}", json=document_body(symbol="1/BC-DUP"), headers=headers[server])
    assert first.status_code == 201
    work = []
    for i in range(45):
        if i % 3 == 0:
            work.append((server, document_body(symbol="1/BC-DUP"), {}))  # duplicate → 409
        elif i % 3 == 1:
            work.append((server, document_body(symbol=f"{i}/BC-OK"), {}))
        else:
            work.append((server, document_body(symbol=f"{i}/BC-OK", summary=""), {}))  # invalid → 422
    responses = post_all(work, headers)
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 15 + [409] * 15 + [422] * 15
    assert numbers_in_db(engine) == list(range(1, 17))


def test_two_server_processes_never_duplicate_or_skip(live_servers, engine):
    urls = [s.base_url for s in live_servers]
    headers = {url: token(url) for url in urls}
    work = [(urls[i % 2], document_body(symbol=f"{i}/BC-TWO"), {}) for i in range(60)]
    responses = post_all(work, headers)
    assert [r.status_code for r in responses] == [201] * 60
    assert sorted(r.json()["arrival_number"] for r in responses) == list(range(1, 61))
    assert numbers_in_db(engine) == list(range(1, 61))


def test_same_idempotency_key_five_times_in_parallel_yields_one_document(live_servers, engine):
    urls = [s.base_url for s in live_servers]
    headers = {url: token(url) for url in urls}
    body = document_body(symbol="77/BC-IDEM")
    work = [(urls[i % 2], body, {"Idempotency-Key": "parallel-key-1"}) for i in range(5)]
    responses = post_all(work, headers)
    assert [r.status_code for r in responses] == [201] * 5
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 4
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(func.count()).select_from(IncomingDocument)) == 1
    assert numbers_in_db(engine) == [1]
