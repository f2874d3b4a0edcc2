"""The officers' console at a million cases (issue 20, part 6): a generator of cases with their
messages, replies and audit trail in PostgreSQL, and the p99 of what the console reads.

    .venv/bin/python bench/console_cases.py generate --cases 1000000
    .venv/bin/python bench/console_cases.py measure [--samples 300] [--json results.json]
    .venv/bin/python bench/console_cases.py explain           # the plans of the measured statements

``generate`` makes the database afresh (``--database-url``, default a ``satupintu_bench_console``
database on the local server), migrates it to revision 0009, loads the rows with COPY, then
migrates to the head: migration 0010 builds the console's indexes on the loaded rows, as it would
on an installation upgraded with years of cases. Four years of cases: most finished, the recent
ones in every open status, some overdue; 1-5 messages each in realistic Indonesian (``complaints.py``),
a receipt and replies with delivery states, a few audit events each, reporters with identities.

``measure`` times ``console.queries`` (what the inbox API and pages, and the case page, call)
plus the JSON shaping (``console.views.to_json``), in this process, on one connection: the
inbox of the ULT and of each unit, filtered (open, overdue, mine, a channel), deep pages
(a cursor many pages in), text searches from rare words (a student number) to common ones
(``siakad``), and case pages of random cases. Each kind is sampled ``--samples`` times; p50, p99
and max are reported (nearest rank). HTTP and templates are not in these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The repository's packages (console, storage, ...) for a script run as ``python bench/console_cases.py``.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import psycopg
from complaints import FIRST, LAST, TOPIC_WEIGHTS, TOPICS, ComplaintFactory
from sqlalchemy import Connection, Engine, create_engine, text

from config.routing import load_routing
from console import queries
from console.views import to_json
from storage.db import create_db_engine
from storage.migrate import upgrade
from storage.units import sync_units
from triage.tracking import TrackingNumber

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/satupintu_bench_console"
NOW = datetime.now(UTC).replace(microsecond=0)
CHANNELS = {"email": 30, "whatsapp": 25, "webform": 15, "instagram": 8, "telegram": 6, "sms": 5, "lapor": 5}
CHANNELS |= {"phonelog": 3, "walkin": 2, "letter": 1}
UNITS = {"akademik": 30, "keuangan": 20, "sarpras": 18, "kemahasiswaan": 10, "tik": 12, "kepegawaian": 4}
UNITS |= {"ppkpt": 3, "spi": 1, "frontdesk": 2}
KINDS = {"pengaduan": 70, "aspirasi": 15, "permintaan_informasi": 15}
OFFICERS = ("ayu", "bayu", "citra", "dedi", "eka", "fajar")
OPEN_STATUSES = {"received": 25, "verifying": 15, "waiting_reporter": 10, "forwarded": 20, "in_progress": 25}
OPEN_STATUSES |= {"resolved": 5}
DAY = timedelta(days=1)
BATCH = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["generate", "measure", "http", "explain", "all"])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    if args.command in {"generate", "all"}:
        generate(args.database_url, args.cases, args.seed)
    engine = create_db_engine(args.database_url)
    try:
        if args.command in {"measure", "all"}:
            figures = measure(engine, args.samples, args.seed)
            report(figures)
            if args.json:
                args.json.write_text(json.dumps(figures, indent=2))
        if args.command == "explain":
            explain(engine, args.seed)
        if args.command == "http":
            figures = asyncio.run(measure_http(engine, args.database_url, args.samples, args.seed))
            report(figures)
            if args.json:
                args.json.write_text(json.dumps(figures, indent=2))
    finally:
        engine.dispose()


# --- generate ----------------------------------------------------------------------------------


def generate(url: str, cases: int, seed: int) -> None:
    started = time.monotonic()
    _fresh_database(url)
    engine = create_db_engine(url)
    upgrade(engine, "0009")
    sync_units(engine, load_routing())
    engine.dispose()
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    counts: dict[str, int] = {}
    with psycopg.connect(plain, autocommit=False) as connection:
        maker = _Maker(seed)
        for first in range(1, cases + 1, BATCH):
            rows = maker.batch(first, min(first + BATCH, cases + 1))
            for table, (columns, values) in rows.items():
                with connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)
                counts[table] = counts.get(table, 0) + len(values)
            connection.commit()
            done = min(first + BATCH - 1, cases)
            print(f"  {done:>9,} cases  {time.monotonic() - started:6.0f} s", file=sys.stderr)
        for table in counts:
            sequence = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            connection.execute(sequence.encode())
        connection.commit()
    loaded = time.monotonic()
    engine = create_db_engine(url)
    upgrade(engine)  # 0010 builds the console's indexes on what is there
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in counts:  # as autovacuum would: statistics, and the visibility map for index-only scans
            connection.execute(text(f"VACUUM ANALYZE {table}"))
    engine.dispose()
    print(
        f"generated {cases:,} cases ({', '.join(f'{t} {n:,}' for t, n in counts.items())}): "
        f"load {loaded - started:.0f} s, indexes {time.monotonic() - loaded:.0f} s",
        file=sys.stderr,
    )


def _fresh_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _weighted(rng: random.Random, table: dict[str, int]) -> Callable[[], str]:
    keys, weights = list(table), list(table.values())
    return lambda: rng.choices(keys, weights)[0]


class _Maker:
    """Rows of a range of cases, with ids given here so that they link without a lookup."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.texts = ComplaintFactory(seed)
        self.channel = _weighted(self.rng, CHANNELS)
        self.unit = _weighted(self.rng, UNITS)
        self.kind = _weighted(self.rng, KINDS)
        self.open_status = _weighted(self.rng, OPEN_STATUSES)
        self.topic = _weighted(self.rng, dict(TOPIC_WEIGHTS))
        self.ids = {"raw_message": 0, "case_message": 0, "outbox": 0, "case_event": 0}

    def _next(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def batch(self, first: int, end: int) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
        out: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {
            "reporter": (["id", "name", "created_at"], []),
            "reporter_identity": (["id", "reporter_id", "kind", "value", "proven"], []),
            "cases": (_CASE_COLUMNS, []),
            "raw_message": (_RAW_COLUMNS, []),
            "case_message": (_MESSAGE_COLUMNS, []),
            "outbox": (_OUTBOX_COLUMNS, []),
            "case_event": (["id", "case_id", "at", "actor", "action", "detail"], []),
        }
        for case_id in range(first, end):
            self._case(case_id, out, total=end)
        return out

    def _case(self, case_id: int, out: dict[str, Any], total: int) -> None:
        rng = self.rng
        age = DAY * (4 * 365) * (rng.random() ** 1.2)  # a little more recent cases than old ones
        received = NOW - age - timedelta(seconds=rng.randrange(86_400))
        if age < 40 * DAY:
            status = self.open_status()
        else:
            status = rng.choices(["closed", "rejected", "in_progress", "forwarded"], [90, 7, 2, 1])[0]
        channel, unit, topic = self.channel(), self.unit(), self.topic()
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        email = f"{name.lower().replace(' ', '.')}{case_id}@mhs.kampus.ac.id"
        out["reporter"][1].append((case_id, name, received))
        out["reporter_identity"][1].append((case_id, case_id, "email", email, True))
        met = _met(status, received, rng)
        closed = met.get("closed_at")
        assignee = rng.choice(OFFICERS) if status in {"forwarded", "in_progress", "resolved", "closed"} else None
        year = received.year % 100
        number = str(TrackingNumber("ULT", year, case_id))
        subject = rng.choice(TOPICS[topic]["subject"])
        confidential = unit in {"ppkpt", "spi"} or rng.random() < 0.02
        out["cases"][1].append(
            (
                case_id, number, self.kind(), unit, status, "high" if confidential else "normal", confidential,
                rng.random() < 0.02, True, case_id, name, channel, f"{channel}:{case_id}", channel, subject,
                f"{topic}-keywords, default-kind", received, received + 2 * DAY, received + 3 * DAY,
                received + 14 * DAY, received + 60 * DAY, received, closed or received + DAY, closed,
                met.get("forwarded_at"), met.get("first_response_at"), met.get("resolved_at"),
                met.get("paused_at"), "verifying" if met.get("paused_at") else None, assignee, "[]", "{}",
            )
        )  # fmt: skip
        reporter = json.dumps({"name": name, "email": email})
        for position in range(rng.choices([1, 2, 3, 4, 5], [60, 25, 8, 4, 3])[0]):
            at = received + position * timedelta(hours=rng.randrange(1, 48))
            body = self.texts.text(topic, name)
            raw_id = self._next("raw_message")
            normalized = (
                f'{{"channel": "{channel}", "raw_message_id": {raw_id}, "conversation_key": "{channel}:{case_id}", '
                f'"channel_message_id": "m{raw_id}", "reporter": {reporter}, "received_at": "{at.isoformat()}"}}'
            )
            out["raw_message"][1].append(
                (
                    raw_id,
                    channel,
                    f"m{raw_id}",
                    at,
                    "text/plain",
                    b"",
                    "{}",
                    "[]",
                    "triaged",
                    at,
                    1,
                    normalized,
                    case_id,
                )
            )
            out["case_message"][1].append(
                (self._next("case_message"), case_id, raw_id, f"m{raw_id}", "in", channel, subject, body, at)
            )
        self._outbox(case_id, out, channel, received, "receipt", "system:triage", number, status != "received")
        if met.get("first_response_at"):
            actor = assignee or rng.choice(OFFICERS)
            self._outbox(case_id, out, channel, met["first_response_at"], "reply", actor, number, True)
        for action, key in (("forwarded", "forwarded_at"), ("resolved", "resolved_at"), ("closed", "closed_at")):
            if met.get(key):
                detail = json.dumps({"note": "sesuai prosedur"})
                out["case_event"][1].append(
                    (self._next("case_event"), case_id, met[key], rng.choice(OFFICERS), action, detail)
                )

    def _outbox(
        self,
        case_id: int,
        out: dict[str, Any],
        channel: str,
        at: datetime,
        purpose: str,
        actor: str,
        number: str,
        read: bool,
    ) -> None:
        outbox_id = self._next("outbox")
        body = f"Laporan Anda {number} sudah kami terima dan sedang ditindaklanjuti. Terima kasih."
        delivery = "read" if read else "delivered"
        out["outbox"][1].append(
            (
                outbox_id, case_id, channel, purpose, f"{purpose}:{case_id}:{outbox_id}", '{"via": "conversation"}',
                f"[{number}]", body, "sent", 1, at, at, f"p{outbox_id}", at, at, delivery, at,
            )
        )  # fmt: skip
        out["case_event"][1].append((self._next("case_event"), case_id, at, actor, f"{purpose}_written", "{}"))


def _met(status: str, received: datetime, rng: random.Random) -> dict[str, datetime]:
    """What a case in ``status`` has done, at plausible moments after its receipt."""
    order = ["received", "verifying", "forwarded", "in_progress", "resolved", "closed"]
    step = order.index(status) if status in order else (1 if status in {"waiting_reporter", "rejected"} else 0)
    met: dict[str, datetime] = {}
    if step >= 2:
        met["forwarded_at"] = received + DAY * rng.uniform(0.2, 3)
    if step >= 2 or (step == 1 and rng.random() < 0.5):
        met["first_response_at"] = received + DAY * rng.uniform(0.1, 4)
    if step >= 4:
        met["resolved_at"] = received + DAY * rng.uniform(3, 20)
    if step >= 5:
        met["closed_at"] = met["resolved_at"] + DAY * rng.uniform(1, 10)
    if status == "rejected":
        met["closed_at"] = received + DAY * rng.uniform(0.5, 3)
    if status == "waiting_reporter":
        met["paused_at"] = received + DAY * rng.uniform(0.1, 2)
    return met


_CASE_COLUMNS = [
    "id", "tracking_number", "kind", "unit", "status", "priority", "confidential", "anonymous", "complete",
    "reporter_id", "reporter_name", "channel", "conversation_key", "receipt_via", "subject", "routing_rules",
    "received_at", "verify_due", "first_response_due", "resolution_due", "final_due", "created_at", "updated_at",
    "closed_at", "forwarded_at", "first_response_at", "resolved_at", "paused_at", "paused_status", "assignee",
    "missing", "checklist",
]  # fmt: skip
_RAW_COLUMNS = [
    "id", "channel", "external_id", "received_at", "content_type", "payload", "headers", "attachments", "state",
    "queued_at", "attempts", "normalized", "case_id",
]  # fmt: skip
_MESSAGE_COLUMNS = [
    "id", "case_id", "raw_message_id", "channel_message_id", "direction", "channel", "subject", "text", "received_at",
]  # fmt: skip
_OUTBOX_COLUMNS = [
    "id", "case_id", "channel", "purpose", "idempotency_key", "recipient", "subject", "body", "state", "attempts",
    "queued_at", "next_attempt_at", "provider_message_id", "created_at", "sent_at", "delivery_state",
    "delivery_state_at",
]  # fmt: skip


# --- measure -----------------------------------------------------------------------------------

SEARCHES = {
    "rare (a student number)": None,  # filled from the data: a NIM some message carries
    "rare (a name)": "kartika wijaya",
    "medium (legalisir)": "legalisir",
    "common (siakad)": "siakad",
    "very common (mohon)": "mohon",
}


def _workloads(connection: Connection, rng: random.Random) -> dict[str, Callable[[], Any]]:
    top = int(connection.execute(text("SELECT max(id) FROM cases")).scalar_one())
    numbers = [
        str(n)
        for (n,) in connection.execute(
            text("SELECT tracking_number FROM cases WHERE id = ANY(:ids)"),
            {"ids": [rng.randrange(1, top + 1) for _ in range(2000)]},
        )
    ]
    nim = connection.execute(
        text("SELECT substring(text from '[0-9]{10}') FROM case_message WHERE text ~ '[0-9]{10}' LIMIT 1")
    ).scalar()
    searches = {label: words or nim or "0000000000" for label, words in SEARCHES.items()}
    deep = _cursor_after(connection, pages=40)

    def page(scope: str | None, **wanted: Any) -> Callable[[], Any]:
        return lambda: to_json(queries.inbox(connection, scope, queries.InboxFilter(**wanted), now=NOW))

    work: dict[str, Callable[[], Any]] = {
        "inbox: all units (ULT)": page(None),
        "inbox: one unit": lambda: to_json(
            queries.inbox(connection, rng.choice(list(UNITS)), queries.InboxFilter(), now=NOW)
        ),
        "inbox: open only": page(None, status="open"),
        "inbox: overdue": page(None, overdue=True),
        "inbox: mine (unit + assignee)": lambda: to_json(
            queries.inbox(connection, "akademik", queries.InboxFilter(assignee=rng.choice(OFFICERS)), now=NOW)
        ),
        "inbox: a channel": page(None, channel="instagram"),
        "inbox: page 41 (cursor)": lambda: to_json(
            queries.inbox(connection, None, queries.InboxFilter(), cursor=deep, now=NOW)
        ),
        "inbox: closed, a unit": lambda: to_json(
            queries.inbox(connection, "keuangan", queries.InboxFilter(status="closed"), now=NOW)
        ),
    }

    def unit_search(words: str) -> Callable[[], Any]:
        return lambda: to_json(
            queries.inbox(connection, rng.choice(list(UNITS)), queries.InboxFilter(text=words), now=NOW)
        )

    for label, words in searches.items():
        work[f"search {label}"] = page(None, text=words)
        work[f"search {label}, one unit"] = unit_search(words)
    work["case page"] = lambda: to_json(queries.case_detail(connection, rng.choice(numbers), None, now=NOW))
    start = queries.changes_since(connection, None, None).cursor
    work["live updates (nothing new)"] = lambda: to_json(queries.changes_since(connection, None, start))
    work["dashboard (ULT)"] = lambda: to_json(queries.dashboard(connection, None, NOW, channels=list(CHANNELS)))
    work["dashboard (one unit)"] = lambda: to_json(
        queries.dashboard(connection, rng.choice(list(UNITS)), NOW, channels=list(CHANNELS))
    )
    return work


def _cursor_after(connection: Connection, pages: int) -> str | None:
    cursor = None
    for _ in range(pages):
        cursor = queries.inbox(connection, None, queries.InboxFilter(), cursor=cursor, now=NOW).next_cursor
    return cursor


def measure(engine: Engine, samples: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    with engine.connect() as connection:
        cases = int(connection.execute(text("SELECT count(*) FROM cases")).scalar_one())
        work = _workloads(connection, rng)
        figures: dict[str, Any] = {"cases": cases, "samples": samples, "at": NOW.isoformat(), "ms": {}}
        for label, run in work.items():
            for _ in range(5):  # warm the caches as a running server has them
                run()
            connection.rollback()
            timings = []
            for _ in range(samples):
                started = time.perf_counter()
                run()
                timings.append((time.perf_counter() - started) * 1000)
                connection.rollback()  # each request its own transaction, as the server's
            figures["ms"][label] = _summary(timings)
    return figures


def _summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)

    def rank(p: float) -> float:
        return ordered[max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 100)) - 1))]

    return {
        "p50": round(statistics.median(ordered), 1),
        "p99": round(rank(99), 1),
        "max": round(ordered[-1], 1),
    }


def report(figures: dict[str, Any]) -> None:
    print(f"{figures['cases']:,} cases, {figures['samples']} samples each, ms:")
    print(f"{'workload':<44} {'p50':>8} {'p99':>8} {'max':>8}")
    for label, row in figures["ms"].items():
        print(f"{label:<44} {row['p50']:>8} {row['p99']:>8} {row['max']:>8}")


# --- measure over HTTP ----------------------------------------------------------------------------

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "bench-console-2026"


async def measure_http(engine: Engine, database_url: str, samples: int, seed: int) -> dict[str, Any]:
    """The same reads through the running server: ``satupintu worker http`` on the benchmark's
    database, the API with an officer's token, the pages with a logged-in session."""
    rng = random.Random(seed)
    with engine.connect() as connection:
        cases = int(connection.execute(text("SELECT count(*) FROM cases")).scalar_one())
        numbers = [
            n for (n,) in connection.execute(text("SELECT tracking_number FROM cases ORDER BY random() LIMIT 500"))
        ]
    token = _bench_officers(engine)
    with tempfile.TemporaryDirectory(prefix="bench-console-") as folder, _server(database_url, Path(folder)) as base:
        async with aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await _log_in(http)
            api = {"Authorization": f"Bearer {token}"}
            work: dict[str, Callable[[], Any]] = {
                "API inbox (ULT)": lambda: http.get("/api/v1/cases", headers=api),
                "API inbox, one unit": lambda: http.get(f"/api/v1/cases?unit={rng.choice(list(UNITS))}", headers=api),
                "API inbox, overdue": lambda: http.get("/api/v1/cases?overdue=true", headers=api),
                "API search (siakad)": lambda: http.get("/api/v1/cases?q=siakad", headers=api),
                "API search (legalisir)": lambda: http.get("/api/v1/cases?q=legalisir", headers=api),
                "API search (a name)": lambda: http.get("/api/v1/cases?q=kartika+wijaya", headers=api),
                "API search (a name), one unit": lambda: http.get(
                    f"/api/v1/cases?q=kartika+wijaya&unit={rng.choice(list(UNITS))}", headers=api
                ),
                "API case": lambda: http.get(f"/api/v1/cases/{rng.choice(numbers)}", headers=api),
                "page inbox (ULT)": lambda: http.get("/console/inbox"),
                "page inbox, search (legalisir)": lambda: http.get("/console/inbox?q=legalisir"),
                "page inbox, search (a name)": lambda: http.get("/console/inbox?q=kartika+wijaya"),
                "page case": lambda: http.get(f"/console/cases/{rng.choice(numbers)}"),
            }
            figures: dict[str, Any] = {"cases": cases, "samples": samples, "at": NOW.isoformat(), "ms": {}}
            for label, request in work.items():
                timings = []
                for attempt in range(samples + 5):
                    started = time.perf_counter()
                    async with request() as response:
                        await response.read()
                        if response.status != 200:
                            raise SystemExit(f"{label}: HTTP {response.status}")
                    if attempt >= 5:  # the first few warm the caches
                        timings.append((time.perf_counter() - started) * 1000)
                figures["ms"][label] = _summary(timings)
    return figures


def _bench_officers(engine: Engine) -> str:
    """An ULT officer ``bench`` (made once) and a new API token of theirs."""
    from console import accounts
    from storage.db import transaction

    with transaction(engine) as connection:
        known = connection.execute(text("SELECT 1 FROM officer WHERE name = 'bench'")).first()
        if known is None:
            accounts.add_officer(connection, "bench", "ult", None, PASSWORD)
        return accounts.issue_token(connection, "bench")


class _server:
    """``satupintu worker http`` on the benchmark's database, as an operator runs it."""

    def __init__(self, database_url: str, folder: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SATUPINTU_")}
        self.env |= {
            "SATUPINTU_DATA_DIR": str(folder),
            "SATUPINTU_DATABASE_URL": database_url,
            "SATUPINTU_BROKER_URL": f"filesystem://{folder}/queue",
            "SATUPINTU_HTTP__PORT": str(self.port),
            "SATUPINTU_LOG__LEVEL": "WARNING",
        }
        self.log = folder / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "workers", "worker", "http"], cwd=REPO, env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped: {self.log.read_text()[-2000:]}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return f"http://127.0.0.1:{self.port}"
            time.sleep(0.2)
        raise SystemExit("the server did not listen within 60 s")

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


async def _log_in(http: aiohttp.ClientSession) -> None:
    async with http.get("/console/login") as form:
        page = await form.text()
    found = re.search(r'name="_csrf" value="([^"]+)"', page)
    if found is None:
        raise SystemExit("the login form has no token")
    fields = {"name": "bench", "password": PASSWORD, "_csrf": found.group(1), "next": "/console/"}
    async with http.post("/console/login", data=fields, allow_redirects=False) as answer:
        if answer.status != 303:
            raise SystemExit(f"login answered {answer.status}")


def explain(engine: Engine, seed: int) -> None:
    """The plans PostgreSQL chooses for the measured statements (EXPLAIN ANALYZE)."""
    rng = random.Random(seed)
    with engine.connect() as connection:
        work = _workloads(connection, rng)
        captured: list[str] = []

        def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                literal = psycopg.ClientCursor(cursor.connection)
                captured.append(literal.mogrify(statement, parameters))

        from sqlalchemy import event

        for label, run in work.items():
            captured.clear()
            event.listen(engine, "before_cursor_execute", capture)
            try:
                run()
            finally:
                event.remove(engine, "before_cursor_execute", capture)
            print(f"\n===== {label}")
            for statement in _statements(captured):
                cursor = connection.connection.cursor()
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement)
                print("\n".join(row[0] for row in cursor.fetchall()))
                print("-----")
            connection.rollback()


def _statements(captured: list[Any]) -> Iterator[str]:
    for statement in captured:
        yield statement.decode() if isinstance(statement, bytes) else str(statement)


if __name__ == "__main__":
    main()
