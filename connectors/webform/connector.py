"""Web-form connector: reports from the institution's reporting app and its public page.

Inbound: ``POST /api/v1/reports`` (JSON, multipart with attachments, or a plain form) answers 202
only after the report is stored; ``/pengaduan`` is the public page (an HTML form) posting into
the same path, and offers the form on paper too (``/pengaduan/formulir.pdf``, which comes back
as a letter). ``GET /api/v1/reports/{id}`` is the status resource: the receipt is delivered there
as soon as triage writes it, and so is every later message to the reporter (replies, requests,
the follow-up report, the survey link); also by email when the reporter gave an address and SMTP
is configured; the resource tells that email's state.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

from aiohttp import web
from pydantic import SecretStr

from connectors.base import (
    Connector,
    ConnectorConfig,
    ConnectorSpec,
    Ingest,
    NormalizedMessage,
    Outbound,
    OutboundMessage,
    RawMessage,
    SendResult,
    WebhookInbound,
)
from connectors.webform import parser
from connectors.webform.api import REPORTS_PATH, STATUS_RESOURCE_PREFIX, ReportsApi
from connectors.webform.ids import ReportIds
from connectors.webform.intake import CHANNEL, Intake
from connectors.webform.page import ReportPage
from connectors.webform.schema import EVENT_SUBMITTED

__all__ = ["REPORTS_PATH", "WebformConfig", "WebformConnector"]

logger = logging.getLogger(__name__)


class WebformConfig(ConnectorConfig):
    status_secret: SecretStr | None = None
    """Signs the report ids handed out, so that nobody can read another report's status by
    guessing its number. Unset: one is generated and kept in the database."""
    email_receipts: bool = True
    """Also mail the receipt when the reporter gave an address and SMTP is configured."""


class WebformConnector(Connector[WebformConfig], WebhookInbound, Outbound):
    spec = ConnectorSpec(
        name=CHANNEL,
        display_name="Web form (reporting app and public page)",
        roles=frozenset({"webhook", "send"}),
        event_types=frozenset({EVENT_SUBMITTED}),
        capabilities=frozenset({"attachments", "status_resource", "email_receipt", "public_page"}),
    )
    config_model = WebformConfig

    def routes(self, ingest: Ingest) -> Sequence[web.RouteDef]:
        secret = self.config.status_secret
        ids = ReportIds(CHANNEL, ingest, secret.get_secret_value() if secret is not None else None)
        intake = Intake(ingest, ids)
        api = ReportsApi(intake, ids, ingest, mails=self.mails_receipts())
        page = ReportPage(intake, ids, ingest, self.context.zone, self.context.public_url)
        return [*api.routes(), *page.routes()]

    async def start(self) -> None:
        if self.config.email_receipts and self.context.mailer is None:
            _say_email_receipts_are_off()

    def parse(self, raw_id: int, raw: RawMessage) -> NormalizedMessage | None:
        return parser.parse(raw_id, raw)

    def mails_receipts(self) -> bool:
        """Whether a receipt to a reporter who gave an email address is also mailed."""
        return self.config.email_receipts and self.context.mailer is not None

    async def send(self, message: OutboundMessage) -> SendResult:
        mailer = self.context.mailer
        if self.config.email_receipts and mailer is not None and message.recipient.email:
            accepted = await mailer.send_mail(
                to=message.recipient.email,
                subject=message.subject,
                text=message.text,
                message_id=message.idempotency_key,
            )
            return SendResult(accepted)
        # No email applies: the status resource, which shows every message to the reporter from
        # when it was written (``storage.status.messages_to_report``), is all.
        return SendResult(f"{STATUS_RESOURCE_PREFIX}{message.recipient.raw_message_id}")


@functools.cache
def _say_email_receipts_are_off() -> None:
    """Once a process: each component starts its own connectors (http at start-up, deliver at
    its first send), and one warning says it all."""
    logger.warning(
        "email receipts are off: no SMTP account is configured (connectors.email.smtp_host, or the "
        "older [smtp] section); web-form receipts show on the status resource only. Set "
        "connectors.webform.email_receipts = false to turn them off on purpose and silence this"
    )
