"""The officers' API at every role boundary, each answer checked against the OpenAPI document:
401 without credentials, a unit officer's 404 for another unit's case, an auditor's 403 on
actions, a confidential case's reporter masked for the roles not allowed (and a view by one
allowed in the audit trail), filters and pagination, attachments, the reporters' public endpoints."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from sqlalchemy import text

from tests.console.support import api_token, bearer, console_app, logged_in
from tests.console.test_api_support import PPKPT, SARPRAS, TIK, Api, report
from tests.support import Running, SettingsFactory, eventually, make_settings

CASES = "/api/v1/cases"
CASE = "/api/v1/cases/{tracking_number}"
MESSAGES = "/api/v1/cases/{tracking_number}/messages"
ACTION = "/api/v1/cases/{tracking_number}/actions/{action}"
ATTACHMENT = "/api/v1/attachments/{attachment_id}"
OFFICER_ENDPOINTS = (
    ("GET", CASES, {}),
    ("GET", CASE, {"tracking_number": "ULT-26-00042-8"}),
    ("GET", MESSAGES, {"tracking_number": "ULT-26-00042-8"}),
    ("POST", ACTION, {"tracking_number": "ULT-26-00042-8", "action": "close"}),
    ("GET", ATTACHMENT, {"attachment_id": "a1"}),
    ("GET", "/api/v1/dashboard", {}),
    ("GET", "/api/v1/changes", {}),
    ("GET", "/api/v1/officers/me", {}),
    ("GET", "/api/v1/openapi.json", {}),
)


async def test_every_role_boundary_of_the_api(backend_settings: SettingsFactory) -> None:
    async with console_app(backend_settings()) as app, aiohttp.ClientSession(app.base_url) as http:
        public = Api(http)
        for method, template, path in OFFICER_ENDPOINTS:
            answer = await public.call(method, template, path=path)
            assert answer.status == 401, (method, template)

        repair = await report(public, SARPRAS)
        harassment = await report(public, PPKPT)
        wish = await report(public, f"{SARPRAS}, lantai 2", phone="+6281298765432", anonymous=True)
        names = ("admin", "ult", "auditor", "unit_sarpras", "unit_ppkpt")
        tokens = {name: await api_token(app.engine, name) for name in names}
        as_ = {name: Api(http, bearer(token)) for name, token in tokens.items()}

        me = await as_["unit_sarpras"].get("/api/v1/officers/me")
        assert (me.body["role"], me.body["unit"]) == ("unit", "sarpras")

        # A unit officer: their unit's cases only; another unit's case does not exist for them.
        listed = await as_["unit_sarpras"].get(CASES)
        assert {c["tracking_number"] for c in listed.body["items"]} == {repair.tracking_number, wish.tracking_number}
        widened = await as_["unit_sarpras"].get(CASES, params={"unit": "ppkpt"})
        assert harassment.tracking_number not in str(widened.body), "a filter cannot widen the scope"
        for template in (CASE, MESSAGES):
            hidden = await as_["unit_sarpras"].get(template, path={"tracking_number": harassment.tracking_number})
            assert hidden.status == 404
            assert hidden.body["error"]["reason"] == f"no case {harassment.tracking_number}", "as if missing"
        refused = await as_["unit_sarpras"].act(harassment.tracking_number, "verify")
        assert refused.status == 404
        own = await as_["unit_sarpras"].case(repair.tracking_number)
        assert own.status == 200 and own.body["case"]["unit"] == "sarpras"

        # The ULT sees every unit's cases.
        everything = await as_["ult"].get(CASES)
        assert {c["tracking_number"] for c in everything.body["items"]} == {
            repair.tracking_number,
            harassment.tracking_number,
            wish.tracking_number,
        }

        # An auditor reads everything and changes nothing.
        read = await as_["auditor"].case(harassment.tracking_number)
        assert read.status == 200
        for action, fields in (("verify", {}), ("reject", {"reason": "bukan wewenang"}), ("merge", {"into": "x"})):
            forbidden = await as_["auditor"].act(repair.tracking_number, action, fields)
            assert forbidden.status == 403, action
            assert forbidden.body["error"]["code"] == "forbidden"
        status = app.scalar("SELECT status FROM cases WHERE tracking_number = :n", n=repair.tracking_number)
        assert status == "received", "the auditor's attempts changed nothing"

        # The confidential case's reporter: masked for the ULT officer, shown to the admin (and audited).
        masked = await as_["ult"].case(harassment.tracking_number)
        assert masked.body["reporter"]["hidden"] is True
        assert "Rina" not in str(masked.body) and "6281234567890" not in str(masked.body)
        listed_masked = await as_["ult"].get(CASES, params={"confidential": "true"})
        assert [c["reporter_name"] for c in listed_masked.body["items"]] == ["[rahasia]"]
        assert not _reveals(app, harassment.tracking_number)

        shown = await as_["admin"].case(harassment.tracking_number)
        assert shown.body["reporter"]["hidden"] is False
        assert shown.body["reporter"]["name"] == "Rina Wulandari"
        assert _reveals(app, harassment.tracking_number) == [("admin", "reporter_revealed")]

        # The PPKPT's own officers see their confidential cases' reporters ([access] unit_identity_roles).
        satgas = await as_["unit_ppkpt"].case(harassment.tracking_number)
        assert satgas.body["reporter"]["name"] == "Rina Wulandari"
        assert _reveals(app, harassment.tracking_number) == [
            ("admin", "reporter_revealed"),
            ("unit_ppkpt", "reporter_revealed"),
        ]

        # A reporter who asked to stay anonymous is hidden from the unit and the ULT, not the admin.
        for name in ("unit_sarpras", "ult", "auditor"):
            anonymous = await as_[name].case(wish.tracking_number)
            assert anonymous.body["reporter"]["hidden"] is True, name
            assert "6281298765432" not in str(anonymous.body), name
        revealed = (await as_["admin"].case(wish.tracking_number)).body["reporter"]
        assert revealed["hidden"] is False and revealed["phone"] == ["+6281298765432"], "the ULT can answer them"

        # What no case or file has (a NUL byte, far too long) is a 4xx on both databases, never a 500.
        ult = as_["ult"]
        for odd in ("ULT-26-00001-3\x00", "\x00", "x" * 1000, "ULT-26-00001-4"):
            label = odd[:20]
            for template in (CASE, MESSAGES):
                assert (await ult.get(template, path={"tracking_number": odd})).status == 404, (template, label)
            assert (await ult.act(odd, "verify")).status == 404, label
            merged = await ult.act(repair.tracking_number, "merge", {"into": odd})
            assert merged.status == (404 if odd.isprintable() and len(odd) < 320 else 422), label
        assert (await ult.get(ATTACHMENT, path={"attachment_id": "a1\x00"})).status == 404
        for name in ("q", "status", "channel", "kind", "unit", "assignee", "cursor"):
            odd_query = await ult.get(CASES, params={name: "abc\x00def"})
            assert odd_query.status == 400, (name, odd_query.body)

        # A case that is not confidential shows its reporter to every role, without an audit event.
        plain = await as_["auditor"].case(repair.tracking_number)
        assert plain.body["reporter"]["name"] == "Rina Wulandari"
        assert not _reveals(app, repair.tracking_number)


async def test_the_reporters_endpoints_stay_public_and_documented(tmp_path: Path) -> None:
    async with console_app(make_settings(tmp_path / "var")) as app, aiohttp.ClientSession(app.base_url) as http:
        public = Api(http)
        sent = await report(public, SARPRAS)
        status = "/api/v1/status"
        found = await public.get(status, params={"tracking": sent.tracking_number, "contact": "081234567890"})
        assert (found.status, found.body["tracking_number"]) == (200, sent.tracking_number)
        assert (await public.get(status, params={"tracking": sent.tracking_number})).status == 400
        wrong = await public.get(status, params={"tracking": sent.tracking_number, "contact": "0811111111"})
        assert wrong.status == 404
        invalid = await public.post("/api/v1/reports", json={"text": "tanpa kontak"})
        assert invalid.status == 422 and set(invalid.body["error"]["fields"]) == {"email", "phone"}
        assert (await public.get("/api/v1/reports/{report_id}", path={"report_id": "forged"})).status == 404
        spec = await Api(http, bearer(await api_token(app.engine, "auditor"))).get("/api/v1/openapi.json")
        assert spec.body["openapi"].startswith("3.1") and "/api/v1/reports" in spec.body["paths"]


async def test_a_session_works_like_a_token_and_an_action_needs_its_csrf_token(tmp_path: Path) -> None:
    async with console_app(make_settings(tmp_path / "var")) as app, aiohttp.ClientSession(app.base_url) as http:
        repair = await report(Api(http), SARPRAS)
        async with logged_in(app.base_url, "ult") as browser:
            session = Api(browser.http)
            listed = await session.get(CASES)
            assert [c["tracking_number"] for c in listed.body["items"]] == [repair.tracking_number]
            without = await session.act(repair.tracking_number, "verify", {"note": "cek"})
            assert without.status == 403, "no CSRF token: refused"
            done = await session.act(repair.tracking_number, "verify", {"note": "cek"}, headers=browser.headers())
            assert done.status == 200 and done.body["status"] == "verifying"
        events = app.rows(
            "SELECT actor, action FROM case_event e JOIN cases c ON c.id = e.case_id "
            "WHERE c.tracking_number = :n AND action = 'verifying'",
            n=repair.tracking_number,
        )
        assert events == [{"actor": "ult", "action": "verifying"}], "the action is audited with the officer's name"


async def test_filters_pages_and_bad_parameters(tmp_path: Path) -> None:
    async with console_app(make_settings(tmp_path / "var")) as app, aiohttp.ClientSession(app.base_url) as http:
        made = [await report(Api(http), f"{SARPRAS} nomor {n}") for n in range(3)]
        network = await report(Api(http), TIK)
        ult = Api(http, bearer(await api_token(app.engine, "ult")))

        seen: list[str] = []
        cursor: str | None = None
        for _ in range(10):
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            page = await ult.get(CASES, params=params)
            assert page.status == 200 and len(page.body["items"]) <= 2
            seen += [c["tracking_number"] for c in page.body["items"]]
            cursor = page.body["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted([m.tracking_number for m in made] + [network.tracking_number])
        assert len(seen) == len(set(seen)), "no case on two pages"

        by_unit = await ult.get(CASES, params={"unit": "tik"})
        assert [c["tracking_number"] for c in by_unit.body["items"]] == [network.tracking_number]
        searched = await ult.get(CASES, params={"q": "wifi kampus"})
        assert [c["tracking_number"] for c in searched.body["items"]] == [network.tracking_number]
        await ult.act(network.tracking_number, "verify")
        verifying = await ult.get(CASES, params={"status": "verifying"})
        assert [c["tracking_number"] for c in verifying.body["items"]] == [network.tracking_number]

        for params in (
            {"limit": "0"},
            {"limit": "lots"},
            {"limit": "100000"},
            {"overdue": "maybe"},
            {"status": "lost"},
            {"cursor": "not-a-cursor"},
            {"q": "ab"},
        ):
            bad = await ult.get(CASES, params=params)
            assert bad.status == 400, params
            assert bad.body["error"]["reason"]


async def test_attachments_download_within_scope_only(tmp_path: Path) -> None:
    async with console_app(make_settings(tmp_path / "var")) as app, aiohttp.ClientSession(app.base_url) as http:
        public = Api(http)
        form = aiohttp.FormData(quote_fields=False)  # as a browser sends a name with a space
        form.add_field("name", "Rina")
        form.add_field("phone", "+6281234567890")
        form.add_field("text", SARPRAS)
        photo = b"\x89PNG\r\n\x1a\n fake image bytes"
        form.add_field("attachment", photo, filename="ac rusak.png", content_type="image/png")
        accepted = await public.post("/api/v1/reports", data=form)
        assert accepted.status == 202, accepted.body
        ult = Api(http, bearer(await api_token(app.engine, "ult")))
        other_unit = Api(http, bearer(await api_token(app.engine, "unit_ppkpt")))

        async def numbered() -> str | None:
            answer = await public.get("/api/v1/reports/{report_id}", path={"report_id": accepted.body["id"]})
            return answer.body["tracking_number"]

        number = await eventually(numbered)
        thread = await ult.get(MESSAGES, path={"tracking_number": number})
        [file] = [a for entry in thread.body["items"] for a in entry["attachments"]]
        assert (file["filename"], file["content_type"], file["available"]) == ("ac rusak.png", "image/png", True)

        download = await ult.get(ATTACHMENT, path={"attachment_id": file["id"]})
        assert download.status == 200 and download.body == photo
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert (await other_unit.get(ATTACHMENT, path={"attachment_id": file["id"]})).status == 404
        assert (await ult.get(ATTACHMENT, path={"attachment_id": "a999999"})).status == 404
        assert (await ult.get(ATTACHMENT, path={"attachment_id": "../../etc/passwd"})).status == 404


async def test_the_dashboard_and_changes_are_per_scope(tmp_path: Path) -> None:
    async with console_app(make_settings(tmp_path / "var")) as app, aiohttp.ClientSession(app.base_url) as http:
        await report(Api(http), SARPRAS)
        await report(Api(http), PPKPT)
        ult = Api(http, bearer(await api_token(app.engine, "ult")))
        unit = Api(http, bearer(await api_token(app.engine, "unit_sarpras")))
        everything = await ult.get("/api/v1/dashboard")
        assert everything.body["open_by_unit"] == {"sarpras": 1, "ppkpt": 1}
        own = await unit.get("/api/v1/dashboard")
        assert own.body["open_by_unit"] == {"sarpras": 1}

        start = await unit.get("/api/v1/changes")
        cursor = start.body["cursor"]
        later = await report(Api(http), f"{SARPRAS} lagi di gedung B")
        await report(Api(http), f"{PPKPT} di lab")
        changed = await unit.get("/api/v1/changes", params={"cursor": cursor})
        assert [c["tracking_number"] for c in changed.body["cases"]] == [later.tracking_number]
        assert (await unit.get("/api/v1/changes", params={"cursor": "%%%"})).status == 400


def _reveals(app: Running, number: str) -> list[tuple[str, str]]:
    with app.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT e.actor, e.action FROM case_event e JOIN cases c ON c.id = e.case_id "
                "WHERE c.tracking_number = :n AND e.action = 'reporter_revealed' ORDER BY e.id"
            ),
            {"n": number},
        )
        return [(row.actor, row.action) for row in rows]


async def test_a_suggested_link_is_confirmed_or_rejected(tmp_path: Path) -> None:
    async with console_app(make_settings(tmp_path / "var")) as app, aiohttp.ClientSession(app.base_url) as http:
        public = Api(http)
        await report(public, SARPRAS, name="Rina Wulandari", email="rina@example.id")
        later = await report(public, TIK, name="R. Wulandari", email="rina@example.id", phone="+6281377778888")
        ult = Api(http, bearer(await api_token(app.engine, "ult")))
        auditor = Api(http, bearer(await api_token(app.engine, "auditor")))
        other_unit = Api(http, bearer(await api_token(app.engine, "unit_sarpras")))
        [suggested] = (await ult.case(later.tracking_number)).body["reporter"]["suggestions"]
        decide = "/api/v1/cases/{tracking_number}/suggestions/{claim_id}/{decision}"
        path = {"tracking_number": later.tracking_number, "claim_id": str(suggested["claim_id"])}

        assert (await auditor.post(decide, path={**path, "decision": "confirm"})).status == 403
        assert (await other_unit.post(decide, path={**path, "decision": "confirm"})).status == 404
        assert (await ult.post(decide, path={**path, "decision": "maybe"})).status == 404
        confirmed = await ult.post(decide, path={**path, "decision": "confirm"})
        assert confirmed.status == 200
        reporter = (await ult.case(later.tracking_number)).body["reporter"]
        assert reporter["suggestions"] == [] and len(reporter["linked"]) == 1
        events = (await ult.case(later.tracking_number)).body["events"]
        assert ("identity_linked", "ult") in {(e["action"], e["actor"]) for e in events}
