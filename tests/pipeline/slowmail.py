"""A provider slower than the sweeper's patience: a real SMTP server that sits on each DATA."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from config.settings import Settings
from tests.support import Mailbox, mail_through, make_settings


class SlowMailbox(Mailbox):
    """Accepts every mail ``delay`` seconds after its DATA began; ``sending`` is set at the first."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.sending = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.sending.set()
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)

    def per_recipient(self) -> Counter[str]:
        return Counter(str(mail["To"]) for mail in self.received)


def slow_mail_settings(data_dir: Path, port: int, **overrides: Any) -> Settings:
    """Receipts by mail through ``port``, with a sweeper that gives up on a send after one second."""
    pipeline = {"stale_after_seconds": 1.0, "sweep_interval_seconds": 0.2, **overrides.pop("pipeline", {})}
    return make_settings(data_dir, connectors=mail_through(port), pipeline=pipeline, **overrides)
