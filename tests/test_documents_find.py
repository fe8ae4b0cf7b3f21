"""Finding documents: diacritic-insensitive search, filters, pagination, ETag, visibility."""

import pytest
from sqlalchemy import select

from app.db import make_sessionmaker
from app.models import Assignment, Unit
from tests.conftest import document_body

URL = "/api/v1/incoming-documents"


@pytest.fixture
def corpus(client, as_user):
    """Four documents: the seed's report, a Đà Nẵng decision, an urgent letter, a secret one."""
    clerk = as_user("clerk")
    seed = client.post(URL, json=document_body(due_date="2013-08-30"), headers=clerk).json()
    danang = client.post(URL, json=document_body(
        symbol="15/QĐ-UBND", issuer="UBND thành phố Đà Nẵng", summary="Quyết định phê duyệt đề án",
        document_date="2014-03-01", received_at="2014-03-03T09:00:00+07:00"), headers=clerk).json()
    letter = client.post(URL, json=document_body(
        symbol="05/BNV-VP", issuer="Bộ Nội vụ", summary="Về việc cử cán bộ dự họp", urgency="urgent",
        document_date="2014-03-02", received_at="2014-03-04T10:00:00+07:00"), headers=clerk).json()
    secret = client.post(URL, json=document_body(
        symbol="01/BC-BQP", issuer="Bộ Quốc phòng", summary="Báo cáo mật về Đà Nẵng", confidentiality="secret",
        register_code="mat", document_date="2014-03-02", received_at="2014-03-04T11:00:00+07:00"),
        headers=as_user("secret_clerk")).json()
    return {"seed": seed, "danang": danang, "letter": letter, "secret": secret}


def ids(response):
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()["items"]]


@pytest.mark.parametrize("q", ["bao cao so ket", "BÁO CÁO", "Báo cáo sơ kết", "binh duong", "08/bc-bcd", "08/BC-BCĐ"])
def test_seed_is_found_whatever_the_diacritics(client, as_user, corpus, q):
    assert corpus["seed"]["id"] in ids(client.get(URL, params={"q": q}, headers=as_user("clerk")))


def test_da_nang_finds_dja_nang_and_words_must_all_match(client, as_user, corpus):
    assert ids(client.get(URL, params={"q": "da nang"}, headers=as_user("clerk"))) == [corpus["danang"]["id"]]
    assert ids(client.get(URL, params={"q": "da nang bao cao so ket"}, headers=as_user("clerk"))) == []
    assert ids(client.get(URL, params={"q": "%"}, headers=as_user("clerk"))) == []


def test_filters(client, as_user, corpus):
    clerk = as_user("clerk")
    assert ids(client.get(URL, params={"urgency": "urgent"}, headers=clerk)) == [corpus["letter"]["id"]]
    assert ids(client.get(URL, params={"year": 2013}, headers=clerk)) == [corpus["seed"]["id"]]
    assert ids(client.get(URL, params={"issuer": "bo noi vu"}, headers=clerk)) == [corpus["letter"]["id"]]
    assert ids(client.get(URL, params={"register_code": "main", "state": "registered"}, headers=clerk)) == [
        corpus["letter"]["id"], corpus["danang"]["id"], corpus["seed"]["id"]]
    assert ids(client.get(URL, params={"received_from": "2014-03-04", "received_to": "2014-03-04"},
                          headers=clerk)) == [corpus["letter"]["id"]]
    assert ids(client.get(URL, params={"received_to": "2014-03-03"}, headers=clerk)) == [
        corpus["danang"]["id"], corpus["seed"]["id"]]
    assert ids(client.get(URL, params={"overdue": True}, headers=clerk)) == [corpus["seed"]["id"]]
    assert corpus["seed"]["id"] not in ids(client.get(URL, params={"overdue": False}, headers=clerk))
    assert ids(client.get(URL, params={"state": "archived"}, headers=clerk)) == []


def test_unit_code_filter_and_unit_visibility(client, as_user, corpus, engine):
    """Unit leaders and specialists see only what is assigned to their unit."""
    with make_sessionmaker(engine)() as session:
        vp = session.scalar(select(Unit).where(Unit.code == "VP"))
        session.add(Assignment(document_id=corpus["letter"]["id"], unit_id=vp.id, role="lead", state="pending"))
        session.commit()
    assert ids(client.get(URL, params={"unit_code": "VP"}, headers=as_user("clerk"))) == [corpus["letter"]["id"]]
    assert ids(client.get(URL, headers=as_user("specialist"))) == [corpus["letter"]["id"]]
    assert ids(client.get(URL, headers=as_user("unit_leader_ttd"))) == []
    detail = client.get(f"{URL}/{corpus['letter']['id']}", headers=as_user("unit_leader_vp")).json()
    assert detail["assignments"][0]["unit_code"] == "VP" and detail["assignments"][0]["role"] == "lead"


def test_pagination_shape_and_stable_order(client, as_user, corpus):
    clerk = as_user("clerk")
    first = client.get(URL, params={"limit": 2, "offset": 0}, headers=clerk).json()
    second = client.get(URL, params={"limit": 2, "offset": 2}, headers=clerk).json()
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert [d["id"] for d in first["items"] + second["items"]] == [
        corpus["letter"]["id"], corpus["danang"]["id"], corpus["seed"]["id"]]
    for bad in ({"limit": 501}, {"limit": 0}, {"offset": -1}, {"year": "abc"}, {"state": "lost"}):
        response = client.get(URL, params=bad, headers=clerk)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"


def test_total_is_exact_up_to_the_bound_and_an_estimate_beyond(client, as_user, corpus, settings, monkeypatch):
    """The clerk sees three documents; with the bound lowered to 1 a full page past it is estimated."""
    clerk = as_user("clerk")

    def page(**params):
        response = client.get(URL, params=params, headers=clerk)
        assert response.status_code == 200, response.text
        body = response.json()
        return body["total"], body["total_is_estimate"], len(body["items"])

    assert page(limit=2) == (3, False, 2)  # the default bound (10 000): counted
    monkeypatch.setattr(settings, "exact_total_up_to", 1)
    assert page(limit=2) == (3, True, 2)  # the bound is max(1, 0 + 2) = 2: "more than 2"
    assert page(limit=1, received_to="2014-03-04", overdue=False, register_code="main") == (2, True, 1)
    assert page(limit=2, offset=1) == (3, False, 2)  # the bound reaches the page's end (3): counted
    assert page(limit=50) == (3, False, 3)  # a short page shows the end: no count at all
    assert page(limit=1, q="bao cao") == (1, False, 1)  # one match (the secret report is not the clerk's)


def test_detail_has_etag_and_honours_if_none_match(client, as_user, corpus):
    clerk = as_user("clerk")
    response = client.get(f"{URL}/{corpus['seed']['id']}", headers=clerk)
    assert response.status_code == 200 and response.headers["etag"] == '"1"'
    assert response.json()["symbol"] == "08/BC-BCĐ"
    cached = client.get(f"{URL}/{corpus['seed']['id']}", headers={**clerk, "If-None-Match": '"1"'})
    assert cached.status_code == 304
    assert client.get(f"{URL}/999999", headers=clerk).status_code == 404


@pytest.mark.parametrize("username", ["clerk", "office_leader", "auditor", "specialist", "unit_leader_vp"])
def test_confidential_document_does_not_exist_without_clearance(client, as_user, corpus, username):
    headers = as_user(username)
    secret_id = corpus["secret"]["id"]
    response = client.get(f"{URL}/{secret_id}", headers=headers)
    assert response.status_code == 404
    assert response.json() == {"type": "urn:congvan:problem:not-found", "title": "Not found", "status": 404,
                               "code": "document.not_found",
                               "detail": f"incoming document {secret_id} does not exist"}
    assert secret_id not in ids(client.get(URL, headers=headers))
    assert secret_id not in ids(client.get(URL, params={"q": "bao cao mat"}, headers=headers))
    assert client.get(f"{URL}/{secret_id}/attachments", headers=headers).status_code == 404


@pytest.mark.parametrize("username", ["secret_clerk", "leader"])
def test_cleared_users_see_the_confidential_document(client, as_user, corpus, username):
    headers = as_user(username)
    assert client.get(f"{URL}/{corpus['secret']['id']}", headers=headers).status_code == 200
    assert corpus["secret"]["id"] in ids(client.get(URL, params={"q": "da nang"}, headers=headers))


def test_assigned_unit_sees_confidential_document(client, as_user, corpus, engine):
    with make_sessionmaker(engine)() as session:
        ttd = session.scalar(select(Unit).where(Unit.code == "TTĐ"))
        session.add(Assignment(document_id=corpus["secret"]["id"], unit_id=ttd.id, role="inform", state="pending"))
        session.commit()
    assert client.get(f"{URL}/{corpus['secret']['id']}", headers=as_user("unit_leader_ttd")).status_code == 200
    assert client.get(f"{URL}/{corpus['secret']['id']}", headers=as_user("unit_leader_vp")).status_code == 404


def test_search_column_is_indexed(engine):
    """The folded search text has a substring index on each backend."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            index = conn.execute(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_incoming_documents_search_trgm'")).scalar()
            assert "gin" in index and "gin_trgm_ops" in index
            conn.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(conn.execute(text(
                "EXPLAIN SELECT id FROM incoming_documents WHERE search_text LIKE '%bao cao%'")).scalars())
            conn.execute(text("RESET enable_seqscan"))
            assert "ix_incoming_documents_search_trgm" in plan
        else:
            assert "incoming_documents_fts" in inspect(conn).get_table_names()
            plan = " ".join(str(r) for r in conn.execute(text(
                "EXPLAIN QUERY PLAN SELECT rowid FROM incoming_documents_fts WHERE search_text LIKE '%bao cao%'")))
            assert "VIRTUAL TABLE INDEX" in plan
