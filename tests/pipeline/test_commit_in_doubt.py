"""A commit the database applied but whose answer never came back (the connection broke on the
way): the stage retries the batch, finds its messages done, and must still publish their next
step, or they wait for the sweeper's timeout. Seen in the outage test as one report left
"normalized" 30 s after PostgreSQL was back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.default import DefaultDialect

from tests.pipeline.test_recovery import store_without_publishing, submission
from tests.support import eventually, make_settings, running_pipeline

REPORTS = 5
STALE_AFTER_SECONDS = 600.0
"""Far longer than the test: the sweeper's timeout cannot be what moves the work on."""
SEND_LEASE_SECONDS = 600.0
"""Likewise for a claim in doubt: its lease cannot lapse within the test."""
RESUMED_WITHIN_SECONDS = 15.0


class LostCommitAnswers:
    """Lets the first writing commit of each named pipeline thread reach the database, then
    raises the driver's OperationalError as if the connection had broken before the answer."""

    def __init__(self, threads: set[str]) -> None:
        self.armed = {f"satupintu-{name}" for name in threads}
        self.hit: set[str] = set()
        self._wrote = threading.local()

    def on_statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            self._wrote.value = True

    def wrap(self, commit: Callable[[DefaultDialect, Any], None]) -> Callable[[DefaultDialect, Any], None]:
        def do_commit(dialect: DefaultDialect, dbapi_connection: Any) -> None:
            commit(dialect, dbapi_connection)
            wrote, self._wrote.value = getattr(self._wrote, "value", False), False
            name = threading.current_thread().name
            if wrote and name in self.armed:
                self.armed.discard(name)
                self.hit.add(name.removeprefix("satupintu-"))
                raise dialect.loaded_dbapi.OperationalError("connection lost before the commit's answer")

        return do_commit


@pytest.fixture
def lost_answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[LostCommitAnswers]:
    faults = LostCommitAnswers({"normalizer", "triage", "deliver"})
    monkeypatch.setattr(DefaultDialect, "do_commit", faults.wrap(DefaultDialect.do_commit))
    event.listen(Engine, "before_cursor_execute", faults.on_statement)
    yield faults
    event.remove(Engine, "before_cursor_execute", faults.on_statement)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_work_whose_commit_answer_was_lost_moves_on_at_once(
    database: str, lost_answers: LostCommitAnswers, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    overrides: dict[str, Any] = {
        "pipeline": {"stale_after_seconds": STALE_AFTER_SECONDS, "send_lease_seconds": SEND_LEASE_SECONDS}
    }
    if database == "postgresql":
        overrides["database_url"] = request.getfixturevalue("postgres_url")
    settings = make_settings(tmp_path / "var", **overrides)
    store_without_publishing(settings.database_url, [submission(f"doubt-{n}") for n in range(REPORTS)])
    async with running_pipeline(settings) as app:  # its first sweep publishes what is stored
        sent = "SELECT count(*) FROM outbox WHERE purpose = 'receipt' AND state = 'sent'"
        await eventually(lambda: app.scalar(sent) == REPORTS, timeout=RESUMED_WITHIN_SECONDS)
        assert lost_answers.hit == {"normalizer", "triage", "deliver"}  # every stage lost an answer
        assert app.scalar("SELECT count(*) FROM cases") == REPORTS
        assert app.scalar("SELECT count(*) FROM outbox WHERE purpose = 'receipt'") == REPORTS
        assert app.scalar("SELECT max(attempts) FROM outbox WHERE purpose = 'receipt'") == 1  # given back uncounted
