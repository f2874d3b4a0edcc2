"""An incomplete report waits for its reporter (clock stopped, the receipt asking) only when the
reporter can answer the receipt into the case: on a chat, by email, on the web form when the
receipt is mailed. A web-form reporter without email, or a caller given the receipt in person,
was asked nothing: the case opens incomplete, its clock running, and the officer sees what to
ask when calling back. A paused case is never listed as overdue. The greeting suits its channel."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from envelopes import Reporter
from storage.db import transaction
from tests.triage.desk import RINA, Desk, triage_stage

INCOMPLETE = "AC rusak"
"""A complaint that says neither where nor, in enough words, what happened."""
ASKING = ("balas pesan ini", "Batas waktu penanganan berhenti")


@pytest.fixture
def desk(engine: Engine, tmp_path: Path) -> Desk:
    return Desk(engine, triage_stage(engine), tmp_path / "var")


def opened(desk: Desk, channel: str, reporter: Reporter | None = None) -> dict[str, Any]:
    message = desk.send(RINA, INCOMPLETE, channel=channel, reporter=reporter)
    case_id = desk.case_of(message)
    assert case_id is not None
    [case] = [c for c in desk.cases() if c["id"] == case_id]
    return case


def missing(case: dict[str, Any]) -> list[str]:
    found = case["missing"]
    return list(json.loads(found) if isinstance(found, str) else found)


def receipt_of(desk: Desk, case_id: int) -> str:
    [row] = [r for r in desk.outbox("receipt") if r["case_id"] == case_id]
    return str(row["body"])


def test_a_chat_report_waits_and_its_receipt_asks(desk: Desk) -> None:
    case = opened(desk, "whatsapp")
    assert case["status"] == "waiting_reporter" and case["paused_at"] is not None
    assert all(phrase in receipt_of(desk, case["id"]) for phrase in ASKING)
    assert desk.events(case["id"], "waiting_reporter")


def test_a_web_form_report_with_email_waits_when_the_receipt_is_mailed(desk: Desk) -> None:
    desk.stage.policy = replace(desk.stage.policy, forms_mailed=True)  # SMTP set, email_receipts on
    case = opened(desk, "webform", Reporter(name="Rina", email="rina@example.id"))
    assert case["status"] == "waiting_reporter" and case["paused_at"] is not None
    assert "balas pesan ini" in receipt_of(desk, case["id"])


def test_a_web_form_report_with_email_but_no_mail_going_out_is_not_asked(desk: Desk) -> None:
    case = opened(desk, "webform", Reporter(name="Rina", email="rina@example.id"))
    assert case["status"] == "received" and case["paused_at"] is None
    assert "balas pesan ini" not in receipt_of(desk, case["id"])


def test_a_web_form_report_without_email_opens_incomplete_with_its_clock_running(desk: Desk) -> None:
    case = opened(desk, "webform", Reporter(name="Rina", phone="+6281234567891"))
    assert case["status"] == "received" and case["paused_at"] is None
    assert missing(case) == ["place", "what"] and not case["complete"]
    receipt = receipt_of(desk, case["id"])
    assert not any(phrase in receipt for phrase in ASKING), receipt
    assert "Tindak lanjut pertama paling lambat" in receipt, "the deadlines run, and the receipt says them"
    assert desk.events(case["id"], "waiting_reporter") == [], "nobody was asked"
    [incomplete] = desk.events(case["id"], "incomplete")
    assert incomplete["detail"]["missing"] == ["place", "what"]
    shown = desk.cli("cases", "show", case["tracking_number"])
    assert shown.exit_code == 0, (shown.output, shown.exception)
    assert "place, what (not asked: ask the reporter when you call back)" in shown.output


def test_a_call_answered_in_person_was_asked_nothing(desk: Desk) -> None:
    case = opened(desk, "phonelog", Reporter(name="Rina", phone="+62541123456"))
    assert case["receipt_via"] is None, "the receipt is given in person"
    assert case["status"] == "received" and case["paused_at"] is None
    assert desk.events(case["id"], "receipt_in_person") and desk.events(case["id"], "incomplete")
    assert desk.events(case["id"], "waiting_reporter") == []


def test_a_paused_case_past_its_deadlines_is_not_overdue(desk: Desk) -> None:
    case = opened(desk, "whatsapp")
    running = opened(desk, "webform", Reporter(name="Budi", phone="+6281298765432"))
    with transaction(desk.engine) as connection:
        from sqlalchemy import text

        past = {"past": desk.clock - timedelta(days=60)}
        connection.execute(text("UPDATE cases SET verify_due = :past, first_response_due = :past"), past)
    listed = desk.cli("cases", "list", "--format", "json")
    assert listed.exit_code == 0, (listed.output, listed.exception)
    rows = {row["tracking_number"]: row for row in json.loads(listed.stdout)}
    assert not rows[case["tracking_number"]]["overdue"] and rows[case["tracking_number"]]["next_deadline"] is None
    assert rows[running["tracking_number"]]["overdue"], "the running clock's case is overdue"
    overdue = desk.cli("cases", "list", "--overdue", "--format", "json")
    assert [row["tracking_number"] for row in json.loads(overdue.stdout)] == [running["tracking_number"]]
    table = desk.cli("cases", "list").output
    [paused_line] = [line for line in table.splitlines() if line.startswith(case["tracking_number"])]
    assert "OVERDUE" not in paused_line


def test_the_greeting_suits_its_channel(desk: Desk) -> None:
    on_form = desk.send(RINA, "halo", channel="webform", reporter=Reporter(name="Rina", phone="+6281234567891"))
    on_chat = desk.send(RINA, "halo", channel="whatsapp")
    [form_greeting] = desk.answers_to(on_form)
    [chat_greeting] = desk.answers_to(on_chat)
    assert "status <nomor tiket>" in chat_greeting["body"]
    assert "status <nomor" not in form_greeting["body"] and "kirim:" not in form_greeting["body"]
    assert "isi formulir laporan" in form_greeting["body"] and "tidak ada nomor tiket" in form_greeting["body"]
