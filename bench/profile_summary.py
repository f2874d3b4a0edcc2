#!/usr/bin/env python3
"""Summarize a ``py-spy record --format raw --threads`` file of the satupintu server.

Prints where the samples go: per thread, per pipeline activity (the deepest satupintu
function of interest on the stack), per library of the leaf frame, and the top functions by
self and inclusive samples. Without --native, time inside a C extension (sqlite3, psycopg,
pydantic-core, orjson) is charged to the Python frame that called it, so a leaf
``DefaultDialect.do_execute`` is time spent inside the database driver.

    .venv/bin/python bench/profile_summary.py bench/results/profiles/<file>.txt [--top 25] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

OUR_DIRS = ("pipeline/", "storage/", "triage/", "normalizer/", "connectors/", "config/", "workers.py")
FRAME_RE = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+)(?::(?P<line>\d+))?\)$")

# Deepest match wins: (marker in "func (file)", activity).
ACTIVITIES: list[tuple[str, str]] = [
    ("_on_begin (storage/db.py)", "SQLite write-lock wait (BEGIN IMMEDIATE, busy handler)"),
    ("DefaultDialect.do_commit", "DB commit (fsync)"),
    ("transaction (storage/db.py)", "transaction begin (SQLite: waiting for the Python write lock; PG: pool/BEGIN)"),
    ("triage/classify.py", "triage: classify (keyword rules)"),
    ("triage/text.py", "triage: classify (keyword rules)"),
    ("triage/receipt.py", "triage: receipt text"),
    ("triage/calendar.py", "triage: deadlines (working-day calendar)"),
    ("triage/tracking.py", "triage: tracking numbers"),
    ("storage/reporters.py", "normalize: reporter lookup/create"),
    ("connectors/webform/parser.py", "normalize: webform parse"),
    ("normalizer/rules.py", "normalize: common rules (phone, text)"),
    ("normalizer/", "normalize: other"),
    ("insert_raw_messages (storage/raw.py)", "http: group-commit insert of raw messages"),
    ("Ingestor._store (pipeline/ingest.py)", "http: group commit (transaction, commit)"),
    ("Publisher.publish (pipeline/queues.py)", "kombu publish (work items)"),
    ("Publisher.publish_dead (pipeline/queues.py)", "kombu publish (dead letters)"),
    ("storage/outbox.py", "deliver: outbox claim / record outcome"),
    ("record_events (storage/cases.py)", "case events (audit) inserts"),
    ("storage/cases.py", "triage: case, message, outbox inserts"),
    ("load_raw (storage/raw.py)", "stage: load raw rows"),
    ("advance (storage/raw.py)", "stage: advance raw state"),
    ("storage/sweeps.py", "sweeper: stale query"),
    ("pipeline/sweeper.py", "sweeper: other"),
    ("WebformConnector.send (connectors/webform/connector.py)", "deliver: connector send"),
    ("pipeline/delivery.py", "deliver: other (tenacity, asyncio loop, logging)"),
    ("_Handlers.submit (connectors/webform/connector.py)", "http: webform handler (validate, JSON, sign)"),
    ("connectors/webform/connector.py", "http: webform handler (other)"),
    ("pipeline/http.py", "http: middleware / health"),
    ("StageConsumer._fill (pipeline/consumer.py)", "stage consumer: kombu drain_events / polling"),
    ("StageConsumer._process (pipeline/consumer.py)", "stage consumer: validate + ack"),
    ("pipeline/stage.py", "stage: transaction / other"),
    ("aiohttp/", "http: aiohttp server (parsing, writing)"),
    ("asyncio/", "asyncio event loop"),
]

LIBRARIES: list[tuple[str, str]] = [
    ("do_execute", "DB driver execute (sqlite3 / psycopg C code)"),
    ("do_executemany", "DB driver execute (sqlite3 / psycopg C code)"),
    ("do_commit", "DB driver commit (fsync)"),
    ("do_rollback", "DB driver rollback"),
    ("psycopg/", "psycopg (python part)"),
    ("sqlalchemy/", "SQLAlchemy (compile, result, pool)"),
    ("sqlmodel/", "SQLAlchemy (compile, result, pool)"),
    ("pydantic", "pydantic"),
    ("kombu/", "kombu / amqp"),
    ("amqp/", "kombu / amqp"),
    ("aiohttp/", "aiohttp"),
    ("multidict/", "aiohttp"),
    ("yarl/", "aiohttp"),
    ("structlog/", "logging"),
    ("logging/", "logging"),
    ("json/", "json"),
    ("orjson", "json"),
    ("tenacity/", "tenacity"),
    ("asyncio/", "asyncio"),
    ("selectors.py", "asyncio"),
    ("threading.py", "threading (locks, waits)"),
    ("queue.py", "threading (locks, waits)"),
    ("concurrent/", "threading (locks, waits)"),
    ("phonenumbers/", "phonenumbers"),
    ("holidays/", "holidays"),
    ("zoneinfo", "datetime / zoneinfo"),
    ("re/", "re (regex)"),
    ("re.py", "re (regex)"),
]


def short(frame: str) -> str:
    """'func (file:line)' -> 'func (file)'."""
    m = FRAME_RE.match(frame)
    return f"{m.group('func')} ({m.group('file')})" if m else frame


def is_ours(frame: str) -> bool:
    m = FRAME_RE.match(frame)
    return m is not None and m.group("file").startswith(OUR_DIRS)


def activity(frames: list[str]) -> str:
    for frame in reversed(frames):
        for marker, name in ACTIVITIES:
            if marker in frame:
                return name
    return "other"


def library(leaf: str) -> str:
    for marker, name in LIBRARIES:
        if marker in leaf:
            return name
    return "satupintu code" if is_ours(leaf) else "other (stdlib, C calls)"


def load(path: Path) -> list[tuple[str, list[str], int]]:
    samples = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        parts = stack.split(";")
        thread = parts[0]
        if thread.startswith("thread ("):
            thread = thread.split(": ", 1)[1] if ": " in thread else thread
            frames = parts[1:]
        else:
            thread, frames = "?", parts
        thread = re.sub(r"_\d+$", "_N", thread)  # pool threads: ingest-read_0.._3 -> ingest-read_N
        samples.append((thread, [short(f) for f in frames], int(count)))
    return samples


def summarize(path: Path, top: int = 25) -> dict[str, Any]:
    samples = load(path)
    total = sum(c for _, _, c in samples) or 1
    threads: Counter[str] = Counter()
    activities: Counter[str] = Counter()
    activity_by_thread: dict[str, Counter[str]] = defaultdict(Counter)
    libraries: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for thread, frames, count in samples:
        threads[thread] += count
        act = activity(frames)
        activities[act] += count
        activity_by_thread[thread][act] += count
        leaf = frames[-1] if frames else "?"
        libraries[library(leaf)] += count
        self_time[leaf] += count
        for frame in set(frames):
            if is_ours(frame):
                inclusive[frame] += count

    def table(counter: Counter[str], n: int | None = None) -> list[list[Any]]:
        return [[name, count, round(100 * count / total, 1)] for name, count in counter.most_common(n)]

    return {
        "file": str(path),
        "samples": total,
        "threads": table(threads),
        "activities": table(activities),
        "activities_by_thread": {
            t: table(c, 8) for t, c in sorted(activity_by_thread.items(), key=lambda kv: -threads[kv[0]])
        },
        "leaf_library": table(libraries),
        "top_self": table(self_time, top),
        "top_inclusive_satupintu": table(inclusive, top),
    }


def render(summary: dict[str, Any]) -> str:
    lines = [f"{summary['file']}: {summary['samples']} samples (percent of all samples)"]
    for title, key in (
        ("threads", "threads"),
        ("activities (deepest satupintu marker on the stack)", "activities"),
        ("leaf frame by library", "leaf_library"),
        ("top self (leaf) functions", "top_self"),
        ("top satupintu functions, inclusive", "top_inclusive_satupintu"),
    ):
        lines.append(f"\n== {title}")
        for name, count, share in summary[key]:
            lines.append(f"{share:6.1f}%  {count:7d}  {name}")
    lines.append("\n== activities per thread")
    for thread, rows in summary["activities_by_thread"].items():
        lines.append(f"-- {thread}")
        for name, count, share in rows:
            lines.append(f"   {share:6.1f}%  {count:7d}  {name}")
    return "\n".join(lines)


def main() -> None:
    import signal

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args()
    for path in args.files:
        summary = summarize(path, args.top)
        print(json.dumps(summary) if args.json else render(summary))


if __name__ == "__main__":
    main()
