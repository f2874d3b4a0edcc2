"""What an update is before anything is stored: a message of a private chat to keep, or a chat
that is not a reporter (a group, a channel), of which nothing is kept.

Used alike by long polling and by the webhook, so both modes store the same thing under the same
key. The key is the message's own identity, not ``update_id``: Telegram restarts update ids at
random after a week without updates, so an old id may come back for another message, while
``chat_id:message_id`` never does. An edit is keyed by its edit time and text as well, so that it
is stored beside the original (not taken for a resend of it), and a resend of the same edit is not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from connectors.base import EVENT_HEADER, RawMessage

CHANNEL = "telegram"
MESSAGE, EDITED = "message", "edited_message"
MESSAGE_TYPES = frozenset({MESSAGE, EDITED})
IGNORED_TYPES = frozenset(
    {
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "callback_query",
        "inline_query",
        "chosen_inline_result",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "message_reaction",
        "message_reaction_count",
        "chat_boost",
        "removed_chat_boost",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "channel_post",
        "edited_channel_post",
    }
)
"""Update types a bot may get that carry no report: kept when they come from a private chat, and
ignored by name."""
ALLOWED_UPDATES = ("message", "edited_message", "my_chat_member")
"""What we ask Telegram for (getUpdates and setWebhook): messages, their edits, and the bot being
added to a chat (so that a group is told at once it is not a reporter)."""
GROUP_TYPES = frozenset({"group", "supergroup"})
JOINED = frozenset({"member", "administrator"})


@dataclass(frozen=True, slots=True)
class Screened:
    """One update, screened: ``raw`` to store, or why nothing is (``refused``); ``tell`` is a group
    chat to be told, once, that it is not a reporter."""

    raw: RawMessage | None
    refused: str | None = None
    tell: int | None = None


def update_type(update: Mapping[str, Any]) -> str:
    """The one optional field an Update carries besides ``update_id`` (``unknown`` if none)."""
    return next((key for key in update if key != "update_id"), "unknown")


def chat_of(update: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The chat an update is about, where it names one."""
    body = update.get(update_type(update))
    if not isinstance(body, Mapping):
        return None
    chat = body.get("chat")
    if chat is None and isinstance(body.get("message"), Mapping):  # a callback query
        chat = body["message"].get("chat")
    return chat if isinstance(chat, Mapping) else None


def screen(update: Any, received_at: datetime, payload: bytes | None = None) -> Screened:
    """Decide what becomes of one update; ``payload``: its bytes as they came (a webhook body)."""
    if not isinstance(update, Mapping):
        return Screened(None, refused="an update must be a JSON object")
    kind = update_type(update)
    chat = chat_of(update)
    chat_type = chat.get("type") if chat else None
    if chat is not None and chat_type != "private":
        return _not_a_reporter(update, kind, chat, str(chat_type))
    body = payload if payload is not None else orjson.dumps(update)
    return Screened(
        RawMessage(
            channel=CHANNEL,
            external_id=external_id(update, kind),
            received_at=received_at,
            content_type="application/json",
            payload=body,
            headers={EVENT_HEADER: kind},
        )
    )


def _not_a_reporter(update: Mapping[str, Any], kind: str, chat: Mapping[str, Any], chat_type: str) -> Screened:
    """A group is told (when it writes to the bot, or adds it); a channel is not (a post there
    would go to every subscriber). Neither is stored: their members are not reporters."""
    if chat_type not in GROUP_TYPES:
        return Screened(None, refused=f"a {chat_type} chat is not a reporter: nothing kept")
    added = kind == "my_chat_member" and _status(update[kind]) in JOINED
    chat_id = chat.get("id")
    tell = chat_id if isinstance(chat_id, int) and (kind in MESSAGE_TYPES or added) else None
    return Screened(None, refused="a group chat is not a reporter: told so, nothing kept", tell=tell)


def _status(member_update: Any) -> str | None:
    new = member_update.get("new_chat_member") if isinstance(member_update, Mapping) else None
    return new.get("status") if isinstance(new, Mapping) else None


def external_id(update: Mapping[str, Any], kind: str) -> str:
    """``<chat>:<message>`` for a message; ``<chat>:<message>:edit:<time>:<text hash>`` for an
    edit; ``<type>:<hash of the update>`` for anything else (an update that is not a message is
    kept only to be ignored, and its hash includes its ``update_id``)."""
    body = update.get(kind)
    if kind in MESSAGE_TYPES and isinstance(body, Mapping):
        chat, number = (body.get("chat") or {}).get("id"), body.get("message_id")
        if isinstance(chat, int) and isinstance(number, int):
            if kind == MESSAGE:
                return f"{chat}:{number}"
            content = str(body.get("text") or body.get("caption") or "")
            return f"{chat}:{number}:edit:{body.get('edit_date')}:{_digest(content.encode())[:16]}"
    return f"{kind}:{_digest(orjson.dumps(update, option=orjson.OPT_SORT_KEYS))[:40]}"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
