"""Pure: a stored Instagram item -> a message, a read receipt of ours, or nothing.

The sender's Instagram-scoped id (IGSID) is the identity; the webhook carries no name. Echoes
(``is_echo``: what we or the Instagram app sent) and ``changes`` (mentions, comments, insights)
are kept but are not messages. Reactions, unsent messages and referrals are automatic: they join
the sender's case and never open one. A read receipt names the mid of a message of ours.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
    event_of,
)
from connectors.instagram.split import CHANGES, CHANNEL, ECHO, EDIT, MESSAGE, POSTBACK, REACTION, READ, REFERRAL

EVENT_TYPES = frozenset({MESSAGE, EDIT, REACTION, POSTBACK, REFERRAL, READ})
IGNORED = frozenset({ECHO, CHANGES})
MEDIA_KINDS = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "file": "document",
    "story_mention": "story_mention",
    "share": "share",
    "reel": "reel",
    "ig_reel": "reel",
    "ig_post": "post",
}
SHOWN = {
    "story_mention": "[menyebut akun kita di story]",
    "share": "[membagikan kiriman]",
    "reel": "[reel]",
    "post": "[kiriman]",
}


def conversation_key(igsid: str) -> str:
    return f"{CHANNEL}:{igsid}"


def parse(raw_id: int, raw: RawMessage) -> Parsed:
    event = event_of(raw, EVENT_TYPES, IGNORED, "messaging item")
    if event is None:
        return None
    part: dict[str, Any] = orjson.loads(raw.payload)
    item: dict[str, Any] = part["item"]
    try:
        at = _time(item.get("timestamp"), raw.received_at)
        if event == READ:
            return DeliveryStatus(
                channel=CHANNEL, raw_message_id=raw_id, provider_message_id=str(item[READ]["mid"]), status="read", at=at
            )
        sender = item["sender"]["id"]
        if not isinstance(sender, str | int) or not str(sender):
            raise ValueError("the item has no sender id")
        text, media, automatic, replies, extra = _content(event, item)
    except (AttributeError, KeyError, TypeError, ValueError, ValidationError) as exc:
        if isinstance(exc, ValidationError):
            exc = ValueError(f"{exc.error_count()} invalid fields")
        raise AnomalousPayload(f"{event}: {type(exc).__name__}: {exc}") from None
    if part.get("standby"):
        extra["standby"] = True
    return NormalizedMessage(
        channel=CHANNEL,
        channel_message_id=raw.external_id,
        raw_message_id=raw_id,
        conversation_key=conversation_key(str(sender)),
        in_reply_to=replies,
        reporter=Reporter(channel_user_id=str(sender)),
        text=text,
        media=media,
        received_at=at,
        automatic=automatic,
        extra={"kind": event, "account_id": part.get("entry_id"), **extra},
    )


Content = tuple[str, tuple[MediaRef, ...], bool, tuple[str, ...], dict[str, Any]]


def _content(event: str, item: dict[str, Any]) -> Content:
    if event == MESSAGE:
        return _message(item["message"])
    if event == EDIT:
        edit = item[EDIT]
        return (
            f"[diedit] {edit.get('text') or ''}".rstrip(),
            (),
            False,
            (str(edit["mid"]),),
            {"num_edit": edit.get("num_edit")},
        )
    if event == REACTION:
        reaction = item[REACTION]
        shown = (
            f"[reaksi {reaction.get('emoji') or reaction.get('reaction')}]"
            if reaction.get("action") == "react"
            else "[reaksi dihapus]"
        )
        target = (str(reaction["mid"]),) if reaction.get("mid") else ()
        return shown, (), True, target, {}
    if event == POSTBACK:
        postback = item[POSTBACK]
        return (
            str(postback.get("title") or postback.get("payload") or ""),
            (),
            False,
            (),
            {"payload": postback.get("payload")},
        )
    referral = item[REFERRAL]
    return (
        f"[membuka percakapan lewat tautan: {referral.get('source') or referral.get('type')}]",
        (),
        True,
        (),
        {"referral": {k: referral.get(k) for k in ("ref", "source", "type")}},
    )


def _message(message: dict[str, Any]) -> Content:
    mid = str(message.get("mid") or "")
    if message.get("is_deleted"):
        return f"[pesan ditarik oleh pengirim: {mid}]", (), True, (mid,) if mid else (), {"deleted_message_id": mid}
    if message.get("is_unsupported"):
        return "[message of type unsupported]", (), False, (), {"unknown_type": "unsupported"}
    lines = [str(message["text"])] if message.get("text") else []
    extra: dict[str, Any] = {}
    if isinstance(message.get("quick_reply"), dict):
        extra["quick_reply"] = message["quick_reply"].get("payload")
        if not lines:
            lines.append(f"[balasan cepat: {extra['quick_reply']}]")
    replies: tuple[str, ...] = ()
    reply_to = obj(message.get("reply_to"))
    if isinstance(reply_to.get("story"), dict):
        lines.insert(0, "[membalas story]")
        extra["story"] = {"id": obj(reply_to.get("story")).get("id")}
    elif reply_to.get("mid"):
        replies = (str(reply_to["mid"]),)
    media = _attachments(message.get("attachments"), lines)
    if not lines and not media:
        lines.append("[message of type empty]")
    return "\n".join(lines), tuple(media), False, replies, extra


def _attachments(attachments: object, lines: list[str]) -> list[MediaRef]:
    """The attachments to fetch; what the officer should read of them is added to ``lines``."""
    media = []
    for attachment in attachments if isinstance(attachments, list) else []:
        if not isinstance(attachment, dict):
            continue
        kind = MEDIA_KINDS.get(str(attachment.get("type")), "file")
        payload = obj(attachment.get("payload"))
        url = payload.get("url")
        if kind in SHOWN:
            title = payload.get("title")
            lines.append(f"{SHOWN[kind]}{f' {title}' if title else ''}")
        if isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= 1024:
            media.append(MediaRef(media_id=url, kind=kind))
        elif kind not in SHOWN:
            lines.append(f"[{kind} tanpa URL]")
    return media


def _time(value: object, fallback: datetime) -> datetime:
    try:
        return parse_time(value)
    except ValueError:
        return fallback
