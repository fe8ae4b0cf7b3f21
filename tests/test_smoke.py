from tests.conftest import document_body


def test_clerk_registers_seed_document(client, as_user):
    response = client.post("/api/v1/incoming-documents", json=document_body(), headers=as_user("clerk"))
    assert response.status_code == 201, response.text
    assert response.json()["arrival_number"] == 1
