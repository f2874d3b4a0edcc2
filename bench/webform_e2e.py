#!/usr/bin/env python3
"""End-to-end benchmark of the web-form path: POST /api/v1/reports -> stored -> normalized ->
triaged (case + receipt in the outbox) -> receipt delivered (outbox.state = 'sent').

For every repetition and measurement it starts a fresh ``satupintu run`` as a subprocess
(fresh temporary data dir; for ``--backend rabbitmq-postgres`` also a fresh PostgreSQL database
and a unique RabbitMQ queue prefix, all removed afterwards), waits for /readyz, warms up, then:

* throughput: N submissions from a closed loop of C concurrent client connections; reports
  accepted/s (HTTP 202 rate) and end-to-end messages/s = N / (first send -> last receipt's
  ``sent_at``), polling the database read-only every 100 ms until every receipt is sent;
* latency: open loop at R submissions/s for D seconds; for each submission the time from the
  client's send to its receipt's ``sent_at`` (client_reference = raw_message.external_id),
  p50/p90/p99/max, split into HTTP answer, send -> stored, stored -> receipt sent.

After each run it checks that every accepted submission ended with exactly one raw message,
one case, one case message and one receipt in state 'sent', and scans the server log.
Prints one JSON line (the result) and a human summary; the full result (with the progress
timelines) and the gzipped server logs go to --results-dir.

Only loopback addresses are used. Every loop is bounded by a count and a time limit.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from complaints import ComplaintFactory  # noqa: E402

REPORTS_PATH = "/api/v1/reports"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
POLL_SECONDS = 0.1
CLK_TCK = os.sysconf("SC_CLK_TCK")
REF_RE = re.compile(r"^[a-z0-9-]+$")


# --------------------------------------------------------------------------- small helpers


def now_wall() -> float:
    return time.time()


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def dist(values: list[float], scale: float = 1000.0) -> dict[str, Any]:
    """p50/p90/p99/max of seconds, in milliseconds."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(pct(values, 50) * scale, 2),  # type: ignore[operator]
        "p90": round(pct(values, 90) * scale, 2),  # type: ignore[operator]
        "p99": round(pct(values, 99) * scale, 2),  # type: ignore[operator]
        "max": round(max(values) * scale, 2),
        "mean": round(statistics.fmean(values) * scale, 2),
    }


def spread(values: list[float]) -> dict[str, Any]:
    values = [v for v in values if v is not None]
    if not values:
        return {"median": None, "min": None, "max": None, "reps": 0}
    med = statistics.median(values)
    return {
        "median": round(med, 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
        "spread_pct": round(100 * (max(values) - min(values)) / med, 1) if med else None,
        "reps": len(values),
    }


def parse_ts(value: Any) -> float | None:
    """A timestamp from either database as epoch seconds (both store UTC)."""
    if value is None:
        return None
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def git_info() -> dict[str, Any]:
    def run(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, check=False, cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception:  # noqa: BLE001
            return ""

    import hashlib

    dirty = run("git", "status", "--porcelain", "--untracked-files=no")
    commit = run("git", "rev-parse", "--short", "HEAD")
    # the code under test changes while others work: name the exact tree (commit + uncommitted diff)
    diff = run("git", "diff", "HEAD", "--", ".", ":(exclude)bench")
    version = commit + (f"+{hashlib.sha1(diff.encode()).hexdigest()[:8]}" if diff else "")
    return {"commit": commit, "dirty_files": len(dirty.splitlines()), "code_version": version}


# --------------------------------------------------------------------------- CPU accounting


def _ticks(stat_path: Path) -> tuple[str, int] | None:
    try:
        raw = stat_path.read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return comm, int(fields[11]) + int(fields[12])  # utime + stime


THREAD_NAMES: dict[int, str] = {}
"""Native thread id -> Python thread name (Python does not set the OS thread name; py-spy dump knows it)."""


def learn_thread_names(pid: int, py_spy: str) -> None:
    THREAD_NAMES.clear()
    try:
        command = [py_spy, "dump", "--pid", str(pid)]
        out = subprocess.run(command, check=False, capture_output=True, text=True, timeout=30).stdout
    except Exception:  # noqa: BLE001 - per-thread CPU then shows thread ids only
        return
    for match in re.finditer(r'^Thread (\d+) \([^)]*\): "([^"]*)"', out, re.M):
        THREAD_NAMES[int(match.group(1))] = match.group(2)


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds per thread of a process, by Python thread name when known."""
    out: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").glob("*"):
        got = _ticks(task / "stat")
        if got:
            tid = int(task.name)
            name = THREAD_NAMES.get(tid, f"tid {tid}")
            out[name] = out.get(name, 0.0) + got[1] / CLK_TCK
    return out


def process_cpu(pid: int) -> float:
    got = _ticks(Path(f"/proc/{pid}/stat"))
    return got[1] / CLK_TCK if got else 0.0


def named_process_cpu(names: tuple[str, ...]) -> dict[str, float]:
    """CPU seconds of the services (beam.smp, postgres), by command name, read from /proc."""
    out: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        got = _ticks(stat)
        if got and got[0] in names:
            out[got[0]] = out.get(got[0], 0.0) + got[1] / CLK_TCK
    return out


def cpu_times() -> list[tuple[int, int]]:
    """(busy, total) jiffies per CPU from /proc/stat."""
    out = []
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("cpu") and line[3].isdigit():
            values = [int(v) for v in line.split()[1:]]
            idle = values[3] + values[4]
            out.append((sum(values) - idle, sum(values)))
    return out


@dataclass
class CpuSnapshot:
    wall: float
    server_threads: dict[str, float]
    server_total: float
    services: dict[str, float]
    client: float
    cpus: list[tuple[int, int]]

    @classmethod
    def take(cls, server_pid: int) -> CpuSnapshot:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return cls(
            wall=time.perf_counter(),
            server_threads=thread_cpu(server_pid),
            server_total=process_cpu(server_pid),
            services=named_process_cpu(("beam.smp", "postgres")),
            client=usage.ru_utime + usage.ru_stime,
            cpus=cpu_times(),
        )

    def since(self, before: CpuSnapshot) -> dict[str, Any]:
        wall = self.wall - before.wall
        threads = {
            name: round(self.server_threads.get(name, 0) - before.server_threads.get(name, 0), 2)
            for name in sorted(set(self.server_threads) | set(before.server_threads))
        }
        busy_cores = sum(b1 - b0 for (b0, _), (b1, _) in zip(before.cpus, self.cpus, strict=False)) / CLK_TCK / wall
        ours = (
            self.server_total
            - before.server_total
            + self.client
            - before.client
            + sum(self.services.get(k, 0) - before.services.get(k, 0) for k in self.services)
        ) / wall
        return {
            "wall_s": round(wall, 2),
            "machine_busy_cores": round(busy_cores, 2),
            "foreign_busy_cores": round(max(0.0, busy_cores - ours), 2),
            "server_cpu_s": round(self.server_total - before.server_total, 2),
            "server_cpu_pct_of_one_core": round(100 * (self.server_total - before.server_total) / wall, 1),
            "server_threads_cpu_s": {k: v for k, v in sorted(threads.items(), key=lambda kv: -kv[1]) if v > 0},
            "services_cpu_s": {
                # best effort: a process that exited in between takes its CPU time with it
                k: round(max(0.0, self.services.get(k, 0) - before.services.get(k, 0)), 2)
                for k in sorted(self.services)
            },
            "client_cpu_s": round(self.client - before.client, 2),
            "client_cpu_pct_of_one_core": round(100 * (self.client - before.client) / wall, 1),
            "cpu_busy_pct": [
                round(100 * (b1 - b0) / max(1, t1 - t0), 1)
                for (b0, t0), (b1, t1) in zip(before.cpus, self.cpus, strict=False)
            ],
        }


def wait_for_quiet(threshold_cores: float, max_wait: float) -> dict[str, float]:
    """Wait (at most max_wait s) until the machine's busy CPU over 1 s is under threshold_cores.

    Other sessions share this 2-core machine; starting a rep in a quiet moment cuts the noise.
    """
    waited = 0.0
    busy = 0.0
    while True:
        before = cpu_times()
        time.sleep(1.0)
        after = cpu_times()
        busy = sum(b1 - b0 for (b0, _), (b1, _) in zip(before, after, strict=False)) / CLK_TCK
        waited += 1.0
        if busy < threshold_cores or waited >= max_wait:
            return {"waited_s": waited, "busy_cores_at_start": round(busy, 2)}


# --------------------------------------------------------------------------- database readers


class Reader:
    """Read-only queries on the pipeline's database, always from one thread."""

    def __init__(self, connect: Any, param: str) -> None:
        self._connect = connect
        self._param = param
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-db")
        self._conn: Any = None

    def _run(self, sql: str) -> list[tuple[Any, ...]]:
        if self._conn is None:
            self._conn = self._connect()
        rows: list[tuple[Any, ...]] = self._conn.execute(sql).fetchall()
        return rows

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self._pool.submit(self._run, sql).result(timeout=60)

    async def aquery(self, sql: str) -> list[tuple[Any, ...]]:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._run, sql)

    def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._pool.submit(shut).result(timeout=30)
        self._pool.shutdown(wait=True)


PROGRESS_SQL = (
    "SELECT (SELECT count(*) FROM raw_message),"
    " (SELECT count(*) FROM raw_message WHERE state = 'received'),"
    " (SELECT count(*) FROM raw_message WHERE state = 'normalized'),"
    " (SELECT count(*) FROM raw_message WHERE state = 'triaged'),"
    " (SELECT count(*) FROM outbox WHERE purpose = 'receipt'),"
    " (SELECT count(*) FROM outbox WHERE purpose = 'receipt' AND state = 'sent')"
)


def progress_of(row: tuple[Any, ...]) -> dict[str, int]:
    keys = ("raw", "received", "normalized", "triaged", "receipts", "sent")
    return dict(zip(keys, (int(v) for v in row), strict=True))


# --------------------------------------------------------------------------- backends


class Backend:
    name = ""

    def setup(self, data_dir: Path) -> dict[str, str]:
        """Fresh storage for one server; returns the SATUPINTU_* variables."""
        raise NotImplementedError

    def reader(self) -> Reader:
        raise NotImplementedError

    def teardown(self) -> dict[str, Any]:
        return {}

    def describe(self) -> dict[str, Any]:
        return {}


class Embedded(Backend):
    """The embedded default: SQLite (WAL) in the data dir, kombu memory:// in the process."""

    name = "embedded"

    def setup(self, data_dir: Path) -> dict[str, str]:
        self.db_path = data_dir / "satupintu.db"
        return {
            "SATUPINTU_DATABASE_URL": f"sqlite:///{self.db_path}",
            "SATUPINTU_BROKER_URL": "memory://",
        }

    def reader(self) -> Reader:
        import sqlite3

        def connect() -> Any:
            conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30)
            return conn

        return Reader(connect, "?")

    def describe(self) -> dict[str, Any]:
        return {"database": "SQLite file (WAL) in a fresh temp dir", "broker": "memory://"}


class RabbitPostgres(Backend):
    """A fresh PostgreSQL database and a unique RabbitMQ queue prefix per server."""

    name = "rabbitmq-postgres"

    def __init__(self, pg_admin_url: str, amqp_url: str) -> None:
        self.pg_admin_url = pg_admin_url
        self.amqp_url = amqp_url
        self.dbname = ""
        self.prefix = ""

    def _db_url(self) -> str:
        base = self.pg_admin_url.rsplit("/", 1)[0]
        return f"{base}/{self.dbname}"

    def setup(self, data_dir: Path) -> dict[str, str]:
        import psycopg

        tag = uuid.uuid4().hex[:10]
        self.dbname = f"satupintu_bench_{tag}"
        self.prefix = f"bench-{tag}"
        with psycopg.connect(self.pg_admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.dbname}"')
        return {
            "SATUPINTU_DATABASE_URL": self._db_url(),
            "SATUPINTU_BROKER_URL": self.amqp_url,
            "SATUPINTU_PIPELINE__QUEUE_PREFIX": self.prefix,
        }

    def reader(self) -> Reader:
        import psycopg

        url = self._db_url()
        return Reader(lambda: psycopg.connect(url, autocommit=True, application_name="satupintu-bench"), "%s")

    def teardown(self) -> dict[str, Any]:
        done: dict[str, Any] = {}
        if self.prefix:
            done["queues_deleted"] = delete_rabbit_queues(self.amqp_url, self.prefix)
        if self.dbname:
            import psycopg

            with psycopg.connect(self.pg_admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
            done["database_dropped"] = self.dbname
        self.dbname = self.prefix = ""
        return done

    def describe(self) -> dict[str, Any]:
        return {
            "database": "PostgreSQL 127.0.0.1:5432, fresh database per server",
            "broker": "RabbitMQ 127.0.0.1:5672, fresh queue prefix per server",
        }


class NullHttp(Backend):
    """bench/null_server.py: the same route answering 202 with nothing stored (the HTTP ceiling)."""

    name = "null-http"

    def setup(self, data_dir: Path) -> dict[str, str]:
        return {}

    def reader(self) -> Reader | None:  # type: ignore[override]
        return None

    def describe(self) -> dict[str, Any]:
        return {"server": "bench/null_server.py (aiohttp, parse JSON, answer 202, store nothing)"}


def rabbit_queue_names(prefix: str) -> list[str]:
    """Queues whose name starts with ``prefix.``, listed by rabbitmqctl (best effort)."""
    try:
        out = subprocess.run(
            ["rabbitmqctl", "-q", "list_queues", "name"], check=False, capture_output=True, text=True, timeout=60
        ).stdout
    except Exception:  # noqa: BLE001 - fall back to the names the topology uses
        return []
    return [line.strip() for line in out.splitlines() if line.strip().startswith(prefix + ".")]


def delete_rabbit_queues(amqp_url: str, prefix: str) -> list[str]:
    from kombu.connection import Connection

    known = [f"{prefix}.{q}" for q in ("normalize", "triage", "deliver.webform", "dead")]
    names = sorted(set(rabbit_queue_names(prefix)) | set(known))
    deleted = []
    with Connection(amqp_url, connect_timeout=10) as conn:  # type: ignore[no-untyped-call]
        for name in names:
            try:
                channel = conn.channel()
                channel.queue_delete(name)
                channel.close()
                deleted.append(name)
            except Exception:  # noqa: BLE001 - a queue that was never declared
                pass
        try:
            channel = conn.channel()
            channel.exchange_delete(prefix)
            channel.close()
        except Exception:  # noqa: BLE001
            pass
    return deleted


# --------------------------------------------------------------------------- the server


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path
    started_at: float
    ready_after_s: float = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid


def start_server(args: argparse.Namespace, backend: Backend, data_dir: Path, log_path: Path) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATUPINTU_")}
    env.update(backend.setup(data_dir))
    env.update(
        SATUPINTU_DATA_DIR=str(data_dir),
        SATUPINTU_HTTP__HOST="127.0.0.1",
        SATUPINTU_HTTP__PORT=str(port),
        SATUPINTU_LOG__FORMAT="json",
        SATUPINTU_LOG__LEVEL=args.log_level,
    )
    for extra in args.server_env:
        key, _, value = extra.partition("=")
        env[key] = value
    command = [args.satupintu, "run"]
    if backend.name == "null-http":
        command = [sys.executable, str(HERE / "null_server.py"), "--port", str(port)]
    if args.server_cpus:
        command = ["taskset", "-c", args.server_cpus, *command]
    log = log_path.open("wb")  # the child keeps its own copy of the descriptor
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    server = Server(proc, port, data_dir, log_path, time.perf_counter())
    deadline = time.monotonic() + args.ready_timeout
    import urllib.request

    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"satupintu exited with {proc.returncode} before ready:\n{tail(log_path)}")
        try:
            with urllib.request.urlopen(server.base + "/readyz", timeout=5) as answer:
                if answer.status == 200:
                    server.ready_after_s = round(time.perf_counter() - server.started_at, 2)
                    return server
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"satupintu not ready within {args.ready_timeout}s:\n{tail(log_path)}")


def stop_server(server: Server) -> int | None:
    proc = server.proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the group we started (start_new_session)
            proc.wait(timeout=10)
    return proc.returncode


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def scan_log(path: Path) -> dict[str, Any]:
    """Count log lines by level and keep the distinct warning/error events."""
    levels: Counter[str] = Counter()
    events: Counter[str] = Counter()
    other = 0
    samples: list[str] = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
            level = str(record.get("level", "?")).lower()
        except (ValueError, AttributeError):
            other += 1
            if len(samples) < 10:
                samples.append(line[:300])
            continue
        levels[level] += 1
        if level in {"warning", "error", "critical", "exception"}:
            events[f"{level}: {record.get('event', '')[:160]}"] += 1
            if len(samples) < 10 and record.get("exception"):
                samples.append(str(record.get("exception"))[-600:])
    return {
        "levels": dict(levels),
        "non_json_lines": other,
        "problems": dict(events.most_common(20)),
        "samples": samples,
    }


# --------------------------------------------------------------------------- load generation


@dataclass
class Sent:
    ref: str
    t_send: float = 0.0  # wall clock, epoch seconds
    t_answer: float = 0.0
    status: int = 0
    duplicate: bool = False
    error: str = ""


async def post_one(session: aiohttp.ClientSession, url: str, ref: str, body: bytes) -> Sent:
    sent = Sent(ref)
    sent.t_send = now_wall()
    try:
        async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
            payload = await response.read()
            sent.status = response.status
            if response.status == 202:
                sent.duplicate = bool(orjson.loads(payload).get("duplicate"))
            else:
                sent.error = payload[:200].decode(errors="replace")
    except Exception as exc:  # noqa: BLE001 - counted, not fatal
        sent.status = -1
        sent.error = f"{type(exc).__name__}: {exc}"[:200]
    sent.t_answer = now_wall()
    return sent


def session_for(limit: int, timeout: float) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit, force_close=False)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout))


async def closed_loop(url: str, bodies: list[tuple[str, bytes]], concurrency: int, deadline_s: float) -> list[Sent]:
    """C workers, each sending the next submission as soon as its previous one is answered."""
    results: list[Sent] = []
    next_index = 0
    stop_at = time.monotonic() + deadline_s

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal next_index
        while next_index < len(bodies) and time.monotonic() < stop_at:
            ref, body = bodies[next_index]
            next_index += 1
            results.append(await post_one(session, url, ref, body))

    async with session_for(concurrency, 60) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return results


async def open_loop(url: str, bodies: list[tuple[str, bytes]], rate: float, limit: int) -> tuple[list[Sent], float]:
    """Send submission i at start + i/rate whatever the answers do; returns the worst lag behind schedule."""
    tasks = []
    worst_lag = 0.0
    async with session_for(limit, 60) as session:
        start = time.perf_counter() + 0.05
        for i, (ref, body) in enumerate(bodies):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            worst_lag = max(worst_lag, time.perf_counter() - due)
            tasks.append(asyncio.ensure_future(post_one(session, url, ref, body)))
        results = list(await asyncio.gather(*tasks))
    return results, worst_lag


class PgActivity:
    """Poor man's profiler of PostgreSQL: samples pg_stat_activity of the benchmark database.

    Every ``interval`` seconds (from its own thread and connection, read-only) it counts the
    statements that are active, so the top entries are where the database spends its time.
    """

    def __init__(self, admin_url: str, dbname: str, interval: float = 0.01, limit_s: float = 1200) -> None:
        self.admin_url = admin_url
        self.dbname = dbname
        self.interval = interval
        self.limit_s = limit_s
        self.samples = 0
        self.statements: Counter[str] = Counter()
        self.waits: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-pg-activity", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psycopg

        deadline = time.monotonic() + self.limit_s
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            while not self._stop.is_set() and time.monotonic() < deadline:
                rows = conn.execute(
                    "SELECT query, coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity"
                    " WHERE datname = %s AND state = 'active' AND application_name <> 'satupintu-bench'",
                    (self.dbname,),
                ).fetchall()
                self.samples += 1
                for query, wait in rows:
                    self.statements[_shape(query)] += 1
                    self.waits[wait] += 1
                self._stop.wait(self.interval)

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join(timeout=30)
        busy = sum(self.statements.values())
        return {
            "samples": self.samples,
            "interval_s": self.interval,
            "mean_active_backends": round(busy / self.samples, 2) if self.samples else None,
            "top_statements": [[q, n, round(100 * n / busy, 1)] for q, n in self.statements.most_common(12)],
            "wait_events": dict(self.waits.most_common(8)),
        }


def _shape(query: str) -> str:
    """A statement with its parameter lists folded, to count statements of one shape together."""
    query = re.sub(r"\s+", " ", query).strip()
    query = re.sub(r"\$\d+(?:::[A-Z ]+)?(?:, \$\d+(?:::[A-Z ]+)?)+", "$n..", query)
    query = re.sub(r"\(\$n\.\.\)(?:, \(\$n\.\.\))+", "($n..)..", query)
    return query[:160]


@dataclass
class Poller:
    """Polls the database read-only every 100 ms and keeps the timeline."""

    reader: Reader
    t0: float
    timeline: list[dict[str, Any]] = field(default_factory=list)
    last: dict[str, int] = field(default_factory=dict)
    failures: int = 0

    async def sample(self) -> dict[str, int]:
        try:
            rows = await self.reader.aquery(PROGRESS_SQL)
        except Exception:  # noqa: BLE001 - a locked or busy moment; try again next tick
            self.failures += 1
            return self.last
        self.last = progress_of(rows[0])
        self.timeline.append({"t": round(now_wall() - self.t0, 2), **self.last})
        return self.last

    async def run_until(self, done: Any, timeout: float) -> bool:
        """Sample until ``done(progress)`` is true or the timeout passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            tick = time.monotonic()
            progress = await self.sample()
            if progress and done(progress):
                return True
            await asyncio.sleep(max(0.0, POLL_SECONDS - (time.monotonic() - tick)))
        return False


# --------------------------------------------------------------------------- checks


def integrity(reader: Reader, accepted: set[str], prefixes: list[str]) -> dict[str, Any]:
    """Every accepted submission: one raw message, triaged, one case, one case message, one sent receipt."""
    like = " OR ".join(f"r.external_id LIKE '{p}-%'" for p in prefixes)
    rows = reader.query(
        "SELECT r.external_id, r.state, r.case_id,"
        " (SELECT count(*) FROM outbox o WHERE o.case_id = r.case_id AND o.purpose = 'receipt'),"
        " (SELECT count(*) FROM outbox o WHERE o.case_id = r.case_id AND o.purpose = 'receipt' AND o.state = 'sent'),"
        " (SELECT count(*) FROM case_message m WHERE m.raw_message_id = r.id)"
        f" FROM raw_message r WHERE r.channel = 'webform' AND ({like})"
    )
    by_ref: dict[str, tuple[Any, ...]] = {}
    duplicates_raw = 0
    for row in rows:
        if row[0] in by_ref:
            duplicates_raw += 1
        by_ref[row[0]] = row
    problems: Counter[str] = Counter()
    examples: dict[str, str] = {}

    def flag(kind: str, ref: str) -> None:
        problems[kind] += 1
        examples.setdefault(kind, ref)

    for ref in accepted:
        found = by_ref.get(ref)
        if found is None:
            flag("accepted_but_not_stored", ref)
            continue
        _, state, case_id, receipts, sent, messages = found
        if state != "triaged":
            flag(f"raw_state_{state}", ref)
        if case_id is None:
            flag("no_case", ref)
        if receipts == 0:
            flag("no_receipt", ref)
        elif receipts > 1:
            flag("several_receipts", ref)
        if sent != 1:
            flag("receipt_not_sent_once", ref)
        if messages != 1:
            flag(f"case_messages_{messages}", ref)
    stored_not_accepted = [ref for ref in by_ref if ref not in accepted]
    case_ids = [row[2] for row in by_ref.values() if row[2] is not None]
    shared_cases = len(case_ids) - len(set(case_ids))
    totals = reader.query(
        "SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM raw_message),"
        " (SELECT count(*) FROM outbox WHERE purpose = 'receipt'),"
        " (SELECT count(*) FROM outbox WHERE state = 'dead'),"
        " (SELECT count(*) FROM raw_message WHERE state = 'dead'),"
        " (SELECT count(*) FROM raw_message WHERE attempts > 0),"
        " (SELECT count(*) FROM outbox WHERE attempts > 1)"
    )[0]
    result = {
        "accepted": len(accepted),
        "stored": len(by_ref),
        "ok": not problems and not duplicates_raw and not shared_cases and totals[0] == totals[1] == totals[2],
        "problems": dict(problems),
        "examples": examples,
        "stored_but_not_accepted_by_client": len(stored_not_accepted),
        "raw_rows_duplicated": duplicates_raw,
        "submissions_sharing_a_case": shared_cases,
        "db_totals": {
            "cases": totals[0],
            "raw_messages": totals[1],
            "receipts": totals[2],
            "outbox_dead": totals[3],
            "raw_dead": totals[4],
            "raw_with_failed_attempts": totals[5],
            "outbox_claimed_more_than_once": totals[6],
        },
    }
    return result


def receipt_times(reader: Reader, prefix: str) -> dict[str, tuple[float | None, float | None, float | None]]:
    """client_reference -> (raw_message.received_at, receipt created_at, receipt sent_at), epoch seconds."""
    rows = reader.query(
        "SELECT r.external_id, r.received_at, o.created_at, o.sent_at FROM raw_message r"
        " LEFT JOIN outbox o ON o.case_id = r.case_id AND o.purpose = 'receipt'"
        f" WHERE r.channel = 'webform' AND r.external_id LIKE '{prefix}-%'"
    )
    return {ref: (parse_ts(received), parse_ts(created), parse_ts(sent)) for ref, received, created, sent in rows}


# --------------------------------------------------------------------------- profiling


class Profiler:
    """py-spy record on the server pid for the measured phase (pinned with the client)."""

    def __init__(self, args: argparse.Namespace, pid: int, out: Path) -> None:
        self.out = out
        command = [
            args.py_spy,
            "record",
            "-p",
            str(pid),
            "--format",
            "raw",
            "-o",
            str(out),
            "--rate",
            str(args.profile_rate),
            "--threads",
            "--nonblocking",
        ]
        if args.profile == "idle":
            command.append("--idle")
        elif args.profile == "gil":
            command.append("--gil")
        if args.client_cpus:
            command = ["taskset", "-c", args.client_cpus, *command]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        time.sleep(0.5)

    def stop(self) -> Path | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.out if self.out.exists() else None


# --------------------------------------------------------------------------- one measured run


class Run:
    """One server lifetime: start, warm up, measure, check, stop, clean up."""

    def __init__(self, args: argparse.Namespace, backend: Backend, kind: str, rep: int, stamp: str) -> None:
        self.args = args
        self.backend = backend
        self.kind = kind
        self.rep = rep
        self.tag = f"{stamp}-{backend.name}-{kind}-rep{rep}"
        self.prefix = f"{'tp' if kind == 'throughput' else 'lat'}-r{rep}-{uuid.uuid4().hex[:6]}"
        self.warm_prefix = f"warm-{uuid.uuid4().hex[:6]}"
        self.accepted: set[str] = set()
        self.warm_accepted: set[str] = set()
        assert REF_RE.match(self.prefix) and REF_RE.match(self.warm_prefix)

    def execute(self, bodies_for: Any) -> dict[str, Any]:
        args = self.args
        data_dir = Path(tempfile.mkdtemp(prefix="satupintu-bench-"))
        log_path = data_dir / "server.log"
        server: Server | None = None
        reader: Reader | None = None
        result: dict[str, Any] = {"kind": self.kind, "rep": self.rep, "code_version": git_info()["code_version"]}
        try:
            warm = bodies_for(self.warm_prefix, args.warmup)
            bodies = bodies_for(self.prefix, args.n if self.kind == "throughput" else int(args.rate * args.duration))
            if args.quiet_wait > 0:
                result["quiet_wait"] = wait_for_quiet(args.quiet_threshold, args.quiet_wait)
            server = start_server(args, self.backend, data_dir, log_path)
            result["server_ready_after_s"] = server.ready_after_s
            reader = self.backend.reader()
            if reader is None:  # null-http: only the HTTP side is measured
                asyncio.run(self._http_only(server, warm, bodies, result))
                return result
            asyncio.run(self._warm_up(server, reader, warm))
            if Path(args.py_spy).exists():
                learn_thread_names(server.pid, args.py_spy)
            if self.kind == "throughput":
                result.update(asyncio.run(self._throughput(server, reader, bodies)))
            else:
                result.update(asyncio.run(self._latency(server, reader, bodies)))
            result["integrity"] = integrity(reader, self.accepted | self.warm_accepted, [self.prefix, self.warm_prefix])
        except Exception as exc:  # noqa: BLE001 - reported in the result, the other reps go on
            result["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            if reader is not None:
                reader.close()
            if server is not None:
                result["server_exit_code"] = stop_server(server)
                result["server_log"] = scan_log(log_path)
                self._keep_log(log_path)
            try:
                result["cleanup"] = self.backend.teardown()
            except Exception as exc:  # noqa: BLE001
                result["cleanup"] = {"error": repr(exc)}
            shutil.rmtree(data_dir, ignore_errors=True)
        return result

    def _keep_log(self, log_path: Path) -> None:
        if not self.args.results_dir:
            return
        target = Path(self.args.results_dir) / "logs" / f"{self.tag}.log.gz"
        target.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("rb") as src, gzip.open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)

    async def _warm_up(self, server: Server, reader: Reader, warm: list[tuple[str, bytes]]) -> None:
        """A few submissions through the whole pipeline first (lazy connections, caches, the status key)."""
        self.warm_accepted = set()
        if not warm:
            return
        sent = await closed_loop(server.base + REPORTS_PATH, warm, min(16, self.args.concurrency), 120)
        self.warm_accepted = {s.ref for s in sent if s.status == 202}
        poller = Poller(reader, now_wall())
        count = len(self.warm_accepted)
        if not await poller.run_until(lambda p: p["sent"] >= count, 120):
            raise RuntimeError(f"warm-up did not drain within 120s: {poller.last}")

    async def _http_only(
        self, server: Server, warm: list[tuple[str, bytes]], bodies: list[tuple[str, bytes]], result: dict[str, Any]
    ) -> None:
        args = self.args
        url = server.base + REPORTS_PATH
        await closed_loop(url, warm, min(16, args.concurrency), 120)
        before = CpuSnapshot.take(server.pid)
        if self.kind == "throughput":
            sent = await closed_loop(url, bodies, args.concurrency, args.send_timeout)
            result.update(self._answers(sent))
            window = max(s.t_answer for s in sent) - min(s.t_send for s in sent)
            result["accepted_per_s"] = round(result["accepted"] / window, 1) if window > 0 else None
            result["e2e_msgs_per_s"] = None
            result["cpu_during_sends"] = CpuSnapshot.take(server.pid).since(before)
        else:
            sent, worst_lag = await open_loop(url, bodies, args.rate, max(256, args.concurrency))
            result.update(self._answers(sent))
            result["worst_schedule_lag_ms"] = round(worst_lag * 1000, 2)
            result["send_to_receipt_ms"] = {"n": 0}
            result["stored_to_receipt_ms"] = {"n": 0}
        result["http_answer_ms"] = dist([s.t_answer - s.t_send for s in sent if s.status == 202])
        result["cpu_whole_run"] = CpuSnapshot.take(server.pid).since(before)
        result["integrity"] = {"ok": True, "note": "null-http stores nothing"}

    def _answers(self, sent: list[Sent]) -> dict[str, Any]:
        statuses = Counter(s.status for s in sent)
        errors = Counter(s.error[:120] for s in sent if s.status != 202)
        self.accepted = {s.ref for s in sent if s.status == 202}
        return {
            "sent": len(sent),
            "accepted": len(self.accepted),
            "duplicates_reported": sum(1 for s in sent if s.duplicate),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "errors": dict(errors.most_common(5)),
        }

    async def _drain(self, poller: Poller, timeout: float) -> bool:
        target = len(self.accepted) + len(self.warm_accepted)
        return await poller.run_until(lambda p: p["sent"] >= target and p["receipts"] >= target, timeout)

    async def _throughput(self, server: Server, reader: Reader, bodies: list[tuple[str, bytes]]) -> dict[str, Any]:
        args = self.args
        profiler = self._profiler(server)
        before = CpuSnapshot.take(server.pid)
        t0 = now_wall()
        poller = Poller(reader, t0)
        pg_activity = None
        if args.pg_activity and isinstance(self.backend, RabbitPostgres):
            pg_activity = PgActivity(self.backend.pg_admin_url, self.backend.dbname)
        sampler = asyncio.ensure_future(poller.run_until(lambda p: False, args.send_timeout + 5))
        sent = await closed_loop(server.base + REPORTS_PATH, bodies, args.concurrency, args.send_timeout)
        sampler.cancel()
        sends_done = CpuSnapshot.take(server.pid)
        answers = self._answers(sent)
        drained = await self._drain(poller, args.drain_timeout)
        after = CpuSnapshot.take(server.pid)
        profile_file = profiler.stop() if profiler else None
        activity = pg_activity.stop() if pg_activity else None
        first_send = min(s.t_send for s in sent)
        last_answer = max(s.t_answer for s in sent)
        times = receipt_times(reader, self.prefix)
        sent_ats = [v[2] for ref, v in times.items() if ref in self.accepted and v[2] is not None]
        last_receipt = max(sent_ats) if sent_ats else None
        accepted = answers["accepted"]
        out: dict[str, Any] = {
            **answers,
            "drained": drained,
            "receipts_sent": len(sent_ats),
            "send_window_s": round(last_answer - first_send, 3),
            "accepted_per_s": round(accepted / (last_answer - first_send), 1) if accepted else 0.0,
            "e2e_window_s": round(last_receipt - first_send, 3) if last_receipt else None,
            "e2e_msgs_per_s": (
                round(len(sent_ats) / (last_receipt - first_send), 1) if last_receipt and drained else None
            ),
            "backlog_when_sends_ended": _backlog_at(poller.timeline, last_answer - t0),
            "http_answer_ms": dist([s.t_answer - s.t_send for s in sent if s.status == 202]),
            "cpu_during_sends": sends_done.since(before),
            "cpu_whole_run": after.since(before),
            "poll_failures": poller.failures,
            "timeline": poller.timeline,
        }
        if profile_file:
            out["profile_file"] = str(profile_file)
        if activity:
            out["pg_activity"] = activity
        return out

    async def _latency(self, server: Server, reader: Reader, bodies: list[tuple[str, bytes]]) -> dict[str, Any]:
        args = self.args
        profiler = self._profiler(server)
        before = CpuSnapshot.take(server.pid)
        t0 = now_wall()
        poller = Poller(reader, t0)
        sent, worst_lag = await open_loop(server.base + REPORTS_PATH, bodies, args.rate, max(256, args.concurrency))
        answers = self._answers(sent)
        drained = await self._drain(poller, args.drain_timeout)
        after = CpuSnapshot.take(server.pid)
        profile_file = profiler.stop() if profiler else None
        times = receipt_times(reader, self.prefix)
        total, http, to_store, store_to_receipt, to_outbox, outbox_to_sent = [], [], [], [], [], []
        missing = 0
        for s in sent:
            if s.status != 202:
                continue
            received, written, receipt = times.get(s.ref, (None, None, None))
            http.append(s.t_answer - s.t_send)
            if received is None or receipt is None or written is None:
                missing += 1
                continue
            total.append(receipt - s.t_send)
            to_store.append(received - s.t_send)
            store_to_receipt.append(receipt - received)
            to_outbox.append(written - received)
            outbox_to_sent.append(receipt - written)
        span = max(s.t_send for s in sent) - min(s.t_send for s in sent)
        out: dict[str, Any] = {
            **answers,
            "drained": drained,
            "offered_rate": args.rate,
            "achieved_send_rate": round((len(sent) - 1) / span, 1) if span > 0 else None,
            "worst_schedule_lag_ms": round(worst_lag * 1000, 2),
            "receipt_missing": missing,
            "send_to_receipt_ms": dist(total),
            "http_answer_ms": dist(http),
            "send_to_stored_ms": dist(to_store),
            "stored_to_receipt_ms": dist(store_to_receipt),
            "stored_to_receipt_written_ms": dist(to_outbox),
            "receipt_written_to_sent_ms": dist(outbox_to_sent),
            "cpu_whole_run": after.since(before),
            "poll_failures": poller.failures,
        }
        if profile_file:
            out["profile_file"] = str(profile_file)
        return out

    def _profiler(self, server: Server) -> Profiler | None:
        args = self.args
        if args.profile == "off" or self.kind not in args.profile_phase or not args.results_dir:
            return None
        out = Path(args.results_dir) / "profiles" / f"{self.tag}-{args.profile}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        return Profiler(args, server.pid, out)


def _backlog_at(timeline: list[dict[str, Any]], t: float) -> dict[str, Any] | None:
    """The progress sample closest to (at or before) time t."""
    best = None
    for sample in timeline:
        if sample["t"] <= t + 0.05:
            best = sample
    return best


# --------------------------------------------------------------------------- summary


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    tp = [r for r in runs if r["kind"] == "throughput" and "error" not in r]
    lat = [r for r in runs if r["kind"] == "latency" and "error" not in r]
    out: dict[str, Any] = {}
    if tp:
        out["throughput"] = {
            "accepted_per_s": spread([r["accepted_per_s"] for r in tp]),
            "e2e_msgs_per_s": spread([r["e2e_msgs_per_s"] for r in tp if r.get("e2e_msgs_per_s")]),
            "http_answer_p99_ms": spread([r["http_answer_ms"].get("p99") for r in tp]),
            "server_cpu_pct_during_sends": spread([r["cpu_during_sends"]["server_cpu_pct_of_one_core"] for r in tp]),
            "client_cpu_pct_during_sends": spread([r["cpu_during_sends"]["client_cpu_pct_of_one_core"] for r in tp]),
            "foreign_busy_cores": spread([r["cpu_whole_run"]["foreign_busy_cores"] for r in tp]),
        }
    if lat:
        out["latency"] = {
            key: spread([r["send_to_receipt_ms"].get(key) for r in lat]) for key in ("p50", "p90", "p99", "max")
        }
        out["latency"]["http_answer_p99_ms"] = spread([r["http_answer_ms"].get("p99") for r in lat])
        out["latency"]["stored_to_receipt_p50_ms"] = spread([r["stored_to_receipt_ms"].get("p50") for r in lat])
        out["latency"]["foreign_busy_cores"] = spread([r["cpu_whole_run"]["foreign_busy_cores"] for r in lat])
    out["code_versions"] = sorted({r.get("code_version", "?") for r in runs})
    out["integrity_ok"] = all(r.get("integrity", {}).get("ok") for r in runs) and not any("error" in r for r in runs)
    out["errors"] = [f"{r['kind']} rep{r['rep']}: {r['error']}" for r in runs if "error" in r]
    return out


def human(result: dict[str, Any]) -> str:
    s = result["summary"]
    p = result["params"]
    lines = [
        f"satupintu web-form end to end, backend={result['backend']}, reps={p['reps']}, "
        f"pinning: server cpus={p['server_cpus'] or 'any'}, client cpus={p['client_cpus'] or 'any'}",
    ]

    def fmt(x: dict[str, Any], unit: str = "") -> str:
        if not x.get("reps"):
            return "n/a"
        spread_ = f"({x['spread_pct']}% spread, {x['reps']} reps)"
        return f"{x['median']:,.1f}{unit} [{x['min']:,.1f} - {x['max']:,.1f}] {spread_}"

    if "throughput" in s:
        t = s["throughput"]
        lines += [
            f"throughput: N={p['n']:,} closed loop, C={p['concurrency']}",
            f"  accepted (HTTP 202)/s : {fmt(t['accepted_per_s'])}",
            f"  end-to-end msgs/s     : {fmt(t['e2e_msgs_per_s'])}   (target >= 1,000 on the embedded default)",
            f"  HTTP answer p99       : {fmt(t['http_answer_p99_ms'], ' ms')}",
            f"  server CPU while sending: {fmt(t['server_cpu_pct_during_sends'], '%')} of one core; "
            f"client {fmt(t['client_cpu_pct_during_sends'], '%')}",
            f"  other sessions' load on the machine: {fmt(t['foreign_busy_cores'], ' cores')}",
        ]
    if "latency" in s:
        lat = s["latency"]
        lines += [
            f"latency: open loop {p['rate']}/s for {p['duration']} s, send -> receipt sent_at (target p99 < 250 ms)"
        ]
        for key in ("p50", "p90", "p99", "max"):
            lines.append(f"  {key:<4}: {fmt(lat[key], ' ms')}")
        lines.append(
            f"  HTTP answer p99: {fmt(lat['http_answer_p99_ms'], ' ms')}; "
            f"stored -> receipt p50: {fmt(lat['stored_to_receipt_p50_ms'], ' ms')}"
        )
        lines.append(f"  other sessions' load on the machine: {fmt(lat['foreign_busy_cores'], ' cores')}")
    for run in result["runs"]:
        integ = run.get("integrity", {})
        log = run.get("server_log", {})
        line = f"  {run['kind']} rep{run['rep']}: "
        if "error" in run:
            line += f"ERROR {run['error']}"
        else:
            if run["kind"] == "throughput":
                line += f"accepted/s {run['accepted_per_s']:,.0f}, e2e/s {run['e2e_msgs_per_s'] or 'n/a'}, "
            else:
                line += f"p99 {run['send_to_receipt_ms'].get('p99')} ms, "
            line += f"foreign load {run['cpu_whole_run']['foreign_busy_cores']} cores, "
            line += f"integrity {'ok' if integ.get('ok') else 'PROBLEMS ' + json.dumps(integ.get('problems'))}"
        line += f", log levels {log.get('levels')}"
        if log.get("problems"):
            line += f", log problems {log['problems']}"
        lines.append(line)
    lines.append(f"integrity ok across all runs: {s['integrity_ok']}")
    if len(s["code_versions"]) > 1:
        lines.append(f"WARNING: the code changed between runs: {s['code_versions']}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="Example: .venv/bin/python bench/webform_e2e.py --backend embedded --reps 3 --results-dir bench/results",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--backend",
        choices=["embedded", "rabbitmq-postgres", "null-http"],
        default="embedded",
        help="embedded: SQLite + kombu memory:// (the default config); rabbitmq-postgres: fresh PG database + "
        "RabbitMQ queue prefix; null-http: bench/null_server.py, which stores nothing (the client/HTTP ceiling)",
    )
    parser.add_argument("--measure", choices=["both", "throughput", "latency"], default="both")
    parser.add_argument("-n", "--n", type=int, default=20_000, help="submissions per throughput rep")
    parser.add_argument("-c", "--concurrency", type=int, default=64, help="closed-loop client connections")
    parser.add_argument("-r", "--rate", type=float, default=100.0, help="open-loop submissions per second")
    parser.add_argument("-d", "--duration", type=float, default=30.0, help="open-loop seconds")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each measurement (each on a fresh server)")
    parser.add_argument("--warmup", type=int, default=200, help="submissions sent and drained before each measurement")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--server-cpus", default="0", help="taskset CPU list for the server ('' = no pinning)")
    parser.add_argument(
        "--client-cpus", default="1", help="CPU list for this load generator and py-spy ('' = no pinning)"
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="server log level"
    )
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="KEY=VALUE", help="extra environment for the server"
    )
    parser.add_argument("--satupintu", default=str(REPO / ".venv" / "bin" / "satupintu"), help="the console script")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL, help="where to CREATE/DROP the benchmark database")
    parser.add_argument("--amqp-url", default=AMQP_URL)
    parser.add_argument("--ready-timeout", type=float, default=90.0)
    parser.add_argument("--send-timeout", type=float, default=900.0, help="longest time the closed loop may send")
    parser.add_argument(
        "--drain-timeout", type=float, default=600.0, help="longest wait for all receipts after sending"
    )
    parser.add_argument(
        "--results-dir", default=str(HERE / "results"), help="full JSON, server logs, profiles ('' = none)"
    )
    parser.add_argument(
        "--profile",
        choices=["off", "cpu", "idle", "gil"],
        default="off",
        help="py-spy record the server during the measurement: cpu (on-CPU samples), "
        "idle (wall clock incl. waits), gil (GIL holder only)",
    )
    parser.add_argument("--profile-phase", nargs="+", choices=["throughput", "latency"], default=["throughput"])
    parser.add_argument("--profile-rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--py-spy", default=str(REPO / ".venv" / "bin" / "py-spy"))
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="before each run, wait up to this many seconds for the machine to be quiet (0 = don't)",
    )
    parser.add_argument("--quiet-threshold", type=float, default=0.3, help="busy cores counted as quiet")
    parser.add_argument(
        "--pg-activity",
        action="store_true",
        help="rabbitmq-postgres: sample pg_stat_activity every 10 ms during the throughput run "
        "(where PostgreSQL spends its time)",
    )
    parser.add_argument("--label", default="", help="free text stored with the result")
    args = parser.parse_args(argv)
    if args.n < 1 or args.concurrency < 1 or args.rate <= 0 or args.duration <= 0 or args.reps < 1:
        parser.error("n, concurrency, rate, duration and reps must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.client_cpus:
        os.sched_setaffinity(0, {int(c) for c in _cpu_list(args.client_cpus)})
    backends: dict[str, Any] = {
        "embedded": Embedded,
        "null-http": NullHttp,
        "rabbitmq-postgres": lambda: RabbitPostgres(args.pg_admin_url, args.amqp_url),
    }
    backend: Backend = backends[args.backend]()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    factory = ComplaintFactory(seed=args.seed)
    kinds = ["throughput", "latency"] if args.measure == "both" else [args.measure]
    runs = []
    for rep in range(1, args.reps + 1):
        for kind in kinds:  # interleaved: tp1, lat1, tp2, lat2, ...
            print(
                f"[{datetime.now():%H:%M:%S}] {backend.name} {kind} rep {rep}/{args.reps} ...",
                file=sys.stderr,
                flush=True,
            )
            run = Run(args, backend, kind, rep, stamp).execute(factory.bodies)
            runs.append(run)
            brief = {
                k: run.get(k) for k in ("accepted_per_s", "e2e_msgs_per_s", "send_to_receipt_ms", "error") if k in run
            }
            print(f"    {json.dumps(brief)}", file=sys.stderr, flush=True)
    result = {
        "bench": "webform_e2e",
        "at": stamp,
        "backend": backend.name,
        "backend_detail": backend.describe(),
        "label": args.label,
        "git": git_info(),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "kernel": platform.release()},
        "params": {
            k: getattr(args, k)
            for k in (
                "n",
                "concurrency",
                "rate",
                "duration",
                "reps",
                "warmup",
                "seed",
                "server_cpus",
                "client_cpus",
                "log_level",
                "profile",
            )
        },
        "summary": summarize(runs),
        "runs": runs,
    }
    compact = {**result, "runs": [{k: v for k, v in r.items() if k != "timeline"} for r in runs]}
    print(json.dumps(compact, separators=(",", ":")))
    print(human(result))
    if args.results_dir:
        out = Path(args.results_dir) / f"{stamp}-{backend.name}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, separators=(",", ":")) + "\n")
        print(f"full result: {out}", file=sys.stderr)
    return 0 if result["summary"]["integrity_ok"] else 1


def _cpu_list(spec: str) -> list[int]:
    cpus: list[int] = []
    for part in spec.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            cpus.extend(range(int(lo), int(hi) + 1))
        elif part:
            cpus.append(int(part))
    return cpus


if __name__ == "__main__":
    sys.exit(main())
