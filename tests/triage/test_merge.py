"""Officers merge and split cases from the command line, and undo either: the messages move,
later messages follow, and what a reporter asks is answered for the case as it stands; on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.triage.desk import BUDI, RINA, UKT, WIFI, Desk, triage_stage


@pytest.fixture
def desk(engine: Engine, tmp_path: Path) -> Desk:
    return Desk(engine, triage_stage(engine), tmp_path / "var")


def officer(desk: Desk, *args: str) -> dict[str, Any]:
    result = desk.cli("cases", *args, "--by", "officer:sari", "--format", "json")
    assert result.exit_code == 0, (result.output, result.exception)
    moved: dict[str, Any] = json.loads(result.stdout)
    return moved


def refused(desk: Desk, *args: str) -> str:
    result = desk.cli("cases", *args)
    assert result.exit_code == 1, result.output
    return str(result.output)


def messages_of(desk: Desk, case_id: int | None) -> list[int]:
    rows = desk.rows("SELECT raw_message_id FROM case_message WHERE case_id = :id ORDER BY id", id=case_id)
    return [row["raw_message_id"] for row in rows]


def test_a_merge_moves_everything_later_messages_follow_and_unmerge_undoes_it(desk: Desk) -> None:
    chat = desk.send(RINA, UKT, channel="whatsapp")
    mail = desk.send(RINA, "UKT saya belum lunas di SIAKAD, mohon dicek.", channel="email", conversation="email:<m1>")
    target, source = desk.case_of(chat), desk.case_of(mail)
    assert target is not None and source is not None and target != source
    numbers = desk.tracking_number(target), desk.tracking_number(source)

    moved = officer(desk, "merge", numbers[1], numbers[0], "--reason", "satu masalah")
    assert (moved["source"], moved["target"], moved["messages"]) == (numbers[1], numbers[0], 1)
    assert messages_of(desk, target) == [chat.raw_message_id, mail.raw_message_id]
    assert desk.case_of(mail) == target
    more = desk.send(RINA, "Ini bukti transfernya.", channel="email", conversation="email:<m1>", media=["document"])
    assert desk.case_of(more) == target, "the merged case's conversation reaches the case it went into"
    asked = desk.send(RINA, f"status {numbers[1]}", channel="email", conversation="email:<m2>")
    assert numbers[0] in desk.answers_to(asked)[0]["body"]
    assert [e["action"] for e in desk.events(source) if e["actor"] == "officer:sari"] == ["merged_into"]

    officer(desk, "unmerge", numbers[1])
    assert messages_of(desk, source) == [mail.raw_message_id]
    assert messages_of(desk, target) == [chat.raw_message_id, more.raw_message_id]
    [case] = [c for c in desk.cases() if c["id"] == source]
    assert case["closed_at"] is None and case["merged_into_id"] is None
    after = desk.send(RINA, "Apakah sudah dicek?", channel="email", conversation="email:<m1>", after=timedelta(hours=1))
    assert desk.case_of(after) == source


def test_a_split_makes_a_case_of_its_own_and_unsplit_puts_it_back(desk: Desk) -> None:
    first = desk.send(RINA, UKT)
    second = desk.send(RINA, "Oh ya pak, satu lagi: " + WIFI, after=timedelta(minutes=5))
    source = desk.case_of(first)
    assert source is not None and desk.case_of(second) == source
    [message_id] = [
        row["id"]
        for row in desk.rows("SELECT id, raw_message_id FROM case_message")
        if row["raw_message_id"] == second.raw_message_id
    ]
    moved = officer(desk, "split", desk.tracking_number(source), str(message_id), "--reason", "dua masalah")
    made = desk.case_of(second)
    assert made not in (None, source)
    assert moved["target"] == desk.tracking_number(made or 0) != desk.tracking_number(source)
    [old, new] = desk.cases()
    assert (new["unit"], new["reporter_id"], new["resolution_due"]) == (
        old["unit"],
        old["reporter_id"],
        old["resolution_due"],
    )
    later = desk.send(RINA, "Terima kasih pak.", after=timedelta(minutes=5))
    assert desk.case_of(later) == source, "the chat stays with the case it opened"

    officer(desk, "unsplit", desk.tracking_number(made or 0))
    assert desk.case_of(second) == source
    [split_case] = [c for c in desk.cases() if c["id"] == made]
    assert split_case["merged_into_id"] == source and split_case["closed_at"] is not None


def test_what_cannot_be_merged_or_split_is_refused_with_the_reason(desk: Desk) -> None:
    report = desk.send(RINA, UKT)
    number = desk.tracking_number(desk.case_of(report) or 0)
    assert "into itself" in refused(desk, "merge", number, number)
    assert "at least one message" in refused(desk, "split", number, "1")
    assert "was not merged" in refused(desk, "unmerge", number)
    assert "was not split" in refused(desk, "unsplit", number)
    other = desk.send(RINA, WIFI, channel="email")
    desk.close(desk.case_of(other) or 0)
    assert "is closed" in refused(desk, "merge", number, desk.tracking_number(desk.case_of(other) or 0))
    turned_down = desk.send(BUDI, WIFI, channel="telegram")
    desk.close(desk.case_of(turned_down) or 0)
    with desk.engine.begin() as connection:
        connection.execute(
            text("UPDATE cases SET status = 'rejected' WHERE id = :id"), {"id": desk.case_of(turned_down)}
        )
    rejected = desk.tracking_number(desk.case_of(turned_down) or 0)
    assert f"{rejected} is rejected: only open cases are merged" in refused(desk, "merge", rejected, number)
