"""What a reply to an Instagram reporter looks like: a plain reply inside 24 hours of their last
message; with ``human_agent = true`` (an app Meta granted the human-agent permission) one tagged
``HUMAN_AGENT`` up to 7 days; otherwise nothing is sent, and the refusal says why (the delivery
stage offers the officer the reporter's other channels). Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors._meta.texts import chunks as split_text
from connectors._meta.texts import utf8_size
from connectors._meta.window import HUMAN_AGENT_WINDOW, SERVICE_WINDOW, within
from connectors.base import OutboundMessage, PermanentSendError

MAX_TEXT_BYTES = 1000
"""Instagram's limit for one text message (UTF-8 bytes); a longer reply goes as several."""
OUTSIDE_WINDOW = "outside_window"


def requests(message: OutboundMessage, igsid: str, *, human_agent: bool, now: datetime) -> list[dict[str, Any]]:
    """The Send API bodies for ``message``, or :class:`PermanentSendError` before sending."""
    last = message.last_inbound_at
    if within(last, SERVICE_WINDOW, now):
        tag: dict[str, str] = {"messaging_type": "RESPONSE"}
    elif human_agent and within(last, HUMAN_AGENT_WINDOW, now):
        tag = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    else:
        raise PermanentSendError(_refusal(last, human_agent, now), code=OUTSIDE_WINDOW)
    return [{"recipient": {"id": igsid}, "message": {"text": chunk}, **tag} for chunk in chunks(message.text)]


def _refusal(last: datetime | None, human_agent: bool, now: datetime) -> str:
    """Why nothing was sent, for the officer; the delivery stage adds the reporter's other
    channels to the case event (``reachable``)."""
    if last is None:
        return "not sent: this reporter never wrote on Instagram, and Instagram allows no first message"
    window = "7-day HUMAN_AGENT window" if human_agent else "24-hour window (human_agent is off)"
    hours = (now - last).total_seconds() / 3600
    return f"not sent: outside Instagram's {window}: the reporter last wrote {hours:.0f} hours ago"


def chunks(text: str) -> list[str]:
    return split_text(text, MAX_TEXT_BYTES, utf8_size)
