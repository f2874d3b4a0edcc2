"""The migrations build exactly the tables the models describe, and carry old data forward, on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import UTCDateTime

import storage.models  # noqa: F401 - registers the tables
from storage.db import create_db_engine
from storage.migrate import current, upgrade


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_upgrade_matches_the_models_and_is_repeatable(database_url: str) -> None:
    engine = create_db_engine(database_url)
    upgrade(engine)
    upgrade(engine)  # a second start migrates nothing
    assert current(engine) is not None
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert differences == []


# The tables as revision 0002 had them: what a database made by the previous release holds.
_OLD = sa.MetaData()
_UNIT = sa.Table(
    "unit", _OLD, sa.Column("key", sa.String), sa.Column("name", sa.String), sa.Column("sensitive", sa.Boolean)
)
_REPORTER = sa.Table(
    "reporter", _OLD, sa.Column("id", sa.Integer), sa.Column("name", sa.String), sa.Column("created_at", UTCDateTime)
)
_CASES = sa.Table(
    "cases",
    _OLD,
    *(sa.Column(name, sa.String) for name in ("tracking_number", "kind", "unit", "status", "priority", "channel")),
    *(sa.Column(name, sa.String) for name in ("conversation_key", "subject", "routing_rules")),
    *(sa.Column(name, sa.Boolean) for name in ("confidential", "anonymous", "complete")),
    *(sa.Column(name, UTCDateTime) for name in ("received_at", "first_response_due", "resolution_due")),
    *(sa.Column(name, UTCDateTime) for name in ("created_at", "updated_at")),
    sa.Column("id", sa.Integer),
    sa.Column("reporter_id", sa.Integer),
)
_RAW = sa.Table(
    "raw_message",
    _OLD,
    *(sa.Column(name, sa.Integer) for name in ("id", "attempts", "case_id")),
    *(sa.Column(name, sa.String) for name in ("channel", "external_id", "content_type", "state")),
    *(sa.Column(name, sa.JSON) for name in ("headers", "attachments", "normalized")),
    *(sa.Column(name, UTCDateTime) for name in ("received_at", "queued_at")),
    sa.Column("payload", sa.LargeBinary),
)
_MESSAGES = sa.Table(
    "case_message",
    _OLD,
    *(sa.Column(name, sa.Integer) for name in ("id", "case_id", "raw_message_id")),
    *(sa.Column(name, sa.String) for name in ("direction", "channel", "subject", "text")),
    sa.Column("received_at", UTCDateTime),
)
_OUTBOX = sa.Table(
    "outbox",
    _OLD,
    *(sa.Column(name, sa.Integer) for name in ("id", "case_id", "attempts")),
    *(sa.Column(name, sa.String) for name in ("channel", "purpose", "idempotency_key", "subject", "body", "state")),
    sa.Column("recipient", sa.JSON),
    *(sa.Column(name, UTCDateTime) for name in ("queued_at", "next_attempt_at", "created_at")),
)
_NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def _old_case(
    connection: sa.Connection, case_id: int, names: list[str | None], *, anonymous: bool = False, receipt: str | None
) -> None:
    """A case as revision 0002's triage wrote it: reporter 1 (whose stored name is the first one
    ever seen on its phone), one inbound message per name given (None: no normalized record
    kept), and a receipt on ``receipt`` unless None."""
    common = {"received_at": _NOW, "created_at": _NOW, "updated_at": _NOW, "status": "received"}
    connection.execute(
        _CASES.insert(),
        {
            **common,
            "id": case_id,
            "tracking_number": f"PGD-2026-{case_id:05d}",
            "kind": "pengaduan",
            "unit": "umum",
            "priority": "normal",
            "channel": "webform",
            "conversation_key": f"webform:{case_id}",
            "subject": "Lampu mati",
            "routing_rules": "",
            "confidential": anonymous,
            "anonymous": anonymous,
            "complete": True,
            "first_response_due": _NOW,
            "resolution_due": _NOW,
            "reporter_id": 1,
        },
    )
    for position, name in enumerate(names):
        raw_id = case_id * 10 + position
        normalized = None if name is None else {"reporter": {"name": name, "phone": "+6281234567890"}}
        connection.execute(
            _RAW.insert(),
            {
                "id": raw_id,
                "attempts": 0,
                "case_id": case_id,
                "channel": "webform",
                "external_id": str(raw_id),
                "content_type": "application/json",
                "state": "triaged",
                "headers": {},
                "attachments": [],
                "normalized": normalized,
                "received_at": _NOW,
                "queued_at": _NOW,
                "payload": b"{}",
            },
        )
        connection.execute(
            _MESSAGES.insert(),
            {
                "id": raw_id,
                "case_id": case_id,
                "raw_message_id": raw_id,
                "direction": "in",
                "channel": "webform",
                "subject": "",
                "text": "Lampu mati",
                "received_at": _NOW,
            },
        )
    if receipt is not None:
        connection.execute(
            _OUTBOX.insert(),
            {
                "id": case_id,
                "case_id": case_id,
                "attempts": 1,
                "channel": receipt,
                "purpose": "receipt",
                "idempotency_key": f"receipt:{case_id}",
                "subject": "",
                "body": "Nomor pengaduan Anda ...",
                "state": "sent",
                "recipient": {},
                "queued_at": _NOW,
                "next_attempt_at": _NOW,
                "created_at": _NOW,
            },
        )


def test_upgrade_gives_old_cases_the_name_their_message_gave_and_their_receipts_channel(database_url: str) -> None:
    engine = create_db_engine(database_url)
    upgrade(engine, "0002")
    with engine.begin() as connection:
        connection.execute(_UNIT.insert(), {"key": "umum", "name": "Bagian Umum", "sensitive": False})
        connection.execute(_REPORTER.insert(), {"id": 1, "name": "Budi Santoso", "created_at": _NOW})
        _old_case(connection, 1, ["Budi Santoso"], receipt="webform")
        _old_case(connection, 2, ["Siti Aminah", "Budi Santoso"], receipt="email")  # Siti on Budi's phone
        _old_case(connection, 3, [None, "Siti Aminah"], receipt="webform")
        _old_case(connection, 4, ["Budi Santoso"], anonymous=True, receipt=None)
    upgrade(engine)
    with engine.connect() as connection:
        cases = connection.execute(sa.text("SELECT id, reporter_name, receipt_via FROM cases ORDER BY id")).all()
    engine.dispose()
    assert [tuple(case) for case in cases] == [
        (1, "Budi Santoso", "webform"),
        (2, "Siti Aminah", "email"),  # not Budi, the name stored on the shared reporter
        (3, "Budi Santoso", "webform"),  # no record of what its first message gave: what officers saw
        (4, None, None),  # anonymous: no name; no receipt row: to be given in person
    ]
