"""WhatsApp Cloud API: signed webhooks in, media by id, replies through ``/{phone-number-id}/messages``.

The unit may publish several numbers (``phone_number_ids``); every message keeps which one it
reached, and a reply goes out from that number. Media come as ids: the framework's media step
calls :meth:`WhatsappConnector.fetch_media` after the message is stored (id → short-lived URL →
bytes, both with the token).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pydantic import Field

from connectors._meta.config import MetaConfig
from connectors._meta.connector import MetaConnector
from connectors._meta.graph import GraphError, media_error
from connectors.base import (
    ConnectorSpec,
    FetchedMedia,
    MediaRef,
    MediaTooLarge,
    MediaUnavailable,
    OutboundMessage,
    PermanentSendError,
    SendResult,
)
from connectors.whatsapp import outbound, parser
from connectors.whatsapp.split import CHANNEL, MESSAGE, STATUS, split

PATH = "/webhooks/whatsapp"


class WhatsappConfig(MetaConfig):
    phone_number_ids: list[str] = Field(min_length=1)
    """The unit's numbers (Meta's phone number ids, not the numbers): replies to someone who never
    wrote go from the first."""
    templates: outbound.Templates = Field(default_factory=outbound.Templates)


class WhatsappConnector(MetaConnector[WhatsappConfig]):
    spec = ConnectorSpec(
        name=CHANNEL,
        display_name="WhatsApp (Cloud API)",
        roles=frozenset({"webhook", "send", "media"}),
        event_types=frozenset({MESSAGE, STATUS}),
        ignored_event_types=parser.IGNORED,
        capabilities=frozenset({"attachments", "delivery_status", "templates", "service_window", "proves_phone"}),
        docs_url="https://developers.facebook.com/docs/whatsapp/cloud-api",
    )
    config_model = WhatsappConfig

    webhook_path = PATH
    split_webhook = split
    parse_stored = parser.parse

    async def send(self, message: OutboundMessage) -> SendResult:
        sender, to = self._route(message)
        bodies = outbound.bodies(message, to, self.config.templates, datetime.now(UTC))
        return await self.post_each(f"{sender}/messages", bodies, _message_id)

    def _route(self, message: OutboundMessage) -> tuple[str, str]:
        """(our phone number id, their wa_id): from the number they wrote to; a person who never
        wrote (``via`` phone) gets the first number."""
        recipient = message.recipient
        first = self.config.phone_number_ids[0]
        if recipient.via == "phone":
            if not recipient.phone:
                raise PermanentSendError("the recipient has no phone number")
            return first, recipient.phone.lstrip("+")
        parts = recipient.conversation_key.split(":")
        ours = parts[1] if len(parts) == 3 and parts[0] == CHANNEL else first
        to = recipient.channel_user_id or (parts[2] if len(parts) == 3 else None) or recipient.phone
        if not to:
            raise PermanentSendError("the conversation names no WhatsApp user")
        return (ours if ours in self.config.phone_number_ids else first), to.lstrip("+")

    async def fetch_media(self, media: MediaRef, max_bytes: int) -> FetchedMedia:
        """Media id → URL (valid 5 minutes, so resolved again on every try) → bytes."""
        try:
            info = await self.graph.get(quote(media.media_id, safe=""))
            url = info.get("url")
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise MediaUnavailable("the Graph API gave no URL for the media id")
            size = info.get("file_size")
            if isinstance(size, int | str) and str(size).isdigit() and int(size) > max_bytes:
                raise MediaTooLarge(max_bytes)
            data, content_type = await self.graph.download(url, max_bytes, authorized=True)
        except GraphError as exc:
            raise media_error(exc) from None
        declared = info.get("mime_type") if isinstance(info.get("mime_type"), str) else None
        return FetchedMedia(
            data=data,
            content_type=declared or media.content_type or content_type or "application/octet-stream",
            filename=media.filename,
        )


def _message_id(answer: dict[str, Any]) -> str | None:
    """``{"messages": [{"id": "wamid..."}]}``: the id of the message Meta took."""
    sent = answer.get("messages")
    if isinstance(sent, list) and sent and isinstance(sent[0], dict) and sent[0].get("id"):
        return str(sent[0]["id"])
    return None
