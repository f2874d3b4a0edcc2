"""Drop folders: a file an officer saves into ``<data_dir>/<drop_folder>`` is imported by itself.

For every enabled importing connector whose config names a ``drop_folder`` (the phone log's
``inbox/phonelog``), the inbound process watches that folder. A file is taken once it is
completely written (its size and modification time unchanged for ``settle_seconds``; names
starting with ``.`` or ending in ``.part``/``.tmp``/``~`` are still being written by definition),
claimed by an atomic rename (so two processes never import one file twice), imported through
the same path as ``satupintu import`` (limits, batches, the per-row report), and moved to
``done/`` when every row was taken or ``failed/`` when any row was rejected or the file was
refused, with ``<name>.report.json`` (the import report) beside it. A name already in ``done/``
or ``failed/`` gets a time prefix rather than overwriting it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from config.settings import ImportSettings, Settings
from connectors.base import Connector, ImportInbound
from pipeline.imports import ImportRefused, read_rows, store_rows
from pipeline.queues import Publisher

logger = logging.getLogger(__name__)

CLAIMED = ".importing"
DONE = "done"
FAILED = "failed"
STILL_WRITING = (".part", ".tmp", ".crdownload", "~")


@dataclass(slots=True)
class DropFolder:
    """One connector's watched folder."""

    channel: str
    connector: ImportInbound
    folder: Path
    engine: Engine
    publisher: Publisher | None
    limits: ImportSettings
    settle_seconds: float = 2.0
    interval_seconds: float = 1.0
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, tuple[int, int, float]] = field(default_factory=dict)
    """Name → (size, mtime_ns, since when unchanged, monotonic)."""

    @property
    def name(self) -> str:
        return f"dropfolder:{self.channel}"

    async def run(self, stop: asyncio.Event) -> None:
        for sub in (CLAIMED, DONE, FAILED):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(self.resume)
        while not stop.is_set():
            for path in await asyncio.to_thread(self.ready):
                await asyncio.to_thread(self.take, path)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_seconds)

    def ready(self) -> list[Path]:
        """Files whose size and time have not changed for ``settle_seconds``."""
        now = self.clock()
        found: list[Path] = []
        present = set()
        for path in sorted(self.folder.iterdir()):
            if not path.is_file() or path.name.startswith(".") or path.name.endswith(STILL_WRITING):
                continue
            present.add(path.name)
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            size, mtime = stat.st_size, stat.st_mtime_ns
            before = self._seen.get(path.name)
            if before is None or before[:2] != (size, mtime):
                self._seen[path.name] = (size, mtime, now)
            elif now - before[2] >= self.settle_seconds:
                found.append(path)
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return found

    def take(self, path: Path) -> Path | None:
        """Claim, import and file away one file; returns where it went (None if another took it)."""
        claimed = self.folder / CLAIMED / path.name
        try:
            path.rename(claimed)
        except FileNotFoundError:
            return None
        self._seen.pop(path.name, None)
        return self._import(claimed)

    def resume(self) -> None:
        """A file claimed by a process that stopped mid-import is imported again (idempotent)."""
        for claimed in sorted((self.folder / CLAIMED).iterdir()):
            if claimed.is_file():
                self._import(claimed)

    def _import(self, claimed: Path) -> Path:
        report: dict[str, Any]
        try:
            rows = read_rows(self.connector, claimed, self.limits)
            imported = store_rows(self.channel, claimed, rows, self.engine, self.publisher)
            report = imported.to_dict()
            failed = bool(imported.rejected)
        except ImportRefused as exc:
            report = {"channel": self.channel, "source": claimed.name, "refused": str(exc)}
            failed = True
        report["source"] = claimed.name
        target = self._destination(FAILED if failed else DONE, claimed.name)
        claimed.rename(target)
        target.with_name(target.name + ".report.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        totals = report.get("totals", {})
        logger.info(
            "drop folder file imported",
            extra={"channel": self.channel, "file": target.name, "outcome": FAILED if failed else DONE, **totals},
        )
        return target

    def _destination(self, where: str, name: str) -> Path:
        target = self.folder / where / name
        if target.exists():
            target = target.with_name(f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{name}")
        return target


def drop_folders(
    connectors: Mapping[str, Connector[Any]],
    settings: Settings,
    engine: Engine,
    make_publisher: Callable[[], Publisher],
    closers: list[Callable[[], None]],
) -> list[DropFolder]:
    """A watcher per importing connector whose config names a drop folder (under ``data_dir``),
    each with a publisher of its own (closed with the process's other parts)."""
    wanted = [
        (name, connector, folder)
        for name, connector in sorted(connectors.items())
        if isinstance(connector, ImportInbound)
        and isinstance(folder := getattr(connector.config, "drop_folder", None), str)
        and folder
    ]
    watched = []
    for name, connector, folder in wanted:
        publisher = make_publisher()
        closers.append(publisher.close)
        watched.append(DropFolder(name, connector, settings.data_dir / folder, engine, publisher, settings.imports))
    return watched
