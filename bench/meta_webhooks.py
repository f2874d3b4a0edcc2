"""Signed WhatsApp webhooks: how many POSTs per second satupintu accepts, and how fast end to end.

Three measurements, each on a fresh data folder (SQLite) and a fresh server process:

* ``http``: ``satupintu worker http`` alone (broker ``filesystem://``, so the stored messages are
  queued as in a multi-process deployment), pinned to one core with ``taskset``; every answer
  is a 200 after the message is stored and its work item handed to the publisher;
* ``run``: the same load against ``satupintu run`` (every stage in the one process, ``memory://``),
  also pinned to one core;
* ``e2e``: ``satupintu run`` (not pinned), N messages from N people → N cases → N receipts
  accepted by a local Graph API server (``connectors/_meta/graph_server.py``) running in this
  process: N ÷ (first POST → the N-th receipt accepted); with ``--layout split`` one ``satupintu
  worker`` process per component on a throw-away PostgreSQL database and RabbitMQ instead. It
  also reports the CPU per message of the server processes, of this process and (split) of the
  PostgreSQL backends, the figure to compare on a machine others are using.

And ``stages``: no server; the stages' own CPU per message, run one after the other in this
process on batches of ``--connections`` messages (nothing else competes for the GIL).

The load generator is this process: an aiohttp client with ``--connections`` keep-alive
connections in a closed loop, pinned to the other core (``--client-cpu``). Every body is one
text message with a unique wamid from one of 5,000 people, signed with the app secret
(``X-Hub-Signature-256``). Latency is per request, send → answer; p50/p99 nearest rank.

    .venv/bin/python bench/meta_webhooks.py --mode http --requests 50000
    .venv/bin/python bench/meta_webhooks.py --mode run --requests 50000
    .venv/bin/python bench/meta_webhooks.py --mode e2e --requests 20000 [--layout split]
    .venv/bin/python bench/meta_webhooks.py --mode stages --requests 3000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from connectors._meta.graph_server import GraphServer, running, signature  # noqa: E402

APP_SECRET = "bench-app-secret"
TOKEN = "bench-system-user-token"
PHONE_NUMBER_IDS = ["1234567890", "2345678901"]
PEOPLE = 5000
POSTGRES = os.environ.get("SATUPINTU_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RABBITMQ = os.environ.get("SATUPINTU_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//")
SPLIT = ("http", "normalizer", "triage", "deliver", "sweeper")
"""``--layout split``: one ``satupintu worker`` process per component, as an operator spreads them."""


def body(number: int, at: float) -> bytes:
    """One text message as Meta posts it."""
    wa_id = f"62812{number % PEOPLE:07d}" if number >= 0 else "6281200000000"
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6281100000001", "phone_number_id": PHONE_NUMBER_IDS[number % 2]},
        "contacts": [{"profile": {"name": f"Pelapor {number % PEOPLE}"}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": f"wamid.BENCH{number:09d}",
                "timestamp": str(int(at)),
                "type": "text",
                "text": {
                    "body": f"Selamat siang, AC ruang E-{300 + number % 40} mati sejak kemarin, mohon dicek. ({number})"
                },
            }
        ],
    }
    return orjson.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
        }
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config_file(
    folder: Path,
    graph_url: str,
    broker: str,
    log_level: str = "WARNING",
    database: str | None = None,
    pipeline: list[str] | None = None,
    prefix: str = "bench",
) -> Path:
    path = folder / "bench.toml"
    path.write_text(
        f'broker_url = "{broker}"\n'
        + (f'database_url = "{database}"\n' if database else "")
        + f'[pipeline]\nqueue_prefix = "{prefix}"\n'
        + "".join(f"{line}\n" for line in pipeline or [])
        + f'[log]\nlevel = "{log_level}"\nformat = "json"\n'
        "[connectors.whatsapp]\n"
        f'app_secret = "{APP_SECRET}"\nverify_token = "bench"\naccess_token = "{TOKEN}"\n'
        f"phone_number_ids = {json.dumps(PHONE_NUMBER_IDS)}\n"
        f'graph_api_url = "{graph_url}"\n'
        "[connectors.whatsapp.templates]\n"
        'receipt = { name = "tanda_terima", language = "id" }\n'
    )
    return path


@contextlib.contextmanager
def server(
    args: argparse.Namespace, command: list[str], folder: Path, config: Path, port: int, pin: str | None
) -> Iterator[subprocess.Popen[bytes]]:
    with servers(args, [command], folder, config, port, pin) as procs:
        yield procs[0]


@contextlib.contextmanager
def servers(
    args: argparse.Namespace, commands: list[list[str]], folder: Path, config: Path, port: int, pin: str | None
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """The database migrated, then one process per command (each with admin probes of its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATUPINTU_")}
    env.update(SATUPINTU_DATA_DIR=str(folder / "var"), SATUPINTU_HTTP__PORT=str(port), SATUPINTU_HTTP__HOST="127.0.0.1")
    satupintu = [args.satupintu, "--config", str(config)]
    subprocess.run([*satupintu, "db", "upgrade"], env=env, check=True, capture_output=True)
    log = (folder / "server.log").open("wb")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for command in commands:
            full = [*satupintu, *command]
            if pin is not None:
                full = ["taskset", "-c", pin, *full]
            own = {**env, "SATUPINTU_HTTP__ADMIN_PORT": str(free_port())} if len(commands) > 1 else env
            procs.append(subprocess.Popen(full, env=own, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        yield procs
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A throw-away database on the test server, dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"bench_meta_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def ready(url: str, proc: subprocess.Popen[bytes], folder: Path) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {(folder / 'server.log').read_text()[-2000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError("server not ready")


async def load(url: str, bodies: list[bytes], connections: int) -> dict[str, Any]:
    """A closed loop of ``connections`` clients; every answer must be 200."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = iter(enumerate(bodies))
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            for _, payload in queue:
                headers = signature(APP_SECRET, payload)
                started = time.perf_counter()
                async with session.post(f"{url}/webhooks/whatsapp", data=payload, headers=headers) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                statuses[response.status] = statuses.get(response.status, 0) + 1

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2)

    return {
        "requests": len(bodies),
        "seconds": round(elapsed, 2),
        "per_second": round(len(bodies) / elapsed),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1] * 1000, 2),
        "statuses": statuses,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its threads so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def profiled(args: argparse.Namespace, pid: int, folder: Path) -> Iterator[None]:
    """``py-spy record`` on the server for the measured phase when ``--profile`` is given."""
    if not args.profile:
        yield
        return
    out = Path(args.profile_out or folder / f"profile-{args.profile}.txt").resolve()
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
    ]
    command += ["--threads", "--nonblocking", *(["--gil"] if args.profile == "gil" else [])]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(0.5)
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
        print(f"profile: {out}", file=sys.stderr)


def stored(folder: Path) -> int:
    with sqlite3.connect(f"file:{folder / 'var' / 'satupintu.db'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM raw_message").fetchone()[0])


async def accepted(args: argparse.Namespace, mode: str) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"meta-bench-{mode}-"))
    port = free_port()
    broker = f"filesystem://{folder / 'queue'}" if mode == "http" else "memory://"
    command = ["worker", "http"] if mode == "http" else ["run"]
    try:
        graph = GraphServer(token=TOKEN)
        async with running(graph) as graph_url:
            with server(args, command, folder, config_file(folder, graph_url, broker), port, args.server_cpu) as proc:
                url = f"http://127.0.0.1:{port}"
                await ready(url, proc, folder)
                warm = [body(-(n + 1), time.time()) for n in range(min(2000, args.requests // 10))]
                await load(url, warm, args.connections)
                now = time.time()
                result = await load(url, [body(n, now) for n in range(args.requests)], args.connections)
                result["stored"] = stored(folder) - len(warm)
        return {"mode": mode, "command": " ".join(command), "server_cpu": args.server_cpu, **result}
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


async def end_to_end(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="meta-bench-e2e-"))
    port = free_port()
    split = args.layout == "split"
    commands = [["worker", c] for c in SPLIT] if split else [["run"]]
    try:
        with contextlib.ExitStack() as stack:
            database = stack.enter_context(postgres_database()) if split else None
            prefix = f"bench{uuid.uuid4().hex[:8]}"
            if split:
                stack.enter_context(rabbitmq_queues(prefix))
            broker = RABBITMQ if split else "memory://"
            graph = GraphServer(token=TOKEN)
            async with running(graph) as graph_url:
                config = config_file(folder, graph_url, broker, args.log_level, database, args.pipeline, prefix)
                with servers(args, commands, folder, config, port, None) as procs:
                    url = f"http://127.0.0.1:{port}"
                    await ready(url, procs[0], folder)
                    now = time.time()
                    # one message per person: each opens a case and gets a receipt
                    bodies = [orjson.dumps(_one_person(orjson.loads(body(n, now)), n)) for n in range(args.requests)]
                    with profiled(args, procs[SPLIT.index(args.profile_worker) if split else 0].pid, folder):
                        cpu_before = [cpu_seconds(p.pid) for p in procs]
                        client_before = _own_cpu()
                        postgres_before = _backends_cpu(database)
                        start = time.perf_counter()
                        sending = asyncio.create_task(load(url, bodies, args.connections))
                        while len(graph.sent) < args.requests:
                            if sending.done() and sending.exception():
                                raise sending.exception()  # type: ignore[misc]
                            if time.perf_counter() - start > args.timeout:
                                raise RuntimeError(
                                    f"only {len(graph.sent)} of {args.requests} receipts after {args.timeout}s"
                                )
                            await asyncio.sleep(0.05)
                        elapsed = time.perf_counter() - start
                        cpu = [cpu_seconds(p.pid) - before for p, before in zip(procs, cpu_before, strict=True)]
                        client = _own_cpu() - client_before
                        postgres = _backends_cpu(database) - postgres_before
                    posted = await sending
        per_message = {name: round(1000 * c / args.requests, 3) for name, c in zip(_names(commands), cpu, strict=True)}
        return {
            "mode": "e2e",
            "layout": args.layout,
            "backend": "rabbitmq-postgres" if split else "embedded",
            "messages": args.requests,
            "receipts_accepted": len(graph.sent),
            "seconds": round(elapsed, 2),
            "per_second": round(args.requests / elapsed),
            "post_per_second": posted["per_second"],
            "post_p99_ms": posted["p99_ms"],
            "server_cpu_ms_per_message": round(1000 * sum(cpu) / args.requests, 3),
            "cpu_ms_per_message_by_process": per_message,
            "client_cpu_ms_per_message": round(1000 * client / args.requests, 3),
            **({"postgres_cpu_ms_per_message": round(1000 * postgres / args.requests, 3)} if split else {}),
        }
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def rabbitmq_queues(prefix: str) -> Iterator[None]:
    """The split run's queues (``<prefix>.*``) are deleted from RabbitMQ afterwards."""
    try:
        yield
    finally:
        from pipeline.queues import Topology

        topology = Topology(RABBITMQ, prefix)
        with topology.connection() as connection:
            channel = connection.channel()
            for queue in topology.all_queues(["whatsapp", "webform"]):
                with contextlib.suppress(Exception):
                    queue.bind(channel).delete()  # type: ignore[no-untyped-call]  # kombu is partly typed
            with contextlib.suppress(Exception):
                topology.exchange.bind(channel).delete()  # type: ignore[no-untyped-call]


def _backends_cpu(database: str | None) -> float:
    """CPU so far of the PostgreSQL backends serving ``database`` (the split layout's), 0 without."""
    if database is None:
        return 0.0
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES)
    try:
        with engine.connect() as connection:
            pids = connection.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": database.rsplit("/", 1)[1]}
            ).all()
    finally:
        engine.dispose()
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += cpu_seconds(int(pid))
    return total


def _names(commands: list[list[str]]) -> list[str]:
    return [command[-1] for command in commands]


def _own_cpu() -> float:
    """CPU of this process (the load generator and the Graph API server)."""
    times = os.times()
    return times.user + times.system


@contextlib.contextmanager
def graph_on_a_thread(graph: GraphServer) -> Iterator[tuple[str, threading.Thread]]:
    """The Graph API server on a thread and event loop of its own; yields its URL and the thread."""
    served: dict[str, Any] = {}
    up = threading.Event()

    async def serve() -> None:
        served["loop"], served["stop"] = asyncio.get_running_loop(), asyncio.Event()
        async with running(graph) as graph_url:
            served["url"] = graph_url
            up.set()
            await served["stop"].wait()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    if not up.wait(30):
        raise RuntimeError("the Graph API server did not start")
    try:
        yield served["url"], thread
    finally:
        served["loop"].call_soon_threadsafe(served["stop"].set)
        thread.join(10)


def stage_costs(args: argparse.Namespace) -> dict[str, Any]:
    """CPU per message of each stage, in this process: batches of ``--connections`` messages (one
    per person) stored, then normalized, triaged and delivered (to the Graph API server, on a
    thread of its own whose CPU is not counted), one stage after the other. Nothing competes for
    the GIL, so the figure is the stages' own work, comparable on a busy machine."""
    from config.settings import load_settings
    from pipeline.app import Parts, Pipeline

    folder = Path(tempfile.mkdtemp(prefix="meta-bench-stages-"))
    graph = GraphServer(token=TOKEN)
    try:
        with graph_on_a_thread(graph) as (graph_url, graph_thread):
            os.environ["SATUPINTU_DATA_DIR"] = str(folder / "var")
            parts = Parts.from_settings(load_settings(config_file(folder, graph_url, "memory://")))
            parts.prepare_database()
            stages = {name: stage for name, _, stage in Pipeline(parts, ["normalizer", "triage", "deliver"])._stages()}
            spent = dict.fromkeys(["store", "normalizer", "triage", "deliver"], 0.0)
            now = time.time()
            for start in range(0, args.requests, args.connections):
                numbers = range(start, min(args.requests, start + args.connections))
                sent_before = len(graph.sent)
                _one_batch(parts, stages, [_signed_body(n, now) for n in numbers], spent, graph_thread)
                if len(graph.sent) - sent_before != len(numbers):
                    raise RuntimeError(f"batch at {start}: {len(graph.sent) - sent_before} receipts for {len(numbers)}")
            for stage in stages.values():
                stage.close()
        per_message = {name: round(1000 * cpu / args.requests, 3) for name, cpu in spent.items()}
        return {
            "mode": "stages",
            "messages": args.requests,
            "batch": args.connections,
            "receipts_accepted": len(graph.sent),
            "cpu_ms_per_message": per_message,
            "total_cpu_ms_per_message": round(sum(per_message.values()), 3),
        }
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def _signed_body(number: int, now: float) -> bytes:
    return orjson.dumps(_one_person(orjson.loads(body(number, now)), number))


def _one_batch(
    parts: Any, stages: dict[str, Any], bodies: list[bytes], spent: dict[str, float], graph: threading.Thread
) -> None:
    """Store the bodies' messages as the webhook does, then run each stage on them, timing each."""
    from datetime import UTC, datetime

    from connectors.base import WebhookRequest
    from envelopes import WorkItem
    from storage.db import transaction
    from storage.raw import insert_raw_messages

    began = time.process_time()
    endpoint = stages["normalizer"].connectors["whatsapp"].webhooks()[0]
    raws = [m for b in bodies for m in endpoint.split(WebhookRequest(b, {}, {}, datetime.now(UTC), "application/json"))]
    with transaction(parts.engine) as connection:
        ids = tuple(s.id for s in insert_raw_messages(connection, raws))
    spent["store"] += time.process_time() - began
    for name, step in (("normalizer", "normalize"), ("triage", "triage")):
        began = time.process_time()
        stages[name].handle([WorkItem(step=step, record="raw_message", ids=ids)])
        spent[name] += time.process_time() - began
    with parts.engine.connect() as connection:
        pending = connection.exec_driver_sql("SELECT id FROM outbox WHERE state = 'pending'").scalars().all()
    began, graph_before = time.process_time(), _thread_cpu(graph)
    stages["deliver"].handle([WorkItem(step="deliver", record="outbox", ids=tuple(pending))])
    spent["deliver"] += time.process_time() - began - (_thread_cpu(graph) - graph_before)


def _thread_cpu(thread: threading.Thread) -> float:
    """CPU time of another thread of this process so far."""
    assert thread.ident is not None
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def _one_person(document: dict[str, Any], number: int) -> dict[str, Any]:
    value = document["entry"][0]["changes"][0]["value"]
    wa_id = f"6285{number:09d}"
    value["contacts"][0]["wa_id"] = wa_id
    value["messages"][0]["from"] = wa_id
    return document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["http", "run", "e2e", "stages", "all"], default="all")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--server-cpu", default="0", help="taskset -c for the server (http, run)")
    parser.add_argument("--client-cpu", type=int, default=1, help="this process (the load generator)")
    parser.add_argument("--satupintu", default=str(REPO / ".venv" / "bin" / "satupintu"))
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--keep", action="store_true", help="keep the data folders (server.log)")
    parser.add_argument(
        "--layout",
        choices=["run", "split"],
        default="run",
        help="e2e: `satupintu run` on SQLite + memory:// (run), or one `satupintu worker` process per "
        "component (http, normalizer, triage, deliver, sweeper) on PostgreSQL + RabbitMQ (split)",
    )
    parser.add_argument(
        "--profile-worker", choices=SPLIT, default="triage", help="split: the process --profile records"
    )
    parser.add_argument(
        "--pipeline",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="e2e: a line for the server's [pipeline] section, e.g. max_concurrent_sends=50 (repeatable)",
    )
    parser.add_argument("--log-level", default="WARNING", help="e2e: the server's [log] level (INFO: one line a batch)")
    parser.add_argument("--profile", choices=["gil", "cpu"], help="e2e: py-spy record the server while timed")
    parser.add_argument("--profile-rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--profile-out", help="where the raw py-spy profile goes (default: the data folder)")
    parser.add_argument("--py-spy", default=str(REPO / ".venv" / "bin" / "py-spy"))
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and args.client_cpu >= 0:
        os.sched_setaffinity(0, {args.client_cpu})
    modes = ["http", "run", "e2e"] if args.mode == "all" else [args.mode]
    for mode in modes:
        if mode == "stages":
            print(json.dumps(stage_costs(args)), flush=True)
            continue
        result = asyncio.run(end_to_end(args) if mode == "e2e" else accepted(args, mode))
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
