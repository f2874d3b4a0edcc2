"""The email channel, outbound only for now: receipts and replies to a reporter's address.

It carries a receipt to an email address a report gave when the report's own channel cannot
send (``replies.fallback``). Mail arriving by IMAP is a later step; until then nothing arrives
on this channel, so ``parse`` has nothing to parse.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from connectors.base import (
    Connector,
    ConnectorConfig,
    ConnectorContext,
    ConnectorSpec,
    Outbound,
    OutboundMessage,
    Parsed,
    PermanentSendError,
    RawMessage,
    SendResult,
    UnsupportedEvent,
)
from connectors.email.smtp import Security, SmtpAccount, SmtpMailer

CHANNEL = "email"


class EmailConfig(ConnectorConfig):
    address: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    """The unit's own address: the From of every mail."""
    smtp_host: str = Field(min_length=1)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Security = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None

    def account(self) -> SmtpAccount:
        return SmtpAccount(
            host=self.smtp_host,
            port=self.smtp_port,
            security=self.smtp_security,
            sender=self.address,
            username=self.smtp_username,
            password=self.smtp_password,
        )


class EmailConnector(Connector[EmailConfig], Outbound):
    spec = ConnectorSpec(
        name=CHANNEL,
        display_name="Email",
        roles=frozenset({"send"}),
        event_types=frozenset(),
    )
    config_model = EmailConfig

    def __init__(self, config: EmailConfig, context: ConnectorContext | None = None) -> None:
        super().__init__(config, context)
        self.mailer = SmtpMailer(config.account())

    def parse(self, raw_id: int, raw: RawMessage) -> Parsed:
        raise UnsupportedEvent("the email channel does not receive mail yet")

    async def send(self, message: OutboundMessage) -> SendResult:
        address = message.recipient.email
        if not address:
            raise PermanentSendError("the recipient has no email address")
        accepted = await self.mailer.send_mail(
            to=address,
            subject=message.subject,
            text=message.text,
            message_id=message.idempotency_key,
            in_reply_to=message.in_reply_to,
            automatic=message.purpose != "reply",
        )
        return SendResult(accepted)
