"""Signing in to the console as a browser does: the login form's nonce cookie and CSRF field."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def console_client(app: FastAPI, base_url: str = "http://testserver") -> TestClient:
    """A client with a cookie jar of its own (the session-wide API client stays cookie-free)."""
    browser = TestClient(app, base_url=base_url, follow_redirects=False)
    browser.default_language = None  # as a browser that names no language: the console's Vietnamese
    return browser


def sign_in(app: FastAPI, username: str, password: str = PASSWORD, **kwargs) -> TestClient:
    browser = console_client(app, **kwargs)
    form = browser.get("/console/login")
    assert form.status_code == 200, form.text
    answer = browser.post("/console/login", data={"username": username, "password": password,
                                                 "csrf_token": csrf_of(form.text)})
    assert answer.status_code == 303, answer.text
    return browser


def main_of(html: str) -> str:
    """The page's <main>: what it says, without the header's links back to the address."""
    return html[html.index("<main"):html.index("</main>")]


def page_csrf(browser: TestClient, path: str = "/console/") -> str:
    answer = browser.get(path)
    assert answer.status_code == 200, answer.text
    return csrf_of(answer.text)
