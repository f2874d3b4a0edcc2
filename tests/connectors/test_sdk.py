"""The connector SDK: discovery (folders and entry points), config errors, pull loop, importer."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.base import ConnectorConfigError, ConnectorContext
from connectors.registry import discover, load_enabled
from pipeline.inbound import run_poll_loop
from pipeline.ingest import Ingestor
from pipeline.queues import Publisher, Topology
from storage.blobs import BlobStore
from storage.db import create_db_engine
from storage.migrate import upgrade
from storage.state import state_get
from tests.support import REPO, eventually, make_settings, running_pipeline
from workers import cli

SAMPLE_PACKAGE = Path(__file__).with_name("sample_package")


@pytest.fixture
def sample_entry_points(tmp_path: Path) -> Iterator[None]:
    """Install the sample package's entry points the way pip would: a dist-info on sys.path."""
    dist = tmp_path / "site" / "satupintu_sample-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: satupintu-sample\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[satupintu.connectors]\n"
        "sample_poll = satupintu_sample:SamplePoll\n"
        "sample_import = satupintu_sample:SampleImport\n"
    )
    sys.path[:0] = [str(tmp_path / "site"), str(SAMPLE_PACKAGE)]
    try:
        yield
    finally:
        sys.path.remove(str(tmp_path / "site"))
        sys.path.remove(str(SAMPLE_PACKAGE))


def test_built_in_folders_are_found() -> None:
    assert "webform" in discover()


def test_other_packages_are_found_through_entry_points(sample_entry_points: None) -> None:
    found = discover()
    assert {"webform", "sample_poll", "sample_import"} <= set(found)
    assert found["sample_poll"].spec.inbound == "poll"


def test_a_misspelt_connector_stops_start_up_with_a_suggestion() -> None:
    with pytest.raises(ConnectorConfigError, match=r"connectors\.webfrom: no such connector\. Did you mean 'webform'"):
        load_enabled({"webfrom": {}}, ConnectorContext())


def test_a_missing_setting_is_named(sample_entry_points: None) -> None:
    with pytest.raises(ConnectorConfigError, match=r"connectors\.sample_poll\.folder: Field required"):
        load_enabled({"sample_poll": {"enabled": True}}, ConnectorContext())


def test_disabled_connectors_are_not_loaded() -> None:
    assert load_enabled({"webform": {"enabled": False}}, ConnectorContext()) == {}


async def test_pull_loop_stores_pages_and_keeps_its_cursor(sample_entry_points: None, tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    settings = make_settings(tmp_path / "var")
    engine = create_db_engine(settings.database_url)
    upgrade(engine)
    connector = load_enabled({"sample_poll": {"folder": str(folder)}}, ConnectorContext())["sample_poll"]
    topology = Topology(settings.broker_url, settings.pipeline.queue_prefix)
    ingest = Ingestor(engine, Publisher(topology, ["sample_poll"]), BlobStore(tmp_path / "blobs"))

    def stored() -> int:
        with engine.connect() as connection:
            return len(connection.exec_driver_sql("SELECT id FROM raw_message").all())

    stop = asyncio.Event()
    loop = asyncio.create_task(run_poll_loop(connector, ingest, stop))  # type: ignore[arg-type]
    await asyncio.sleep(0.3)  # the folder is missing: the loop waits, it does not die
    assert not loop.done()
    folder.mkdir()
    for number in range(5):
        (folder / f"{number:03d}.json").write_text(json.dumps({"phone": "081234567890", "text": f"catatan {number}"}))
    await eventually(lambda: stored() == 5)
    stop.set()
    await loop
    with engine.begin() as connection:
        assert state_get(connection, "sample_poll", "cursor") == "004.json"

    # started again, it resumes after the cursor and stores nothing twice
    (folder / "005.json").write_text(json.dumps({"phone": "081234567890", "text": "catatan 5"}))
    stop = asyncio.Event()
    loop = asyncio.create_task(run_poll_loop(connector, ingest, stop))  # type: ignore[arg-type]
    await eventually(lambda: stored() == 6)
    stop.set()
    await loop
    ingest.close()
    engine.dispose()


async def test_import_twice_adds_nothing_the_second_time(sample_entry_points: None, tmp_path: Path) -> None:
    sheet = tmp_path / "panggilan-2026-11.csv"
    sheet.write_text("id,phone,text\n1,0812-1111-2222,Menanyakan jadwal wisuda\n2,0813 3333 4444,AC kelas rusak\n")
    settings = make_settings(tmp_path / "var", connectors={"webform": {"enabled": True}, "sample_import": {}})
    env = {
        "SATUPINTU_DATA_DIR": str(settings.data_dir),
        "SATUPINTU_CONNECTORS__SAMPLE_IMPORT__ENABLED": "true",
        "SATUPINTU_PIPELINE__QUEUE_PREFIX": settings.pipeline.queue_prefix,
    }
    runner = CliRunner()
    first = runner.invoke(cli, ["import", "sample_import", str(sheet)], env=env, obj={})
    assert first.exit_code == 0, first.output
    assert "2 new, 0 already imported" in first.output
    second = runner.invoke(cli, ["import", "sample_import", str(sheet)], env=env, obj={})
    assert "0 new, 2 already imported" in second.output

    wrong = runner.invoke(cli, ["import", "webform", str(sheet)], env=env, obj={})
    assert wrong.exit_code != 0 and "not an enabled importing connector" in wrong.output

    async with running_pipeline(settings) as app:
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 2)
        phones = {r["value"] for r in app.rows("SELECT value FROM reporter_identity WHERE kind = 'phone'")}
        assert phones == {"+6281211112222", "+6281333334444"}


async def test_import_beside_a_running_pipeline_is_taken_at_its_next_sweep(
    sample_entry_points: None, tmp_path: Path
) -> None:
    """With memory:// an importing process cannot reach the running one's queue; the stale timeout
    here is far longer than the test, so only the hand-off to the next sweep can explain it."""
    sheet = tmp_path / "panggilan-2026-12.csv"
    sheet.write_text("id,phone,text\n1,0812-1111-2222,Menanyakan jadwal wisuda\n")
    settings = make_settings(
        tmp_path / "var",
        connectors={"webform": {"enabled": True}, "sample_import": {}},
        pipeline={"stale_after_seconds": 600.0},
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(SAMPLE_PACKAGE)]),
        "SATUPINTU_DATA_DIR": str(settings.data_dir),
        "SATUPINTU_CONNECTORS__SAMPLE_IMPORT__ENABLED": "true",
        "SATUPINTU_PIPELINE__SWEEP_INTERVAL_SECONDS": "0.5",
        "SATUPINTU_LOG__LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "workers", "import", "sample_import", str(sheet)]
    async with running_pipeline(settings) as app:
        result = await asyncio.to_thread(
            subprocess.run, command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        assert "a running satupintu picks them up within 0.5 s" in result.stdout
        await eventually(lambda: app.scalar("SELECT count(*) FROM outbox WHERE state = 'sent'") == 1, timeout=10)
