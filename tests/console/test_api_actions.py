"""The procedure's actions through ``POST /api/v1/cases/{tn}/actions/{action}``: each done by the
functions the command line uses, audited with the officer's name, refused with a reason (in the
officer's language) and the status the document gives; every answer checked against it."""

from __future__ import annotations

from email.message import Message
from pathlib import Path
from typing import Any

import aiohttp

from tests.console.support import add_officer, api_token, bearer, console_app
from tests.console.test_api_support import PPKPT, SARPRAS, TIK, Api, messages_to_reporter, report
from tests.support import Mailbox, SettingsFactory, eventually, mail_through, make_settings, smtp_server

CASES = "/api/v1/cases"
MESSAGES = "/api/v1/cases/{tracking_number}/messages"


async def test_a_case_through_the_procedure(backend_settings: SettingsFactory) -> None:
    async with console_app(backend_settings()) as app, aiohttp.ClientSession(app.base_url) as http:
        public = Api(http)
        sent = await report(public, SARPRAS)
        number = sent.tracking_number
        await add_officer(app.engine, "unit_tik", "unit", "tik")
        ult, sarpras, tik = [
            Api(http, bearer(await api_token(app.engine, name))) for name in ("ult", "unit_sarpras", "unit_tik")
        ]

        checked = await ult.act(number, "verify", {"steps": ["problem_identification", "substance_check"]})
        assert checked.status == 200 and checked.body["status"] == "verifying"
        early = await ult.act(number, "close", {"note": "selesai?"})
        assert early.status == 409 and early.body["error"]["code"] == "status"
        assert "berstatus Diverifikasi" in early.body["error"]["reason"], "Indonesian by default"

        # Forwarded to another unit: it leaves the first unit's inbox and reaches the other's.
        assert number in await _listed(sarpras)
        forwarded = await ult.act(number, "forward", {"unit": "tik", "note": "masalah jaringan di kelas"})
        assert (forwarded.body["status"], forwarded.body["unit"]) == ("forwarded", "tik")
        assert number not in await _listed(sarpras)
        assert (await sarpras.case(number)).status == 404
        assert number in await _listed(tik)

        started = await tik.act(number, "start")
        assert started.body["status"] == "in_progress"
        stranger = await tik.act(number, "assign", {"officer": "ult"})
        assert stranger.status == 422 and stranger.body["error"]["field"] == "officer"
        mine = await tik.act(number, "assign", {"officer": "mine"})
        assert mine.body["assignee"] == "unit_tik"
        assert number in await _listed(tik, assignee="mine")

        # A reply reaches the reporter on their channel (the web form's status resource) at once.
        replied = await tik.act(number, "reply", {"text": "Teknisi kami datang besok pagi."})
        assert replied.body["messages_queued"] == ["webform"]

        async def reply_read() -> bool:
            return any("Teknisi kami datang besok pagi." in m["text"] for m in await messages_to_reporter(public, sent))

        await eventually(reply_read)
        resolved = await tik.act(number, "resolve", {"report": "Access point kelas sudah diganti."})
        assert resolved.body["status"] == "resolved"
        closed = await tik.act(number, "close")
        assert closed.body["status"] == "closed"

        thread = await tik.get(MESSAGES, path={"tracking_number": number})
        outbound = [entry for entry in thread.body["items"] if entry["direction"] == "out" and entry["to_reporter"]]
        assert any("Teknisi kami datang besok pagi." in entry["text"] for entry in outbound)
        events = (await ult.case(number)).body["events"]
        done_by = {(e["action"], e["actor"]) for e in events}
        assert {
            ("verifying", "ult"),
            ("forwarded", "ult"),
            ("in_progress", "unit_tik"),
            ("assigned", "unit_tik"),
            ("replied", "unit_tik"),
            ("resolved", "unit_tik"),
            ("closed", "unit_tik"),
        } <= done_by


async def test_bad_requests_are_refused_with_a_reason(tmp_path: Path) -> None:
    async with console_app(make_settings(tmp_path / "var")) as app, aiohttp.ClientSession(app.base_url) as http:
        number = (await report(Api(http), SARPRAS)).tracking_number
        await add_officer(app.engine, "ult_en", "ult", language="en")
        ult = Api(http, bearer(await api_token(app.engine, "ult")))
        english = Api(http, bearer(await api_token(app.engine, "ult_en")))

        cases: list[tuple[str, Any, int, str | None]] = [
            ("reply", {}, 422, "text"),
            ("reply", {"text": "   "}, 422, "text"),
            ("reply", {"text": 42}, 422, "text"),
            ("reply", {"text": "x" * 20_001}, 422, "text"),
            ("reply", {"text": "nul \x00 byte"}, 422, "text"),
            ("forward", {"unit": "tik\x00"}, 422, "unit"),
            ("reject", {"reason": "\x1b[31m"}, 422, "reason"),
            ("reject", {}, 422, "reason"),
            ("verify", {"steps": ["guessing"]}, 422, "steps"),
            ("ask", {"missing": ["shoe size"]}, 422, "missing"),
            ("split", {"messages": ["one"]}, 422, "messages"),
            ("merge", {}, 422, "into"),
            ("merge", {"into": "ULT-26-99999-0"}, 404, None),
            ("correct", {"kind": "gossip"}, 409, None),
            ("forward", {"unit": "nowhere"}, 409, None),
            ("teleport", {}, 404, None),
        ]
        for action, fields, status, field in cases:
            answer = await ult.act(number, action, fields)
            assert answer.status == status, (action, fields, answer.body)
            assert answer.body["error"]["reason"], (action, fields)
            if field:
                assert answer.body["error"]["field"] == field, (action, fields)
        for body, kind in ((b"{not json", "application/json"), (b"[1, 2]", "application/json"), (b"x=1", "text/plain")):
            answer = await ult.post(
                "/api/v1/cases/{tracking_number}/actions/{action}",
                path={"tracking_number": number, "action": "verify"},
                data=body,
                headers={"Content-Type": kind},
            )
            assert answer.status == 400, body
        missing = await ult.act("ULT-26-99999-0", "verify")
        assert missing.status == 404

        refused = await english.act(number, "close")
        assert refused.status == 409
        assert "is Received: “Close” is allowed only when it is Resolved" in refused.body["error"]["reason"]
        status = app.scalar("SELECT status FROM cases WHERE tracking_number = :n", n=number)
        assert status == "received", "nothing refused changed the case"


async def test_correct_merge_and_split(tmp_path: Path) -> None:
    async with console_app(make_settings(tmp_path / "var")) as app, aiohttp.ClientSession(app.base_url) as http:
        first = (await report(Api(http), SARPRAS)).tracking_number
        second = (await report(Api(http), f"{SARPRAS} di gedung B", phone="+6281298765432")).tracking_number
        network = (await report(Api(http), TIK, phone="+6281311112222")).tracking_number
        assert len({first, second, network}) == 3, "three reporters, three cases"
        ult = Api(http, bearer(await api_token(app.engine, "ult")))
        sarpras = Api(http, bearer(await api_token(app.engine, "unit_sarpras")))

        # Correcting kind and unit: new deadlines for the kind, confidential for a sensitive unit.
        before = (await ult.case(network)).body["case"]
        corrected = await ult.act(network, "correct", {"kind": "permintaan_informasi", "unit": "ppkpt"})
        assert (corrected.body["unit"], corrected.status) == ("ppkpt", 200)
        after = (await ult.case(network)).body["case"]
        assert (after["kind"], after["confidential"]) == ("permintaan_informasi", True)
        assert after["resolution_due"] > before["resolution_due"], "an information request has longer"
        same = await ult.act(network, "correct", {"kind": "permintaan_informasi"})
        assert same.status == 409

        # A unit officer cannot reach across units, not even as a merge target.
        across = await sarpras.act(first, "merge", {"into": network})
        assert across.status == 404

        merged = await sarpras.act(second, "merge", {"into": first, "reason": "laporan yang sama"})
        assert merged.status == 200, merged.body
        assert (merged.status, merged.body["other_case"]) == (200, first)
        assert merged.body["tracking_number"] == second
        thread = (await sarpras.get(MESSAGES, path={"tracking_number": first})).body["items"]
        inbound = [entry["message_id"] for entry in thread if entry["direction"] == "in"]
        assert len(inbound) == 2

        split = await sarpras.act(first, "split", {"messages": [inbound[-1]], "reason": "dua perkara"})
        assert split.status == 200
        made = split.body["other_case"]
        assert made not in (first, second)
        moved = (await sarpras.get(MESSAGES, path={"tracking_number": made})).body["items"]
        assert [entry["message_id"] for entry in moved if entry["direction"] == "in"] == [inbound[-1]]
        undone = await sarpras.act(made, "unsplit")
        assert (undone.status, undone.body["other_case"]) == (200, first)
        unmerged = await sarpras.act(second, "unmerge")
        assert (unmerged.status, unmerged.body["status"]) == (200, "received"), "open again"
        for number in (first, second):
            back = (await sarpras.get(MESSAGES, path={"tracking_number": number})).body["items"]
            assert len([entry for entry in back if entry["direction"] == "in"]) == 1, number


async def test_a_reply_can_go_by_another_channel_of_the_reporter(tmp_path: Path) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        settings = make_settings(tmp_path / "var", connectors=mail_through(port))
        async with console_app(settings) as app, aiohttp.ClientSession(app.base_url) as http:
            sent = await report(Api(http), PPKPT, email="rina@example.id")
            admin = Api(http, bearer(await api_token(app.engine, "admin")))
            receipts = len(mailbox.received)
            replied = await admin.act(
                sent.tracking_number, "reply", {"text": "Mohon hubungi Satgas.", "channel": "email"}
            )
            assert replied.status == 200 and replied.body["messages_queued"] == ["email"]

            def mailed() -> bool:
                return any("Mohon hubungi Satgas." in _text_of(m) for m in mailbox.received)

            await eventually(mailed)
            assert len(mailbox.received) > receipts
            nowhere = await admin.act(sent.tracking_number, "reply", {"text": "Halo", "channel": "sms"})
            assert nowhere.status == 409 and nowhere.body["error"]["code"] == "no_way"


def _text_of(mail: Message) -> str:
    return "".join(
        part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        for part in mail.walk()
        if part.get_content_type() == "text/plain"
    )


async def _listed(api: Api, **params: str) -> list[str]:
    answer = await api.get(CASES, params=params)
    assert answer.status == 200
    return [case["tracking_number"] for case in answer.body["items"]]
