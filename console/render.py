"""How a console page becomes HTML: one Jinja environment, the page's language, the officer and
the form token in every template, and the error pages.

Errors are returned as responses, never raised: the server's front middleware turns a raised
HTML error into its JSON shape, which a browser would show as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape

from console import i18n
from console.auth import Officer, csrf_token, officer_of

HTML = "text/html"
NO_STORE = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}
ZONE_KEY: web.AppKey[ZoneInfo] = web.AppKey("console_zone", ZoneInfo)
LANGUAGE_KEY: web.AppKey[str] = web.AppKey("console_language", str)
DESK_KEY: web.AppKey[frozenset[str]] = web.AppKey("console_desk_channels", frozenset)
"""The desk's channels that are enabled (``walkin``, ``letter``): the registration forms shown."""
QUEUE_KEY: web.AppKey[bool] = web.AppKey("console_queue", bool)
"""Whether the walk-in desk's queue numbers are on (``[queue] enabled``): its pages linked."""

_ENVIRONMENT = Environment(
    loader=PackageLoader("console", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def translator(request: web.Request) -> i18n.Translator:
    """The page's language (see :mod:`console.i18n`)."""
    officer = officer_of(request)
    language = i18n.choose(
        request.query.get("lang"),
        request.cookies.get(i18n.COOKIE),
        officer.language if officer is not None else None,
        request.app.get(LANGUAGE_KEY, i18n.DEFAULT),
    )
    return i18n.Translator(language)


def moment(value: datetime | None, zone: ZoneInfo) -> str:
    """A moment as officers read it, in the unit's zone: ``01-12-2026 14:05``."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # SQLite gives naive UTC
    return value.astimezone(zone).strftime("%d-%m-%Y %H:%M")


def page(
    request: web.Request,
    template: str,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> web.Response:
    """The template rendered for this request's officer, language and form token."""
    t = translator(request)
    zone = request.app[ZONE_KEY]
    officer: Officer | None = officer_of(request)
    text = _ENVIRONMENT.get_template(template).render(
        t=t,
        lang=t.language,
        officer=officer,
        csrf=csrf_token(request) if officer is not None else "",
        path=request.path_qs,
        desk=request.app.get(DESK_KEY, frozenset()),
        queue_on=request.app.get(QUEUE_KEY, False),
        moment=lambda value: moment(value, zone),
        **context,
    )
    response = web.Response(text=text, status=status, content_type=HTML, charset="utf-8")
    response.headers.update({**NO_STORE, **(headers or {})})
    if request.query.get("lang") in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE, t.language, max_age=365 * 86_400, path="/console/", httponly=True, samesite="Lax"
        )
    return response


def problem(request: web.Request, status: int, key: str, **values: Any) -> web.Response:
    """An error page: the status, and one sentence in the page's language saying why."""
    return page(request, "error.html", status=status, message=translator(request)(key, **values))
