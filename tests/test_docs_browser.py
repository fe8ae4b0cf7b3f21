"""The API documentation works in a real browser with no network beyond the app.

Agencies run congvan on closed networks, so ``/docs`` (Swagger UI) and ``/redoc`` must render
from the app alone. A headless Debian chromium loads both pages from a real uvicorn server;
every request to any other origin is aborted and recorded, and the test fails if there was
one. The server is reached under a host name (mapped to 127.0.0.1 inside chromium only), not
as ``127.0.0.1``: the UIs treat local addresses specially (Swagger UI's validator badge skips
them), so only a real-looking host shows what users on the agency network would get.

Needs chromium and playwright's Python package; skipped without them, unless
``CONGVAN_REQUIRE_BROWSER`` is set (CI), where their absence is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from app.config import Settings
from tests.browser import Visit, launched, visiting
from tests.conftest import LiveServer, start_server

pytestmark = pytest.mark.browser

DOCS_HOST = "docs.congvan.test"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched(DOCS_HOST) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[LiveServer]:
    live = start_server(settings)
    yield live
    live.process.terminate()
    live.process.wait(timeout=10)


@pytest.fixture(scope="module")
def spec(server: LiveServer) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}/openapi.json", timeout=10)
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def base_url(server: LiveServer) -> str:
    return f"http://{DOCS_HOST}:{urlsplit(server.base_url).port}"


@pytest.fixture
def visit(browser: Any, base_url: str) -> Iterator[Visit]:
    """A fresh page whose requests to anywhere but the app are aborted and recorded."""
    with visiting(browser, base_url) as page_visit:
        yield page_visit


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(method, path, operationId) of every operation in the spec."""
    return [
        (method.upper(), path, operation["operationId"])
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def test_swagger_ui_renders_every_operation_offline(visit: Visit, base_url: str, spec: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    page = visit.page
    response = page.goto(f"{base_url}/docs")
    assert response is not None and response.status == 200
    assert "default-src 'self'" in (response.header_value("content-security-policy") or "")

    operations = _operations(spec)
    assert len(operations) >= 10
    expect(page.locator(".opblock")).to_have_count(len(operations))
    expect(page.locator(".info .title")).to_contain_text(spec["info"]["title"])

    register = page.locator("#operations-documents-documents-register")
    expect(register.locator(".opblock-summary-method")).to_have_text("POST")
    expect(register.locator(".opblock-summary-path")).to_have_text("/api/v1/incoming-documents")
    for method, path, operation_id in operations:
        block = page.locator(f'.opblock[id$="-{operation_id}"]')
        expect(block.locator(".opblock-summary-method")).to_have_text(method)
        expect(block.locator(".opblock-summary-path")).to_have_attribute("data-path", path)
    # The stylesheet came from the app: methods are coloured, not default transparent.
    colour = register.locator(".opblock-summary-method").evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour not in ("", "transparent", "rgba(0, 0, 0, 0)")
    expect(page.locator(".auth-wrapper .authorize")).to_be_visible()  # the OAuth2 login of the spec

    assert visit.foreign_requests == []
    assert visit.csp_violations() == []  # nothing was even tried from elsewhere
    assert visit.page_errors == []


def test_redoc_renders_title_and_operations_offline(visit: Visit, base_url: str, spec: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    page = visit.page
    response = page.goto(f"{base_url}/redoc")
    assert response is not None and response.status == 200
    assert "default-src 'self'" in (response.header_value("content-security-policy") or "")

    info = spec["info"]
    expect(page.locator("h1").first).to_have_text(f"{info['title']} ({info['version']})")
    operations = _operations(spec)
    for _method, _path, operation_id in operations:
        expect(page.locator(f'[data-section-id="operation/{operation_id}"]')).to_have_count(1)
    register = page.locator('[data-section-id="operation/documents-register"]')
    expect(register.locator("h2")).to_have_text("Register")
    expect(register).to_contain_text("/api/v1/incoming-documents")
    expect(register).to_contain_text("arrival number")

    assert visit.foreign_requests == []
    # ReDoc's sidebar shows Redocly's logo from cdn.redoc.ly; the page's policy stops it
    # before any request is made. Nothing but that cosmetic image may be refused.
    refused = visit.csp_violations()
    assert all(v["directive"] == "img-src" for v in refused), refused
    assert visit.page_errors == []
