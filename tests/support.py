"""Helpers shared by the tests: settings on a temporary data dir, a running pipeline, waiting,
an SMTP mailbox, and test connectors installed the way a package of their own would be."""

from __future__ import annotations

import asyncio
import email
import os
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, text

from config.settings import Settings, load_settings
from pipeline.app import COMPONENTS, Parts, Pipeline
from storage.db import create_db_engine

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"

SettingsFactory = Callable[..., Settings]
"""What the ``backend_settings`` fixture gives: settings for this backend, keyword arguments override."""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(available: bool, what: str) -> None:
    """Skip with a message when something the test needs is missing; under CI=true, fail."""
    if available:
        return
    if in_ci():
        pytest.fail(f"{what} (required under CI=true)")
    pytest.skip(what)


def corpus(*parts: str) -> Path:
    path = CORPUS.joinpath(*parts)
    require(path.exists(), f"{path} not found: the shared corpus is read in place from ../shared")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings on a fresh data dir, a free port, a queue prefix of its own and a fast sweeper."""
    base: dict[str, Any] = {
        "data_dir": data_dir,
        "http": {"host": "127.0.0.1", "port": free_port()},
        "pipeline": {
            "queue_prefix": f"t{uuid.uuid4().hex[:12]}",
            "sweep_interval_seconds": 0.5,
            "stale_after_seconds": 3.0,
            "batch_size": 50,
        },
        "log": {"level": "WARNING", "format": "console"},
    }
    return load_settings(**deep_merge(base, overrides))


@contextmanager
def installed_connectors(site: Path, package: str, entry_points: Mapping[str, str]) -> Iterator[str]:
    """Make connectors discoverable as ``pip install`` of ``package`` declaring ``entry_points``
    (channel name -> ``module:Class``) would: a dist-info folder in ``site``, put on ``sys.path``.
    Yields ``site``, the PYTHONPATH that lets a child process find them too."""
    dist = site / f"{package.replace('-', '_')}-0.1.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.1\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (dist / "entry_points.txt").write_text(f"[satupintu.connectors]\n{lines}")
    sys.path.insert(0, str(site))
    try:
        yield str(site)
    finally:
        sys.path.remove(str(site))


@dataclass
class Running:
    """A pipeline running in this test's event loop."""

    settings: Settings
    base_url: str
    engine: Engine
    pipeline: Pipeline

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            return [dict(r) for r in connection.execute(text(sql), params).mappings()]


@asynccontextmanager
async def running_pipeline(settings: Settings, components: tuple[str, ...] = COMPONENTS) -> AsyncIterator[Running]:
    parts = Parts.from_settings(settings)
    parts.prepare_database()
    pipeline = Pipeline(parts, components)
    stop = asyncio.Event()
    task = asyncio.create_task(pipeline.serve(stop))
    base_url = f"http://{settings.http.host}:{settings.http.port}"
    engine = create_db_engine(settings.database_url)
    try:
        if "http" in components:
            await _wait_http(base_url, task)
        yield Running(settings, base_url, engine, pipeline)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
        engine.dispose()


async def _wait_http(base_url: str, task: asyncio.Task[None]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            if task.done():
                task.result()
            try:
                async with session.get(f"{base_url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise TimeoutError(f"{base_url} did not answer")


async def eventually(
    check: Callable[[], Any] | Callable[[], Awaitable[Any]], timeout: float = 20.0, interval: float = 0.1
) -> Any:
    """Wait until ``check`` returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    value: Any = None
    while time.monotonic() < deadline:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")


class Mailbox:
    """An aiosmtpd handler whose answers a test can script: refuse the recipient (550), or answer
    DATA with ``data_answers`` in turn and then ``data_answer_after`` (250 accepts the mail)."""

    def __init__(self) -> None:
        self.received: list[Message] = []
        self.data_answers: list[str] = []
        self.data_answer_after = "250 OK"
        self.refuse_recipients = False
        self.attempts = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.refuse_recipients:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        answer = self.data_answers.pop(0) if self.data_answers else self.data_answer_after
        if answer.startswith("250"):
            self.received.append(email.message_from_bytes(envelope.content))
        return answer


def mail_through(port: int, address: str = "ult@itk.example.ac.id") -> dict[str, dict[str, Any]]:
    """``connectors=`` for settings whose receipts go by mail, as ``address``, through the plain
    SMTP server on loopback ``port`` (the web form stays on)."""
    email = {"address": address, "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "plain"}
    return {"webform": {}, "email": email}


@contextmanager
def smtp_server(handler: Mailbox) -> Iterator[int]:
    """A real SMTP server (aiosmtpd) on a free loopback port; yields the port."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
