"""What the off-line channels' tests share: a phone channel that can send (written to a
folder, where a test reads what the caller got), and the command line run against the same
database and queue as a running pipeline, in a thread (the pipeline runs on the test's loop)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from config.settings import Settings
from connectors.base import (
    Connector,
    ConnectorConfig,
    ConnectorSpec,
    Outbound,
    OutboundMessage,
    Parsed,
    RawMessage,
    SendResult,
    UnsupportedEvent,
)
from tests.support import installed_connectors

SMS = "desk_sms"


class FolderConfig(ConnectorConfig):
    folder: Path


class DeskSms(Connector[FolderConfig], Outbound):
    """Sends a text message by writing ``<folder>/<idempotency key>.json``."""

    spec = ConnectorSpec(name=SMS, display_name="SMS (test)", roles=frozenset({"send"}), event_types=frozenset())
    config_model = FolderConfig

    def parse(self, raw_id: int, raw: RawMessage) -> Parsed:
        raise UnsupportedEvent("this test channel only sends")

    async def send(self, message: OutboundMessage) -> SendResult:
        self.config.folder.mkdir(parents=True, exist_ok=True)
        (self.config.folder / f"{message.idempotency_key.replace(':', '-')}.json").write_text(
            message.model_dump_json(by_alias=True)
        )
        return SendResult(f"sms-{message.outbox_id}")


@contextmanager
def sms_installed(tmp_path: Path) -> Iterator[None]:
    with installed_connectors(tmp_path / "site", "satupintu-desk-sms", {SMS: "tests.desk:DeskSms"}):
        yield


def texted(folder: Path) -> list[OutboundMessage]:
    return [OutboundMessage.model_validate_json(p.read_text()) for p in sorted(folder.glob("*.json"))]


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment of a command run beside ``settings``' pipeline (same database and queue)."""
    env = {
        "SATUPINTU_DATA_DIR": str(settings.data_dir),
        "SATUPINTU_DATABASE_URL": settings.database_url,
        "SATUPINTU_BROKER_URL": settings.broker_url,
        "SATUPINTU_PIPELINE__QUEUE_PREFIX": settings.pipeline.queue_prefix,
        "SATUPINTU_LOG__LEVEL": "WARNING",
        "SATUPINTU_SURVEY__PUBLIC_URL": settings.survey.public_url,
    }
    for name, section in settings.connectors.items():
        env[f"SATUPINTU_CONNECTORS__{name.upper()}"] = json.dumps(section, default=str)
    return env


async def run_cli(settings: Settings, *args: str) -> Result:
    env = cli_env(settings)
    return await asyncio.to_thread(lambda: CliRunner().invoke(_cli(), list(args), env=env, obj={}))


def _cli() -> Any:
    from workers import cli

    return cli
