"""Media a channel sent by reference: pending items written with the normalized message, then
fetched by the media step (``pipeline/media.py``), which links the bytes or records why not."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from envelopes import NormalizedMessage
from storage.db import utcnow
from storage.models import MEDIA_PENDING
from storage.sql import insert_ignore
from storage.tables import MEDIA


def insert_pending(connection: Connection, messages: Sequence[NormalizedMessage]) -> int:
    """Record every media item the messages name, once (unique per raw message and position);
    called in the normalize transaction, so a message and its pending media commit together."""
    now = utcnow()
    rows = [
        {
            "raw_message_id": message.raw_message_id,
            "position": position,
            "channel": message.channel,
            "media_id": media.media_id,
            "kind": media.kind,
            "filename": media.filename,
            "content_type": media.content_type,
            "size": media.size,
            "state": MEDIA_PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for message in messages
        for position, media in enumerate(message.media)
    ]
    if rows:
        connection.execute(insert_ignore(connection, MEDIA), rows)
    return len(rows)
