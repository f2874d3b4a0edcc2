"""What the console reads (``console/queries.py``), on SQLite and PostgreSQL: the inbox in deadline
order with every filter, pages that neither skip nor repeat, a unit officer who cannot see
another unit's case or file, the whole thread of a case across channels with delivery states and
who wrote each reply, the dashboard's figures and the live updates' cursor.

Cases are written as triage writes them (``storage.cases``, ``storage.identities``) and worked
through the procedure's own actions (``triage.lifecycle``); nothing of the console is stubbed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select

from config.routing import load_routing
from config.settings import DEFAULT_TEMPLATES_DIR, SlaSettings, SurveySettings, load_settings
from console import inbox_sql, queries
from console.queries import BadQuery, InboxFilter
from console.views import CONFIDENTIAL, masked_detail, masked_summary, to_json
from envelopes import DeliveryStatus, Reporter
from storage import identities
from storage.cases import insert_attachments, insert_cases, insert_messages
from storage.delivery import record_statuses
from storage.tables import CASES, MEDIA, OUTBOX, RAW, STATE
from storage.units import sync_units
from triage import lifecycle
from triage.calendar import WorkingCalendar
from triage.deadlines import Clock
from triage.replies import ReplyPolicy
from triage.texts import Texts
from triage.tracking import TrackingNumber

NOW = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
_SEQUENCE = count(1)


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    sync_units(migrated_engine, load_routing())
    return migrated_engine


@pytest.fixture
def desk() -> lifecycle.Desk:
    settings = load_settings()
    return lifecycle.Desk(
        Clock(WorkingCalendar.from_settings(settings), SlaSettings()),
        Texts.load(DEFAULT_TEMPLATES_DIR, settings.zone),
        load_routing(),
        ReplyPolicy(sending=frozenset({"email", "whatsapp"}), fallback=[]),
        SurveySettings(),
    )


@pytest.fixture
def reader(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        yield connection


def add_case(
    engine: Engine,
    *,
    unit: str = "sarpras",
    subject: str = "AC ruang kelas rusak",
    texts: tuple[str, ...] = ("AC di ruang A201 tidak dingin sejak Senin.",),
    channel: str = "email",
    due_in: timedelta = 48 * HOUR,
    status: str = "received",
    closed: bool = False,
    paused: bool = False,
    confidential: bool = False,
    assignee: str | None = None,
    kind: str = "pengaduan",
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """A case as triage makes one: its raw messages (with the reporter as normalized), the
    reporter and identities, the case row with deadlines, the thread."""
    sequence = next(_SEQUENCE)
    number = str(TrackingNumber("ULT", 26, sequence))
    who = reporter or Reporter(name=f"Pelapor {sequence}", email=f"pelapor{sequence}@mail.example")
    received = NOW - 24 * HOUR
    with engine.begin() as connection:
        raw_ids = []
        for position, body in enumerate(texts):
            record = {
                "channel": channel,
                "channel_message_id": f"<{sequence}.{position}@mail.example>",
                "raw_message_id": 0,
                "conversation_key": f"{channel}:{sequence}",
                "reporter": who.model_dump(mode="json"),
                "subject": subject,
                "text": body,
                "received_at": (received + position * HOUR).isoformat(),
            }
            raw_id = connection.execute(
                RAW.insert().returning(RAW.c.id),
                {
                    "channel": channel,
                    "external_id": f"{sequence}.{position}",
                    "received_at": received + position * HOUR,
                    "content_type": "message/rfc822",
                    "payload": b"",
                    "headers": {},
                    "attachments": [],
                    "state": "triaged",
                    "queued_at": received,
                    "normalized": {**record, "raw_message_id": 0},
                },
            ).scalar_one()
            connection.execute(
                RAW.update().where(RAW.c.id == raw_id).values(normalized={**record, "raw_message_id": raw_id})
            )
            raw_ids.append(raw_id)
        sender = identities.Sender(who, channel, frozenset({"email"}), raw_ids[0])
        [reporter_id] = identities.resolve(connection, [sender])
        row = {
            "tracking_number": number,
            "kind": kind,
            "category": None,
            "unit": unit,
            "status": status,
            "priority": "normal",
            "confidential": confidential,
            "anonymous": False,
            "reporter_id": reporter_id,
            "reporter_name": who.name,
            "channel": channel,
            "conversation_key": f"{channel}:{sequence}",
            "receipt_via": channel,
            "subject": subject,
            "routing_rules": "sarpras-keywords, default-kind",
            "received_at": received,
            "verify_due": NOW + due_in,
            "first_response_due": NOW + due_in + HOUR,
            "resolution_due": NOW + due_in + 100 * HOUR,
            "final_due": NOW + due_in + 1000 * HOUR,
            "created_at": received,
            "updated_at": received,
            "closed_at": NOW - HOUR if closed else None,
            "paused_at": NOW - HOUR if paused else None,
            "paused_status": "verifying" if paused else None,
            "assignee": assignee,
            "missing": [],
            "checklist": {},
        }
        [case_id] = insert_cases(connection, [row])
        connection.execute(RAW.update().where(RAW.c.id.in_(raw_ids)).values(case_id=case_id))
        message_ids = insert_messages(
            connection,
            [
                {
                    "case_id": case_id,
                    "raw_message_id": raw_id,
                    "channel_message_id": f"<{sequence}.{position}@mail.example>",
                    "direction": "in",
                    "channel": channel,
                    "subject": subject,
                    "text": body,
                    "received_at": received + position * HOUR,
                }
                for position, (raw_id, body) in enumerate(zip(raw_ids, texts, strict=True))
            ],
        )
    return {**row, "id": case_id, "raw_ids": raw_ids, "message_ids": message_ids}


def numbers(page: queries.InboxPage) -> list[str]:
    return [item.tracking_number for item in page.items]


# --- the inbox -----------------------------------------------------------------------------------


def test_the_inbox_puts_the_nearest_deadline_first_then_cases_without_one_newest_first(
    engine: Engine, reader: Connection
) -> None:
    later = add_case(engine, due_in=30 * HOUR)
    waiting = add_case(engine, paused=True)
    soon = add_case(engine, due_in=2 * HOUR)
    missed = add_case(engine, due_in=-3 * HOUR)
    finished = add_case(engine, closed=True, status="closed")
    page = queries.inbox(reader, None, InboxFilter(), now=NOW)
    assert numbers(page) == [
        missed["tracking_number"],
        soon["tracking_number"],
        later["tracking_number"],
        finished["tracking_number"],
        waiting["tracking_number"],
    ]
    first = page.items[0]
    assert first.overdue and first.next_deadline == "verify" and first.next_due == NOW - 3 * HOUR
    assert page.items[3].next_due is None and not page.items[3].overdue
    assert page.next_cursor is None


def test_the_next_deadline_is_the_earliest_not_met(engine: Engine, reader: Connection) -> None:
    case = add_case(engine, due_in=5 * HOUR)
    with engine.begin() as connection:
        connection.execute(
            CASES.update().where(CASES.c.id == case["id"]).values(forwarded_at=NOW - HOUR, status="forwarded")
        )
    [item] = queries.inbox(reader, None, InboxFilter(), now=NOW).items
    assert item.next_deadline == "first_response" and item.next_due == NOW + 6 * HOUR


def test_pages_follow_each_other_without_gaps_or_repeats(engine: Engine, reader: Connection) -> None:
    made = [add_case(engine, due_in=(i % 4) * HOUR) for i in range(9)]  # ties on the deadline
    made += [add_case(engine, closed=True, status="closed") for _ in range(4)]
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = queries.inbox(reader, None, InboxFilter(), limit=4, now=NOW, cursor=cursor)
        seen += numbers(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(case["tracking_number"] for case in made)
    assert len(seen) == len(set(seen)) == 13
    assert seen == numbers(queries.inbox(reader, None, InboxFilter(), limit=50, now=NOW))


def test_a_unit_officer_sees_only_their_unit(engine: Engine, reader: Connection) -> None:
    mine = add_case(engine, unit="sarpras")
    other = add_case(engine, unit="ppkpt", confidential=True)
    assert numbers(queries.inbox(reader, "sarpras", InboxFilter(), now=NOW)) == [mine["tracking_number"]]
    assert numbers(queries.inbox(reader, "sarpras", InboxFilter(unit="ppkpt"), now=NOW)) == []
    assert queries.case_detail(reader, other["tracking_number"], "sarpras") is None
    assert queries.case_detail(reader, other["tracking_number"], "ppkpt") is not None
    assert queries.case_detail(reader, "ULT-26-99999-0", None) is None


def test_every_filter_narrows_the_inbox(engine: Engine, reader: Connection) -> None:
    email = add_case(engine, channel="email", assignee="budi")
    chat = add_case(engine, channel="whatsapp", kind="aspirasi", confidential=True)
    late = add_case(engine, due_in=-HOUR, channel="sms")
    gone = add_case(engine, closed=True, status="closed")
    waiting = add_case(engine, paused=True, status="waiting_reporter", channel="telegram", confidential=True)

    def only(**wanted: Any) -> list[str]:
        return numbers(queries.inbox(reader, None, InboxFilter(**wanted), now=NOW))

    assert only(channel="whatsapp") == [chat["tracking_number"]]
    assert only(kind="aspirasi") == [chat["tracking_number"]]
    assert only(confidential=True) == [chat["tracking_number"], waiting["tracking_number"]]
    assert chat["tracking_number"] not in only(confidential=False) and len(only(confidential=False)) == 3
    assert only(assignee="budi") == [email["tracking_number"]]
    assert only(overdue=True) == [late["tracking_number"]]
    assert only(status="closed") == [gone["tracking_number"]]
    open_cases = [late, email, chat, waiting]  # by deadline, then the one whose clock is stopped
    assert only(status="open") == [case["tracking_number"] for case in open_cases]
    assert only(status="waiting_reporter") == [waiting["tracking_number"]]
    assert only(unit="sarpras", channel="email", status="open") == [email["tracking_number"]]


def test_text_search_finds_words_in_the_subject_or_any_message(engine: Engine, reader: Connection) -> None:
    by_subject = add_case(engine, subject="Parkir motor penuh", texts=("Tolong ditambah.",))
    by_message = add_case(engine, subject="Keluhan", texts=("Halo.", "Lampu JALAN di gerbang utara mati"))
    add_case(engine, subject="WiFi lambat", texts=("Sinyal lemah di perpustakaan.",))

    def search(words: str) -> list[str]:
        return numbers(queries.inbox(reader, None, InboxFilter(text=words), now=NOW))

    assert search("parkir") == [by_subject["tracking_number"]]
    assert search("jalan di  gerbang") == [by_message["tracking_number"]]  # case and spaces ignored
    assert search("100%") == [] and search("a_b") == []  # LIKE's own characters are literal
    with pytest.raises(BadQuery, match="at least 3"):
        search("ab")


def test_bad_filters_and_cursors_are_refused_with_a_reason(reader: Connection) -> None:
    with pytest.raises(BadQuery, match="not a case status"):
        queries.inbox(reader, None, InboxFilter(status="lost"))
    with pytest.raises(BadQuery, match="cursor"):
        queries.inbox(reader, None, InboxFilter(), cursor="not-a-cursor")
    with pytest.raises(BadQuery, match="limit"):
        queries.inbox(reader, None, InboxFilter(), limit=0)
    with pytest.raises(BadQuery, match="cursor"):
        queries.changes_since(reader, None, "%%%")


# --- the case page -------------------------------------------------------------------------------


def test_the_case_page_has_the_whole_thread_in_time_order_with_who_wrote_and_how_far_it_got(
    engine: Engine, reader: Connection, desk: lifecycle.Desk
) -> None:
    case = add_case(engine, texts=("Proyektor rusak.", "Sudah dua minggu."))
    with engine.begin() as connection:
        insert_attachments(
            connection,
            [
                {
                    "case_message_id": case["message_ids"][0],
                    "filename": "foto.jpg",
                    "content_type": "image/jpeg",
                    "size": 2048,
                    "sha256": "ab" * 32,
                }
            ],
        )
        connection.execute(
            MEDIA.insert(),
            {
                "raw_message_id": case["raw_ids"][1],
                "position": 0,
                "channel": "email",
                "media_id": "m-1",
                "kind": "audio",
                "state": "failed",
                "error": "expired at the provider",
                "attempts": 3,
                "next_attempt_at": NOW,
                "created_at": NOW,
            },
        )
        lifecycle.reply(connection, desk, case["id"], "siti", text="Kami cek besok pagi.")
        outbox = connection.execute(select(OUTBOX.c.id).where(OUTBOX.c.case_id == case["id"])).scalar_one()
        connection.execute(OUTBOX.update().where(OUTBOX.c.id == outbox).values(state="sent", provider_message_id="p-1"))
        record_statuses(
            connection,
            [
                DeliveryStatus(
                    channel="email", provider_message_id="p-1", status=state, at=NOW, raw_message_id=case["raw_ids"][0]
                )
                for state in ("delivered", "read")
            ],
        )
    detail = queries.case_detail(reader, case["tracking_number"].lower(), None, now=NOW)
    assert detail is not None
    assert [entry.direction for entry in detail.thread] == ["in", "in", "out"]
    first, second, reply = detail.thread
    assert first.text == "Proyektor rusak." and [a.filename for a in first.attachments] == ["foto.jpg"]
    assert first.attachments[0].available and first.attachments[0].id.startswith("a")
    assert second.attachments[0].state == "failed" and second.attachments[0].error == "expired at the provider"
    assert reply.officer == "siti" and reply.purpose == "reply" and reply.delivery == "read"
    assert "Kami cek besok pagi." in reply.text
    assert detail.routing_rules == ["sarpras-keywords", "default-kind"]
    assert [(event.actor, event.action) for event in detail.events if event.actor == "siti"] == [("siti", "replied")]
    verify = next(d for d in detail.deadlines if d.name == "verify")
    assert verify.running and verify.left == 48 * HOUR and not verify.overdue
    first_response = next(d for d in detail.deadlines if d.name == "first_response")
    assert first_response.met_at is not None and not first_response.running


def test_the_reporter_with_linked_identities_and_suggested_links(engine: Engine, reader: Connection) -> None:
    case = add_case(engine, reporter=Reporter(name="Rina", email="rina@mail.example"))
    other = add_case(engine, reporter=Reporter(name="Rina W", email="rina.w@mail.example", phone="+6281234567890"))
    with engine.begin() as connection:
        link_id = identities.link(
            connection, case["reporter_id"], other["reporter_id"], "officer", {"why": "same person"}, "siti"
        )
        typed = identities.Sender(Reporter(name="Rina", phone="+6281234567890"), "phonelog", frozenset(), None)
        [typist] = identities.resolve(connection, [typed])
    detail = queries.case_detail(reader, case["tracking_number"], None)
    assert detail is not None and detail.reporter is not None
    assert detail.reporter.name == "Rina" and detail.reporter.email == ["rina@mail.example"]
    [linked] = detail.reporter.linked
    assert (linked.link_id, linked.reporter_id, linked.created_by) == (link_id, other["reporter_id"], "siti")
    assert ("email", "rina.w@mail.example") in linked.identities
    # the phone typed by an officer for a new reporter is the linked person's: a suggestion on both
    other_detail = queries.case_detail(reader, other["tracking_number"], None)
    assert other_detail is not None and other_detail.reporter is not None
    [suggested] = other_detail.reporter.suggestions
    assert (suggested.kind, suggested.value, suggested.other_id) == ("phone", "+6281234567890", typist)


def test_a_masked_case_shows_nothing_of_its_reporter(engine: Engine, reader: Connection) -> None:
    case = add_case(engine, unit="ppkpt", confidential=True, reporter=Reporter(name="Dewi", email="dewi@mail.example"))
    detail = queries.case_detail(reader, case["tracking_number"], None)
    assert detail is not None
    hidden = masked_detail(detail)
    shown = str(to_json(hidden))
    assert "Dewi" not in shown and "dewi@mail.example" not in shown
    assert hidden.reporter is not None and hidden.reporter.hidden and hidden.case["reporter_name"] == CONFIDENTIAL
    [summary] = queries.inbox(reader, "ppkpt", InboxFilter(), now=NOW).items
    assert masked_summary(summary).reporter_name == CONFIDENTIAL


def test_attachments_download_only_within_scope_and_once_fetched(engine: Engine, reader: Connection) -> None:
    case = add_case(engine, unit="ppkpt")
    with engine.begin() as connection:
        insert_attachments(
            connection,
            [
                {
                    "case_message_id": case["message_ids"][0],
                    "filename": "bukti.pdf",
                    "content_type": "application/pdf",
                    "size": 10,
                    "sha256": "cd" * 32,
                }
            ],
        )
        for position, state in enumerate(("fetched", "pending")):
            connection.execute(
                MEDIA.insert(),
                {
                    "raw_message_id": case["raw_ids"][0],
                    "position": position,
                    "channel": "email",
                    "media_id": f"x{position}",
                    "kind": "image",
                    "state": state,
                    "sha256": "ef" * 32 if state == "fetched" else None,
                    "size": 5 if state == "fetched" else None,
                    "content_type": "image/png",
                    "attempts": 0,
                    "next_attempt_at": NOW,
                    "created_at": NOW,
                },
            )
    detail = queries.case_detail(reader, case["tracking_number"], "ppkpt")
    assert detail is not None
    ids = [a.id for a in detail.thread[0].attachments]
    assert len(ids) == 3
    stored = queries.attachment(reader, ids[0], "ppkpt")
    assert stored is not None and stored.filename == "bukti.pdf" and stored.sha256 == "cd" * 32
    fetched = queries.attachment(reader, ids[1], None)
    assert fetched is not None and fetched.sha256 == "ef" * 32
    assert queries.attachment(reader, ids[2], None) is None  # not fetched yet
    assert queries.attachment(reader, ids[0], "sarpras") is None  # another unit's file: not found
    assert queries.attachment(reader, "a999999", None) is None
    assert queries.attachment(reader, "../etc/passwd", None) is None


# --- the dashboard and live updates ----------------------------------------------------------------


def test_the_dashboard_counts_the_scope_and_shows_silent_or_broken_channels(
    engine: Engine, reader: Connection, desk: lifecycle.Desk
) -> None:
    add_case(engine, unit="sarpras", channel="email")
    late = add_case(engine, unit="sarpras", channel="whatsapp", due_in=-2 * HOUR)
    add_case(engine, unit="ppkpt", channel="email", due_in=-HOUR)
    add_case(engine, unit="sarpras", closed=True, status="closed")
    answered = add_case(engine, unit="sarpras", due_in=-30 * HOUR)
    with engine.begin() as connection:
        lifecycle.reply(connection, desk, answered["id"], "siti", text="Sudah kami terima.")
        connection.execute(
            STATE.insert(),
            [
                {
                    "channel": "whatsapp",
                    "key": "send:health",
                    "value": '{"state": "down", "reason": "token expired"}',
                    "updated_at": NOW,
                },
                {"channel": "telegram", "key": "health:bot", "value": '{"state": "auth_failed"}', "updated_at": NOW},
            ],
        )
    board = queries.dashboard(
        reader, "sarpras", NOW + HOUR, channels=["email", "whatsapp", "telegram", "walkin"], silent_after=48 * HOUR
    )
    assert board.open_by_unit == {"sarpras": 3}
    assert board.open_by_channel == {"email": 2, "whatsapp": 1}
    assert board.overdue_count == 2 and board.overdue[0].tracking_number == answered["tracking_number"]
    assert late["tracking_number"] in [item.tracking_number for item in board.overdue]
    first_response = next(s for s in board.deadlines if s.name == "first_response")
    assert (first_response.met, first_response.late) == (0, 1)  # answered after it was due
    health = {channel.channel: channel for channel in board.channels}
    assert not health["email"].red and health["email"].last_inbound is not None
    assert health["whatsapp"].red and any(r.startswith("send_down") for r in health["whatsapp"].reasons)
    assert health["telegram"].red and "silent" in health["telegram"].reasons
    assert any(r.startswith("auth_failed") for r in health["telegram"].reasons)
    assert not health["walkin"].red  # officers type walk-ins in: a quiet counter is no fault
    everything = queries.dashboard(reader, None, NOW + HOUR)
    assert everything.open_by_unit == {"sarpras": 3, "ppkpt": 1} and everything.overdue_count == 3


def test_live_updates_list_what_is_new_since_the_cursor_within_scope(
    engine: Engine, reader: Connection, desk: lifecycle.Desk
) -> None:
    old = add_case(engine, unit="sarpras")
    start = queries.changes_since(reader, "sarpras", None)
    assert start.cases == [] and start.messages == []
    new = add_case(engine, unit="sarpras", texts=("Satu.", "Dua."))
    add_case(engine, unit="ppkpt")
    with engine.begin() as connection:
        lifecycle.reply(connection, desk, old["id"], "siti", text="Baik.")
    reader.rollback()
    changes = queries.changes_since(reader, "sarpras", start.cursor)
    assert [case.tracking_number for case in changes.cases] == [new["tracking_number"]]
    assert [(m.tracking_number, m.direction) for m in changes.messages] == [
        (new["tracking_number"], "in"),
        (new["tracking_number"], "in"),
        (old["tracking_number"], "out"),
    ]
    again = queries.changes_since(reader, "sarpras", changes.cursor)
    assert again.cases == [] and again.messages == []


@pytest.mark.parametrize(
    ("common", "budget"), [(0.0, 2000), (float("inf"), 2000), (0.0, 2)], ids=["walk", "by-index", "walk-gives-way"]
)
def test_both_ways_of_searching_find_the_same_cases_in_the_same_order(
    engine: Engine, reader: Connection, monkeypatch: pytest.MonkeyPatch, common: float, budget: int
) -> None:
    """PostgreSQL searches common words by walking the inbox order, rare ones through the trigram
    indexes (``console.inbox_sql.COMMON``), and a walk that tested its budget of cases without
    filling the page reads the matches instead; whichever it takes, the pages are the same."""
    made = [add_case(engine, due_in=i * HOUR, texts=("Mohon bantuan.", f"Nomor {i}")) for i in range(5)]
    made += [add_case(engine, closed=True, status="closed", subject="Mohon dicek") for _ in range(3)]
    add_case(engine, texts=("Tidak ada kata itu.",))
    monkeypatch.setattr(inbox_sql, "COMMON", common)
    monkeypatch.setattr(inbox_sql, "WALK_BUDGET", budget)
    pages, cursor = [], None
    while True:
        page = queries.inbox(reader, None, InboxFilter(text="MOHON"), limit=3, cursor=cursor, now=NOW)
        pages += numbers(page)
        if (cursor := page.next_cursor) is None:
            break
    expected = [c["tracking_number"] for c in made[:5]] + [c["tracking_number"] for c in reversed(made[5:])]
    assert pages == expected


def test_finished_cases_page_newest_first(engine: Engine, reader: Connection) -> None:
    closed = [add_case(engine, closed=True, status="closed") for _ in range(5)]
    add_case(engine)
    seen, cursor = [], None
    while True:
        page = queries.inbox(reader, None, InboxFilter(status="closed"), limit=2, cursor=cursor, now=NOW)
        seen += numbers(page)
        if (cursor := page.next_cursor) is None:
            break
    assert seen == [case["tracking_number"] for case in reversed(closed)]
