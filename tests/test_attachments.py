"""Attachments: bytes back unchanged, hashes recorded, names made harmless, size capped."""

import hashlib
import os
import time

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.content import content_disposition
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


# --- names: readable, without bidirectional or control characters (issue 11, finding 7) ----------


def _upload_raw(client, headers, document_id, filename: bytes, payload: bytes, content_type: bytes = b"text/plain"):
    """A multipart body written byte by byte, as an old client sends it: the name in any encoding."""
    boundary = b"congvan-test-boundary"
    body = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: " + content_type + b"\r\n\r\n" + payload + b"\r\n--" + boundary + b"--\r\n"
    )
    return client.post(
        f"{DOCS}/{document_id}/attachments", content=body,
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary.decode()}"},
    )


@pytest.mark.parametrize(
    "raw,shown",
    [
        ("hoa-don\u202efdp.exe", "hoa-donfdp.exe"),  # RIGHT-TO-LEFT OVERRIDE: would show as "hoa-donexe.pdf"
        ("\u2066a\u2067b\u2068c\u2069\u202a\u202b\u202c\u202d.pdf", "abc.pdf"),
        ("x\u200e\u200f\u061cy.txt", "xy.txt"),
        ("tab\there\x85next\u2028line.txt", "tabherenextline.txt"),
    ],
)
def test_bidirectional_and_control_characters_are_stripped_from_names(raw, shown):
    assert safe_filename(raw) == shown


@pytest.mark.parametrize(
    "sent,stored",
    [
        ("Báo cáo sơ kết.txt".encode(), "Báo cáo sơ kết.txt"),  # UTF-8, as it should be
        (b"B\xe1o c\xe1o s\xf5 k\xea\xect.txt", "Báo cáo sơ kết.txt"),  # Windows-1258, tone mark combining
        (b"\x8akoda \x80.txt", "Škoda €.txt"),  # Windows-1252 (Š is not in Windows-1258)
        ("BÃ¡o cÃ¡o.txt".encode(), "Báo cáo.txt"),  # UTF-8 once misread as latin-1 on the way
        (b"r\x81\x8dport.txt", "r\ufffd\ufffdport.txt"),  # no code page reads it: marked, never an error
    ],
)
def test_names_that_are_not_utf8_stay_readable(client, as_user, document_id, sent, stored):
    response = _upload_raw(client, as_user("clerk"), document_id, sent, b"hello")
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == stored
    listed = client.get(f"{DOCS}/{document_id}/attachments", headers=as_user("clerk")).json()
    assert listed[0]["filename"] == stored


# --- types: the bytes', never the client's claim; downloads cannot run as our pages -------------

ZIP_HEAD = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + os.urandom(64)
OLE_HEAD = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(64)


@pytest.mark.parametrize(
    "name,payload,claimed,detected",
    [
        ("trang.html", b"<html><script>alert(document.cookie)</script></html>", "text/html",
         "text/plain; charset=utf-8"),
        ("hinh.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml",
         "text/plain; charset=utf-8"),
        ("ghi chú.txt", "Nội dung tiếng Việt".encode(), "application/pdf", "text/plain; charset=utf-8"),
        ("cp1258.txt", b"N\xf4i dung ti\xea\xecng Vi\xea\xf2t", "text/plain", "application/octet-stream"),
        ("scan.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + os.urandom(128), "text/html", "application/pdf"),
        ("anh.pdf", b"\x89PNG\r\n\x1a\n" + os.urandom(64), "application/pdf", "image/png"),
        ("anh.jpg", b"\xff\xd8\xff\xe0" + os.urandom(64), "text/html", "image/jpeg"),
        ("anh.gif", b"GIF89a" + os.urandom(64), "text/html", "image/gif"),
        ("bao-cao.docx", ZIP_HEAD, "text/html",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("bang.xlsx", ZIP_HEAD, "text/html", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("goi.zip", ZIP_HEAD, "text/html", "application/zip"),
        ("gia-mao.docx", b"<html>not a zip</html>", "application/msword", "text/plain; charset=utf-8"),
        ("cu.doc", OLE_HEAD, "text/html", "application/msword"),
        ("nhi-phan.docx", b"\x00\x01\x02" + os.urandom(64), "text/html", "application/octet-stream"),
    ],
)
def test_the_type_is_detected_from_the_bytes(client, as_user, document_id, name, payload, claimed, detected):
    headers = as_user("clerk")
    response = client.post(f"{DOCS}/{document_id}/attachments", files={"file": (name, payload, claimed)},
                           headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == detected
    download = client.get(f"{DOCS}/{document_id}/attachments/{response.json()['id']}", headers=headers)
    assert download.headers["content-type"] == detected
    assert download.content == payload


def test_downloads_are_attachments_that_cannot_run_as_our_pages(client, as_user, document_id):
    headers = as_user("clerk")
    uploaded = client.post(f"{DOCS}/{document_id}/attachments",
                           files={"file": ("Báo cáo Đà Nẵng;.html", b"<script>alert(1)</script>", "text/html")},
                           headers=headers).json()
    assert uploaded["filename"] == "Báo cáo Đà Nẵng;.html"
    download = client.get(f"{DOCS}/{document_id}/attachments/{uploaded['id']}", headers=headers)
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"] == "text/plain; charset=utf-8"
    csp = download.headers["content-security-policy"]
    assert csp.startswith("sandbox") and "default-src 'none'" in csp
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"Bao cao Da Nang_.html\"; "
        "filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20%C4%90%C3%A0%20N%E1%BA%B5ng%3B.html"
    )


def test_nothing_in_a_name_ends_the_disposition_header_or_its_parameter():
    assert content_disposition('a"b\\c;d\u00e9.txt') == (
        "attachment; filename=\"a_b_c_de.txt\"; filename*=UTF-8''a%22b%5Cc%3Bd%C3%A9.txt"
    )


# --- durability (issue 11, finding 5) ------------------------------------------------------------


def test_the_directory_is_synced_after_the_rename(client, as_user, document_id, settings, monkeypatch):
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:  # the real fsync, and which file it was given
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    payload = os.urandom(1000)
    response = client.post(f"{DOCS}/{document_id}/attachments", files={"file": ("a.bin", payload)},
                           headers=as_user("clerk"))
    assert response.status_code == 201
    final = blob_path(settings.attachments_dir, hashlib.sha256(payload).hexdigest())
    assert str(final.parent.resolve()) in synced, synced
    assert synced.index(str(final.parent.resolve())) > 0  # after the file's own fsync


def test_stale_upload_files_are_swept_at_start_and_fresh_ones_kept(settings, staff, tmp_path):
    data = settings.model_copy(update={"data_dir": tmp_path / "data"})
    data.attachments_dir.mkdir(parents=True)
    stale = data.attachments_dir / ".upload-killed-mid-upload"
    fresh = data.attachments_dir / ".upload-another-process-writing"
    kept = data.attachments_dir / "ab" / ("ab" + "0" * 62)
    kept.parent.mkdir()
    for path in (stale, fresh, kept):
        path.write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    os.utime(kept, (two_hours_ago, two_hours_ago))
    with TestClient(create_app(data)):  # start-up
        pass
    assert not stale.exists()
    assert fresh.exists() and kept.exists()
