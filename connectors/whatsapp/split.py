"""A WhatsApp Cloud API webhook body, split into one raw message per item of every entry and change.

``entry[] → changes[] → value``: each of ``value.messages[]`` is stored under its ``wamid``, each of
``value.statuses[]`` under ``status:<wamid>:<status>`` (Meta sends sent, delivered and read of one
message separately), ``value.errors[]`` without messages as one ``error`` item, and a change of
another field (template reviews, Business-app echoes) as one item of that field, kept but not a
message. Each item carries the envelope its parser needs: the entry's id, the receiving number's
``metadata`` and the sender's ``contacts`` entry.
"""

from __future__ import annotations

from typing import Any

from connectors._meta.shapes import obj
from connectors._meta.webhook import content_id, entries, raw, unique
from connectors.base import MalformedWebhook, RawMessage, WebhookRequest

CHANNEL = "whatsapp"
OBJECT = "whatsapp_business_account"
MESSAGE, STATUS, ERROR = "message", "status", "error"
MESSAGES_FIELD = "messages"


def split(request: WebhookRequest) -> list[RawMessage]:
    found: list[RawMessage] = []
    for number, entry in enumerate(entries(request.body, OBJECT)):
        entry_id = str(entry.get("id", ""))
        changes = entry.get("changes")
        if not isinstance(changes, list):
            raise MalformedWebhook(f"entry {number}: changes is not a list")
        for change in changes:
            if not isinstance(change, dict) or not isinstance(change.get("field"), str):
                raise MalformedWebhook(f"entry {number}: a change without a field")
            found.extend(_change(request, entry_id, change))
    return unique(found)


def _change(request: WebhookRequest, entry_id: str, change: dict[str, Any]) -> list[RawMessage]:
    field, value = change["field"], change.get("value")
    if not isinstance(value, dict):
        raise MalformedWebhook(f"change {field!r}: value is not an object")
    if field != MESSAGES_FIELD:
        return [raw(CHANNEL, request, content_id(entry_id, change), field, {"entry_id": entry_id, **change})]
    lists = {name: value.get(name) or [] for name in ("messages", "statuses", "errors", "contacts")}
    for name, items in lists.items():
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise MalformedWebhook(f"value.{name} is not a list of objects")
    metadata = obj(value.get("metadata"))
    envelope = {"entry_id": entry_id, "metadata": metadata}
    found = []
    for message in lists["messages"]:
        sender = message.get("from")
        contacts = [c for c in lists["contacts"] if c.get("wa_id") == sender] or lists["contacts"][:1]
        part = {**envelope, "contacts": contacts, "message": message}
        if lists["errors"]:
            part["errors"] = lists["errors"]
        mid = message.get("id")
        external = mid if isinstance(mid, str) and mid else content_id(entry_id, message)
        found.append(raw(CHANNEL, request, external, MESSAGE, part))
    for status in lists["statuses"]:
        sid, state = status.get("id"), status.get("status")
        key = f"status:{sid}:{state}" if isinstance(sid, str) and isinstance(state, str) else None
        found.append(raw(CHANNEL, request, key or content_id(entry_id, status), STATUS, {**envelope, "status": status}))
    if lists["errors"] and not lists["messages"] and not lists["statuses"]:
        errors = lists["errors"]
        found.append(raw(CHANNEL, request, content_id(entry_id, errors), ERROR, {**envelope, "errors": errors}))
    return found
