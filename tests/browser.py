"""Real Chromium for the page tests: Debian's chromium driven by Playwright's Python package.

Playwright cannot download browsers here, so it launches ``/usr/bin/chromium`` through
``executable_path``. Every request to any origin but the app's is aborted and recorded, and the
pages' Content-Security-Policy violations and script errors are collected: agencies run congvan
on closed networks, so a page must work from the app alone. Without chromium or playwright the
tests skip, saying why, unless ``CONGVAN_REQUIRE_BROWSER`` is set (CI), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest

TIMEOUT_MS = 30_000

# Content-Security-Policy violations are reported to the page; collect them.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push({directive: e.effectiveDirective, uri: e.blockedURI});
});
"""


def chromium_args(host: str) -> list[str]:
    """Quiet, headless flags; ``host`` resolves to 127.0.0.1 inside chromium only."""
    return ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--lang=vi-VN", f"--host-resolver-rules=MAP {host} 127.0.0.1"]


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CONGVAN_REQUIRE_BROWSER"):
        pytest.fail(f"{reason} (CONGVAN_REQUIRE_BROWSER is set, so the browser tests are mandatory)")
    pytest.skip(reason)


def chromium_path() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


@contextmanager
def launched(host: str) -> Iterator[Any]:
    """A headless chromium (Playwright's Browser), or a skip saying what is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable(f"playwright is not importable: {exc}")
    executable = chromium_path()
    if executable is None:
        unavailable("chromium not found (apt-get install chromium)")
    with sync_playwright() as playwright:
        # Chromium on Linux takes its own language (date fields' dd/mm/yyyy) from the environment
        chromium = playwright.chromium.launch(executable_path=executable, args=chromium_args(host),
                                              env={**os.environ, "LANG": "vi_VN.UTF-8", "LANGUAGE": "vi"})
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Visit:
    """A page of its own (own cookies), with what it tried to load from elsewhere."""

    page: Any
    foreign_requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[dict[str, str]]:
        return self.page.evaluate("window.__cspViolations || []")

    def assert_self_contained(self) -> None:
        assert self.foreign_requests == []
        assert self.csp_violations() == []
        assert self.page_errors == []


@contextmanager
def visiting(browser: Any, base_url: str, **context_options: Any) -> Iterator[Visit]:
    """A fresh browser context and page whose requests to anywhere but ``base_url`` are refused."""
    app_origin = urlsplit(base_url)[:2]
    context = browser.new_context(**context_options)
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
    try:
        yield visit
    finally:
        context.close()
