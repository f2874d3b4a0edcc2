"""Structured logs: JSON lines when not on a terminal, readable lines when on one.

Modules log through the standard library with ``extra={...}`` for the channel and message ids;
only this module configures handlers. Reporters' identities and secrets are never logged, and
``redact``/``reason`` are also what an error says in a row an officer reads or a health record.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import phonenumbers
import structlog

from config.settings import LogSettings

# A client library's message quotes the URL it asked (aiohttp's ``ClientResponseError`` does), and
# some channels put the secret in it (Telegram's ``https://api.telegram.org/bot<token>/...``): a
# URL is cut to its scheme and host, without user or password.
_URL_RE = re.compile(r"\b([a-z][a-z0-9+.-]*://)(?:[^@/\s'\"<>]*@)?([^/\s'\"<>?#]+)[^\s'\"<>]*", re.IGNORECASE)
# What a provider's error text or a library's message may carry about a reporter: an address
# ("550 5.1.1 <siti@kampus.ac.id>: rejected"), a phone number however it is written (found by
# phonenumbers' matcher, then by shape for numbers it finds invalid), or the value a pydantic
# validation error quotes (``input_value=...`` in its text, ``'input': ...`` in ``errors()``), or
# the values PostgreSQL quotes from a row that broke a constraint ("Failing row contains (1, Siti
# Aminah, ...)", "Key (value)=(...)"): statement parameters are hidden by the engine, not these.
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_RE = re.compile(r"(?<![\w.])(?:\+?\d{9,15}|(?:\+62|62|0)8\d{1,3}[-\s]\d{3,4}[-\s]?\d{3,5})(?![\w.])")
_PHONE_LIKE = re.compile(r"[+(]?\d(?:[\s().-]{0,2}\d){7,}")
"""Eight digits or more, apart only as a phone's are: the matcher is slow, so it reads only these."""
_PHONE_REGION = "ID"
_INPUT_VALUE_RE = re.compile(r"input_value=.*, input_type=")
_INPUT_KEY_RE = re.compile(r"'input': (?:.*(?=, '(?:ctx|url)': )|.*)")
_ROW_VALUES_RE = re.compile(
    r"(Failing row contains \(|Key \().*?"
    r"(?=\n\[SQL: |\n[A-Z]+:  |\n\nThe above exception|\n\nDuring handling|'\)|\Z)",
    re.DOTALL,
)
"""To where PostgreSQL's DETAIL ends: a value may hold newlines, parentheses and full stops."""
MAX_REASON = 1000


def redact(text: str) -> str:
    """Mask what a log line's text may quote of a reporter or a secret: URLs past their host,
    addresses, phone numbers, the inputs validation errors quote and the row values a database
    error quotes. Each pattern runs only when its marker is in the text: logging pays for this."""
    if "://" in text:
        text = _URL_RE.sub(r"\1\2/…", text)
    if "@" in text:
        text = _EMAIL_RE.sub("<email>", text)
    if "input" in text:
        text = _INPUT_VALUE_RE.sub("input_value=<hidden>, input_type=", text)
        text = _INPUT_KEY_RE.sub("'input': <hidden>", text)
    if "row contains (" in text or "Key (" in text:
        text = _ROW_VALUES_RE.sub(r"\1<hidden>)", text)
    if _PHONE_LIKE.search(text):
        text = _PHONE_RE.sub("<phone>", _PHONE_LIKE.sub(_mask_matched_phones, text))
    return text


def reason(exc: BaseException) -> str:
    """An error as rows and health records keep it: ``Type: message``, redacted, at most
    ``MAX_REASON`` characters."""
    message = redact(str(exc))
    return (f"{type(exc).__name__}: {message}" if message else type(exc).__name__)[:MAX_REASON]


def _mask_matched_phones(candidate: re.Match[str]) -> str:
    text = candidate.group()
    found = list(phonenumbers.PhoneNumberMatcher(text, _PHONE_REGION, leniency=phonenumbers.Leniency.VALID))
    for match in reversed(found):
        text = f"{text[: match.start]}<phone>{text[match.end :]}"
    return text


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
    # httpx (python-telegram-bot's client) logs every request, a Telegram long poll every 25 s
    for noisy in ("aiohttp.access", "amqp", "kombu", "alembic.runtime.migration", "alembic.runtime.plugins", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
