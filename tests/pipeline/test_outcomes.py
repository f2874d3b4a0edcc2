"""Send outcomes are written as they come: a failure of any drain is raised, and the line that
says the database answers again counts what was written."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from pipeline.outcomes import OutcomeWriter
from storage.db import utcnow


async def test_an_earlier_drains_failure_is_raised_though_a_later_one_succeeded() -> None:
    groups: list[list[int]] = []

    def write(group: list[int]) -> list[int]:
        groups.append(group)
        if len(groups) == 1:
            raise ValueError("a bug in writing outcomes")
        return group

    writer = OutcomeWriter(write, until=utcnow() + timedelta(minutes=1))
    writer.add(1)
    await asyncio.sleep(0.1)  # the first drain ends with its error before the next outcome comes
    writer.add(2)
    with pytest.raises(ValueError, match="a bug in writing outcomes"):
        await writer.finish()
    assert groups == [[1], [2]] and writer.written == [2]


async def test_the_recovery_line_counts_the_outcomes_written(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    def write(group: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OperationalError("INSERT", {}, ConnectionRefusedError("database is down"))
        return [item for item in group if item != 3]  # 3's lease was taken back meanwhile

    caplog.set_level(logging.INFO, logger="pipeline.outcomes")
    writer = OutcomeWriter(write, until=utcnow() + timedelta(minutes=1))
    for item in (1, 2, 3):
        writer.add(item)
    await writer.finish()
    assert writer.written == [1, 2]
    assert "database answers again: 2 held send outcomes written" in caplog.text
