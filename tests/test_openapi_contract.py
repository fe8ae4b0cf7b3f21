"""The committed OpenAPI document is the contract: it must match the app exactly."""

import json
import re

from app.cli import OPENAPI_PATH, render_openapi


def test_committed_spec_matches_the_app(settings):
    committed = OPENAPI_PATH.read_text()
    assert committed == render_openapi(settings), "openapi/openapi.json is stale: run `congvan export-openapi`"


def test_every_operation_is_tagged_with_a_readable_id():
    spec = json.loads(OPENAPI_PATH.read_text())
    seen = set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert operation.get("tags"), f"{method.upper()} {path} has no tag"
            op_id = operation["operationId"]
            assert re.fullmatch(r"[a-z]+(-[a-z]+)+", op_id), op_id
            assert op_id not in seen
            seen.add(op_id)
    assert {"documents-register", "documents-list", "documents-get", "auth-token", "attachments-upload"} <= seen


def test_errors_are_declared_as_problem_json():
    spec = json.loads(OPENAPI_PATH.read_text())
    register = spec["paths"]["/api/v1/incoming-documents"]["post"]["responses"]
    for status in ("401", "403", "409", "422"):
        assert list(register[status]["content"]) == ["application/problem+json"]


def test_contract_paths_and_enums_from_api_md():
    spec = json.loads(OPENAPI_PATH.read_text())
    schemas = spec["components"]["schemas"]
    assert schemas["Urgency"]["enum"] == ["normal", "urgent", "very_urgent", "flash"]
    assert schemas["Confidentiality"]["enum"] == ["normal", "confidential", "secret", "top_secret"]
    assert set(schemas["DocumentState"]["enum"]) == {
        "registered", "office_review", "leadership_review", "in_progress", "resolved", "archived", "returned",
        "recalled"}
    fields = set(schemas["DocumentOut"]["properties"])
    assert {"id", "register_code", "year", "arrival_number", "received_at", "symbol", "document_number",
            "document_type", "issuer_code", "document_date", "issuer", "summary", "urgency", "confidentiality",
            "due_date", "state", "version", "overdue", "allowed_actions", "assignments"} <= fields
