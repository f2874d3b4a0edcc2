"""Every action in every status: what the procedure allows happens, the rest is refused with a
message naming the statuses it needs (``triage/lifecycle.py``), on both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text

from config.routing import load_routing
from config.settings import DEFAULT_TEMPLATES_DIR, SlaSettings, SurveySettings, load_settings
from storage.cases import insert_cases
from storage.models import CASE_STATUSES
from triage import lifecycle
from triage.calendar import WorkingCalendar
from triage.deadlines import Clock
from triage.replies import ReplyPolicy
from triage.texts import Texts

ALLOWED = {
    "verify": {"received", "verifying"},
    "ask": {"received", "verifying", "forwarded", "in_progress"},
    "forward": {"verifying", "forwarded"},
    "assign": {"forwarded", "in_progress"},
    "start": {"forwarded"},
    "reply": {"received", "verifying", "waiting_reporter", "forwarded", "in_progress", "resolved"},
    "extend": {"forwarded", "in_progress"},
    "resolve": {"in_progress"},
    "close": {"resolved"},
    "reject": {"received", "verifying", "waiting_reporter"},
}
ARGUMENTS: dict[str, dict[str, Any]] = {
    "verify": {},
    "ask": {"question": "Di mana?"},
    "forward": {"unit": "tik"},
    "assign": {"officer": "budi"},
    "start": {},
    "reply": {"text": "Sedang kami periksa."},
    "extend": {"reason": "Menunggu vendor."},
    "resolve": {"report": "Sudah diperbaiki."},
    "close": {},
    "reject": {"reason": "Bukan wewenang ULT."},
}
NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def desk() -> lifecycle.Desk:
    settings = load_settings()
    calendar = WorkingCalendar.from_settings(settings)
    return lifecycle.Desk(
        Clock(calendar, SlaSettings()),
        Texts.load(DEFAULT_TEMPLATES_DIR, settings.zone),
        load_routing(),
        ReplyPolicy(sending=frozenset(), fallback=[]),
        SurveySettings(),
    )


def new_case(engine: Engine, status: str) -> int:
    row = {
        "tracking_number": "ULT-26-00001-3",
        "kind": "pengaduan",
        "category": "sarpras",
        "unit": "sarpras",
        "status": status,
        "channel": "webform",
        "conversation_key": "webform:1",
        "subject": "AC rusak",
        "routing_rules": "",
        "received_at": NOW,
        "first_response_due": NOW,
        "resolution_due": NOW,
        "final_due": NOW,
        "created_at": NOW,
        "updated_at": NOW,
        "paused_at": NOW if status == "waiting_reporter" else None,
        "paused_status": "verifying" if status == "waiting_reporter" else None,
        "closed_at": NOW if status in {"closed", "rejected"} else None,
        "missing": [],
        "checklist": {},
    }
    with engine.begin() as connection:
        [case_id] = insert_cases(connection, [row])
    return case_id


@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_every_action_in_every_status(engine: Engine, desk: lifecycle.Desk, action: str) -> None:
    for status in CASE_STATUSES:
        case_id = new_case(engine, status)
        call: Callable[..., lifecycle.Outcome] = getattr(lifecycle, action)
        with engine.connect() as connection, connection.begin() as transaction:
            if status in ALLOWED[action]:
                outcome = call(connection, desk, case_id, "test:officer", **ARGUMENTS[action])
                trail = connection.execute(text("SELECT actor FROM case_event WHERE case_id = :c"), {"c": case_id})
                assert "test:officer" in trail.scalars().all(), (action, status)
                assert outcome.case["updated_at"] is not None
            else:
                with pytest.raises(lifecycle.Refused, match=f"is {status}: {action} is allowed only when it is"):
                    call(connection, desk, case_id, "test:officer", **ARGUMENTS[action])
            transaction.rollback()
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM case_event"))
            connection.execute(text("DELETE FROM unit_inbox"))
            connection.execute(text("DELETE FROM cases"))


def test_a_reporter_who_cannot_be_reached_is_noted_for_the_officer(engine: Engine, desk: lifecycle.Desk) -> None:
    case_id = new_case(engine, "verifying")
    with engine.begin() as connection:
        outcome = lifecycle.reject(connection, desk, case_id, "test:officer", reason="Bukan wewenang.")
        assert outcome.notes == ["no channel reaches the reporter: tell them in person or by phone"]
        assert outcome.case["status"] == "rejected" and outcome.case["closed_at"] is not None


def test_refusals_name_what_is_missing(engine: Engine, desk: lifecycle.Desk) -> None:
    case_id = new_case(engine, "verifying")
    with engine.begin() as connection:
        with pytest.raises(lifecycle.Refused, match="needs the reason"):
            lifecycle.reject(connection, desk, case_id, "t", reason=" ")
        with pytest.raises(lifecycle.Refused, match="'nowhere' is not a unit"):
            lifecycle.forward(connection, desk, case_id, "t", unit="nowhere")
        with pytest.raises(lifecycle.Refused, match="unknown review step"):
            lifecycle.verify(connection, desk, case_id, "t", steps=["guessing"])
        with pytest.raises(lifecycle.Refused, match="say what to ask"):
            lifecycle.ask(connection, desk, case_id, "t")


def test_a_resolved_case_closes_itself_ten_working_days_after_the_report(engine: Engine, desk: lifecycle.Desk) -> None:
    from datetime import timedelta

    from triage.sweep import DeadlineWatch

    case_id = new_case(engine, "resolved")
    with engine.begin() as connection:
        connection.execute(text("UPDATE cases SET resolved_at = :at, updated_at = :at"), {"at": NOW})
    watch = DeadlineWatch(engine, desk)
    watch.sweep(NOW + timedelta(days=13))  # 2 Nov + 13 days: 9 working days later
    with engine.connect() as connection:
        assert connection.execute(text("SELECT status FROM cases")).scalar() == "resolved"
    watch.sweep(NOW + timedelta(days=15))  # 17 Nov 10:00 WITA: past closing of the 10th working day (16 Nov)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT status FROM cases")).scalar() == "closed"
        [detail] = connection.execute(
            text("SELECT detail FROM case_event WHERE case_id = :c AND action = 'closed'"), {"c": case_id}
        ).scalars()
    assert "no answer from the reporter" in str(detail)
