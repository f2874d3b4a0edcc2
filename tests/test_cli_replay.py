"""`dlq replay` on the default in-process queue: the running `satupintu run` takes the message up
at its next sweep, not after the stale timeout (the CLI cannot reach that process's queue)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import aiohttp

from config.settings import Settings
from tests.support import REPO, Running, eventually, make_settings, running_pipeline


async def replay(settings: Settings, ref: str) -> str:
    """The CLI in a process of its own, as an operator runs it beside `satupintu run`."""
    env = {
        "PATH": "/usr/bin:/bin",
        "SATUPINTU_DATA_DIR": str(settings.data_dir),
        "SATUPINTU_PIPELINE__SWEEP_INTERVAL_SECONDS": str(settings.pipeline.sweep_interval_seconds),
        "SATUPINTU_LOG__LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "workers", "dlq", "replay", ref]
    result = await asyncio.to_thread(
        subprocess.run, command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def park(app: Running, table: str) -> None:
    """Mark row 1 dead, as a failure that used up its attempts would."""
    with app.engine.begin() as connection:
        connection.exec_driver_sql(f"UPDATE {table} SET state = 'dead', error = 'down' WHERE id = 1")


async def test_replay_reaches_the_running_process_on_memory(tmp_path: Path) -> None:
    # A stale timeout far longer than the test: only the replay itself can make the rows due.
    settings = make_settings(tmp_path / "var", pipeline={"stale_after_seconds": 600.0})
    async with running_pipeline(settings, components=("http",)) as app:  # stored, never normalized
        report = {"email": "a@example.id", "text": "AC kelas rusak."}
        async with aiohttp.ClientSession(app.base_url) as http, http.post("/api/v1/reports", json=report) as r:
            assert r.status == 202
        park(app, "raw_message")

    async with running_pipeline(settings) as app:
        assert "picks it up within 0.5 s" in await replay(settings, "raw:1")
        await eventually(lambda: app.scalar("SELECT state FROM outbox WHERE id = 1") == "sent", timeout=10)

        park(app, "outbox")
        assert "replayed outbox:1: the running satupintu picks it up within 0.5 s" in await replay(settings, "outbox:1")
        await eventually(lambda: app.scalar("SELECT state FROM outbox WHERE id = 1") == "sent", timeout=10)
        assert app.scalar("SELECT count(*) FROM cases") == 1
