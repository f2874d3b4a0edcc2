"""Officers for the console's tests: accounts of every role made the way ``satupintu officers``
makes them, a logged-in browser session (cookie + CSRF token) or an API token, against a running
app of ``tests/support.py``.

::

    async with console_app(backend_settings()) as app:
        staff = await add_staff(app.engine)                   # admin, ult, auditor, unit_<unit>...
        async with logged_in(app.base_url, "unit_sarpras") as browser:
            async with browser.http.get("/console/inbox") as response: ...
            await browser.post("/console/cases/ULT-26-00001-3/actions/verify", {"note": "ok"})
        headers = bearer(await api_token(app.engine, "ult"))
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from sqlalchemy import Engine, text
from yarl import URL

from config.settings import Settings
from console import accounts
from console.auth import COOKIE, CSRF_HEADER, LOGIN_PATH, Officer, session_csrf
from console.login import LOGIN_COOKIE
from pipeline.app import COMPONENTS
from storage.db import transaction
from tests.support import Running, running_pipeline

PASSWORD = "kata-sandi-uji-2026"
"""Every test officer's password."""
UNITS = ("sarpras", "ppkpt")
"""The units of ``config/routing.toml`` that ``add_staff`` makes a unit officer for."""
LOGIN_FORM = re.compile(r'name="_csrf" value="([^"]+)"')


async def add_officer(
    engine: Engine,
    name: str,
    role: str,
    unit: str | None = None,
    *,
    password: str = PASSWORD,
    language: str = "id",
) -> Officer:
    """An officer, through the same function ``satupintu officers add`` calls."""

    def write() -> Officer:
        with transaction(engine) as connection:
            return accounts.add_officer(connection, name, role, unit, password, language)

    return await asyncio.to_thread(write)


async def add_staff(engine: Engine, units: tuple[str, ...] = UNITS) -> dict[str, Officer]:
    """One officer of each role, by name: ``admin``, ``ult``, ``auditor``, and ``unit_<key>`` for
    each of ``units``."""
    staff = {name: await add_officer(engine, name, name) for name in ("admin", "ult", "auditor")}
    for unit in units:
        staff[f"unit_{unit}"] = await add_officer(engine, f"unit_{unit}", "unit", unit)
    return staff


async def api_token(engine: Engine, name: str) -> str:
    """A new API token of the officer ``name`` (what ``satupintu officers token NAME`` prints)."""

    def write() -> str:
        with transaction(engine) as connection:
            return accounts.issue_token(connection, name)

    return await asyncio.to_thread(write)


def execute(engine: Engine, sql: str, **params: Any) -> None:
    """One statement in a committed transaction (a test moving a clock: a session's last use)."""
    with transaction(engine) as connection:
        connection.execute(text(sql), params)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Browser:
    """A logged-in browser: the session's cookie is in ``http``'s jar, ``csrf`` goes into forms."""

    http: aiohttp.ClientSession
    csrf: str
    name: str

    async def post(self, path: str, data: Mapping[str, Any] | None = None, **kwargs: Any) -> aiohttp.ClientResponse:
        """A form posted with the session's CSRF token, redirects not followed; the caller reads
        (or releases) the response."""
        fields = {"_csrf": self.csrf, **(data or {})}
        return await self.http.post(path, data=fields, allow_redirects=False, **kwargs)

    def headers(self) -> dict[str, str]:
        """For a script's request (JSON, ``fetch``) on the session: the CSRF header."""
        return {CSRF_HEADER: self.csrf}


def client(base_url: str) -> aiohttp.ClientSession:
    """A client that keeps cookies of an IP address host (aiohttp's jar refuses them by default)."""
    return aiohttp.ClientSession(base_url, cookie_jar=aiohttp.CookieJar(unsafe=True))


async def log_in(http: aiohttp.ClientSession, name: str, password: str = PASSWORD) -> aiohttp.ClientResponse:
    """The login form filled in as a browser does (GET, then POST with its token); the answer to
    the POST, redirects not followed (303 on success)."""
    async with http.get(LOGIN_PATH, allow_redirects=False) as page:
        assert page.status == 200, f"the login form answered {page.status} (logged in already?)"
        assert LOGIN_FORM.search(await page.text()), "the login form carries a token"
    token = cookie(http, LOGIN_COOKIE, LOGIN_PATH)
    form = {"name": name, "password": password, "_csrf": token, "next": "/console/"}
    return await http.post(LOGIN_PATH, data=form, allow_redirects=False)


@asynccontextmanager
async def logged_in(base_url: str, name: str, password: str = PASSWORD) -> AsyncIterator[Browser]:
    async with client(base_url) as http:
        response = await log_in(http, name, password)
        response.release()
        assert response.status == 303, f"login of {name} answered {response.status}"
        yield Browser(http=http, csrf=session_csrf(cookie(http, COOKIE, "/console/")), name=name)


def cookie(http: aiohttp.ClientSession, name: str, path: str) -> str:
    """The value of the cookie ``name`` the client would send to ``path``."""
    base = http._base_url  # the jar filters by URL
    assert base is not None
    cookies = http.cookie_jar.filter_cookies(URL(str(base)).with_path(path))
    morsel = cookies.get(name)
    assert morsel is not None, f"no {name} cookie"
    return morsel.value


@asynccontextmanager
async def console_app(settings: Settings, components: tuple[str, ...] = COMPONENTS) -> AsyncIterator[Running]:
    """A running pipeline with the staff of :func:`add_staff`."""
    async with running_pipeline(settings, components) as app:
        await add_staff(app.engine)
        yield app
