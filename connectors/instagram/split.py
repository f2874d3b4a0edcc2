"""An Instagram messaging webhook body, split into one raw message per ``messaging[]`` (and
``standby[]``, the handover protocol's) item of every entry.

Ids: a message is kept under ``<sender>:<mid>`` (an unsent message under ``deleted:…``, which
reuses the original's mid; an edit under ``edit:…:<num_edit>``; an echo of our own or the
Instagram app's send under ``echo:<mid>``); items without an id of their own (reactions, reads,
referrals, ``changes`` such as mentions) under a hash of their content, so a resend adds nothing.
"""

from __future__ import annotations

from typing import Any

from connectors._meta.webhook import content_id, entries, raw, unique
from connectors.base import MalformedWebhook, RawMessage, WebhookRequest

CHANNEL = "instagram"
OBJECT = "instagram"
MESSAGE, EDIT, REACTION, POSTBACK, REFERRAL, READ = (
    "message",
    "message_edit",
    "reaction",
    "postback",
    "referral",
    "read",
)
ECHO, CHANGES = "echo", "changes"
KINDS = (EDIT, REACTION, POSTBACK, REFERRAL, READ)
"""Item kinds besides ``message``, by the key that holds them."""


def split(request: WebhookRequest) -> list[RawMessage]:
    found: list[RawMessage] = []
    for number, entry in enumerate(entries(request.body, OBJECT)):
        entry_id = str(entry.get("id", ""))
        for key in ("messaging", "standby"):
            items = entry.get(key) or []
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise MalformedWebhook(f"entry {number}: {key} is not a list of objects")
            for item in items:
                event, external = classify(entry_id, item)
                part = {"entry_id": entry_id, "standby": key == "standby", "item": item}
                found.append(raw(CHANNEL, request, external, event, part))
        changes = entry.get("changes") or []
        if not isinstance(changes, list):
            raise MalformedWebhook(f"entry {number}: changes is not a list")
        for change in changes:
            found.append(
                raw(CHANNEL, request, content_id(entry_id, change), CHANGES, {"entry_id": entry_id, "change": change})
            )
    return unique(found)


def classify(entry_id: str, item: dict[str, Any]) -> tuple[str, str]:
    """The item's event type and its external id."""
    sender = str((item.get("sender") or {}).get("id", "")) if isinstance(item.get("sender"), dict) else ""
    message = item.get("message")
    if isinstance(message, dict):
        mid = message.get("mid")
        if not isinstance(mid, str) or not mid:
            return MESSAGE, content_id(entry_id, item)
        if message.get("is_echo") or (sender and sender == entry_id):
            return ECHO, f"echo:{mid}"
        if message.get("is_deleted"):
            return MESSAGE, f"deleted:{sender}:{mid}"
        return MESSAGE, f"{sender}:{mid}"
    if isinstance(item.get(EDIT), dict):
        edit = item[EDIT]
        if isinstance(edit.get("mid"), str):
            return EDIT, f"edit:{sender}:{edit['mid']}:{edit.get('num_edit', 0)}"
    for kind in KINDS:
        if isinstance(item.get(kind), dict):
            return kind, content_id(entry_id, item)
    other = sorted(set(item) - {"sender", "recipient", "timestamp"})
    return (other[0] if other else "empty"), content_id(entry_id, item)
