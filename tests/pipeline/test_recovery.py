"""Work lost on the way is redone by the sweeper; a poison message is parked, the rest go on."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson

from connectors.webform.parser import EVENT_HEADER
from envelopes import RawMessage
from storage.db import create_db_engine, transaction
from storage.migrate import upgrade
from storage.raw import insert_raw_messages
from tests.support import eventually, make_settings, running_pipeline


def submission(reference: str, payload: bytes | None = None) -> RawMessage:
    body = {"email": f"{reference}@example.id", "text": f"Lampu koridor gedung A mati ({reference})."}
    return RawMessage(
        channel="webform",
        external_id=reference,
        received_at=datetime.now(UTC),
        content_type="application/json",
        payload=orjson.dumps(body) if payload is None else payload,
        headers={EVENT_HEADER: "report.submitted"},
    )


def store_without_publishing(database_url: str, messages: list[RawMessage]) -> None:
    """As if the process crashed between the commit and the publish."""
    engine = create_db_engine(database_url)
    upgrade(engine)
    with transaction(engine) as connection:
        insert_raw_messages(connection, messages)
    engine.dispose()


async def test_stored_messages_whose_work_item_was_lost_are_processed(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var")
    store_without_publishing(settings.database_url, [submission(f"lost-{n}") for n in range(5)])
    async with running_pipeline(settings) as app:
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 5)
        # and once more, while running: a row whose publish was lost waits for the timeout
        store_without_publishing(settings.database_url, [submission("lost-late")])
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 6, timeout=15)
        assert app.scalar("SELECT count(*) FROM cases") == 6


async def test_a_poison_message_is_parked_and_the_batch_goes_on(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var")
    batch = [submission(f"ok-{n}") for n in range(4)]
    batch.insert(2, submission("poison", payload=b'{"email": "x@example.id", "text": '))
    store_without_publishing(settings.database_url, batch)
    async with running_pipeline(settings) as app:
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 4)
        [dead] = app.rows("SELECT external_id, state, error FROM raw_message WHERE state = 'dead'")
        assert dead["external_id"] == "poison"
        assert "not valid" in dead["error"]
        assert app.scalar("SELECT count(*) FROM raw_message WHERE state = 'triaged'") == 4
