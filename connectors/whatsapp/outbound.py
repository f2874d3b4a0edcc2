"""What a reply to a WhatsApp reporter looks like: free text inside the 24-hour customer-service
window, the configured template (with the tracking number and status as parameters) outside it
and to a person who never wrote to us. Pure: the connector sends what this builds."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors._meta.texts import chunks
from connectors._meta.window import SERVICE_WINDOW, within
from connectors.base import OutboundMessage, PermanentSendError

MAX_TEXT_CHARS = 4096
"""WhatsApp's limit for a text message body; a longer reply goes as several messages."""
OUTSIDE_WINDOW = "outside_window"
STATUS_NAMES = {
    "received": "Diterima",
    "verifying": "Sedang diverifikasi",
    "waiting_reporter": "Menunggu keterangan dari Anda",
    "forwarded": "Diteruskan ke unit kerja",
    "in_progress": "Sedang ditindaklanjuti",
    "resolved": "Selesai",
    "closed": "Ditutup",
    "rejected": "Tidak dapat diproses",
}
"""How a case's status reads as a template parameter; an unknown one is shown as it is."""
_TRACKING_IN_SUBJECT = re.compile(r"^\[([A-Z0-9-]+)\]")

Parameter = Literal["tracking_number", "status"]


class Template(BaseModel):
    """An approved message template: ``{ name = "tanda_terima", language = "id" }``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=512)
    language: str = Field(default="id", min_length=2, max_length=15)
    parameters: tuple[Parameter, ...] = ("tracking_number", "status")
    """The body's ``{{1}}``, ``{{2}}``… in order, as submitted for approval."""


class Templates(BaseModel):
    """``[connectors.whatsapp.templates]``: ``receipt`` for receipts, ``status`` for every other
    message (status answers, replies, surveys) outside the window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    receipt: Template | None = None
    status: Template | None = None

    def for_purpose(self, purpose: str) -> Template | None:
        return self.receipt if purpose == "receipt" else self.status


def bodies(message: OutboundMessage, to: str, templates: Templates, now: datetime) -> list[dict[str, Any]]:
    """The ``/messages`` request bodies: free text inside the window (a long one as several
    messages, the first quoting the reporter's), else one template; refused before sending when
    no template is configured for the message's purpose."""
    envelope: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
    if message.recipient.via == "conversation" and within(message.last_inbound_at, SERVICE_WINDOW, now):
        found = [
            {**envelope, "type": "text", "text": {"body": part, "preview_url": False}}
            for part in chunks(message.text, MAX_TEXT_CHARS)
        ]
        if message.in_reply_to and message.in_reply_to.startswith("wamid."):
            found[0]["context"] = {"message_id": message.in_reply_to}
        return found
    template = templates.for_purpose(message.purpose)
    why = (
        "the reporter never wrote on WhatsApp"
        if message.recipient.via != "conversation"
        else ("outside WhatsApp's 24-hour customer-service window")
    )
    if template is None:
        raise PermanentSendError(
            f"{why} and no template is configured for {message.purpose} "
            f"(connectors.whatsapp.templates.{'receipt' if message.purpose == 'receipt' else 'status'}): not sent",
            code=OUTSIDE_WINDOW,
        )
    values = {"tracking_number": _tracking_number(message), "status": _status(message)}
    parameters = [{"type": "text", "text": values[name]} for name in template.parameters]
    spec: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if parameters:
        spec["components"] = [{"type": "body", "parameters": parameters}]
    return [{**envelope, "type": "template", "template": spec}]


def _tracking_number(message: OutboundMessage) -> str:
    if message.tracking_number:
        return message.tracking_number
    found = _TRACKING_IN_SUBJECT.match(message.subject)
    if found is None:
        raise PermanentSendError("the template needs the case's tracking number, and the message has none")
    return found.group(1)


def _status(message: OutboundMessage) -> str:
    status = message.case_status or "received"
    return STATUS_NAMES.get(status, status)
