"""``/console/login`` and ``/console/logout``: a session for an officer's name and password.

The login form has no session yet, so it carries a CSRF token of its own: a random value in a
cookie scoped to the login path and in the form, which must match (another site can post the
form but cannot read or set the cookie). Attempts are limited per client address and per name
(token buckets, ``[console] login_*``): past them 429 with ``Retry-After``, whether the password
was right or not. A wrong name, a wrong password and a disabled officer get the same answer
after the same work (an argon2 check against a dummy hash when the name is unknown).

The buckets live in this process: with several ``http`` workers each has its own.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import secrets
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine

from config.settings import ConsoleSettings
from console import passwords
from console.auth import (
    COOKIE,
    GATE,
    HOME_PATH,
    LOGIN_PATH,
    LOGOUT_PATH,
    SESSION,
    BadForm,
    Gate,
    officer_of,
    read_form,
    safe_next,
)
from public_pages.ratelimit import TokenBucket
from storage import officers as store
from storage.db import reading, transaction

logger = logging.getLogger(__name__)

LOGIN_COOKIE = "satupintu_login"
LANGUAGE_COOKIE = "console_lang"
"""The console pages' language cookie (``console/i18n.py``): the login page follows it too."""
LANGUAGES = ("id", "en")
MAX_NAME_CHARS = 64
NO_STORE = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}
TEXT: dict[str, dict[str, str]] = {
    "id": {
        "title": "Masuk konsol petugas",
        "lead": "Masuk dengan nama pengguna dan kata sandi yang diberikan admin.",
        "name": "Nama pengguna",
        "password": "Kata sandi",
        "submit": "Masuk",
        "other": "English",
        "wrong": "Nama pengguna atau kata sandi salah.",
        "missing": "Isi nama pengguna dan kata sandi.",
        "expired": "Formulir kedaluwarsa. Silakan coba lagi.",
        "unreadable": "Isi formulir tidak dapat dibaca. Silakan coba lagi.",
        "too_many": "Terlalu banyak percobaan masuk. Coba lagi dalam {seconds} detik.",
    },
    "en": {
        "title": "Officer console sign-in",
        "lead": "Sign in with the user name and password the admin gave you.",
        "name": "User name",
        "password": "Password",
        "submit": "Sign in",
        "other": "Bahasa Indonesia",
        "wrong": "Wrong user name or password.",
        "missing": "Enter your user name and password.",
        "expired": "The form expired. Please try again.",
        "unreadable": "The form could not be read. Please try again.",
        "too_many": "Too many sign-in attempts. Try again in {seconds} seconds.",
    },
}

_TEMPLATES = Environment(
    loader=PackageLoader("console", "templates"), autoescape=select_autoescape(["html"]), trim_blocks=True
)


class Login:
    """The login and logout handlers, with their rate limits."""

    def __init__(self, engine: Engine, console: ConsoleSettings) -> None:
        self.engine = engine
        self.default_language = console.language
        self.by_address = TokenBucket(console.login_address_per_minute / 60, console.login_address_burst)
        self.by_name = TokenBucket(console.login_name_per_minute / 60, console.login_name_burst)

    def routes(self) -> list[web.RouteDef]:
        return [web.get(LOGIN_PATH, self.form), web.post(LOGIN_PATH, self.submit), web.post(LOGOUT_PATH, self.logout)]

    async def form(self, request: web.Request) -> web.StreamResponse:
        wanted = safe_next(request.query.get("next"))
        if officer_of(request) is not None:
            raise web.HTTPSeeOther(wanted)
        return self._page(request, next_page=wanted)

    async def submit(self, request: web.Request) -> web.StreamResponse:
        gate = request.app[GATE]
        try:
            form = await read_form(request)
        except BadForm:
            return self._page(request, status=400, notice="unreadable")
        name = _field(form, "name").strip().lower()[:MAX_NAME_CHARS]
        password = _field(form, "password")
        wanted = safe_next(_field(form, "next"))
        sent, expected = _field(form, "_csrf"), request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            return self._page(request, status=403, notice="expired", name=name, next_page=wanted)
        if not name or not password:
            return self._page(request, status=400, notice="missing", name=name, next_page=wanted)
        wait = self.by_address.take(gate.client_address(request)) or self.by_name.take(name)
        if wait:
            seconds = math.ceil(wait)
            return self._page(
                request, status=429, notice="too_many", seconds=seconds, name=name, next_page=wanted,
                headers={"Retry-After": str(seconds)},
            )  # fmt: skip
        officer_id = await asyncio.to_thread(self._check, name, password)
        if officer_id is None:
            logger.info("console login refused", extra={"address": gate.client_address(request)})
            return self._page(request, status=401, notice="wrong", name=name, next_page=wanted)
        token = await gate.start(officer_id)
        logger.info("console login", extra={"officer": name})
        response = web.HTTPSeeOther(wanted, headers=NO_STORE)
        gate.set_cookie(response, request, COOKIE, token, "/")
        gate.clear_cookie(response, request, LOGIN_COOKIE, LOGIN_PATH)
        raise response

    def _check(self, name: str, password: str) -> int | None:
        """The officer's id when the password is theirs and they are enabled; the hash is renewed
        when argon2's parameters have grown since it was made."""
        with reading(self.engine) as connection:
            row = store.officer_by_name(connection, name)
        stored = row["password_hash"] if row is not None else None
        if not passwords.verify_password(stored, password) or row is None or row["disabled_at"] is not None:
            return None
        officer_id = int(row["id"])
        if passwords.needs_rehash(row["password_hash"]):
            with transaction(self.engine) as connection:
                store.set_password(connection, officer_id, passwords.hash_password(password), end_sessions=False)
        return officer_id

    async def logout(self, request: web.Request) -> web.StreamResponse:
        """Ends this session (the middleware has checked its CSRF token) and forgets the cookie."""
        gate: Gate = request.app[GATE]
        session = request.get(SESSION)
        if session:
            await gate.end(session)
        response = web.HTTPSeeOther(LOGIN_PATH, headers=NO_STORE)
        gate.clear_cookie(response, request, COOKIE, "/")
        raise response

    def _page(
        self,
        request: web.Request,
        *,
        status: int = 200,
        notice: str | None = None,
        name: str = "",
        next_page: str = HOME_PATH,
        headers: dict[str, str] | None = None,
        **values: Any,
    ) -> web.Response:
        """The form, with a fresh login token unless the browser already holds one."""
        gate = request.app[GATE]
        language = self._language(request)
        text = TEXT[language]
        token = request.cookies.get(LOGIN_COOKIE, "")
        if not 20 <= len(token) <= 64:
            token = secrets.token_urlsafe(32)
        body = _TEMPLATES.get_template("login.html").render(
            lang=language,
            default_lang=self.default_language,
            other_lang="en" if language == "id" else "id",
            text=text,
            notice=text[notice].format(**values) if notice else None,
            csrf=token,
            name=name,
            next=next_page,
            home=HOME_PATH,
        )
        response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
        response.headers.update({**NO_STORE, **(headers or {})})
        gate.set_cookie(response, request, LOGIN_COOKIE, token, LOGIN_PATH)
        if request.query.get("lang") in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE, language, max_age=365 * 86_400, path="/console/", httponly=True, samesite="Lax"
            )
        return response

    def _language(self, request: web.Request) -> str:
        for choice in (request.query.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
            if choice in LANGUAGES:
                return choice
        return self.default_language


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""
