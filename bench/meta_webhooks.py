"""Signed WhatsApp webhooks: how many POSTs per second satupintu accepts, and how fast end to end.

Three measurements, each on a fresh data folder (SQLite) and a fresh server process:

* ``http``: ``satupintu worker http`` alone (broker ``filesystem://``, so the stored messages are
  queued as in a multi-process deployment), pinned to one core with ``taskset``; every answer
  is a 200 after the message is stored and its work item handed to the publisher;
* ``run``: the same load against ``satupintu run`` (every stage in the one process, ``memory://``),
  also pinned to one core;
* ``e2e``: ``satupintu run`` (not pinned), N messages from N people → N cases → N receipts
  accepted by a local Graph API server (``connectors/_meta/graph_server.py``) running in this
  process: N ÷ (first POST → the N-th receipt accepted).

The load generator is this process: an aiohttp client with ``--connections`` keep-alive
connections in a closed loop, pinned to the other core (``--client-cpu``). Every body is one
text message with a unique wamid from one of 5,000 people, signed with the app secret
(``X-Hub-Signature-256``). Latency is per request, send → answer; p50/p99 nearest rank.

    .venv/bin/python bench/meta_webhooks.py --mode http --requests 50000
    .venv/bin/python bench/meta_webhooks.py --mode run --requests 50000
    .venv/bin/python bench/meta_webhooks.py --mode e2e --requests 10000
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
import time
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


def config_file(folder: Path, graph_url: str, broker: str) -> Path:
    path = folder / "bench.toml"
    path.write_text(
        f'broker_url = "{broker}"\n'
        '[log]\nlevel = "WARNING"\nformat = "json"\n'
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
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATUPINTU_")}
    env.update(SATUPINTU_DATA_DIR=str(folder / "var"), SATUPINTU_HTTP__PORT=str(port), SATUPINTU_HTTP__HOST="127.0.0.1")
    satupintu = [args.satupintu, "--config", str(config)]
    subprocess.run([*satupintu, "db", "upgrade"], env=env, check=True, capture_output=True)
    full = [*satupintu, *command]
    if pin is not None:
        full = ["taskset", "-c", pin, *full]
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(full, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


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
    try:
        graph = GraphServer(token=TOKEN)
        async with running(graph) as graph_url:
            with server(args, ["run"], folder, config_file(folder, graph_url, "memory://"), port, None) as proc:
                url = f"http://127.0.0.1:{port}"
                await ready(url, proc, folder)
                now = time.time()
                # one message per person: each opens a case and gets a receipt
                bodies = [orjson.dumps(_one_person(orjson.loads(body(n, now)), n)) for n in range(args.requests)]
                start = time.perf_counter()
                sending = asyncio.create_task(load(url, bodies, args.connections))
                while len(graph.sent) < args.requests:
                    if sending.done() and sending.exception():
                        raise sending.exception()  # type: ignore[misc]
                    if time.perf_counter() - start > args.timeout:
                        raise RuntimeError(f"only {len(graph.sent)} of {args.requests} receipts after {args.timeout}s")
                    await asyncio.sleep(0.05)
                elapsed = time.perf_counter() - start
                posted = await sending
        return {
            "mode": "e2e",
            "messages": args.requests,
            "receipts_accepted": len(graph.sent),
            "seconds": round(elapsed, 2),
            "per_second": round(args.requests / elapsed),
            "post_per_second": posted["per_second"],
            "post_p99_ms": posted["p99_ms"],
        }
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def _one_person(document: dict[str, Any], number: int) -> dict[str, Any]:
    value = document["entry"][0]["changes"][0]["value"]
    wa_id = f"6285{number:09d}"
    value["contacts"][0]["wa_id"] = wa_id
    value["messages"][0]["from"] = wa_id
    return document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["http", "run", "e2e", "all"], default="all")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--server-cpu", default="0", help="taskset -c for the server (http, run)")
    parser.add_argument("--client-cpu", type=int, default=1, help="this process (the load generator)")
    parser.add_argument("--satupintu", default=str(REPO / ".venv" / "bin" / "satupintu"))
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--keep", action="store_true", help="keep the data folders (server.log)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and args.client_cpu >= 0:
        os.sched_setaffinity(0, {args.client_cpu})
    modes = ["http", "run", "e2e"] if args.mode == "all" else [args.mode]
    for mode in modes:
        result = asyncio.run(end_to_end(args) if mode == "e2e" else accepted(args, mode))
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
