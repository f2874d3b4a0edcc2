"""Meta's signed webhook endpoint, declared once for every Meta channel.

Meta signs each POST with ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed
with the app secret>`` and subscribes with the ``hub.*`` handshake; the framework checks both
(constant time, before parsing). What is left here is the body's envelope: ``object`` and
``entry[]``, and the ids a batch item gets when Meta gives it none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from connectors._meta.config import MetaConfig
from connectors.base import (
    HmacSignature,
    MalformedWebhook,
    RawMessage,
    VerifyToken,
    WebhookEndpoint,
    WebhookRequest,
    json_message,
)

SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_BODY_BYTES = 3 * 1024 * 1024
"""Meta batches up to 1,000 updates in one POST (a few KB each at most): well under this."""


def endpoint(path: str, config: MetaConfig, split: Callable[[WebhookRequest], Sequence[RawMessage]]) -> WebhookEndpoint:
    return WebhookEndpoint(
        path=path,
        verify=HmacSignature(header=SIGNATURE_HEADER, secret=config.app_secret.get_secret_value().encode()),
        split=split,
        handshake=VerifyToken(config.verify_token.get_secret_value().encode()),
        max_body_bytes=MAX_BODY_BYTES,
    )


def entries(body: bytes, expected_object: str) -> list[dict[str, Any]]:
    """The ``entry[]`` of a body whose ``object`` is ``expected_object``; ``MalformedWebhook``
    (400) for anything else. An empty list is valid: Meta's own test posts send one."""
    document = orjson.loads(body)  # a ValueError is a 400 too
    if not isinstance(document, dict):
        raise MalformedWebhook("the body is not a JSON object")
    if document.get("object") != expected_object:
        raise MalformedWebhook(f"object is {document.get('object')!r}, expected {expected_object!r}")
    found = document.get("entry")
    if not isinstance(found, list) or not all(isinstance(e, dict) for e in found):
        raise MalformedWebhook("entry is not a list of objects")
    return found


def content_id(*parts: Any) -> str:
    """A stable id for an item Meta gives no id of its own (a status change, an error, a read):
    the same item in a resent body gets the same id."""
    return "sha256:" + hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


def raw(channel: str, request: WebhookRequest, external_id: str, event: str, part: dict[str, Any]) -> RawMessage:
    """One item of a batch as stored: its own part of the body, with what the parser needs of the
    envelope (the entry's id, the change's metadata) copied in."""
    return json_message(channel, external_id[:512], request.received_at, part, event)


def unique(messages: Sequence[RawMessage]) -> list[RawMessage]:
    """The batch without repeats of one id (Meta's batches can hold the same message twice)."""
    seen: set[str] = set()
    kept = []
    for message in messages:
        if message.external_id not in seen:
            seen.add(message.external_id)
            kept.append(message)
    return kept
