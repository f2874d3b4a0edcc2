"""What the test channels that send share: each message given to ``send`` is written to a folder
as ``<outbox id>.json``, whole (a test reads the folder meanwhile), where the test reads what
the reporter would have got."""

from __future__ import annotations

from pathlib import Path

from connectors.base import (
    Connector,
    ConnectorConfig,
    Outbound,
    OutboundMessage,
    Parsed,
    RawMessage,
    SendResult,
    UnsupportedEvent,
)


class FolderConfig(ConnectorConfig):
    folder: Path


def write_sent(folder: Path, message: OutboundMessage) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{message.outbox_id:06d}.json"
    partial = target.with_suffix(".part")  # never a half-written file in the folder
    partial.write_text(message.model_dump_json(by_alias=True))
    partial.replace(target)


def sent(folder: Path) -> list[OutboundMessage]:
    """What was sent into ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    return [OutboundMessage.model_validate_json(path.read_text()) for path in sorted(folder.glob("*.json"))]


class FolderSender(Connector[FolderConfig], Outbound):
    """A send-only channel; a subclass gives its ``spec``."""

    config_model = FolderConfig

    def parse(self, raw_id: int, raw: RawMessage) -> Parsed:
        raise UnsupportedEvent("this test channel only sends")

    async def send(self, message: OutboundMessage) -> SendResult:
        write_sent(self.config.folder, message)
        return SendResult(f"{self.spec.name}-{message.outbox_id}")
