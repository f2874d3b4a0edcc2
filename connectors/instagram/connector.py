"""Instagram messaging: signed webhooks in, attachments by CDN URL, replies through the Send API
(``POST /{account_id}/messages``) within Instagram's windows.

The webhook names people by IGSID only. Their profile name is looked up through the User Profile
API (``GET /{IGSID}?fields=name,username``) by the framework's profile step, once per person after
their case is made (role ``profile``); where the token may not, the case goes on with the IGSID.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field

from connectors._meta.config import MetaConfig
from connectors._meta.connector import MetaConnector
from connectors._meta.graph import GraphError, is_transient, media_error, token_invalid
from connectors.base import (
    ConnectorNotReady,
    ConnectorSpec,
    FetchedMedia,
    MediaRef,
    MediaUnavailable,
    OutboundMessage,
    PermanentSendError,
    ProfileSource,
    ProfileUnavailable,
    ReporterProfile,
    SendResult,
)
from connectors.instagram import outbound, parser
from connectors.instagram.split import CHANNEL, split

PATH = "/webhooks/instagram"
PROFILE_FIELDS = "name,username"
"""Of the User Profile API's fields, the two an officer calls a person by."""


class InstagramConfig(MetaConfig):
    account_id: str = Field(pattern=r"^\d{1,32}$")
    """The Instagram professional account's id (the ``entry[].id`` of its webhooks)."""
    human_agent: bool = False
    """The app has Meta's human-agent permission: replies tagged HUMAN_AGENT up to 7 days."""


class InstagramConnector(MetaConnector[InstagramConfig], ProfileSource):
    spec = ConnectorSpec(
        name=CHANNEL,
        display_name="Instagram (direct messages)",
        roles=frozenset({"webhook", "send", "media", "profile"}),
        event_types=parser.EVENT_TYPES,
        ignored_event_types=parser.IGNORED,
        capabilities=frozenset({"attachments", "read_receipts", "service_window"}),
        docs_url="https://developers.facebook.com/docs/instagram-platform/webhooks",
    )
    config_model = InstagramConfig

    webhook_path = PATH
    split_webhook = split
    parse_stored = parser.parse

    async def send(self, message: OutboundMessage) -> SendResult:
        recipient = message.recipient
        parts = recipient.conversation_key.split(":", 1)
        igsid = recipient.channel_user_id or (parts[1] if parts[0] == CHANNEL and len(parts) == 2 else None)
        if recipient.via != "conversation" or not igsid:
            raise PermanentSendError("Instagram can only answer a conversation a person started there")
        bodies = outbound.requests(message, igsid, human_agent=self.config.human_agent, now=datetime.now(UTC))
        return await self.post_each(
            f"{self.config.account_id}/messages", bodies, lambda answer: str(answer.get("message_id") or "")
        )

    async def fetch_profile(self, channel_user_id: str) -> ReporterProfile | None:
        """The User Profile API's ``name`` (null when the person set none) and ``username``. Meta
        answers only for someone who wrote to the account (consent, 230) and to a token with the
        messaging permission (10): such refusals are final; throttling, 5xx and a token to be
        replaced (190) are asked again later."""
        if not channel_user_id.isdigit():
            raise ProfileUnavailable("not an Instagram-scoped id")
        try:
            answer = await self.graph.get(channel_user_id, {"fields": PROFILE_FIELDS})
        except GraphError as exc:
            if is_transient(exc) or token_invalid(exc):
                raise ConnectorNotReady(str(exc), retry_after=exc.retry_after) from None
            raise ProfileUnavailable(str(exc)) from None
        name, username = answer.get("name"), answer.get("username")
        profile = ReporterProfile(
            name=name if isinstance(name, str) and name.strip() else None,
            handle=username if isinstance(username, str) and username.strip() else None,
        )
        return profile if profile.name or profile.handle else None

    async def fetch_media(self, media: MediaRef, max_bytes: int) -> FetchedMedia:
        """Attachments come as signed CDN URLs (no token needed); story media go when the story
        does, so a 403 or 404 is final."""
        if not media.media_id.startswith(("https://", "http://")):
            raise MediaUnavailable("the attachment has no URL")
        try:
            data, content_type = await self.graph.download(media.media_id, max_bytes, authorized=False)
        except GraphError as exc:
            raise media_error(exc) from None
        return FetchedMedia(data, content_type or media.content_type or "application/octet-stream", media.filename)
