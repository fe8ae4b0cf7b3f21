"""Rendering a console page: one Jinja environment, the reader's language, dates as dd/mm/yyyy.

Every label goes through ``_()``, a call the catalog extracts from the templates
(``congvan messages``), and is shown from the same Babel catalog as the API's messages
(app.i18n). Values of rules and services (a ``Text`` from ``msg()``) render in the same language.
The language is the ``lang`` cookie the page's switch sets, else the browser's Accept-Language,
Vietnamese by default.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.console.session import menu_for
from app.i18n import LANGUAGES, Message, Text, negotiate, render

TEMPLATES = Path(__file__).with_name("templates")
LANGUAGE_COOKIE = "congvan_lang"

# The pages load only what the app serves: no outside host, no inline script. htmx inserts no
# style of its own (htmx-config in base.html), so styles are the app's file only.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages hold personal and official data: never kept by a browser or proxy
    "X-Frame-Options": "DENY",
}

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def language(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in LANGUAGES else negotiate(request.headers.get("accept-language"))


def day(value: date | datetime | None) -> str:
    """dd/mm/yyyy, as Vietnamese forms write dates."""
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y")


def moment(value: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in the agency's time zone (values arrive already converted)."""
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y %H:%M")


def translator(lang: str):  # noqa: ANN201 - a callable for templates
    def gettext(template: str, **params: Any) -> str:
        return Text(template, params).render(lang)
    return gettext


def page(request: Request, template: str, *, status: int = 200, headers: dict[str, str] | None = None,
         **context: Any) -> HTMLResponse:
    """``template`` rendered for ``request``'s reader, with the console's security headers."""
    lang = language(request)
    if context.get("signed") is not None and "menu" not in context:
        context["menu"] = menu_for(context["signed"])
    body = environment.get_template(template).render(
        request=request, lang=lang, _=translator(lang), shown=lambda value: _shown(value, lang),
        day=day, moment=moment, **context,
    )
    return HTMLResponse(body, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})


def _shown(value: Message | None, lang: str) -> str:
    if value is None:
        return ""
    return render(value, lang)


__all__ = ["page", "language", "day", "moment", "PAGE_HEADERS"]
