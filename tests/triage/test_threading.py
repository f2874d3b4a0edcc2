"""Threading as the people on both ends notice it: which case a message lands in, why, and what
the sender gets back; on SQLite and PostgreSQL (the ``engine`` fixture)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from envelopes import NormalizedMessage, WorkItem
from tests.triage.desk import BUDI, RINA, UKT, WIFI, Desk, triage_stage
from triage.stage import TriageStage


@pytest.fixture
def desk(engine: Engine, tmp_path: Path) -> Desk:
    return Desk(engine, triage_stage(engine, window_minutes=30), tmp_path / "var")


def test_a_third_party_quoting_someones_tracking_number_gets_a_case_of_their_own(desk: Desk) -> None:
    report = desk.send(RINA, UKT)
    rinas = desk.case_of(report)
    assert rinas is not None
    number = desk.tracking_number(rinas)
    stranger = desk.send(BUDI, f"Saya juga mengalami hal yang sama seperti laporan {number}, UKT saya belum lunas.")
    budis = desk.case_of(stranger)
    assert budis is not None and budis != rinas
    assert [m["raw_message_id"] for m in desk.rows("SELECT * FROM case_message WHERE case_id = :id", id=rinas)] == [
        report.raw_message_id
    ]
    assert len(desk.answers_to(stranger)) == 1, "Budi gets his own receipt"
    assert number not in desk.answers_to(stranger)[0]["body"]


def test_the_reporter_quoting_their_tracking_number_on_another_channel_joins_their_case(desk: Desk) -> None:
    report = desk.send(RINA, UKT, channel="sms")
    case_id = desk.case_of(report)
    assert case_id is not None
    number = desk.tracking_number(case_id).replace("-", " ")
    follow_up = desk.send(RINA, f"Pak, ini bukti transfer untuk laporan {number}", after=timedelta(days=2))
    assert desk.case_of(follow_up) == case_id
    assert desk.joined_because(follow_up) == "tracking_number"
    assert desk.answers_to(follow_up) == [], "no second receipt"


def test_a_reply_to_our_receipt_joins_by_the_id_we_sent_it_under(desk: Desk) -> None:
    report = desk.send(RINA, UKT, channel="email", conversation="email:<r1@rina.example>", subject="UKT")
    case_id = desk.case_of(report)
    assert case_id is not None
    desk.sent_for(case_id, "<receipt-1.abc@ult.example.ac.id>")
    reply = desk.send(
        RINA,
        "Terima kasih, saya tunggu kabarnya. Ini tambahan: saya bayar lewat BNI.",
        channel="email",
        conversation="email:<new-thread@rina.example>",
        in_reply_to=["receipt-1.abc@ult.example.ac.id"],
        after=timedelta(days=1),
    )
    assert desk.case_of(reply) == case_id
    assert desk.joined_because(reply) == "reply"


def test_a_reply_to_one_of_the_cases_own_messages_joins_it(desk: Desk) -> None:
    report = desk.send(RINA, UKT, channel="email", conversation="email:<a@rina>", message_id="<a@rina>")
    case_id = desk.case_of(report)
    again = desk.send(
        RINA,
        "Saya tambahkan bukti pembayaran.",
        channel="email",
        conversation="email:<b@rina>",
        in_reply_to=["<a@rina>"],
    )
    assert case_id is not None and desk.case_of(again) == case_id
    assert desk.joined_because(again) == "reply"


def test_someone_else_answering_the_reporters_mail_does_not_join_her_case(desk: Desk) -> None:
    report = desk.send(RINA, UKT, channel="email", conversation="email:<a@rina>", message_id="<a@rina>")
    reply_all = desk.send(
        BUDI,
        "Saya dari bagian keuangan kelas, UKT saya juga belum tercatat lunas padahal sudah dibayar.",
        channel="email",
        conversation="email:<a@rina>",
        in_reply_to=["<a@rina>"],
    )
    assert desk.case_of(reply_all) not in (None, desk.case_of(report))
    later = desk.send(
        BUDI, "Tambahan dari saya: bukti transfer terlampir.", channel="email", conversation="email:<a@rina>"
    )
    assert desk.case_of(later) == desk.case_of(reply_all), "his own case holds his later messages"


def test_a_burst_of_short_messages_and_photos_is_one_case_with_one_receipt(desk: Desk) -> None:
    hello = desk.send(RINA, "Assalamualaikum pak")
    first = desk.send(RINA, "Saya mau lapor soal UKT", after=timedelta(minutes=2))
    parts = [
        desk.message(RINA, "sudah bayar tanggal 3 lewat BNI", after=timedelta(seconds=20)),
        desk.message(RINA, "", media=["image"], after=timedelta(seconds=10)),
        desk.message(RINA, "", media=["image"], after=timedelta(seconds=5)),
        desk.message(RINA, "tapi di SIAKAD masih belum lunas", after=timedelta(seconds=30)),
    ]
    desk.triage(*parts)
    case_id = desk.case_of(first)
    assert case_id is not None
    assert {desk.case_of(m) for m in (hello, *parts)} == {case_id}
    assert desk.joined_because(hello) == "window"
    assert len(desk.outbox("receipt")) == 1
    assert len(desk.outbox("greeting")) == 1, "the greeting went before the report came, and only once"


def test_a_greeting_the_report_follows_in_the_same_batch_is_not_answered_at_all(desk: Desk) -> None:
    hello = desk.message(RINA, "halo min")
    report = desk.message(RINA, UKT, after=timedelta(minutes=3))
    desk.triage(hello, report)
    assert desk.case_of(hello) == desk.case_of(report) is not None
    assert desk.outbox("greeting") == []
    assert desk.joined_because(hello) == "window"


def test_a_greeting_long_before_the_report_stays_without_a_case(desk: Desk) -> None:
    hello = desk.send(RINA, "tes")
    report = desk.send(RINA, UKT, after=timedelta(hours=3))
    assert desk.case_of(report) is not None
    assert desk.case_of(hello) is None
    assert [row["raw_message_id"] for row in desk.caseless()] == [hello.raw_message_id]


def test_messages_on_the_chat_while_the_case_is_open_join_it(desk: Desk) -> None:
    report = desk.send(RINA, UKT)
    later = desk.send(RINA, "Pak, bagaimana perkembangan laporan saya?", after=timedelta(days=3))
    thanks = desk.send(RINA, "terima kasih", after=timedelta(minutes=1))
    assert desk.case_of(later) == desk.case_of(thanks) == desk.case_of(report)
    assert desk.joined_because(later) == "conversation"
    assert desk.outbox("greeting") == [] and len(desk.outbox("receipt")) == 1


def test_a_closed_case_is_not_rejoined_the_new_one_links_it(desk: Desk) -> None:
    report = desk.send(RINA, UKT)
    old = desk.case_of(report)
    assert old is not None
    desk.close(old)
    again = desk.send(RINA, WIFI, after=timedelta(days=10))
    new = desk.case_of(again)
    assert new not in (None, old)
    [case] = [c for c in desk.cases() if c["id"] == new]
    assert case["previous_case_id"] == old
    assert desk.events(old, "followed_by")[0]["detail"]["case_id"] == new
    assert len(desk.answers_to(again)) == 1, "the new case gets its receipt"


def test_quoting_a_closed_cases_number_opens_a_new_case_that_follows_it(desk: Desk) -> None:
    report = desk.send(RINA, UKT, channel="sms")
    old = desk.case_of(report)
    assert old is not None
    desk.close(old)
    again = desk.send(RINA, f"Masalah {desk.tracking_number(old)} terulang lagi bulan ini, UKT belum tercatat.")
    new = desk.case_of(again)
    assert new not in (None, old)
    assert [c["previous_case_id"] for c in desk.cases() if c["id"] == new] == [old]


def test_a_machines_message_joins_its_case_and_is_never_answered(desk: Desk) -> None:
    report = desk.send(RINA, UKT, channel="email", conversation="email:<a@rina>", message_id="<a@rina>")
    case_id = desk.case_of(report)
    auto = desk.send(
        RINA, "Saya sedang cuti sampai 5 Desember.", channel="email", conversation="email:<a@rina>", automatic=True
    )
    assert desk.case_of(auto) == case_id
    assert desk.answers_to(auto) == []
    [event] = [
        e for e in desk.events(case_id or 0, "message_added") if e["detail"]["raw_message_id"] == auto.raw_message_id
    ]
    assert event["detail"]["automatic"] is True


def test_a_machines_message_that_threads_nowhere_opens_nothing_and_gets_nothing(desk: Desk) -> None:
    bounce = desk.send(
        RINA, "Delivery to the following recipient failed permanently: " + UKT, channel="email", automatic=True
    )
    assert desk.cases() == []
    assert desk.outbox() == []
    assert [(row["raw_message_id"], row["reason"]) for row in desk.caseless()] == [(bounce.raw_message_id, "automatic")]


def test_a_bounce_of_mail_to_a_closed_case_is_filed_on_it_without_opening_one(desk: Desk) -> None:
    report = desk.send(RINA, UKT, channel="email", conversation="email:<a@rina>")
    old = desk.case_of(report)
    assert old is not None
    desk.sent_for(old, "<receipt-9@ult>")
    desk.close(old)
    bounce = desk.send(
        RINA,
        "Undeliverable",
        channel="email",
        conversation="email:<x@mta>",
        in_reply_to=["<receipt-9@ult>"],
        automatic=True,
    )
    assert desk.case_of(bounce) == old
    assert len(desk.cases()) == 1 and desk.answers_to(bounce) == []


@pytest.mark.parametrize("greeting", ["x", "tes", "halo", "/start", "", "Selamat pagi kak 🙏", "P"])
def test_a_message_with_nothing_to_act_on_gets_a_greeting_in_indonesian(desk: Desk, greeting: str) -> None:
    hello = desk.send(RINA, greeting, channel="telegram")
    assert desk.cases() == []
    [answer] = desk.answers_to(hello)
    assert answer["purpose"] == "greeting" and answer["case_id"] is None and answer["channel"] == "telegram"
    assert "Untuk melapor" in answer["body"] and "status <nomor tiket>" in answer["body"]
    assert [row["reason"] for row in desk.caseless()] == ["nothing"]


def test_a_sticker_alone_gets_the_greeting_a_photo_alone_is_a_report(desk: Desk) -> None:
    sticker = desk.send(RINA, "", media=["sticker"])
    photo = desk.send(BUDI, "", media=["image"])
    assert desk.case_of(sticker) is None and desk.answers_to(sticker)[0]["purpose"] == "greeting"
    assert desk.case_of(photo) is not None


def test_an_english_greeting_is_answered_in_english(desk: Desk) -> None:
    hello = desk.send(RINA, "Hello, good morning")
    [answer] = desk.answers_to(hello)
    assert "To report" in answer["body"]


def test_many_greetings_get_one_answer(desk: Desk) -> None:
    for word in ("halo", "p", "halo?", "tes"):
        desk.send(RINA, word, after=timedelta(minutes=2))
    assert len(desk.outbox("greeting")) == 1
    assert len(desk.caseless()) == 4


def test_a_greeting_on_a_channel_that_cannot_answer_is_kept_unanswered(desk: Desk) -> None:
    hello = desk.send(RINA, "halo", channel="instagram")
    assert desk.answers_to(hello) == []
    assert [row["answer"] for row in desk.caseless()] == [None]


@pytest.mark.parametrize("channel", ["letter", "walkin", "phonelog", "lapor"])
@pytest.mark.parametrize("body", ["x", "halo", "status ULT-26-000001"])
def test_what_an_officer_registered_always_opens_a_case_however_short(desk: Desk, channel: str, body: str) -> None:
    registered = desk.send(RINA, body, channel=channel, conversation=f"{channel}:{body}")
    assert desk.case_of(registered) is not None, "a registered letter, visit or call is never caseless"
    assert desk.caseless() == [] and desk.outbox("greeting") == [] and desk.outbox("status") == []


@pytest.mark.parametrize("command", ["status {n}", "cek {n}", "/status {n}", "STATUS {n}.", "/status@ult_bot {n}"])
def test_status_answers_the_reporter_with_state_and_next_deadline(desk: Desk, command: str) -> None:
    report = desk.send(RINA, UKT, channel="telegram")
    case_id = desk.case_of(report)
    assert case_id is not None
    number = desk.tracking_number(case_id)
    asked = desk.send(RINA, command.format(n=number), channel="telegram", after=timedelta(days=1))
    assert desk.case_of(asked) is None, "a status command opens no case and joins none"
    [answer] = desk.answers_to(asked)
    assert answer["purpose"] == "status" and answer["channel"] == "telegram"
    assert number in answer["body"] and "paling lambat" in answer["body"]
    assert len(desk.cases()) == 1


def test_status_from_another_linked_channel_of_the_reporter_is_answered(desk: Desk) -> None:
    report = desk.send(RINA, UKT, channel="whatsapp")
    number = desk.tracking_number(desk.case_of(report) or 0)
    asked = desk.send(RINA, f"cek {number}", channel="sms")
    assert number in desk.answers_to(asked)[0]["body"]


def test_status_to_anyone_else_is_the_answer_for_a_number_nobody_has(desk: Desk) -> None:
    report = desk.send(RINA, UKT, channel="whatsapp")
    number = desk.tracking_number(desk.case_of(report) or 0)
    stranger = desk.send(BUDI, f"status {number}")
    unknown = desk.send(BUDI, "status ULT-26-99999-0" if number != "ULT-26-99999-0" else "status ULT-26-99998-2")
    mistyped = desk.send(BUDI, f"status {number[:-1]}{(int(number[-1]) + 1) % 10}")
    bodies = [desk.answers_to(m)[0]["body"] for m in (stranger, unknown, mistyped)]
    assert bodies[0] == bodies[1] == bodies[2]
    assert number not in bodies[0] and "Unit" not in bodies[0]
    assert len(desk.cases()) == 1


def test_a_machine_sending_status_gets_nothing(desk: Desk) -> None:
    report = desk.send(RINA, UKT, channel="email")
    number = desk.tracking_number(desk.case_of(report) or 0)
    echo = desk.send(RINA, f"status {number}", channel="email", automatic=True)
    assert desk.answers_to(echo) == []


def test_a_burst_split_between_two_triage_workers_is_still_one_case(engine: Engine, tmp_path: Path) -> None:
    """Two workers take halves of one person's burst at once: the one open case per conversation
    holds, the loser's batch is retried and joins the winner's case, one receipt in all."""
    desk = Desk(engine, triage_stage(engine), tmp_path / "var")
    burst = [desk.message(RINA, f"{UKT} Bagian {n}.", after=timedelta(seconds=5)) for n in range(20)]
    workers = [triage_stage(engine), triage_stage(engine)]
    failures: list[BaseException] = []

    def work(stage: TriageStage, part: list[NormalizedMessage]) -> None:
        try:
            for message in part:
                stage.handle([WorkItem(step="triage", record="raw_message", ids=(message.raw_message_id,))])
        except BaseException as exc:  # noqa: BLE001 - reported by the test's own thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(stage, burst[i::2])) for i, stage in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    assert {desk.case_of(m) for m in burst} == {desk.cases()[0]["id"]}
    assert len(desk.cases()) == 1 and len(desk.outbox("receipt")) == 1
    assert desk.scalar("SELECT count(*) FROM raw_message WHERE state <> 'triaged'") == 0
