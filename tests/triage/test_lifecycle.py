"""A case's whole life through the running pipeline and the command line: receipt, verification,
forwarding (the unit told by email and in its inbox), assignment, work, extension, resolution
with the follow-up report, the satisfaction survey and closing, on two channels (the web form
with email, and a two-way chat); transitions the procedure forbids are refused; a confidential
case's automatic messages carry nothing of the matter; an incomplete report waits, its clock
stopped, until the reporter's answer completes it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner, Result

from config.settings import DEFAULT_ROUTING_FILE, Settings
from tests.support import (
    Mailbox,
    Running,
    SettingsFactory,
    eventually,
    installed_connectors,
    running_pipeline,
    smtp_server,
)
from tests.triage.lifecycle_channels import CHAT_PATH, sent
from workers import cli

UNIT_MAIL = {"sarpras": "sarpras@itk.example.ac.id", "ppkpt": "satgas@itk.example.ac.id"}
COMPLETE = "AC di ruang E-101 gedung E rusak sejak senin pagi, panas sekali saat kuliah berlangsung."


@pytest.fixture
def chat_channel(tmp_path: Path) -> Iterator[None]:
    entry_points = {"chat": "tests.triage.lifecycle_channels:Chat"}
    with installed_connectors(tmp_path / "site", "satupintu-lifecycle-channels", entry_points):
        yield


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    with smtp_server(handler) as port:
        yield handler, port


def routing_with_addresses(folder: Path) -> Path:
    """The default routing, with the units' addresses and sarpras's officers."""
    text = DEFAULT_ROUTING_FILE.read_text()
    for key, address in UNIT_MAIL.items():
        text = text.replace(f'key = "{key}"\n', f'key = "{key}"\nemail = "{address}"\n', 1)
    text = text.replace('key = "sarpras"\n', 'key = "sarpras"\nofficers = ["budi", "sari"]\n', 1)
    path = folder / "routing.toml"
    path.write_text(text)
    return path


def lifecycle_settings(backend_settings: SettingsFactory, tmp_path: Path, connectors: dict[str, Any]) -> Settings:
    return backend_settings(
        connectors=connectors,
        routing_file=routing_with_addresses(tmp_path),
        survey={"public_url": "http://survey.example"},
    )


def environment(settings: Settings) -> dict[str, str]:
    """The CLI sees what the pipeline sees."""
    return {
        "SATUPINTU_DATA_DIR": str(settings.data_dir),
        "SATUPINTU_DATABASE_URL": settings.database_url,
        "SATUPINTU_ROUTING_FILE": str(settings.routing_file),
        "SATUPINTU_CONNECTORS": json.dumps(settings.connectors),
        "SATUPINTU_SURVEY__PUBLIC_URL": settings.survey.public_url,
    }


def run(env: dict[str, str], *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["cases", *args], env=env, obj={})
    assert result.exit_code == code, (result.output, result.exception)
    return result


def events(app: Running, case_id: int) -> list[dict[str, Any]]:
    rows = app.rows("SELECT actor, action, at, detail FROM case_event WHERE case_id = :c ORDER BY id", c=case_id)
    for row in rows:
        if isinstance(row["detail"], str):
            row["detail"] = json.loads(row["detail"])
    return rows


def body(mail: Message) -> str:
    """The plain-text part of a mail."""
    for part in mail.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            return payload.decode(part.get_content_charset() or "utf-8") if isinstance(payload, bytes) else ""
    return ""


def mails_to(handler: Mailbox, address: str) -> list[Message]:
    return [mail for mail in handler.received if mail["To"] == address]


async def post(app: Running, path: str, payload: dict[str, Any]) -> None:
    async with aiohttp.ClientSession(app.base_url) as http, http.post(path, json=payload) as response:
        assert response.status == 202, await response.text()


async def test_a_web_form_case_from_receipt_to_survey(
    backend_settings: SettingsFactory, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    handler, port = mailbox
    email = {"address": "ult@itk.example.ac.id", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "plain"}
    settings = lifecycle_settings(backend_settings, tmp_path, {"webform": {}, "email": email})
    env = environment(settings)
    async with running_pipeline(settings) as app:
        await post(app, "/api/v1/reports", {"name": "Rina", "email": "rina@example.id", "text": COMPLETE})
        [receipt] = await eventually(lambda: mails_to(handler, "rina@example.id"))
        [case] = app.rows("SELECT * FROM cases")
        number = case["tracking_number"]
        assert case["status"] == "received" and case["file_complete_at"] is not None
        assert "Bagian Sarana dan Prasarana" in body(receipt)

        # forbidden before its time, each with a reason
        assert "allowed only when it is in_progress" in run(env, "resolve", number, "--report", "x", code=1).output
        assert "allowed only when it is verifying" in run(env, "forward", number, code=1).output

        run(env, "verify", number, "--step", "problem_identification", "--step", "substance_check", "--by", "ult:ani")
        run(env, "verify", number, "--step", "selection", "--note", "layak", "--by", "ult:ani")
        run(env, "forward", number, "--by", "ult:ani")
        [notice] = await eventually(lambda: mails_to(handler, UNIT_MAIL["sarpras"]))
        assert number in notice["Subject"] and "AC di ruang E-101" in body(notice)
        assert app.scalar("SELECT count(*) FROM unit_inbox WHERE unit = 'sarpras' AND kind = 'forwarded'") == 1
        [entry] = json.loads(run(env, "unit-inbox", "sarpras", "--mark-seen", "--format", "json").stdout)
        assert entry["tracking_number"] == number and entry["kind"] == "forwarded"
        assert run(env, "unit-inbox", "sarpras").output == "nothing new\n"

        refused = run(env, "assign", number, "--officer", "joko", code=1).output
        assert "'joko' is not an officer of sarpras" in refused
        run(env, "assign", number, "--officer", "budi", "--by", "sarpras:kepala")
        run(env, "start", number, "--by", "sarpras:budi")
        before = app.scalar("SELECT resolution_due FROM cases")
        run(env, "extend", number, "--reason", "Menunggu suku cadang", "--by", "sarpras:budi")
        assert app.scalar("SELECT resolution_due FROM cases") != before
        assert "only once" in run(env, "extend", number, "--reason", "lagi", code=1).output
        [extended] = await eventually(
            lambda: [m for m in mails_to(handler, "rina@example.id") if "Perpanjangan" in m["Subject"]]
        )
        assert "Menunggu suku cadang" in body(extended)

        run(env, "resolve", number, "--report", "Unit AC sudah diganti baru pada hari Kamis.", "--by", "sarpras:budi")
        mails = await eventually(
            lambda: len(mails_to(handler, "rina@example.id")) == 4 and mails_to(handler, "rina@example.id")
        )
        [report] = [m for m in mails if "tindak lanjut" in m["Subject"].lower()]
        [survey] = [m for m in mails if "Survei" in m["Subject"]]
        assert "Unit AC sudah diganti" in body(report)
        link = re.search(r"http://survey\.example(/survei/\S+)", body(survey))
        assert link, body(survey)
        assert "resolve" in run(env, "resolve", number, "--report", "lagi", code=1).output

        async with aiohttp.ClientSession(app.base_url) as http:
            async with http.get(link.group(1)) as page:
                assert page.status == 200 and number in await page.text()
            answers = {f"u{n}": "4" if n % 3 else "3" for n in range(1, 10)}
            async with http.post(link.group(1), data={**answers, "u9": "5"}) as bad:
                assert bad.status == 400
            async with http.post(link.group(1), data=answers) as page:
                assert page.status == 200
            async with http.post(link.group(1), data=answers) as again:
                assert again.status == 409, "one answer per case"

        report_json = CliRunner().invoke(
            cli, ["report", "skm", "--from", "2020-01-01", "--to", "2099-12-31", "--format", "json"], env=env, obj={}
        )
        [sarpras, overall] = json.loads(report_json.stdout)
        assert sarpras["unit"] == "sarpras" and sarpras["respondents"] == 1
        assert sarpras["ikm"] == "3.667" and sarpras["converted"] == "91.67" and sarpras["grade"] == "A"
        assert overall["unit"] == "(all)"

        run(env, "close", number, "--by", "ult:ani")
        trail = events(app, case["id"])
        actions = [e["action"] for e in trail]
        for expected in (
            "created",
            "verifying",
            "checklist",
            "forwarded",
            "assigned",
            "in_progress",
            "extended",
            "resolved",
            "survey_sent",
            "survey_answered",
            "closed",
        ):
            assert expected in actions, actions
        forwarded = next(e for e in trail if e["action"] == "forwarded")
        assert forwarded["actor"] == "ult:ani" and forwarded["at"] is not None
        assert next(e for e in trail if e["action"] == "extended")["detail"]["reason"] == "Menunggu suku cadang"
        assert app.scalar("SELECT status FROM cases") == "closed"
        assert "allowed only when it is resolved" in run(env, "close", number, code=1).output
        shown = run(env, "show", number).output
        assert "[x] problem_identification" in shown and "[x] selection" in shown and "[ ] clarification" in shown


@pytest.mark.usefixtures("chat_channel")
async def test_a_chat_case_waits_for_what_is_missing_and_takes_the_survey_by_chat(
    backend_settings: SettingsFactory, tmp_path: Path
) -> None:
    chats = tmp_path / "chats"
    settings = lifecycle_settings(backend_settings, tmp_path, {"webform": {}, "chat": {"folder": str(chats)}})
    env = environment(settings)
    async with running_pipeline(settings) as app:
        await post(app, CHAT_PATH, {"id": "m1", "user": "u1", "text": "AC rusak"})
        [receipt] = await eventually(lambda: sent(chats))
        [case] = app.rows("SELECT * FROM cases")
        number = case["tracking_number"]
        assert case["status"] == "waiting_reporter" and case["paused_at"] is not None
        assert case["file_complete_at"] is None
        assert "tempat kejadian" in receipt.text and "apa yang terjadi" in receipt.text, receipt.text
        assert "nama Anda" in receipt.text
        assert number in [r["tracking_number"] for r in json.loads(run(env, "list", "--format", "json").stdout)]

        # nothing runs while the case waits: not overdue, not forwardable
        assert "allowed only when it is verifying" in run(env, "forward", number, code=1).output
        await post(app, CHAT_PATH, {"id": "m2", "user": "u1", "name": "Dodi", "text": COMPLETE})
        await eventually(lambda: app.scalar("SELECT status FROM cases") == "received")
        [resumed] = app.rows("SELECT * FROM cases")
        assert resumed["paused_at"] is None and resumed["file_complete_at"] is not None
        assert resumed["missing"] in ([], "[]")
        assert "resumed" in [e["action"] for e in events(app, case["id"])]

        run(env, "verify", number)
        run(env, "ask", number, "--question", "Nomor ruangan persisnya berapa?")
        [question] = await eventually(lambda: [m for m in sent(chats) if m.purpose == "request"])
        assert "Nomor ruangan persisnya berapa?" in question.text
        assert app.scalar("SELECT status FROM cases") == "waiting_reporter"
        await post(app, CHAT_PATH, {"id": "m3", "user": "u1", "text": "Ruang E-101, lantai 1."})
        await eventually(lambda: app.scalar("SELECT status FROM cases") == "verifying")

        run(env, "forward", number)
        assert app.scalar("SELECT count(*) FROM unit_inbox WHERE unit = 'sarpras'") == 1
        run(env, "start", number)
        run(env, "reply", number, "--text", "Teknisi menuju lokasi.")
        run(env, "resolve", number, "--report", "AC sudah diperbaiki.")
        survey = await eventually(lambda: [m for m in sent(chats) if m.purpose == "survey"])
        assert "9 angka" in survey[0].text and survey[0].recipient.channel_user_id == "u1"

        await post(app, CHAT_PATH, {"id": "m4", "user": "u1", "text": "4 4 3 4 4 3 4 4 3"})
        thanks = await eventually(lambda: [m for m in sent(chats) if m.idempotency_key.startswith("survey-thanks")])
        assert number in thanks[0].text
        scores = app.rows("SELECT element, score FROM survey_answer ORDER BY element")
        assert [row["score"] for row in scores] == [4, 4, 3, 4, 4, 3, 4, 4, 3]
        assert app.scalar("SELECT answered_via FROM survey") == "chat"


async def test_a_confidential_case_says_nothing_of_the_matter(
    backend_settings: SettingsFactory, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    handler, port = mailbox
    email = {"address": "ult@itk.example.ac.id", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "plain"}
    settings = lifecycle_settings(backend_settings, tmp_path, {"webform": {}, "email": email})
    env = environment(settings)
    disclosure = "Dosen pembimbing saya, Pak Hendra, melakukan pelecehan di ruang bimbingan gedung D kemarin malam."
    async with running_pipeline(settings) as app:
        await post(app, "/api/v1/reports", {"name": "Sinta", "email": "sinta@example.id", "text": disclosure})
        [receipt] = await eventually(lambda: mails_to(handler, "sinta@example.id"))
        [case] = app.rows("SELECT * FROM cases")
        assert case["confidential"] and case["unit"] == "ppkpt" and not case["anonymous"]
        number = case["tracking_number"]
        run(env, "verify", number)
        run(env, "forward", number)
        [notice] = await eventually(lambda: mails_to(handler, UNIT_MAIL["ppkpt"]))
        [entry] = json.loads(run(env, "unit-inbox", "ppkpt", "--format", "json").stdout)
        assert entry["subject"] == "[rahasia]"
        run(env, "start", number)
        run(env, "resolve", number, "--report", "Telah ditindaklanjuti oleh Satgas.")
        await eventually(lambda: len(mails_to(handler, "sinta@example.id")) == 3)
        automatic = [receipt, notice, *mails_to(handler, "sinta@example.id")[2:]]
        for mail in automatic:
            text = f"{mail['Subject']}\n{body(mail)}".lower()
            for detail in ("pelecehan", "hendra", "bimbingan", "gedung d", "sinta", "dosen"):
                assert detail not in text, (detail, text)
        assert "Satgas" not in body(receipt), "the receipt names no unit"
        assert "RAHASIA" in body(notice)

        hidden = json.loads(run(env, "show", number, "--format", "json").stdout)
        assert hidden["reporter"]["name"] == "[rahasia]" and hidden["reporter"]["email"] == []
        as_ult = json.loads(run(env, "show", number, "--as-role", "ult", "--format", "json").stdout)
        assert as_ult["reporter"]["hidden"]
        as_satgas = json.loads(run(env, "show", number, "--as-role", "unit", "--format", "json").stdout)
        assert as_satgas["reporter"]["email"] == ["sinta@example.id"], "ppkpt's own officers ([access] of the config)"
        [revealed] = [e for e in events(app, case["id"]) if e["action"] == "reporter_revealed"]
        assert revealed["detail"] == {"role": "unit"}, "only the allowed view is recorded, with its role"
        wrong = CliRunner().invoke(cli, ["cases", "show", number, "--as-role", "rektor"], env=env, obj={})
        assert wrong.exit_code == 2 and "'rektor' is not a role" in wrong.output


async def test_deadlines_warn_then_escalate_once_and_show_as_overdue(
    backend_settings: SettingsFactory, tmp_path: Path
) -> None:
    from datetime import timedelta

    from pipeline.app import Parts
    from storage.db import utcnow
    from triage.case_metrics import CaseCollector
    from triage.lifecycle import Desk
    from triage.sweep import DeadlineWatch

    settings = lifecycle_settings(backend_settings, tmp_path, {"webform": {}})
    env = environment(settings)
    async with running_pipeline(settings, ("http", "normalizer", "triage")) as app:
        await post(app, "/api/v1/reports", {"name": "Rina", "email": "rina@example.id", "text": COMPLETE})
        await eventually(lambda: app.scalar("SELECT count(*) FROM cases") == 1)
        [case] = app.rows("SELECT * FROM cases")
        assert json.loads(run(env, "list", "--overdue", "--format", "json").stdout) == []

        now = utcnow()
        with app.engine.begin() as connection:
            from sqlalchemy import text

            connection.execute(
                text("UPDATE cases SET verify_due = :past, first_response_due = :soon"),
                {"past": now - timedelta(hours=1), "soon": now + timedelta(hours=2)},
            )
        parts = Parts.from_settings(settings)
        watch = DeadlineWatch(app.engine, Desk.from_parts(parts))
        assert watch.sweep(now) == 2
        again = watch.sweep(now)
        assert again == 0, ("each alert once", app.rows("SELECT * FROM case_alert"))
        actions = [e["action"] for e in events(app, case["id"])]
        assert actions.count("deadline_breached") == 1 and actions.count("deadline_warning") == 1
        assert app.scalar("SELECT unit FROM unit_inbox WHERE kind = 'escalated'") == "frontdesk", (
            "verification is the ULT's"
        )
        [late] = json.loads(run(env, "list", "--overdue", "--format", "json").stdout)
        assert late["tracking_number"] == case["tracking_number"] and late["overdue"]
        assert re.search(r"due \d{4}-\d\d-\d\d \d\d:\d\d WITA verify +OVERDUE", run(env, "list", "--overdue").output)
        figures = {
            (metric.name, tuple(sample.labels.values())): sample.value
            for metric in CaseCollector(app.engine).collect()
            for sample in metric.samples
        }
        assert figures[("satupintu_cases_overdue", ("verify",))] == 1
        assert figures[("satupintu_case_alerts", ("breach",))] == 1
        parts.engine.dispose()

        run(env, "verify", case["tracking_number"])
        run(env, "ask", case["tracking_number"], "--missing", "evidence")
        assert json.loads(run(env, "list", "--overdue", "--format", "json").stdout) == [], "the clock is stopped"


@pytest.mark.usefixtures("chat_channel")
async def test_self_harm_wording_is_urgent_and_confidential(backend_settings: SettingsFactory, tmp_path: Path) -> None:
    from datetime import datetime, timedelta

    chats = tmp_path / "chats"
    settings = lifecycle_settings(backend_settings, tmp_path, {"webform": {}, "chat": {"folder": str(chats)}})
    async with running_pipeline(settings) as app:
        words = "Saya capek dengan kuliah dan ingin mengakhiri hidup, tidak kuat lagi sejak minggu lalu di kos."
        await post(app, CHAT_PATH, {"id": "h1", "user": "u9", "name": "Anonim", "text": words})
        [receipt] = await eventually(lambda: sent(chats))
        [case] = app.rows("SELECT * FROM cases")
        assert case["confidential"] and case["priority"] == "high" and case["unit"] == "frontdesk"

        def moment(value: object) -> datetime:
            return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

        assert moment(case["first_response_due"]) - moment(case["received_at"]) == timedelta(hours=3)
        assert "hidup" not in receipt.text.lower() and "kuliah" not in receipt.text.lower()
