"""Failures answer as what they are, never 500: out-of-range dates 422, big JSON 413, a busy or
unreachable database 503 with Retry-After (one log line, not one traceback a request), a full or
read-only attachments disk 507 leaving nothing behind; /health tells the database and the
storage apart. (The PostgreSQL outage with a live server is in tests/test_db_outage.py.)"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.config import Settings
from app.main import create_app
from tests.conftest import document_body

DOCS = "/api/v1/incoming-documents"
PROBLEM = "application/problem+json"


@pytest.fixture
def document_id(client, as_user):
    response = client.post(DOCS, json=document_body(), headers=as_user("clerk"))
    assert response.status_code == 201, response.text
    return response.json()["id"]


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_of", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1899-12-31T23:00:00Z"])
def test_audit_as_of_outside_1900_2999_is_422_not_an_overflow(client, as_user, document_id, as_of):
    response = client.get(f"/api/v1/audit/documents/{document_id}", params={"as_of": as_of},
                          headers=as_user("auditor"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "as_of"
    # The same connection keeps serving.
    ok = client.get(f"/api/v1/audit/documents/{document_id}", params={"as_of": "2999-12-31T00:00:00+07:00"},
                    headers=as_user("auditor"))
    assert ok.status_code == 200 and ok.json()["state"] == "registered"


def test_a_deadline_in_year_1_or_9999_is_422(client, as_user, document_id):
    assert client.post(f"{DOCS}/{document_id}/actions", json={"action": "submit"},
                       headers=as_user("clerk")).status_code == 200
    for due in ("0001-01-01", "9999-12-31"):
        response = client.post(
            f"{DOCS}/{document_id}/actions",
            json={"action": "direct", "assignments": [{"unit_code": "VP", "role": "lead", "due_date": due}]},
            headers=as_user("leader"),
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"].endswith("due_date")
    events = client.get(f"{DOCS}/{document_id}/events", headers=as_user("leader")).json()
    assert [e["action"] for e in events] == ["register", "submit"]


# --- JSON bodies over 1 MB --------------------------------------------------------------------


def test_json_body_over_one_megabyte_is_413_declared_or_chunked(client, as_user):
    headers = as_user("clerk")
    big = json.dumps(document_body(summary="x" * (1024 * 1024))).encode()
    declared = client.post(DOCS, content=big, headers={**headers, "Content-Type": "application/json"})
    assert declared.status_code == 413
    assert declared.headers["content-type"] == PROBLEM

    def chunks(body: bytes) -> Iterator[bytes]:
        for i in range(0, len(body), 64 * 1024):
            yield body[i : i + 64 * 1024]

    chunked = client.post(DOCS, content=chunks(big), headers={**headers, "Content-Type": "application/json"})
    assert chunked.status_code == 413
    assert client.get(DOCS, headers=headers).json()["total"] == 0

    # A small body sent in chunks still registers.
    small = json.dumps(document_body()).encode()
    ok = client.post(DOCS, content=chunks(small), headers={**headers, "Content-Type": "application/json"})
    assert ok.status_code == 201, ok.text


def test_uploads_keep_their_own_limit_above_one_megabyte(client, as_user, document_id):
    payload = os.urandom(3 * 1024 * 1024)
    response = client.post(f"{DOCS}/{document_id}/attachments", files={"file": ("scan.bin", payload)},
                           headers=as_user("clerk"))
    assert response.status_code == 201, response.text


# --- SQLite: locked or unreachable --------------------------------------------------------------


def _sqlite_only(settings: Settings) -> Path:
    url = settings.resolved_database_url
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's locking and file; PostgreSQL's outage is tests/test_db_outage.py")
    return Path(url.removeprefix("sqlite:///"))


def test_sqlite_locked_past_the_busy_timeout_is_503_and_then_works(settings, staff, as_user, caplog):
    db_file = _sqlite_only(settings)
    impatient = settings.model_copy(update={"sqlite_busy_timeout_s": 0.2})
    holder = sqlite3.connect(db_file, isolation_level=None, timeout=5)
    with TestClient(create_app(impatient)) as short:
        headers = as_user("clerk")
        holder.execute("BEGIN IMMEDIATE")  # another process writing, for longer than we wait
        try:
            with caplog.at_level(logging.WARNING, logger="congvan"):
                answers = [short.post(DOCS, json=document_body(symbol=f"{i}/BC-X"), headers=headers)
                           for i in range(1, 4)]
        finally:
            holder.rollback()
            holder.close()
        for response in answers:
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == PROBLEM
            assert int(response.headers["retry-after"]) > 0
        lines = [r for r in caplog.records if r.name == "congvan"]
        assert len(lines) == 1 and lines[0].exc_info is None, [r.getMessage() for r in lines]
        assert "database is locked" in lines[0].getMessage()

        again = short.post(DOCS, json=document_body(), headers=headers)
        assert again.status_code == 201, again.text
        assert again.json()["arrival_number"] == 1  # the refused ones took no number


def test_sqlite_file_unreachable_is_503_with_health_saying_so_and_recovers(settings, staff, as_user, tmp_path):
    db_file = _sqlite_only(settings)
    link = tmp_path / "mounted"  # the database's directory, not there yet (a volume not mounted)
    unreachable = settings.model_copy(update={
        "data_dir": tmp_path / "data", "database_url": f"sqlite:///{link / db_file.name}",
        "secret_key": SecretStr(settings.signing_key()),
    })
    with TestClient(create_app(unreachable)) as lost:
        headers = as_user("clerk")
        response = lost.get(DOCS, headers=headers)
        assert response.status_code == 503, response.text
        assert "retry-after" in response.headers
        health = lost.get("/health")
        assert health.status_code == 503
        body = health.json()
        assert body["status"] == "unavailable"
        assert body["database"]["status"] == "unavailable" and "unable to open" in body["database"]["reason"]
        assert body["storage"] == {"status": "ok", "free_bytes": body["storage"]["free_bytes"], "reason": None}

        link.symlink_to(db_file.parent)  # the volume is back
        assert lost.get(DOCS, headers=headers).status_code == 200
        assert lost.get("/health").json()["status"] == "ok"


def test_sqlite_acknowledged_writes_are_synced_to_disk(app):
    if app.state.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's setting; PostgreSQL's synchronous_commit=on is durable already")
    with app.state.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


# --- a full or read-only attachments disk ---------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A real 512 KB file system (tmpfs) for the attachments; needs root to mount."""
    mount_point = tmp_path / "attachments-disk"
    mount_point.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _on_disk(settings: Settings, disk: Path) -> Settings:
    (disk / "data").mkdir(exist_ok=True)
    return settings.model_copy(update={
        "data_dir": disk / "data", "database_url": settings.resolved_database_url,
        "secret_key": SecretStr(settings.signing_key()),
    })


def test_full_disk_is_507_and_leaves_no_row_and_no_file(settings, staff, as_user, document_id, small_disk):
    on_small = _on_disk(settings, small_disk)
    with TestClient(create_app(on_small)) as client:
        headers = as_user("clerk")
        response = client.post(f"{DOCS}/{document_id}/attachments",
                               files={"file": ("big.pdf", b"%PDF-1.7\n" + os.urandom(1024 * 1024))}, headers=headers)
        assert response.status_code == 507, response.text
        assert response.headers["content-type"] == PROBLEM
        assert "full" in response.json()["detail"]
        assert client.get(f"{DOCS}/{document_id}/attachments", headers=headers).json() == []
        left = [p for p in on_small.attachments_dir.rglob("*") if p.is_file()]
        assert left == []
        # A file that fits is stored as usual.
        fits = client.post(f"{DOCS}/{document_id}/attachments", files={"file": ("note.txt", b"ok")}, headers=headers)
        assert fits.status_code == 201, fits.text


def test_read_only_disk_is_507_and_health_reports_the_storage(settings, staff, as_user, document_id, small_disk):
    on_small = _on_disk(settings, small_disk)
    on_small.attachments_dir.mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with TestClient(create_app(on_small)) as client:
        headers = as_user("clerk")
        response = client.post(f"{DOCS}/{document_id}/attachments", files={"file": ("a.txt", b"hello")},
                               headers=headers)
        assert response.status_code == 507, response.text
        assert "read-only" in response.json()["detail"]
        assert client.get(f"{DOCS}/{document_id}/attachments", headers=headers).json() == []
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["database"]["status"] == "ok"
        assert health.json()["storage"]["status"] == "unavailable"
        assert "Read-only" in health.json()["storage"]["reason"]


def test_health_reports_both_parts_when_all_is_well(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok" and body["database"]["backend"] in {"sqlite", "postgresql"}
    assert body["storage"]["status"] == "ok" and body["storage"]["free_bytes"] > 0
