"""Pure: a stored WhatsApp item -> a message, a delivery status of ours, or nothing.

Every message type becomes a message, none is dropped: the ones the officer can read (text,
captions, locations, contacts, replies to buttons and lists, orders) as text; media by id, to be
fetched after storage; a type we do not know, or Meta's ``unsupported``, stored raw and shown as
"message of type X" with Meta's error. Reactions, deletions (``revoke``), ``system`` notices and
``request_welcome`` are marked automatic: they join the sender's case but never open one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import ValidationError

from connectors._meta.shapes import obj
from connectors._meta.times import parse_time
from connectors.base import (
    AnomalousPayload,
    DeliveryStatus,
    MediaRef,
    NormalizedMessage,
    Parsed,
    RawMessage,
    Reporter,
    UnsupportedEvent,
    event_of,
)
from connectors.whatsapp.split import CHANNEL, ERROR, MESSAGE, STATUS

IGNORED = frozenset({ERROR, "message_template_status_update", "smb_message_echoes", "account_update"})
"""Kept as they came, never a message: Meta's out-of-band errors (no sender to answer), template
reviews, and echoes of what staff send from the WhatsApp Business app."""
MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
AUTOMATIC_TYPES = frozenset({"reaction", "revoke", "system", "request_welcome"})
State = Literal["sent", "delivered", "read", "failed"]
STATUSES: dict[str, State] = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "played": "read",
    "failed": "failed",
}
"""Meta's statuses as ours; ``played`` (a voice note listened to) is as far as ``read``."""


def parse(raw_id: int, raw: RawMessage) -> Parsed:
    event = event_of(raw, (MESSAGE, STATUS), IGNORED, "webhook field")
    if event is None:
        return None
    part: dict[str, Any] = orjson.loads(raw.payload)
    try:
        if event == STATUS:
            return _status(raw_id, part["status"])
        return _message(raw_id, raw, part)
    except (AttributeError, KeyError, TypeError, ValueError, ValidationError) as exc:
        if isinstance(exc, ValidationError):
            exc = ValueError(f"{exc.error_count()} invalid fields")  # pydantic would quote the input
        raise AnomalousPayload(f"{event}: {type(exc).__name__}: {exc}") from None


def conversation_key(phone_number_id: str, wa_id: str) -> str:
    """One conversation per person per number of ours: ``whatsapp:<phone_number_id>:+<wa_id>``."""
    return f"{CHANNEL}:{phone_number_id}:+{wa_id.lstrip('+')}"


def _message(raw_id: int, raw: RawMessage, part: dict[str, Any]) -> NormalizedMessage:
    message: dict[str, Any] = part["message"]
    sender = message.get("from")
    if not isinstance(sender, str) or not sender:
        raise ValueError("the message has no sender (from)")
    contact = (part.get("contacts") or [{}])[0]
    wa_id = sender
    name = (contact.get("profile") or {}).get("name") if contact.get("wa_id") in (sender, None) else None
    metadata = part.get("metadata") or {}
    phone_number_id = str(metadata.get("phone_number_id") or "")
    content = describe(message)
    errors = [*_errors(message.get("errors")), *_errors(part.get("errors"))]
    text = content.text
    if errors:
        text = "\n".join(filter(None, [text, *(f"[WhatsApp error {e['code']}: {e['text']}]" for e in errors)]))
    extra: dict[str, Any] = {
        "type": message.get("type"),
        "phone_number_id": phone_number_id,
        "display_phone_number": metadata.get("display_phone_number"),
        **content.extra,
    }
    if errors:
        extra["errors"] = errors
    context = obj(message.get("context"))
    for flag in ("forwarded", "frequently_forwarded"):
        if context.get(flag):
            extra[flag] = True
    if isinstance(message.get("referral"), dict):
        extra["referral"] = {k: message["referral"].get(k) for k in ("source_type", "source_url", "headline")}
    replies_to = [r for r in (*content.in_reply_to, context.get("id")) if isinstance(r, str) and r]
    return NormalizedMessage(
        channel=CHANNEL,
        channel_message_id=str(message.get("id") or raw.external_id),
        raw_message_id=raw_id,
        conversation_key=conversation_key(phone_number_id, wa_id),
        in_reply_to=tuple(dict.fromkeys(replies_to)),
        reporter=Reporter(name=name or None, phone_raw=f"+{wa_id.lstrip('+')}", channel_user_id=wa_id),
        text=text,
        media=tuple(content.media),
        received_at=_time(message.get("timestamp"), raw.received_at),
        automatic=content.automatic,
        extra={k: v for k, v in extra.items() if v is not None},
    )


@dataclass(slots=True)
class Content:
    """What a message of some type says, for the officer."""

    text: str = ""
    media: list[MediaRef] = field(default_factory=list)
    automatic: bool = False
    in_reply_to: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def describe(message: dict[str, Any]) -> Content:
    """The text, media and flags of one message, whatever its type."""
    kind = str(message.get("type") or "unknown")
    body = message.get(kind) if isinstance(message.get(kind), dict) else None
    automatic = kind in AUTOMATIC_TYPES
    if kind == "text" and body is not None:
        return Content(str(body.get("body") or ""))
    if kind in MEDIA_TYPES and body is not None:
        return _media(kind, body)
    if kind == "location" and body is not None:
        place = ", ".join(str(body[k]) for k in ("name", "address") if body.get(k))
        where = f"{body.get('latitude')}, {body.get('longitude')}"
        return Content(" ".join(filter(None, ["[lokasi]", place, f"({where})", body.get("url")])))
    if kind == "contacts" and isinstance(message.get("contacts"), list):
        return Content("\n".join(_contact(c) for c in message["contacts"] if isinstance(c, dict)))
    if kind == "interactive" and body is not None:
        return _interactive(body)
    if kind == "button" and body is not None:
        return Content(str(body.get("text") or body.get("payload") or ""), extra={"payload": body.get("payload")})
    if kind == "reaction" and body is not None:
        emoji = body.get("emoji")
        target = str(body.get("message_id") or "")
        text = f"[reaksi {emoji}]" if emoji else "[reaksi dihapus]"
        return Content(text, automatic=True, in_reply_to=(target,) if target else ())
    if kind == "order" and body is not None:
        return _order(body)
    if kind == "system" and body is not None:
        return Content(str(body.get("body") or body.get("type") or ""), automatic=True, extra=_system(body))
    if kind == "revoke" and body is not None:
        original = str(body.get("original_message_id") or "")
        return Content(
            f"[pesan dihapus oleh pengirim: {original}]",
            automatic=True,
            in_reply_to=(original,) if original else (),
            extra={"deleted_message_id": original},
        )
    if kind == "edit" and body is not None and isinstance(body.get("message"), dict):
        inner = describe(body["message"])
        original = str(body.get("original_message_id") or "")
        inner.text = f"[diedit] {inner.text}".rstrip()
        inner.in_reply_to = (*inner.in_reply_to, original) if original else inner.in_reply_to
        inner.extra = {**inner.extra, "edited_message_id": original, "edited_type": body["message"].get("type")}
        return inner
    if kind == "request_welcome":
        return Content("[membuka percakapan]", automatic=True)
    # Meta's "unsupported" (edits, polls, pins on older versions) and any type we do not know:
    # shown, never dropped; the raw item stays as it came.
    inner_type = body.get("type") if kind == "unsupported" and body is not None else None
    shown = f"message of type {inner_type} (unsupported)" if inner_type else f"message of type {kind}"
    return Content(f"[{shown}]", automatic=automatic, extra={"unknown_type": inner_type or kind})


def _media(kind: str, body: dict[str, Any]) -> Content:
    media_id = body.get("id")
    shown = "voice" if kind == "audio" and body.get("voice") else kind
    caption = str(body.get("caption") or "")
    if not isinstance(media_id, str) or not media_id:
        return Content(f"[{shown} tanpa id media]", extra={"media_missing": True})
    ref = MediaRef(
        media_id=media_id,
        kind=shown,
        filename=str(body["filename"])[:255] if body.get("filename") else None,
        content_type=str(body["mime_type"])[:255] if body.get("mime_type") else None,
    )
    return Content(caption, [ref])  # no caption: the item itself says what it is (a sticker alone is nothing to act on)


def _interactive(body: dict[str, Any]) -> Content:
    kind = str(body.get("type") or "")
    reply = obj(body.get(kind))
    if kind in ("button_reply", "list_reply"):
        text = " — ".join(str(reply[k]) for k in ("title", "description") if reply.get(k))
        return Content(text, extra={"reply_id": reply.get("id"), "interactive": kind})
    if kind == "nfm_reply":
        text = str(reply.get("body") or "")
        answers = reply.get("response_json")
        return Content(f"{text}\n{answers}".strip() if answers else text, extra={"interactive": kind})
    return Content(f"[message of type interactive/{kind or 'unknown'}]", extra={"unknown_type": f"interactive/{kind}"})


def _contact(contact: dict[str, Any]) -> str:
    name = (contact.get("name") or {}).get("formatted_name") or ""
    phones = ", ".join(
        str(p.get("phone") or p.get("wa_id")) for p in contact.get("phones") or [] if isinstance(p, dict)
    )
    return f"[kontak] {name}: {phones}".rstrip(": ")


def _order(body: dict[str, Any]) -> Content:
    items = [i for i in body.get("product_items") or [] if isinstance(i, dict)]
    lines = [f"[pesanan] katalog {body.get('catalog_id')}: {len(items)} barang"]
    lines += [
        f"- {i.get('product_retailer_id')} × {i.get('quantity')} @ {i.get('item_price')} {i.get('currency')}"
        for i in items
    ]
    if body.get("text"):
        lines.append(str(body["text"]))
    return Content("\n".join(lines))


def _system(body: dict[str, Any]) -> dict[str, Any]:
    found = {"system_type": body.get("type")}
    if body.get("wa_id"):
        found["new_wa_id"] = body["wa_id"]  # user_changed_number: the number they use now
    return found


def _errors(errors: object) -> list[dict[str, Any]]:
    if not isinstance(errors, list):
        return []
    found = []
    for error in errors:
        if isinstance(error, dict):
            details = (
                (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
            )
            text = " — ".join(str(t) for t in dict.fromkeys([error.get("title") or error.get("message"), details]) if t)
            found.append({"code": str(error.get("code")), "text": text})
    return found


def _status(raw_id: int, status: dict[str, Any]) -> DeliveryStatus | None:
    state = STATUSES.get(str(status.get("status")))
    if state is None:
        raise UnsupportedEvent(f"status {status.get('status')!r}")
    errors = _errors(status.get("errors"))
    return DeliveryStatus(
        channel=CHANNEL,
        raw_message_id=raw_id,
        provider_message_id=str(status["id"]),
        status=state,
        at=parse_time(status["timestamp"]),
        error_code=errors[0]["code"] if errors else None,
        error=errors[0]["text"] if errors else None,
    )


def _time(value: object, fallback: datetime) -> datetime:
    try:
        return parse_time(value)
    except ValueError:
        return fallback
