"""The same person across channels: what a channel proves links by itself, what an officer typed
or a form was given is a suggestion until an officer links it, and a link can be undone; each as
the threading and the status answers show it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from envelopes import Reporter
from tests.triage.desk import RINA, UKT, WIFI, Desk, triage_stage


@pytest.fixture
def desk(engine: Engine, tmp_path: Path) -> Desk:
    return Desk(engine, triage_stage(engine), tmp_path / "var")


def suggestions(desk: Desk) -> list[dict[str, Any]]:
    result = desk.cli("identities", "suggestions", "--format", "json")
    assert result.exit_code == 0, (result.output, result.exception)
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def status_body(desk: Desk, number: str, **how: Any) -> str:
    asked = desk.send(RINA, f"status {number}", **how)
    [answer] = desk.answers_to(asked)
    return str(answer["body"])


def test_whatsapp_and_sms_from_one_number_are_one_reporter(desk: Desk) -> None:
    report = desk.send(RINA, UKT, channel="whatsapp")
    number = desk.tracking_number(desk.case_of(report) or 0)
    follow_up = desk.send(RINA, f"Tambahan untuk {number}: bukti transfer sudah saya kirim.", channel="sms")
    assert desk.case_of(follow_up) == desk.case_of(report)
    assert number in status_body(desk, number, channel="sms")
    assert suggestions(desk) == []


def test_a_telegram_contact_shared_about_oneself_links_to_their_whatsapp(desk: Desk) -> None:
    report = desk.send(RINA, UKT, channel="whatsapp")
    number = desk.tracking_number(desk.case_of(report) or 0)
    shared = Reporter(name="Rina", channel_user_id=RINA.chat_id, phone=RINA.phone)
    contact = desk.send(RINA, "", channel="telegram", reporter=shared, phone_proven=True, media=["contact"])
    assert desk.case_of(contact) is not None, "a contact card is not nothing: it is a message of hers"
    assert number in status_body(desk, number, channel="telegram"), "her Telegram account is her now"
    assert suggestions(desk) == []


def test_someone_elses_contact_card_on_telegram_links_nothing(desk: Desk) -> None:
    report = desk.send(RINA, UKT, channel="whatsapp")
    number = desk.tracking_number(desk.case_of(report) or 0)
    card = Reporter(name="Budi", channel_user_id="7777", phone=RINA.phone)
    desk.send(
        RINA, "Ini nomor kakak saya yang juga mengalami masalah UKT belum lunas.", channel="telegram", reporter=card
    )
    assert number not in status_body(desk, number, channel="telegram", reporter=card)


def test_a_number_an_officer_typed_is_a_suggestion_until_linked_and_unlinked(desk: Desk) -> None:
    typed = Reporter(name="Rina (telepon)", phone=RINA.phone)
    call = desk.send(RINA, WIFI, channel="phonelog", reporter=typed)
    logged = desk.case_of(call)
    assert logged is not None
    number = desk.tracking_number(logged)

    quoting = desk.send(RINA, f"Pak, bagaimana laporan {number}? Wifi masih mati.", channel="whatsapp")
    assert desk.case_of(quoting) not in (None, logged), "a typed number links nothing by itself"
    assert number not in status_body(desk, number)
    [suggestion] = suggestions(desk)
    assert (suggestion["kind"], suggestion["value"]) == ("phone", RINA.phone)
    assert suggestion["reporter_cases"] == [number], "the call's reporter gave the number"

    linked = desk.cli("identities", "link", str(suggestion["id"]), "--by", "officer:sari")
    assert linked.exit_code == 0, linked.output
    assert suggestions(desk) == []
    again = desk.send(RINA, f"Tambahan untuk {number}: sekarang di gedung C juga.", after=timedelta(days=1))
    assert desk.case_of(again) == logged and desk.joined_because(again) == "tracking_number"
    assert number in status_body(desk, number)

    link_id = linked.output.split("(link ")[1].split(";")[0]
    undone = desk.cli("identities", "unlink", link_id)
    assert undone.exit_code == 0, undone.output
    later = desk.send(RINA, f"Untuk {number}: sudah diperbaiki, terima kasih banyak pak.", after=timedelta(days=1))
    assert desk.case_of(later) != logged
    assert number not in status_body(desk, number)
    assert [s["id"] for s in suggestions(desk)] == [suggestion["id"]], "the suggestion is back"


def test_a_form_address_that_answers_our_mail_is_linked_by_itself(desk: Desk) -> None:
    typed = Reporter(name="Rina", email=RINA.email)
    call = desk.send(RINA, UKT, channel="phonelog", reporter=typed)
    case_id = desk.case_of(call)
    assert case_id is not None
    [receipt] = desk.answers_to(call)
    assert (receipt["channel"], receipt["recipient"]["email"]) == ("email", RINA.email)
    desk.sent_for(case_id, "<receipt-1@ult.example.ac.id>")

    fresh = desk.send(RINA, WIFI, channel="email", conversation="email:<x1@rina>")
    assert desk.case_of(fresh) != case_id, "a mail from the address alone proves nothing of the form"
    assert len(suggestions(desk)) == 1

    answer = desk.send(
        RINA,
        "Terima kasih, berikut bukti transfer UKT saya.",
        channel="email",
        conversation="email:<x2@rina>",
        in_reply_to=["<receipt-1@ult.example.ac.id>"],
    )
    assert desk.case_of(answer) == case_id and desk.joined_because(answer) == "reply"
    assert suggestions(desk) == [], "the address proved itself: no suggestion left"
    [link] = desk.rows("SELECT * FROM reporter_link")
    assert (link["source"], link["created_by"]) == ("proven", "system:triage")


def test_unlink_of_an_unknown_link_and_link_of_an_unknown_suggestion_fail(desk: Desk) -> None:
    assert desk.cli("identities", "unlink", "999").exit_code == 1
    assert desk.cli("identities", "link", "999").exit_code == 1


def test_an_answer_to_the_receipt_the_web_form_mailed_joins_and_links(desk: Desk) -> None:
    form = Reporter(name="Rina", email=RINA.email, phone=RINA.phone)
    report = desk.send(RINA, UKT, channel="webform", conversation="webform:r1", reporter=form)
    case_id = desk.case_of(report)
    assert case_id is not None
    desk.sent_for(case_id, "<receipt-7.1a2b@ult.example.ac.id>")  # the web form mails its receipt
    answer = desk.send(
        RINA,
        "Ini bukti transfernya pak.",
        channel="email",
        conversation="email:<a1@rina>",
        in_reply_to=["<receipt-7.1a2b@ult.example.ac.id>"],
        media=["document"],
    )
    assert desk.case_of(answer) == case_id and desk.joined_because(answer) == "reply"
    number = desk.tracking_number(case_id)
    assert number in status_body(desk, number, channel="email", conversation="email:<a2@rina>")
