"""Logins, sessions, CSRF and API tokens at the HTTP boundary: what a browser, a script and an
attacker each get from the running server."""

from __future__ import annotations

from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from console.auth import COOKIE, session_csrf
from console.login import LOGIN_COOKIE
from storage.db import utcnow
from tests.console.support import (
    PASSWORD,
    add_officer,
    api_token,
    bearer,
    client,
    console_app,
    cookie,
    execute,
    log_in,
    logged_in,
)
from tests.support import SettingsFactory, make_settings

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CASES = "/api/v1/cases"
NOWHERE = "/api/v1/no-such-endpoint"
"""A path no route serves: a request the guard lets through answers 404 there, one it stops 401."""


def set_cookies(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """The Set-Cookie headers of a response, by name, with their attributes."""
    found: dict[str, Any] = {}
    for header in response.headers.getall("Set-Cookie", []):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            found[name] = {"value": morsel.value, "header": header.lower(), "path": morsel["path"]}
    return found


async def test_the_api_needs_a_token_or_a_session_but_the_reporters_endpoints_stay_public(
    backend_settings: SettingsFactory,
) -> None:
    async with console_app(backend_settings()) as app, aiohttp.ClientSession(app.base_url) as http:
        for path in (CASES, CASES + "/ULT-26-00042-8", "/api/v1/dashboard", NOWHERE, "/api/v1/openapi.json"):
            async with http.get(path) as response:
                assert response.status == 401, path
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
                assert (await response.json())["error"]["status"] == 401
        async with http.post(CASES + "/ULT-26-00042-8/actions/close") as response:
            assert response.status == 401, "an action without credentials"

        async with http.post(
            "/api/v1/reports", json={"name": "Rina", "email": "rina@example.id", "text": "AC rusak"}
        ) as r:
            assert r.status == 202
            report = await r.json()
        async with http.get(report["status_url"]) as response:
            assert response.status == 200
        async with http.get("/api/v1/reports/no-such-report") as response:
            assert response.status == 404, "the public status resource answers for itself"
        async with http.get("/api/v1/status", params={"tracking": "ULT-26-00001-0", "contact": "x@y.id"}) as response:
            assert response.status == 404
        async with http.delete("/api/v1/reports") as response:
            assert response.status == 405, "a public path keeps its own answers"

        token = await api_token(app.engine, "ult")
        async with http.get(NOWHERE, headers=bearer(token)) as response:
            assert response.status == 404, "a valid token passes the guard"
        for wrong in ("Bearer sp_not-a-token", "Bearer ", f"Basic {token}", f"Token {token}"):
            async with http.get(NOWHERE, headers={"Authorization": wrong}) as response:
                assert response.status == 401, wrong
                assert "error" in await response.json()


async def test_console_pages_send_a_browser_to_the_login_and_a_script_gets_401(
    backend_settings: SettingsFactory,
) -> None:
    async with console_app(backend_settings()) as app, client(app.base_url) as http:
        async with http.get("/console/inbox?status=received", headers=BROWSER, allow_redirects=False) as response:
            assert response.status == 303
            location = URL(response.headers["Location"])
            assert location.path == "/console/login" and location.query["next"] == "/console/inbox?status=received"
        async with http.get("/console/inbox", headers={"Accept": "text/event-stream"}) as response:
            assert response.status == 401, "EventSource and fetch() get an answer they can read"
        async with http.post("/console/logout", headers=BROWSER, allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"].startswith("/console/login")
        async with http.get("/console/static/console.css") as response:
            assert response.status in {200, 404}, "static files need no login"
            assert response.status != 401
        async with http.get("/console/login", headers=BROWSER) as response:
            assert response.status == 200
            page = await response.text()
            assert 'name="password"' in page and 'name="_csrf"' in page and 'lang="id"' in page
            assert "Kata sandi" in page and response.headers["Cache-Control"] == "no-store"
        async with http.get("/console/login?lang=en", headers=BROWSER) as response:
            assert "Password" in await response.text()


async def test_login_gives_a_cookie_scripts_cannot_read_and_other_sites_do_not_send(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var")
    async with console_app(settings) as app, client(app.base_url) as http:
        response = await log_in(http, "ult")
        async with response:
            assert response.status == 303 and response.headers["Location"] == "/console/"
            given = set_cookies(response)[COOKIE]
        assert "httponly" in given["header"] and "samesite=lax" in given["header"]
        assert given["path"] == "/" and "secure" not in given["header"], "plain HTTP: a Secure cookie would be lost"
        assert "expires" not in given["header"] and "max-age" not in given["header"], "ends with the browser"
        stored = app.rows("SELECT token_hash FROM officer_session")
        assert [row["token_hash"] for row in stored] != [given["value"]] and len(stored) == 1, "only its hash"
        [officer] = app.rows("SELECT password_hash FROM officer WHERE name = 'ult'")
        assert officer["password_hash"].startswith("$argon2id$") and PASSWORD not in officer["password_hash"]

        async with http.get("/console/login", headers=BROWSER, allow_redirects=False) as again:
            assert again.status == 303, "a logged-in officer is sent on from the login page"
        async with http.get(NOWHERE) as api:
            assert api.status == 404, "the session opens the API too"


async def test_cookies_are_secure_over_https_as_the_trusted_proxy_says_or_as_configured(tmp_path: Path) -> None:
    proxied = make_settings(tmp_path / "a", public={"forwarded_for": True})
    async with console_app(proxied) as app, client(app.base_url) as http:
        async with http.get("/console/login", headers={"X-Forwarded-Proto": "https"}) as response:
            assert "secure" in set_cookies(response)[LOGIN_COOKIE]["header"]
        async with http.get("/console/login", headers={"X-Forwarded-Proto": "http"}) as response:
            assert "secure" not in set_cookies(response)[LOGIN_COOKIE]["header"]
    direct = make_settings(tmp_path / "b")
    async with console_app(direct) as app, client(app.base_url) as http:
        response = await http.get("/console/login", headers={"X-Forwarded-Proto": "https"})
        async with response:
            assert "secure" not in set_cookies(response)[LOGIN_COOKIE]["header"], "no proxy trusted: header ignored"
    configured = make_settings(tmp_path / "c", console={"secure_cookies": True})
    async with console_app(configured) as app, client(app.base_url) as http:
        response = await http.get("/console/login")
        async with response:
            assert "secure" in set_cookies(response)[LOGIN_COOKIE]["header"]


async def test_wrong_names_passwords_and_disabled_officers_get_the_same_answer(tmp_path: Path) -> None:
    async with console_app(make_settings(tmp_path / "var")) as app, client(app.base_url) as http:
        await add_officer(app.engine, "gone", "ult")
        execute(app.engine, "UPDATE officer SET disabled_at = :t WHERE name = 'gone'", t=utcnow())
        answers = []
        for name, password in (("ult", "salah-sekali-123"), ("nobody", PASSWORD), ("gone", PASSWORD)):
            response = await log_in(http, name, password)
            async with response:
                answers.append((response.status, COOKIE in set_cookies(response)))
                assert "Nama pengguna atau kata sandi salah." in await response.text()
        assert answers == [(401, False)] * 3
        response = await log_in(http, "  ULT ", PASSWORD)
        async with response:
            assert response.status == 303, "a name is found whatever its case and spaces"


async def test_the_login_form_needs_its_own_token(tmp_path: Path) -> None:
    async with console_app(make_settings(tmp_path / "var")) as app, client(app.base_url) as http:
        form = {"name": "ult", "password": PASSWORD, "_csrf": "forged-by-another-site"}
        async with http.post("/console/login", data=form, headers=BROWSER, allow_redirects=False) as response:
            assert response.status == 403 and COOKIE not in set_cookies(response)
            assert "kedaluwarsa" in await response.text()


async def test_login_attempts_are_limited_per_name_and_per_address(tmp_path: Path) -> None:
    limits = {"login_name_burst": 2, "login_name_per_minute": 0.5, "login_address_burst": 4}
    async with console_app(make_settings(tmp_path / "var", console=limits)) as app, client(app.base_url) as http:
        for _ in range(2):
            (await log_in(http, "ult", "tebak-tebakan-1")).release()
        response = await log_in(http, "ult", PASSWORD)
        async with response:
            assert response.status == 429, "past the burst even the right password waits"
            assert int(response.headers["Retry-After"]) > 0 and COOKIE not in set_cookies(response)
            assert "Terlalu banyak percobaan" in await response.text()
        response = await log_in(http, "admin", PASSWORD)
        async with response:
            assert response.status == 303, "another name from the same address still may"
        async with client(app.base_url) as other:
            response = await log_in(other, "auditor", PASSWORD)
            async with response:
                assert response.status == 429, "the address's own burst (4) is spent"


async def test_csrf_guards_every_unsafe_request_that_rides_on_the_session(tmp_path: Path) -> None:
    async with console_app(make_settings(tmp_path / "var")) as app, logged_in(app.base_url, "ult") as browser:
        http = browser.http
        async with http.post(NOWHERE, json={}) as response:
            assert response.status == 403 and "CSRF" in (await response.json())["error"]["reason"]
        async with http.post(NOWHERE, json={}, headers={"X-CSRF-Token": "guessed"}) as response:
            assert response.status == 403
        async with http.post(NOWHERE, json={}, headers=browser.headers()) as response:
            assert response.status == 404, "with the session's token the request goes on"
        async with http.post("/console/logout", data={}, headers=BROWSER, allow_redirects=False) as response:
            assert response.status == 403 and "kedaluwarsa" in await response.text(), "a page, for a person"
        async with http.get(NOWHERE) as response:
            assert response.status == 404, "the refused logout did not end the session"
        token = await api_token(app.engine, "ult")
        async with aiohttp.ClientSession(app.base_url) as script, script.post(NOWHERE, headers=bearer(token)) as r:
            assert r.status == 404, "a bearer token needs no CSRF token"
        assert browser.csrf != session_csrf("another session"), "each session has its own"


async def test_logout_ends_the_session_for_good(tmp_path: Path) -> None:
    async with console_app(make_settings(tmp_path / "var")) as app, logged_in(app.base_url, "ult") as browser:
        session = cookie(browser.http, COOKIE, "/console/")
        response = await browser.post("/console/logout", headers=BROWSER)
        async with response:
            assert response.status == 303 and response.headers["Location"] == "/console/login"
            assert set_cookies(response)[COOKIE]["value"] == "", "the browser forgets it"
        assert app.scalar("SELECT count(*) FROM officer_session") == 0
        async with client(app.base_url) as replay:
            replay.cookie_jar.update_cookies({COOKIE: session})
            async with replay.get(NOWHERE) as answer:
                assert answer.status == 401, "a copied cookie is worth nothing after logout"


async def test_sessions_end_when_idle_or_old_and_when_the_officer_is_disabled(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var", console={"idle_minutes": 30, "session_hours": 8})
    async with console_app(settings) as app:
        async with logged_in(app.base_url, "ult") as browser:
            async with browser.http.get(NOWHERE) as response:
                assert response.status == 404
            execute(app.engine, "UPDATE officer_session SET seen_at = :t", t=utcnow() - timedelta(minutes=31))
            async with browser.http.get("/console/inbox", headers=BROWSER, allow_redirects=False) as response:
                assert response.status == 303, "idle too long"
                assert set_cookies(response)[COOKIE]["value"] == "", "the stale cookie is cleared"
        async with logged_in(app.base_url, "ult") as browser:
            execute(app.engine, "UPDATE officer_session SET expires_at = :t", t=utcnow() - timedelta(seconds=1))
            async with browser.http.get(NOWHERE) as response:
                assert response.status == 401, "past session_hours, however busy"
        token = await api_token(app.engine, "auditor")
        async with logged_in(app.base_url, "auditor") as browser:
            execute(app.engine, "UPDATE officer SET disabled_at = :t WHERE name = 'auditor'", t=utcnow())
            async with browser.http.get(NOWHERE) as response:
                assert response.status == 401, "a disabled officer's session stops at once"
            async with browser.http.get(NOWHERE, headers=bearer(token)) as response:
                assert response.status == 401, "and their token"


@pytest.mark.parametrize(
    "wanted", ["https://evil.example/", "//evil.example/", "/\\evil.example", "/api/v1/cases", "/console/login"]
)
async def test_after_login_only_a_console_page_of_this_server_is_next(tmp_path: Path, wanted: str) -> None:
    async with console_app(make_settings(tmp_path / "var")) as app, client(app.base_url) as http:
        async with http.get("/console/login", params={"next": wanted}) as page:
            assert page.status == 200
        token = cookie(http, LOGIN_COOKIE, "/console/login")
        form = {"name": "ult", "password": PASSWORD, "_csrf": token, "next": wanted}
        async with http.post("/console/login", data=form, allow_redirects=False) as response:
            assert response.headers["Location"] == "/console/"


async def test_after_login_the_page_asked_for_opens(tmp_path: Path) -> None:
    async with console_app(make_settings(tmp_path / "var")) as app, client(app.base_url) as http:
        wanted = "/console/cases/ULT-26-00042-8?tab=thread"
        async with http.get("/console/login", params={"next": wanted}) as page:
            assert f'name="next" value="{wanted}"' in await page.text()
        token = cookie(http, LOGIN_COOKIE, "/console/login")
        form = {"name": "ult", "password": PASSWORD, "_csrf": token, "next": wanted}
        async with http.post("/console/login", data=form, allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == wanted


BROKEN_FORMS = [
    ("multipart/form-data; boundary=xyz", b"--xyz\r\nbroken"),
    ("multipart/form-data", b"no boundary"),
    ("application/x-www-form-urlencoded", b"name=%ff%fe&password=\xff\xfe&_csrf=x"),
]


async def test_unreadable_forms_are_400_with_a_reason_never_500(tmp_path: Path) -> None:
    async with console_app(make_settings(tmp_path / "var")) as app, logged_in(app.base_url, "ult") as browser:
        async with client(app.base_url) as http:
            for content_type, body in BROKEN_FORMS:
                headers = {**BROWSER, "Content-Type": content_type}
                async with http.post("/console/login", data=body, headers=headers) as response:
                    assert response.status == 400, content_type
                    assert "tidak dapat dibaca" in await response.text()
        for content_type, body in BROKEN_FORMS:
            async with browser.http.post(NOWHERE, data=body, headers={"Content-Type": content_type}) as response:
                assert response.status == 400, content_type
                assert (await response.json())["error"]["reason"]
            headers = {**BROWSER, "Content-Type": content_type}
            async with browser.http.post("/console/logout", data=body, headers=headers) as response:
                assert response.status == 400 and "tidak dapat dibaca" in await response.text()
