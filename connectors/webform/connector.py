"""Web-form connector: reports posted by the institution's reporting app, receipts back to it.

Inbound: ``POST /api/v1/reports`` (JSON, or multipart with attachments) answers 202 only after
the report is stored. ``GET /api/v1/reports/{id}`` is the status resource: the receipt is
delivered there, and also by email when the reporter gave an address and SMTP is configured.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
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
    OutboundMessage,
    RawMessage,
    SendResult,
)
from connectors.webform import parser
from connectors.webform.schema import EVENT_SUBMITTED, MAX_ATTACHMENTS, Submission

REPORTS_PATH = "/api/v1/reports"
SECRET_STATE_KEY = "status_secret"


class WebformConfig(ConnectorConfig):
    status_secret: SecretStr | None = None
    """Signs the report ids handed out, so that nobody can read another report's status by
    guessing its number. Unset: one is generated and kept in the database."""
    email_receipts: bool = True
    """Also mail the receipt when the reporter gave an address and SMTP is configured."""


class WebformConnector(Connector[WebformConfig]):
    spec = ConnectorSpec(
        name="webform",
        display_name="Web form (reporting app)",
        inbound="webhook",
        event_types=frozenset({EVENT_SUBMITTED}),
        capabilities=frozenset({"attachments", "status_resource", "email_receipt"}),
    )
    config_model = WebformConfig

    def routes(self, ingest: Ingest) -> Sequence[web.RouteDef]:
        handlers = _Handlers(self.config, ingest)
        return [
            web.post(REPORTS_PATH, handlers.submit),
            web.get(REPORTS_PATH + "/{report_id}", handlers.status),
        ]

    def parse(self, raw_id: int, raw: RawMessage) -> NormalizedMessage | None:
        return parser.parse(raw_id, raw)

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
        # The status resource shows the receipt once this row is marked sent.
        return SendResult(f"status-resource:{message.recipient.raw_message_id}")


class _Handlers:
    def __init__(self, config: WebformConfig, ingest: Ingest) -> None:
        self.config = config
        self.ingest = ingest
        self._secret: bytes | None = None
        self._secret_lock = asyncio.Lock()

    async def submit(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            payload, attachments, form = await self._read_json(request)
        elif request.content_type == "multipart/form-data":
            payload, attachments, form = await self._read_multipart(request)
        else:
            raise _error(web.HTTPUnsupportedMediaType, "send application/json or multipart/form-data")
        try:
            submission = Submission.model_validate(form)
        except ValidationError as exc:
            return web.json_response({"error": "invalid report", "fields": _field_errors(exc)}, status=422)
        external_id = submission.client_reference or request.headers.get("Idempotency-Key") or uuid.uuid4().hex
        raw = RawMessage(
            channel="webform",
            external_id=external_id[:512],
            received_at=datetime.now(UTC),
            content_type="application/json",
            payload=payload,
            headers={parser.EVENT_HEADER: EVENT_SUBMITTED, "x-submitted-as": request.content_type},
            attachments=tuple(attachments),
        )
        [stored] = await self.ingest.accept([raw])
        report_id = await self._sign(stored.id)
        return web.json_response(
            {"id": report_id, "status_url": f"{REPORTS_PATH}/{report_id}", "duplicate": not stored.created},
            status=202,
        )

    async def _read_json(self, request: web.Request) -> tuple[bytes, list[BlobRef], dict[str, Any]]:
        body = await request.read()
        try:
            form = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise _error(web.HTTPBadRequest, f"malformed JSON: {exc}") from None
        if not isinstance(form, dict):
            raise _error(web.HTTPUnprocessableEntity, "the body must be a JSON object")
        return body, [], form

    async def _read_multipart(self, request: web.Request) -> tuple[bytes, list[BlobRef], dict[str, Any]]:
        posted = await request.post()
        files = [value for value in posted.values() if isinstance(value, FileField)]
        if len(files) > MAX_ATTACHMENTS:
            raise _error(web.HTTPUnprocessableEntity, f"at most {MAX_ATTACHMENTS} attachments")
        form = {key: value for key, value in posted.items() if isinstance(value, str)}
        attachments = []
        for upload in files:
            data = upload.file.read()
            digest = await self.ingest.put_blob(data)
            attachments.append(
                BlobRef(
                    filename=(upload.filename or "attachment")[:255],
                    content_type=upload.content_type or "application/octet-stream",
                    size=len(data),
                    sha256=digest,
                )
            )
        return orjson.dumps(form), attachments, form

    async def status(self, request: web.Request) -> web.Response:
        raw_id = await self._verify(request.match_info["report_id"])
        found = await self.ingest.status("webform", raw_id) if raw_id is not None else None
        if found is None:
            raise _error(web.HTTPNotFound, "no such report")
        receipt = (
            {"text": found.receipt_text, "delivered_at": found.receipt_delivered_at.isoformat()}
            if found.receipt_text and found.receipt_delivered_at
            else None
        )
        return web.json_response(
            {
                "id": request.match_info["report_id"],
                "status": _public_status(found.state),
                "received_at": found.received_at.isoformat(),
                "tracking_number": found.tracking_number,
                "case_status": found.case_status,
                "receipt": receipt,
            }
        )

    async def _key(self) -> bytes:
        if self._secret is None:
            async with self._secret_lock:
                if self.config.status_secret is not None:
                    self._secret = self.config.status_secret.get_secret_value().encode()
                else:
                    kept = await self.ingest.state_setdefault("webform", SECRET_STATE_KEY, secrets.token_hex(32))
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


def _public_status(state: str) -> str:
    return {"triaged": "registered", "dead": "failed", "ignored": "rejected"}.get(state, "processing")


def _field_errors(exc: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "email"
        fields.setdefault(field, error["msg"].removeprefix("Value error, "))
    return fields


def _error(kind: type[web.HTTPException], message: str) -> web.HTTPException:
    return kind(text=orjson.dumps({"error": message}).decode(), content_type="application/json")
