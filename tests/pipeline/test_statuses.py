"""Delivery statuses a channel reports (sent, delivered, read, failed) end on the outbox row of
the message they name, whether they arrive before or after our record of its provider id; they
never open a case, and a failure shows in the case's audit trail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage.db import transaction
from storage.raw import insert_raw_messages
from storage.sweeps import leave_to_sweeper
from tests.pipeline.echo_channel import EchoChannel, echo_installed, echo_raw
from tests.support import Running, SettingsFactory, eventually, running_pipeline


@pytest.fixture
async def app(backend_settings: SettingsFactory, tmp_path: Path) -> AsyncIterator[Running]:
    with echo_installed(tmp_path / "site"):
        settings = backend_settings(connectors={"echo": {"enabled": True}})
        async with running_pipeline(settings, ("normalizer", "triage", "deliver", "sweeper")) as running:
            yield running


def arrive(app: Running, external_id: str, **body: Any) -> int:
    """A message from the echo channel, stored as its inbound side would store it."""
    with transaction(app.engine) as connection:
        [stored] = insert_raw_messages(connection, [echo_raw(external_id, **body)])
        leave_to_sweeper(connection, [stored.id])
    return stored.id


def status(app: Running, provider_id: str, state: str, **extra: Any) -> int:
    return arrive(app, f"{provider_id}:{state}", type="status", id=provider_id, status=state, **extra)


def receipt(app: Running) -> dict[str, Any]:
    [row] = app.rows("SELECT * FROM outbox")
    return row


def raw_state(app: Running, raw_id: int) -> str:
    return str(app.scalar("SELECT state FROM raw_message WHERE id = :id", id=raw_id))


async def sent_receipt(app: Running, sender: str = "u1") -> str:
    """A report whose receipt the provider accepted; returns the provider id."""
    arrive(app, f"report-{sender}", type="report", **{"from": sender}, text="Pintu toilet gedung B rusak.")
    [provider_id] = await eventually(lambda: list(EchoChannel.issued))
    EchoChannel.gate.set()
    await eventually(lambda: receipt(app)["state"] == "sent")
    return str(provider_id)


async def test_a_status_that_comes_before_our_commit_ends_on_the_row(app: Running) -> None:
    arrive(app, "report-1", type="report", **{"from": "u1"}, text="Pintu toilet gedung B rusak.")
    [provider_id] = await eventually(lambda: list(EchoChannel.issued))  # accepted, not yet recorded
    early = status(app, provider_id, "delivered")
    await eventually(lambda: raw_state(app, early) == "status")
    assert receipt(app)["state"] == "sending" and receipt(app)["provider_message_id"] is None

    EchoChannel.gate.set()
    await eventually(lambda: receipt(app)["state"] == "sent")
    assert receipt(app)["provider_message_id"] == provider_id
    assert receipt(app)["delivery_state"] == "delivered"


async def test_statuses_after_our_commit_move_the_row_forward_only(app: Running) -> None:
    provider_id = await sent_receipt(app)
    read = status(app, provider_id, "read")
    await eventually(lambda: receipt(app)["delivery_state"] == "read")
    late = [status(app, provider_id, "delivered"), status(app, provider_id, "failed", code="131047")]
    await eventually(lambda: all(raw_state(app, raw_id) == "status" for raw_id in [read, *late]))
    assert receipt(app)["delivery_state"] == "read", "a message the reporter read stays read"
    assert app.scalar("SELECT count(*) FROM delivery_status") == 3
    assert app.scalar("SELECT count(*) FROM cases") == 1, "a status never opens a case"
    assert app.scalar("SELECT count(*) FROM case_event WHERE action = 'delivery_failed'") == 0


async def test_a_failed_status_is_recorded_with_its_code_and_shown_to_the_officer(app: Running) -> None:
    provider_id = await sent_receipt(app)
    status(app, provider_id, "delivered")
    await eventually(lambda: receipt(app)["delivery_state"] == "delivered")
    status(app, provider_id, "failed", code="131026", error="Message undeliverable")
    await eventually(lambda: receipt(app)["delivery_state"] == "failed")
    assert receipt(app)["delivery_error"] == "131026: Message undeliverable"
    [event] = app.rows("SELECT case_id, action, detail FROM case_event WHERE action = 'delivery_failed'")
    assert event["case_id"] == receipt(app)["case_id"]
    detail = event["detail"] if isinstance(event["detail"], dict) else __import__("json").loads(event["detail"])
    assert detail["error_code"] == "131026"


async def test_a_repeated_or_unknown_status_changes_nothing_and_opens_no_case(app: Running) -> None:
    provider_id = await sent_receipt(app)
    first = status(app, provider_id, "delivered")
    stranger = status(app, "echo-not-ours", "read")
    await eventually(lambda: raw_state(app, first) == "status" and raw_state(app, stranger) == "status")
    again = arrive(app, "retried-by-the-channel", type="status", id=provider_id, status="delivered")
    await eventually(lambda: raw_state(app, again) == "status")
    assert receipt(app)["delivery_state"] == "delivered"
    assert app.scalar("SELECT count(*) FROM delivery_status") == 2
    assert app.scalar("SELECT count(*) FROM cases") == 1
