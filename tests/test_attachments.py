"""Attachments: bytes back unchanged, hashes recorded, names made harmless, size capped."""

import hashlib
import os

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.services.attachments import blob_path, safe_filename
from tests.conftest import document_body

DOCS = "/api/v1/incoming-documents"


@pytest.fixture
def document_id(client, as_user):
    return client.post(DOCS, json=document_body(), headers=as_user("clerk")).json()["id"]


def test_five_megabytes_come_back_byte_identical(client, as_user, document_id, settings):
    payload = b"%PDF-1.7\n" + os.urandom(5 * 1024 * 1024)
    digest = hashlib.sha256(payload).hexdigest()
    response = client.post(
        f"{DOCS}/{document_id}/attachments",
        files={"file": ("Báo cáo 08.pdf", payload, "application/pdf")},
        headers=as_user("clerk"),
    )
    assert response.status_code == 201, response.text
    meta = response.json()
    assert meta["size"] == len(payload) and meta["sha256"] == digest
    assert meta["filename"] == "Báo cáo 08.pdf" and meta["content_type"] == "application/pdf"
    # Stored outside the database, under its hash.
    assert blob_path(settings.attachments_dir, digest).read_bytes() == payload

    listed = client.get(f"{DOCS}/{document_id}/attachments", headers=as_user("leader")).json()
    assert [a["id"] for a in listed] == [meta["id"]]
    download = client.get(f"{DOCS}/{document_id}/attachments/{meta['id']}", headers=as_user("auditor"))
    assert download.status_code == 200
    assert download.content == payload
    assert hashlib.sha256(download.content).hexdigest() == digest
    assert download.headers["content-type"] == "application/pdf"


def test_path_traversal_filename_is_harmless(client, as_user, document_id, settings):
    response = client.post(
        f"{DOCS}/{document_id}/attachments",
        files={"file": ("../../etc/passwd", b"not really", "text/plain")},
        headers=as_user("clerk"),
    )
    assert response.status_code == 201
    assert response.json()["filename"] == "passwd"
    stored = blob_path(settings.attachments_dir, response.json()["sha256"]).resolve()
    assert stored.is_relative_to(settings.attachments_dir.resolve())


@pytest.mark.parametrize(
    "raw,safe",
    [("..\\..\\boot.ini", "boot.ini"), (".hidden", "hidden"), ("a\x00b.txt", "ab.txt"), ("", "attachment"),
     ("con<>.txt", "con__.txt"), ("/", "attachment")],
)
def test_safe_filename(raw, safe):
    assert safe_filename(raw) == safe


def test_over_the_limit_gets_413_and_leaves_nothing(settings, staff, as_user, document_id):
    small = Settings(data_dir=settings.data_dir, database_url=settings.resolved_database_url, max_upload_mb=1)
    with TestClient(create_app(small)) as limited:
        headers = as_user("clerk")
        too_big = os.urandom(1024 * 1024 + 1)
        response = limited.post(
            f"{DOCS}/{document_id}/attachments", files={"file": ("big.bin", too_big)}, headers=headers
        )
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert not blob_path(settings.attachments_dir, hashlib.sha256(too_big).hexdigest()).exists()
        # Streamed without a Content-Length: counted and cut off all the same.
        chunks = (os.urandom(256 * 1024) for _ in range(8))
        streamed = limited.post(
            f"{DOCS}/{document_id}/attachments",
            content=chunks,
            headers={**headers, "Content-Type": "multipart/form-data; boundary=x"},
        )
        assert streamed.status_code == 413
        assert limited.get(f"{DOCS}/{document_id}/attachments", headers=headers).json() == []


def test_only_clerks_upload_and_only_viewers_download(client, as_user, document_id):
    response = client.post(
        f"{DOCS}/{document_id}/attachments", files={"file": ("x.txt", b"x")}, headers=as_user("leader")
    )
    assert response.status_code == 403
    assert client.get(f"{DOCS}/{document_id}/attachments", headers=as_user("specialist")).status_code == 404
    assert client.get(f"{DOCS}/{document_id}/attachments/1", headers=as_user("clerk")).status_code == 404


def test_upload_without_a_file_is_422(client, as_user, document_id):
    response = client.post(f"{DOCS}/{document_id}/attachments", data={"x": "y"}, headers=as_user("clerk"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"
