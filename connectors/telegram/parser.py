"""Pure: a stored Telegram update -> a normalized message, or nothing for an ignored type.

Only private chats are stored (``intake.screen``); a message's conversation is its chat. The text
is the message's text or caption; photos (the largest size), documents, voice, audio, video,
video notes, animations and stickers are media fetched after storage; a location, a venue, a
poll or a contact card become a note in the text. A contact the sender shares about themselves
(``contact.user_id`` is the sender) is their proven phone number (``extra["phone_proven"]``, the
identity triage may link on; the message itself has no text); anyone else's card is only a note.
An edit is stored as a message of its own that answers the original (``in_reply_to``), marked
``extra["edit_of"]`` and shown as "(pesan diubah)".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from connectors.base import (
    AnomalousPayload,
    MediaRef,
    NormalizedMessage,
    Parsed,
    RawMessage,
    Reporter,
    UnsupportedEvent,
    event_of,
)
from connectors.telegram.intake import CHANNEL, EDITED, IGNORED_TYPES, MESSAGE_TYPES

EDITED_MARK = "(pesan diubah)"
COMMAND_ADDRESSED = re.compile(r"^(/[A-Za-z0-9_]+)@[A-Za-z0-9_]+")
"""``/status@UnitBot 26-0001``: a command addressed to the bot by name means ``/status 26-0001``."""
CONTENT_KEYS = frozenset(
    {
        "text",
        "caption",
        "photo",
        "document",
        "voice",
        "audio",
        "video",
        "video_note",
        "animation",
        "sticker",
        "location",
        "venue",
        "contact",
        "poll",
        "dice",
    }
)


def parse(raw_id: int, raw: RawMessage) -> Parsed:
    kind = event_of(raw, MESSAGE_TYPES, IGNORED_TYPES, "Telegram update type")
    if kind is None:
        return None
    try:
        update = orjson.loads(raw.payload)
        return _message(raw_id, raw, kind, update[kind])
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError, ValidationError) as exc:
        raise AnomalousPayload(f"{kind}: {type(exc).__name__}: {exc}") from None


def _message(raw_id: int, raw: RawMessage, kind: str, message: Mapping[str, Any]) -> NormalizedMessage:
    chat = message["chat"]
    if chat["type"] != "private":
        raise UnsupportedEvent(f"a {chat['type']} chat is not a reporter")
    if not CONTENT_KEYS & message.keys():
        service = next((k for k in message if k not in {"message_id", "from", "chat", "date"}), "nothing")
        raise UnsupportedEvent(f"a service message ({service}) carries no report")
    sender: Mapping[str, Any] = message.get("from") or {}
    own = f"{chat['id']}:{message['message_id']}"
    notes, extra = _notes(message, sender)
    text = _command(str(message.get("text") or message.get("caption") or ""))
    replies: list[str] = []
    if isinstance(message.get("reply_to_message"), Mapping):
        replies.append(f"{chat['id']}:{message['reply_to_message']['message_id']}")
    if kind == EDITED:
        extra["edit_of"] = own
        replies.insert(0, own)
        text = f"{EDITED_MARK} {text}".strip()
    contact = message.get("contact")
    proven = (
        isinstance(contact, Mapping) and contact.get("user_id") is not None and contact["user_id"] == sender.get("id")
    )
    if proven:
        extra["phone_proven"] = True
    name = " ".join(str(p) for p in (sender.get("first_name"), sender.get("last_name")) if p) or None
    sent = message.get("edit_date") if kind == EDITED else message["date"]
    return NormalizedMessage(
        channel=CHANNEL,
        channel_message_id=own,
        raw_message_id=raw_id,
        conversation_key=f"{CHANNEL}:{chat['id']}",
        in_reply_to=tuple(replies),
        reporter=Reporter(
            name=name,
            channel_user_id=str(sender["id"]) if "id" in sender else None,
            handle=sender.get("username"),
            phone_raw=str(contact["phone_number"]) if proven and isinstance(contact, Mapping) else None,
        ),
        text="\n".join(part for part in (text, *notes) if part),
        media=tuple(_media(message)),
        received_at=datetime.fromtimestamp(int(sent), UTC) if sent else raw.received_at,
        automatic=bool(sender.get("is_bot")),
        extra=extra,
    )


def _command(text: str) -> str:
    return COMMAND_ADDRESSED.sub(r"\1", text, count=1)


def _notes(message: Mapping[str, Any], sender: Mapping[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """What a message carries that is not text or a file, as lines an officer reads."""
    notes: list[str] = []
    extra: dict[str, Any] = {}
    venue, location = message.get("venue"), message.get("location")
    if isinstance(venue, Mapping):
        location = venue.get("location", location)
        notes.append(f"Tempat: {venue.get('title', '')}, {venue.get('address', '')}".rstrip(", "))
    if isinstance(location, Mapping):
        latitude, longitude = location["latitude"], location["longitude"]
        extra["location"] = {"latitude": latitude, "longitude": longitude}
        notes.append(f"Lokasi: {latitude}, {longitude} (https://maps.google.com/?q={latitude},{longitude})")
    contact = message.get("contact")
    if isinstance(contact, Mapping):
        who = " ".join(str(p) for p in (contact.get("first_name"), contact.get("last_name")) if p)
        if contact.get("user_id") is not None and contact.get("user_id") == sender.get("id"):
            # an identity, not a report: no text, so that sharing it alone opens no case (triage
            # greets it) and within a case it only proves the number
            extra["shared_own_contact"] = True
        else:
            extra["contact_card"] = {"name": who, "phone_number": contact.get("phone_number")}
            notes.append(f"Kartu kontak orang lain: {who} {contact.get('phone_number', '')}".rstrip())
    poll = message.get("poll")
    if isinstance(poll, Mapping):
        options = ", ".join(str(o.get("text", "")) for o in poll.get("options", []))
        notes.append(f"Jajak pendapat: {poll.get('question', '')} ({options})")
    dice = message.get("dice")
    if isinstance(dice, Mapping):
        notes.append(f"Dadu {dice.get('emoji', '')}: {dice.get('value', '')}")
    sticker = message.get("sticker")
    if isinstance(sticker, Mapping) and sticker.get("emoji"):
        notes.append(f"Stiker {sticker['emoji']}")
    origin = message.get("forward_origin") or message.get("forward_from")
    if origin:
        extra["forwarded"] = True
    return notes, extra


def _media(message: Mapping[str, Any]) -> list[MediaRef]:
    """Every file the message names, by its ``file_id``; a photo only in its largest size."""
    found: list[MediaRef] = []
    photos = message.get("photo")
    if isinstance(photos, list) and photos:
        largest = max(photos, key=lambda p: (p.get("width", 0) * p.get("height", 0), p.get("file_size", 0)))
        found.append(_ref(largest, "image", "image/jpeg"))
    kinds = (
        ("animation", "video", None),
        ("document", "document", None),
        ("voice", "voice", "audio/ogg"),
        ("audio", "audio", None),
        ("video", "video", None),
        ("video_note", "video", "video/mp4"),
        ("sticker", "sticker", None),
    )
    for key, kind, default_type in kinds:
        item = message.get(key)
        if isinstance(item, Mapping) and "file_id" in item:
            if key == "document" and "animation" in message:
                continue  # an animation comes with a copy of itself as a document
            found.append(_ref(item, kind, default_type))
    return found


def _ref(item: Mapping[str, Any], kind: str, default_type: str | None) -> MediaRef:
    name = item.get("file_name")
    return MediaRef(
        media_id=str(item["file_id"]),
        kind=kind,
        filename=str(name)[:255] if name else None,
        content_type=item.get("mime_type") or default_type,
        size=item.get("file_size"),
    )
