"""The reporting app's JSON API: ``POST /api/v1/reports`` and the status resource."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from connectors.base import Ingest, MessageStatus, ReceiptStatus, json_error
from connectors.webform import body
from connectors.webform.ids import ReportIds
from connectors.webform.intake import CHANNEL, Intake
from connectors.webform.schema import InvalidSubmission

REPORTS_PATH = "/api/v1/reports"
STATUS_RESOURCE_PREFIX = "status-resource:"
"""Provider id of a receipt delivered to the status resource only (no email applies)."""


class ReportsApi:
    def __init__(self, intake: Intake, ids: ReportIds, ingest: Ingest, *, mails: bool) -> None:
        self.intake = intake
        self.ids = ids
        self.ingest = ingest
        self.mails = mails

    def routes(self) -> list[web.RouteDef]:
        return [web.post(REPORTS_PATH, self.submit), web.get(REPORTS_PATH + "/{report_id}", self.status)]

    async def submit(self, request: web.Request) -> web.Response:
        try:
            posted = await body.read(request)
            accepted = await self.intake.submit(posted, body.idempotency_key(request), request.content_type)
        except InvalidSubmission as exc:
            raise json_error(422, "invalid report", fields=exc.fields) from None
        except body.Refused as exc:
            raise json_error(exc.status, exc.reason, retry_after=exc.retry_after) from None
        return web.json_response(
            {
                "id": accepted.report_id,
                "status_url": status_url(accepted.report_id),
                "duplicate": accepted.duplicate,
            },
            status=202,
        )

    async def status(self, request: web.Request) -> web.Response:
        found = await report_status(self.ids, self.ingest, request.match_info["report_id"])
        if found is None:
            raise json_error(404, "no such report")
        return web.json_response(
            {
                "id": request.match_info["report_id"],
                "status": public_status(found),
                "received_at": found.received_at.isoformat(),
                "tracking_number": found.tracking_number,
                "case_status": found.case_status,
                "receipt": _receipt_view(found.receipt, mails=self.mails),
                "messages": [message_view(sent, mails=self.mails) for sent in found.sent],
            }
        )


def status_url(report_id: str) -> str:
    return f"{REPORTS_PATH}/{report_id}"


async def report_status(ids: ReportIds, ingest: Ingest, report_id: str) -> MessageStatus | None:
    """How far a report got, when ``report_id`` is one we signed; None for any other text."""
    raw_id = await ids.verify(report_id)
    return await ingest.status(CHANNEL, raw_id) if raw_id is not None else None


def public_status(found: MessageStatus) -> str:
    """``no_report``: triaged without a case (nothing to act on, "halo"), so no tracking number."""
    if found.state == "triaged" and found.tracking_number is None:
        return "no_report"
    return {"triaged": "registered", "dead": "failed", "ignored": "rejected"}.get(found.state, "processing")


def message_view(sent: ReceiptStatus, *, mails: bool) -> dict[str, Any]:
    """One message written to the reporter: readable here from when it was written, which is its
    delivery to this resource (``WebformConnector.send``), whatever becomes of its email copy."""
    return {
        "purpose": sent.purpose,
        "subject": sent.subject,
        "text": sent.text,
        "delivered_at": sent.written_at.isoformat(),
        "email": _email_view(sent, mails=mails),
    }


def _receipt_view(receipt: ReceiptStatus | None, *, mails: bool) -> dict[str, Any] | None:
    """The receipt as soon as triage wrote it: that is its delivery to this resource."""
    if receipt is None:
        return None
    return {
        "text": receipt.text,
        "delivered_at": receipt.written_at.isoformat(),
        "email": _email_view(receipt, mails=mails),
    }


def _email_view(receipt: ReceiptStatus, *, mails: bool) -> dict[str, Any] | None:
    """The emailed copy's state, or None when no email applies.

    A sent row says by its provider id whether a mail went out; before that, this process's own
    mail settings say whether one will.
    """
    if not receipt.email:
        return None
    if receipt.state == "sent":
        if (receipt.provider_message_id or "").startswith(STATUS_RESOURCE_PREFIX):
            return None
        return {"state": "sent", "sent_at": receipt.sent_at.isoformat() if receipt.sent_at else None}
    if not mails:
        return None
    return {"state": "failed" if receipt.state == "dead" else "pending", "sent_at": None}
