"""Who is asking: the officer behind a console session cookie or an API token, and CSRF.

One middleware (:func:`middleware`) guards ``/api/v1/`` and ``/console/``:

- under ``/api/v1/`` every route but the reporters' own (``POST /api/v1/reports``, ``GET
  /api/v1/reports/{id}``, ``GET /api/v1/status``) needs ``Authorization: Bearer <token>`` (``satupintu
  officers token NAME``) or a session cookie, else 401 in the server's JSON error shape;
- under ``/console/`` every page but ``/console/login`` and ``/console/static/*`` needs a session: a
  browser is sent to ``/console/login?next=...`` (303), a script (``fetch``, ``EventSource``) gets 401;
- an unsafe method (POST, PUT, PATCH, DELETE) that rides on the session cookie needs the session's
  CSRF token, in the form field ``_csrf`` or the header ``X-CSRF-Token``, else 403. A bearer token
  is not sent by the browser on its own, so requests with one are exempt.

Handlers read the officer with :func:`officer_of` and put :func:`csrf_token` into every form.
A form whose CSRF token is in its body must be read with ``await request.post()`` (the middleware
has read it already, aiohttp keeps it), not streamed with ``request.multipart()``.

The cookie is HttpOnly and SameSite=Lax (another site's form posts without it), and Secure when
``[console] secure_cookies`` says so or the request came over HTTPS (directly, or as the proxy
trusted by ``[public] forwarded_for`` says with ``X-Forwarded-Proto``). The database keeps only the
SHA-256 of a cookie or a token (``storage/officers.py``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn
from urllib.parse import quote

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.typedefs import Middleware
from aiohttp.web_request import FileField
from multidict import MultiDictProxy
from sqlalchemy import Engine

from config.settings import ConsoleSettings
from connectors.webform.api import REPORTS_PATH
from pipeline.errors import json_error
from pipeline.http import prefers_html
from public_pages.status import STATUS_API
from storage import officers as store
from storage.db import reading, transaction, utcnow

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

API_PREFIX = "/api/v1/"
CONSOLE_PREFIX = "/console/"
LOGIN_PATH = "/console/login"
LOGOUT_PATH = "/console/logout"
STATIC_PREFIX = "/console/static/"
HOME_PATH = "/console/"
PUBLIC_API_ROUTES = frozenset({REPORTS_PATH, REPORTS_PATH + "/{report_id}", STATUS_API})
"""The reporters' endpoints, by the route the router matched (not by a path string a crafted URL
could make look alike): they stay public."""
QUEUE_DISPLAY = "/console/queue/display"
QUEUE_DISPLAY_FEED = "/console/queue/display.json"
PUBLIC_CONSOLE_ROUTES = frozenset({QUEUE_DISPLAY, QUEUE_DISPLAY_FEED})
"""The waiting room's display of queue numbers (``console/queue_pages.py``): numbers and counter
names only, on a screen nobody signs in at."""
COOKIE = "satupintu_session"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_PREFIX = "sp_"
SEEN_EVERY = timedelta(minutes=1)
"""A session's last use (and a token's) is written at most this often: not a write per request."""
NEEDS_LOGIN = "log in to the console, or send Authorization: Bearer <token> (satupintu officers token NAME)"
BAD_TOKEN = "this API token is unknown or revoked"
BAD_CSRF = "the form's CSRF token is missing or wrong (send _csrf or X-CSRF-Token); reload the page"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NOTICES = {
    403: {
        "id": (
            "Formulir kedaluwarsa",
            "Formulir ini sudah kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi.",
        ),
        "en": ("Form expired", "This form has expired or is not valid. Reload the page and try again."),
    },
    400: {
        "id": ("Formulir tidak terbaca", "Isi formulir tidak dapat dibaca. Muat ulang halaman lalu coba lagi."),
        "en": ("Unreadable form", "The form's content could not be read. Reload the page and try again."),
    },
}
"""What a person is told, by status, when the guard refuses a form: a title and a sentence."""


@dataclass(frozen=True, slots=True)
class Officer:
    """The officer a request is made by (``officer_of``)."""

    id: int
    name: str
    role: str
    """admin, ult, unit or auditor (``console/access.py`` says what each may do)."""
    unit: str | None
    """Set for role ``unit``: the only unit whose cases they see."""
    language: str = "id"

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Officer:
        return cls(id=row["id"], name=row["name"], role=row["role"], unit=row["unit"], language=row["language"])


OFFICER = web.RequestKey("satupintu_officer", Officer)
CSRF = web.RequestKey("satupintu_csrf", str)
SESSION = web.RequestKey("satupintu_session", str)


def officer_of(request: web.Request) -> Officer | None:
    """The officer the middleware found for this request; None on the public and login pages."""
    return request.get(OFFICER)


def csrf_token(request: web.Request) -> str:
    """The token every form of this session carries as ``<input name="_csrf">`` (or a script sends
    as ``X-CSRF-Token``); empty without a session (a bearer token needs none)."""
    return request.get(CSRF) or ""


def session_csrf(session_token: str) -> str:
    """The CSRF token of a session: derived from its secret cookie, so it needs no storage and
    another site, which cannot read the cookie, cannot compute it."""
    mac = hmac.new(session_token.encode("utf-8", "surrogateescape"), b"satupintu csrf", hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    """An API token: recognisable by its prefix in a config file or a leak scanner."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class Gate:
    """Sessions and tokens against the database, and the cookie's attributes."""

    def __init__(self, engine: Engine, console: ConsoleSettings, *, trust_proxy: bool) -> None:
        self.engine = engine
        self.console = console
        self.trust_proxy = trust_proxy
        self.lifetime = timedelta(hours=console.session_hours)
        self.idle = timedelta(minutes=console.idle_minutes)

    # --- who is asking ---------------------------------------------------------------------------

    async def by_session(self, token: str) -> Officer | None:
        return await asyncio.to_thread(self._by_session, token)

    def _by_session(self, token: str) -> Officer | None:
        now = utcnow()
        with reading(self.engine) as connection:
            row = store.session_officer(connection, token, now, self.idle)
        if row is None:
            return None
        if now - row["seen_at"] >= min(SEEN_EVERY, self.idle / 10):
            with transaction(self.engine) as connection:
                store.touch_session(connection, row["session_id"], now)
        return Officer.from_row(row)

    async def by_token(self, token: str) -> Officer | None:
        return await asyncio.to_thread(self._by_token, token)

    def _by_token(self, token: str) -> Officer | None:
        now = utcnow()
        with reading(self.engine) as connection:
            row = store.token_officer(connection, token)
        if row is None:
            return None
        if row["used_at"] is None or now - row["used_at"] >= SEEN_EVERY:
            with transaction(self.engine) as connection:
                store.touch_token(connection, row["token_id"], now)
        return Officer.from_row(row)

    # --- logging in and out ----------------------------------------------------------------------

    async def start(self, officer_id: int) -> str:
        """A new session for the officer; returns the cookie's value."""
        token = new_secret()

        def write() -> None:
            with transaction(self.engine) as connection:
                store.start_session(connection, officer_id, token, self.lifetime)

        await asyncio.to_thread(write)
        return token

    async def end(self, token: str) -> None:
        def write() -> None:
            with transaction(self.engine) as connection:
                store.end_session(connection, token)

        await asyncio.to_thread(write)

    # --- the cookie ------------------------------------------------------------------------------

    def secure(self, request: web.Request) -> bool:
        if self.console.secure_cookies or request.secure:
            return True
        if self.trust_proxy:
            sent = ",".join(request.headers.getall("X-Forwarded-Proto", []))
            return sent.rsplit(",", 1)[-1].strip().lower() == "https"
        return False

    def set_cookie(self, response: web.StreamResponse, request: web.Request, name: str, value: str, path: str) -> None:
        """A cookie the page's scripts cannot read, another site's requests do not carry, and
        without an expiry: it ends with the browser (the server ends it sooner)."""
        response.set_cookie(name, value, path=path, httponly=True, samesite="Lax", secure=self.secure(request))

    def clear_cookie(self, response: web.StreamResponse, request: web.Request, name: str, path: str) -> None:
        response.del_cookie(name, path=path, httponly=True, samesite="Lax", secure=self.secure(request))

    def client_address(self, request: web.Request) -> str:
        """The peer, or behind the trusted proxy the address it forwarded (its last hop)."""
        if self.trust_proxy:
            last = ",".join(request.headers.getall("X-Forwarded-For", [])).rsplit(",", 1)[-1].strip()
            if last:
                return last
        return request.remote or ""


GATE = web.AppKey("satupintu_console_gate", Gate)


def middleware(gate: Gate) -> Middleware:
    """The guard of ``/api/v1/`` and ``/console/`` (see the module's docstring)."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        api = path.startswith(API_PREFIX)
        console = path.startswith(CONSOLE_PREFIX) or path == CONSOLE_PREFIX.rstrip("/")
        if (
            not (api or console)
            or path.startswith(STATIC_PREFIX)
            or (api and _public(request))
            or (console and _matched(request) in PUBLIC_CONSOLE_ROUTES)
        ):
            return await handler(request)
        bearer = _bearer(request)
        if bearer is not None:
            officer = await gate.by_token(bearer) if bearer else None
            if officer is None:
                raise json_error(401, BAD_TOKEN, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
            request[OFFICER] = officer
            return await handler(request)
        session = request.cookies.get(COOKIE, "")
        officer = await gate.by_session(session) if session else None
        if officer is not None:
            request[OFFICER] = officer
            request[SESSION] = session
            request[CSRF] = session_csrf(session)
        if path == LOGIN_PATH:
            return await handler(request)  # its form carries a CSRF token of its own (console/login.py)
        if officer is None:
            _needs_login(request, gate, api=api, stale=bool(session))
        if request.method not in SAFE_METHODS:
            try:
                allowed = await _csrf_ok(request, request[CSRF])
            except BadForm as exc:
                return _refuse(request, api, 400, str(exc), officer.language)
            if not allowed:
                return _refuse(request, api, 403, BAD_CSRF, officer.language)
        return await handler(request)

    return guard


def _matched(request: web.Request) -> str | None:
    """The route the router matched, by its pattern; None for a 404 or 405."""
    info = request.match_info
    if info.http_exception is None and info.route.resource is not None:
        return info.route.resource.canonical
    return None


def _public(request: web.Request) -> bool:
    """Whether the request is for a reporters' endpoint; a path no route has (404) or a method the
    route does not take (405) falls back to the path, so that those answer as such."""
    info = request.match_info
    if info.http_exception is None:
        return info.route.resource is not None and info.route.resource.canonical in PUBLIC_API_ROUTES
    return info.http_exception.status == 405 and (
        request.path in (REPORTS_PATH, STATUS_API) or request.path.rpartition("/")[0] == REPORTS_PATH
    )


def _bearer(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header; "" for another scheme or an empty one;
    None without the header."""
    sent = request.headers.get("Authorization")
    if sent is None:
        return None
    scheme, _, token = sent.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class BadForm(Exception):
    """A form body that cannot be read (not UTF-8, a broken multipart): 400, never 500."""


async def read_form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | FileField]:
    """The posted form (aiohttp keeps it: a second call is free), or :class:`BadForm` saying why."""
    try:
        return await request.post()
    except UnicodeDecodeError:
        raise BadForm("a form field is not valid UTF-8") from None
    except LookupError as exc:
        raise BadForm(f"unknown charset: {exc}") from None
    except (BadHttpMessage, ValueError) as exc:
        raise BadForm(f"malformed form body: {exc}") from None


async def _csrf_ok(request: web.Request, expected: str) -> bool:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in FORM_TYPES:
        form = await read_form(request)
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    return sent is not None and hmac.compare_digest(sent.encode("utf-8", "surrogateescape"), expected.encode())


def _needs_login(request: web.Request, gate: Gate, *, api: bool, stale: bool) -> NoReturn:
    if api or not prefers_html(request.headers.get("Accept", "")):
        raise json_error(401, NEEDS_LOGIN, headers={"WWW-Authenticate": 'Bearer realm="satupintu"'})
    wanted = request.path_qs if request.method in SAFE_METHODS else HOME_PATH
    response = web.HTTPSeeOther(f"{LOGIN_PATH}?next={quote(wanted, safe='/')}")
    if stale:
        gate.clear_cookie(response, request, COOKIE, "/")  # an ended session's cookie, not sent again
    raise response


def _refuse(request: web.Request, api: bool, status: int, reason: str, language: str) -> web.Response:
    if api or not prefers_html(request.headers.get("Accept", "")):
        raise json_error(status, reason)
    return notice_page(status, language)


def notice_page(status: int, language: str) -> web.Response:
    """A refused form (403: no or a wrong token, 400: unreadable) as a page, not JSON, for a person;
    returned, not raised, so that the front middleware leaves it as it is."""
    texts = NOTICES[status]
    title, notice = texts.get(language, texts["id"])
    body = (
        f'<!doctype html><html lang="{"en" if language == "en" else "id"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
        f'<link rel="stylesheet" href="/console/static/console.css"></head>'
        f'<body><main class="login"><h1>{title}</h1><p class="notice">{notice}</p>'
        f'<p><a href="{HOME_PATH}">satupintu</a></p></main></body></html>'
    )
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def safe_next(wanted: str | None) -> str:
    """Where to go after logging in: a console page of this server only (never another host,
    ``//evil``, ``/\\evil``), else the inbox."""
    if not wanted or not wanted.startswith(CONSOLE_PREFIX) or wanted.startswith(LOGIN_PATH):
        return HOME_PATH
    if "\\" in wanted or any(ord(c) < 0x20 for c in wanted):
        return HOME_PATH
    return wanted
