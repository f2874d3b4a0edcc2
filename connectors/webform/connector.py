"""Web-form connector: reports posted by the institution's reporting app, receipts back to it.

Inbound: ``POST /api/v1/reports`` (JSON, or multipart with attachments) answers 202 only after
the report is stored. ``GET /api/v1/reports/{id}`` is the status resource: the receipt is
delivered there as soon as triage writes it, and also by email when the reporter gave an address
and SMTP is configured; the resource tells that email's state.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web
from aiohttp.web_request import FileField
from pydantic import SecretStr, ValidationError

from connectors.base import (
    BlobRef,
    Connector,
    ConnectorConfig,
    ConnectorSpec,
    Ingest,
    NormalizedMessage,
    Outbound,
    OutboundMessage,
    RawMessage,
    ReceiptStatus,
    SendResult,
    Stored,
    StoredMessage,
    WebhookInbound,
)
from connectors.webform import parser
from connectors.webform.schema import (
    EVENT_SUBMITTED,
    MAX_ATTACHMENTS,
    InvalidSubmission,
    Submission,
    fingerprint,
    validate,
)

logger = logging.getLogger(__name__)

CHANNEL = "webform"
REPORTS_PATH = "/api/v1/reports"
SECRET_STATE_KEY = "status_secret"
STATUS_RESOURCE_PREFIX = "status-resource:"
"""Provider id of a receipt delivered to the status resource only (no email applies)."""
REUSED_KEY = (
    "client_reference (or Idempotency-Key) was already used for a different report: "
    "send the identical report to retry, or a new client_reference for a new report"
)


class WebformConfig(ConnectorConfig):
    status_secret: SecretStr | None = None
    """Signs the report ids handed out, so that nobody can read another report's status by
    guessing its number. Unset: one is generated and kept in the database."""
    email_receipts: bool = True
    """Also mail the receipt when the reporter gave an address and SMTP is configured."""


class WebformConnector(Connector[WebformConfig], WebhookInbound, Outbound):
    spec = ConnectorSpec(
        name=CHANNEL,
        display_name="Web form (reporting app)",
        roles=frozenset({"webhook", "send"}),
        event_types=frozenset({EVENT_SUBMITTED}),
        capabilities=frozenset({"attachments", "status_resource", "email_receipt"}),
    )
    config_model = WebformConfig

    def routes(self, ingest: Ingest) -> Sequence[web.RouteDef]:
        handlers = _Handlers(self.config, ingest, mails=self.mails_receipts())
        return [
            web.post(REPORTS_PATH, handlers.submit),
            web.get(REPORTS_PATH + "/{report_id}", handlers.status),
        ]

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
        # No email applies: the status resource, which shows the receipt from the start, is all.
        return SendResult(f"{STATUS_RESOURCE_PREFIX}{message.recipient.raw_message_id}")


@dataclass(frozen=True, slots=True)
class _Upload:
    ref: BlobRef
    data: bytes


@dataclass(frozen=True, slots=True)
class _Posted:
    """A request body read and parsed, nothing stored yet."""

    payload: bytes
    form: dict[str, Any]
    uploads: list[_Upload]


class _Handlers:
    def __init__(self, config: WebformConfig, ingest: Ingest, *, mails: bool) -> None:
        self.config = config
        self.ingest = ingest
        self.mails = mails
        self._secret: bytes | None = None
        self._secret_lock = asyncio.Lock()

    async def submit(self, request: web.Request) -> web.Response:
        posted = await _read(request)
        try:
            submission = validate(posted.form)
        except InvalidSubmission as exc:
            return web.json_response({"error": "invalid report", "fields": exc.fields}, status=422)
        key = submission.client_reference or request.headers.get("Idempotency-Key")
        external_id = (key or uuid.uuid4().hex)[:512]
        if key and posted.uploads:
            # Answer a retry or a reused key before writing any file: a refused request stores nothing.
            earlier = await self.ingest.stored(CHANNEL, external_id)
            if earlier is not None:
                return await self._answer(Stored(earlier.id, created=False), earlier, submission, posted)
        await self._store_files(posted.uploads)
        [stored] = await self.ingest.accept([_raw_message(external_id, posted, request.content_type)])
        earlier = None if stored.created else await self.ingest.stored(CHANNEL, external_id)
        return await self._answer(stored, earlier, submission, posted)

    async def _answer(
        self, stored: Stored, earlier: StoredMessage | None, submission: Submission, posted: _Posted
    ) -> web.Response:
        """202 for a new report or a retry of the same one; 409 when the key came with another report.

        The database's unique key decided which submission was first, so concurrent ones agree.
        """
        if earlier is not None:
            digest = fingerprint(submission, [upload.ref for upload in posted.uploads])
            if _fingerprint_of(earlier) != digest:
                raise _error(web.HTTPConflict, REUSED_KEY)
        report_id = await self._sign(stored.id)
        return web.json_response(
            {"id": report_id, "status_url": f"{REPORTS_PATH}/{report_id}", "duplicate": not stored.created},
            status=202,
        )

    async def _store_files(self, uploads: Sequence[_Upload]) -> None:
        """Keep the files before the report that names them; each is written whole or not at all."""
        try:
            for upload in uploads:
                await self.ingest.put_blob(upload.data)
        except OSError:
            logger.exception("attachment could not be stored")
            raise _error(web.HTTPServiceUnavailable, "storage unavailable, try again", retry_after=5) from None

    async def status(self, request: web.Request) -> web.Response:
        raw_id = await self._verify(request.match_info["report_id"])
        found = await self.ingest.status(CHANNEL, raw_id) if raw_id is not None else None
        if found is None:
            raise _error(web.HTTPNotFound, "no such report")
        return web.json_response(
            {
                "id": request.match_info["report_id"],
                "status": _public_status(found.state),
                "received_at": found.received_at.isoformat(),
                "tracking_number": found.tracking_number,
                "case_status": found.case_status,
                "receipt": _receipt_view(found.receipt, mails=self.mails),
            }
        )

    async def _key(self) -> bytes:
        if self._secret is None:
            async with self._secret_lock:
                if self.config.status_secret is not None:
                    self._secret = self.config.status_secret.get_secret_value().encode()
                else:
                    kept = await self.ingest.state_setdefault(CHANNEL, SECRET_STATE_KEY, secrets.token_hex(32))
                    self._secret = kept.encode()
        return self._secret

    async def _sign(self, raw_id: int) -> str:
        digest = hmac.new(await self._key(), f"webform:{raw_id}".encode(), hashlib.sha256).hexdigest()
        return f"{raw_id}-{digest[:20]}"

    async def _verify(self, report_id: str) -> int | None:
        number, _, _ = report_id.partition("-")
        if not number.isdigit() or len(number) > 18:
            return None
        expected = await self._sign(int(number))
        return int(number) if hmac.compare_digest(expected, report_id) else None


async def _read(request: web.Request) -> _Posted:
    if request.content_type == "application/json":
        return await _read_json(request)
    if request.content_type == "multipart/form-data":
        return await _read_multipart(request)
    raise _error(web.HTTPUnsupportedMediaType, "send application/json or multipart/form-data")


async def _read_json(request: web.Request) -> _Posted:
    body = await request.read()
    try:
        form = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _error(web.HTTPBadRequest, f"malformed JSON: {exc}") from None
    if not isinstance(form, dict):
        raise _error(web.HTTPUnprocessableEntity, "the body must be a JSON object")
    return _Posted(body, form, [])


async def _read_multipart(request: web.Request) -> _Posted:
    """Fields and files, held in memory (the body limit bounds them) until the fields are valid."""
    posted = await request.post()
    files = [value for value in posted.values() if isinstance(value, FileField)]
    if len(files) > MAX_ATTACHMENTS:
        raise _error(web.HTTPUnprocessableEntity, f"at most {MAX_ATTACHMENTS} attachments")
    form = {key: value for key, value in posted.items() if isinstance(value, str)}
    return _Posted(orjson.dumps(form), form, [_upload(file) for file in files])


def _upload(file: FileField) -> _Upload:
    data = file.file.read()
    ref = BlobRef(
        filename=(file.filename or "attachment")[:255],
        content_type=file.content_type or "application/octet-stream",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    return _Upload(ref, data)


def _raw_message(external_id: str, posted: _Posted, submitted_as: str) -> RawMessage:
    return RawMessage(
        channel=CHANNEL,
        external_id=external_id,
        received_at=datetime.now(UTC),
        content_type="application/json",
        payload=posted.payload,
        headers={parser.EVENT_HEADER: EVENT_SUBMITTED, "x-submitted-as": submitted_as},
        attachments=tuple(upload.ref for upload in posted.uploads),
    )


def _fingerprint_of(report: StoredMessage) -> str | None:
    """The stored report's fingerprint; None if it no longer validates (then it cannot match)."""
    try:
        message = report.message
        return fingerprint(Submission.model_validate(orjson.loads(message.payload)), message.attachments)
    except (orjson.JSONDecodeError, ValidationError):
        return None


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


def _public_status(state: str) -> str:
    return {"triaged": "registered", "dead": "failed", "ignored": "rejected"}.get(state, "processing")


def _error(kind: type[web.HTTPException], message: str, *, retry_after: int | None = None) -> web.HTTPException:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return kind(text=orjson.dumps({"error": message}).decode(), content_type="application/json", headers=headers)
