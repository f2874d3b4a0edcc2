"""Tracking numbers come in blocks: workers never share one, never wait on each other's
transactions, and a failed transaction leaves a gap rather than a number used twice."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select, text

from config.routing import load_routing
from config.settings import DEFAULT_ROUTING_FILE, ReplyRoute
from envelopes import NormalizedMessage, RawMessage, Reporter, WorkItem
from pipeline.queues import Publisher, Topology
from storage.db import transaction
from storage.models import RAW_NORMALIZED, RAW_RECEIVED
from storage.raw import advance, insert_raw_messages
from storage.tables import CASES, RAW
from triage.calendar import WorkingCalendar
from triage.replies import ReplyPolicy
from triage.stage import TriagePolicy, TriageStage
from triage.tracking import parse_tracking_number

WITA = ZoneInfo("Asia/Makassar")
NOON = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)


def triage_stage(engine: Engine, block_size: int) -> TriageStage:
    policy = TriagePolicy(
        calendar=WorkingCalendar(WITA, datetime(2026, 1, 1, 16).time()),
        tracking_prefix="ULT",
        replies=ReplyPolicy(sending=frozenset({"webform"}), fallback=[ReplyRoute(channel="email", identity="email")]),
        tracking_block_size=block_size,
    )
    publisher = Publisher(Topology("memory://", f"t{uuid.uuid4().hex[:12]}"), ["webform"])
    return TriageStage(engine, publisher, load_routing(DEFAULT_ROUTING_FILE), policy, max_attempts=3)


def store_normalized(engine: Engine, received: Sequence[datetime], texts: Sequence[str] = ()) -> list[int]:
    """Web-form reports waiting for triage, one per time given, each its own conversation."""
    raws = [
        RawMessage(
            channel="webform",
            external_id=uuid.uuid4().hex,
            received_at=at,
            content_type="application/json",
            payload=b"{}",
        )
        for at in received
    ]
    with transaction(engine) as connection:
        ids = [stored.id for stored in insert_raw_messages(connection, raws)]
        records = [
            NormalizedMessage(
                channel="webform",
                channel_message_id=raw.external_id,
                raw_message_id=raw_id,
                conversation_key=f"webform:{raw.external_id}",
                reporter=Reporter(email="rina@example.id"),
                text=texts[index] if texts else f"Wifi di asrama putri gedung {index} tidak tersambung.",
                received_at=raw.received_at,
            )
            for index, (raw, raw_id) in enumerate(zip(raws, ids, strict=True))
        ]
        advance(
            connection,
            [
                {"id": r.raw_message_id, "state": RAW_NORMALIZED, "normalized": r.model_dump(mode="json")}
                for r in records
            ],
            RAW_RECEIVED,
        )
    return ids


def triage(stage: TriageStage, ids: Sequence[int]) -> None:
    stage.handle([WorkItem(step="triage", record="raw_message", ids=tuple(ids))])


def tracking_numbers(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(select(CASES.c.tracking_number).order_by(CASES.c.id)))


def sequences(numbers: Sequence[str]) -> list[int]:
    parsed = [parse_tracking_number(number) for number in numbers]
    return [p.sequence for p in parsed if p is not None]


def test_two_triage_workers_never_issue_the_same_number(engine: Engine) -> None:
    ids = store_normalized(engine, [NOON] * 120)
    stages = [triage_stage(engine, block_size=7), triage_stage(engine, block_size=7)]
    errors: list[BaseException] = []

    def work(stage: TriageStage, batches: list[list[int]]) -> None:
        try:
            for batch in batches:
                triage(stage, batch)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    batches = [ids[start : start + 5] for start in range(0, len(ids), 5)]
    threads = [threading.Thread(target=work, args=(stage, batches[index::2])) for index, stage in enumerate(stages)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    with engine.connect() as connection:
        states = set(connection.scalars(select(RAW.c.state)))
    assert states == {"triaged"}, "a clash of numbers would have failed a batch"
    numbers = tracking_numbers(engine)
    assert len(numbers) == 120
    assert len(set(sequences(numbers))) == 120
    assert max(sequences(numbers)) <= 120 + 2 * 7, "at most a block per worker unused"


def test_a_failed_batch_leaves_gaps_never_a_number_used_twice(engine: Engine) -> None:
    stage = triage_stage(engine, block_size=5)
    with transaction(engine) as connection:  # UKT reports go to keuangan: their case cannot be stored
        connection.execute(text("DELETE FROM unit WHERE key = 'keuangan'"))
    wifi, ukt = store_normalized(engine, [NOON, NOON], ["Wifi di asrama putri mati.", "UKT saya belum lunas."])
    triage(stage, [wifi, ukt])  # fails as a batch (numbers 1, 2), then one by one: wifi 3, ukt 4 fails
    assert sequences(tracking_numbers(engine)) == [3]
    other = triage_stage(engine, block_size=5)
    triage(other, store_normalized(engine, [NOON]))
    assert sequences(tracking_numbers(engine)) == [3, 6], "the first worker's block stays its own"


def test_numbers_start_again_each_year_in_the_units_zone(engine: Engine) -> None:
    stage = triage_stage(engine, block_size=50)
    new_years_eve = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)  # 23:30 WITA
    new_year = datetime(2026, 12, 31, 16, 10, tzinfo=UTC)  # 00:10 WITA, 1 January 2027
    triage(stage, store_normalized(engine, [new_years_eve, new_year]))
    triage(stage, store_normalized(engine, [new_years_eve, new_year]))
    parsed = [parse_tracking_number(number) for number in tracking_numbers(engine)]
    assert [(p.year, p.sequence) for p in parsed if p is not None] == [(26, 1), (27, 1), (26, 2), (27, 2)]


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_triage_does_not_wait_for_the_counter_while_its_block_lasts(engine: Engine) -> None:
    stage = triage_stage(engine, block_size=50)
    triage(stage, store_normalized(engine, [NOON]))  # takes a block of 50
    waiting = store_normalized(engine, [NOON] * 3)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (triage(stage, waiting), done.set()))
    with engine.connect() as other, other.begin():
        other.execute(text("SELECT value FROM tracking_counter FOR UPDATE"))  # another worker takes a block
        worker.start()
        finished = done.wait(timeout=10)
    worker.join(timeout=10)
    assert finished, "triage waited for the counter row"
    assert sequences(tracking_numbers(engine)) == [1, 2, 3, 4]
