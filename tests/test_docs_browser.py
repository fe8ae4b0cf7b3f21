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

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx
import pytest

from app.config import Settings
from tests.conftest import LiveServer, start_server

pytestmark = pytest.mark.browser

DOCS_HOST = "docs.congvan.test"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    f"--host-resolver-rules=MAP {DOCS_HOST} 127.0.0.1",
]
TIMEOUT_MS = 30_000

# Content-Security-Policy violations are reported to the page; collect them.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push({directive: e.effectiveDirective, uri: e.blockedURI});
});
"""


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CONGVAN_REQUIRE_BROWSER"):
        pytest.fail(f"{reason} (CONGVAN_REQUIRE_BROWSER is set, so the browser tests are mandatory)")
    pytest.skip(reason)


def _chromium_path() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"playwright is not importable: {exc}")
    executable = _chromium_path()
    if executable is None:
        _unavailable("chromium not found (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


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


@dataclass
class Visit:
    page: Any
    foreign_requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[dict[str, str]]:
        return self.page.evaluate("window.__cspViolations")


@pytest.fixture
def visit(browser: Any, base_url: str) -> Iterator[Visit]:
    """A fresh page whose requests to anywhere but the app are aborted and recorded."""
    app_origin = urlsplit(base_url)[:2]
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    visit = Visit(page)

    def only_the_app(route: Any) -> None:
        url = route.request.url
        if urlsplit(url)[:2] == app_origin:
            route.continue_()
        else:
            visit.foreign_requests.append(url)
            route.abort("blockedbyclient")

    page.route("**/*", only_the_app)
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    page.on("pageerror", lambda error: visit.page_errors.append(str(error)))
    yield visit
    context.close()


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
