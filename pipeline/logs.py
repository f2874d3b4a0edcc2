"""Structured logs: JSON lines when not on a terminal, readable lines when on one.

Modules log through the standard library with ``extra={...}`` for the channel and message ids;
only this module configures handlers. Reporters' identities and secrets are never logged.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from config.settings import LogSettings

# What a provider's error text or a library's message may carry about a reporter: an address
# ("550 5.1.1 <siti@kampus.ac.id>: rejected") or a phone number (+6281234567890, 0812-3456-7890).
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_RE = re.compile(r"(?<![\w.])(?:\+?\d{9,15}|(?:\+62|62|0)8\d{1,3}[-\s]\d{3,4}[-\s]?\d{3,5})(?![\w.])")


def redact(text: str) -> str:
    """Mask email addresses and phone numbers in a log line's text."""
    if "@" in text:
        text = _EMAIL_RE.sub("<email>", text)
    return _PHONE_RE.sub("<phone>", text)


def redact_identities(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: the last guard that keeps reporters' identities out of the logs,
    whatever an exception or a provider's answer happened to quote."""
    for key, value in event.items():
        if isinstance(value, str) and key != "timestamp":
            event[key] = redact(value)
    return event


def configure_logging(settings: LogSettings) -> None:
    as_json = settings.format == "json" or (settings.format == "auto" and not sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_identities,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    for noisy in ("aiohttp.access", "amqp", "kombu", "alembic.runtime.migration", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
