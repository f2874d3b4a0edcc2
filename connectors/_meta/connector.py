"""The part of a Meta channel's connector that is Meta's: one Graph API client for the connector's
life, the signed webhook, and sending a reply's requests one after the other."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, TypeVar

from connectors._meta.config import MetaConfig
from connectors._meta.graph import GraphClient, GraphError, send_error
from connectors._meta.webhook import endpoint
from connectors.base import (
    Connector,
    ConnectorContext,
    MediaSource,
    Outbound,
    Parsed,
    RawMessage,
    SendResult,
    TransientSendError,
    WebhookEndpoint,
    WebhookInbound,
    WebhookRequest,
)

MetaConfigT = TypeVar("MetaConfigT", bound=MetaConfig)


class MetaConnector(Connector[MetaConfigT], WebhookInbound, Outbound, MediaSource):
    webhook_path: ClassVar[str]
    split_webhook: ClassVar[Callable[[WebhookRequest], Sequence[RawMessage]]]
    """The channel's ``split``: one webhook body → its raw messages."""
    parse_stored: ClassVar[Callable[[int, RawMessage], Parsed]]
    """The channel's pure ``parse``."""

    def __init__(self, config: MetaConfigT, context: ConnectorContext | None = None) -> None:
        super().__init__(config, context)
        self.graph = GraphClient(config)

    def webhooks(self) -> Sequence[WebhookEndpoint]:
        return [endpoint(self.webhook_path, self.config, type(self).split_webhook)]

    async def start(self) -> None:
        await self.graph.start()

    async def stop(self) -> None:
        await self.graph.close()

    def parse(self, raw_id: int, raw: RawMessage) -> Parsed:
        return type(self).parse_stored(raw_id, raw)

    async def post_each(
        self, path: str, bodies: Iterable[dict[str, Any]], sent_id: Callable[[dict[str, Any]], str | None]
    ) -> SendResult:
        """POST each request of one reply in order; the result is the id Meta gave the last. An
        answer without an id is retried (Meta took it, but we cannot follow its status)."""
        last = ""
        for body in bodies:
            try:
                answer = await self.graph.post(path, body)
            except GraphError as exc:
                raise send_error(exc) from None
            last = sent_id(answer) or ""
            if not last:
                raise TransientSendError("the Graph API accepted the message but gave no message id")
        return SendResult(last)
