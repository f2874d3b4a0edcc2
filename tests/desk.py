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
    ConnectorSpec,
)
from tests.sending import FolderSender, sent
from tests.support import installed_connectors

SMS = "desk_sms"


class DeskSms(FolderSender):
    """Sends a text message by writing it to its folder (``tests/sending.py``)."""

    spec = ConnectorSpec(name=SMS, display_name="SMS (test)", roles=frozenset({"send"}), event_types=frozenset())


@contextmanager
def sms_installed(tmp_path: Path) -> Iterator[None]:
    with installed_connectors(tmp_path / "site", "satupintu-desk-sms", {SMS: "tests.desk:DeskSms"}):
        yield


texted = sent
"""What the desk's SMS channel sent."""


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
