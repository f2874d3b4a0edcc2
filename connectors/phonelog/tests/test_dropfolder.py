"""The drop folder takes a file only once it is completely written, and files it away with its
report (the framework's, ``pipeline/dropfolder.py``, for any importing connector with a folder)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from config.settings import ImportSettings
from connectors.phonelog import PhonelogConnector
from pipeline.app import Parts
from pipeline.dropfolder import DropFolder, drop_folders
from storage.db import create_db_engine
from storage.migrate import upgrade
from tests.support import make_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_file_still_growing_waits_and_a_settled_one_is_imported(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    clock = Clock()
    inbox = tmp_path / "inbox"
    for sub in (".importing", "done", "failed"):
        (inbox / sub).mkdir(parents=True)
    folder = DropFolder(
        "phonelog", PhonelogConnector.from_section({}), inbox, engine, None, ImportSettings(), clock=clock
    )
    data = (FIXTURES / "call__night-shift-cp1252.csv").read_bytes()
    growing = inbox / "log.csv"
    growing.write_bytes(data[:100])
    (inbox / "copying.csv.part").write_bytes(data)
    assert folder.ready() == [], "first seen"
    clock.now = 5.0
    growing.write_bytes(data[:200])
    assert folder.ready() == [], "it grew since"
    clock.now = 6.0
    assert folder.ready() == [], "unchanged for one second only"
    growing.write_bytes(data)
    clock.now = 7.0
    assert folder.ready() == []
    clock.now = 9.5
    [ready] = folder.ready()
    assert ready == growing, "settled; a .part file is never taken"
    target = folder.take(ready)
    assert target == inbox / "done" / "log.csv"
    report = json.loads((inbox / "done" / "log.csv.report.json").read_text())
    assert report["totals"] == {"accepted": 3, "already_imported": 0, "rejected": 0}
    engine.dispose()


def test_only_importing_connectors_with_a_folder_are_watched(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var", connectors={"phonelog": {"enabled": True}, "walkin": {}})
    closers: list[Callable[[], None]] = []
    parts = Parts.from_settings(settings)
    watched = drop_folders(parts.connectors(), settings, parts.engine, parts.publisher, closers)
    assert [(w.channel, w.folder) for w in watched] == [("phonelog", settings.data_dir / "inbox" / "phonelog")]
    assert len(closers) == 1, "a publisher for the one folder"
    for close in closers:
        close()
    parts.engine.dispose()


def test_a_file_claimed_by_a_process_that_died_is_imported_again_at_start(tmp_path: Path) -> None:
    """Killed after the claim, or after its rows were stored but before the move: at the next
    start it is imported again, which adds nothing twice, and filed away."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    inbox = tmp_path / "inbox"
    for sub in (".importing", "done", "failed"):
        (inbox / sub).mkdir(parents=True)
    folder = DropFolder("phonelog", PhonelogConnector.from_section({}), inbox, engine, None, ImportSettings())
    left = inbox / ".importing" / "log.csv"
    left.write_bytes((FIXTURES / "call__night-shift-cp1252.csv").read_bytes())
    folder.resume()
    assert not left.exists() and (inbox / "done" / "log.csv").is_file()
    left.write_bytes((FIXTURES / "call__night-shift-cp1252.csv").read_bytes())  # its rows are stored already
    folder.resume()
    [again] = [p for p in (inbox / "done").glob("*log.csv.report.json") if p.name != "log.csv.report.json"]
    assert json.loads(again.read_text())["totals"] == {"accepted": 0, "already_imported": 3, "rejected": 0}
    engine.dispose()
