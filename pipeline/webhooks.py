"""Serving the webhook endpoints connectors declare: read, verify, split, store, then answer.

A connector only says what its channel does (:class:`connectors.base.WebhookEndpoint`); the
hard parts are done here once. The body is read under its size limit and checked for content
type; the signature is checked in constant time over the raw bytes **before** anything is parsed
or stored (none: 401, wrong: 403); the connector splits the verified body into raw messages (a
body that is not the channel's shape: 400); every message of the batch is stored in one group
commit, and ``ok_status`` is answered only once they are durable. A storage outage propagates to
the server's middleware, which answers 503 with ``Retry-After``, so the sender retries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from aiohttp import web

from connectors.base import (
    HmacSignature,
    Ingest,
    MalformedWebhook,
    RawMessage,
    SecretHeader,
    SignatureInvalid,
    Unverified,
    Verification,
    VerifyToken,
    WebhookEndpoint,
    WebhookRequest,
)
from pipeline.errors import json_error

MAX_CHALLENGE_CHARS = 1024
READ_CHUNK_BYTES = 64 * 1024


class WebhookHandler:
    """One declared endpoint of one channel, as aiohttp handlers."""

    def __init__(self, channel: str, endpoint: WebhookEndpoint, ingest: Ingest, *, max_body_bytes: int) -> None:
        if isinstance(endpoint.verify, HmacSignature) and endpoint.verify.digest not in hashlib.algorithms_available:
            raise ValueError(f"{channel} {endpoint.path}: unknown HMAC digest {endpoint.verify.digest!r}")
        self.channel = channel
        self.endpoint = endpoint
        self.ingest = ingest
        self.max_body_bytes = min(endpoint.max_body_bytes or max_body_bytes, max_body_bytes)

    def routes(self) -> list[web.RouteDef]:
        routes = [web.post(self.endpoint.path, self.post)]
        if self.endpoint.handshake is not None:
            routes.append(web.get(self.endpoint.path, self.handshake))
        return routes

    async def post(self, request: web.Request) -> web.Response:
        if request.content_type not in self.endpoint.content_types:
            raise json_error(415, f"send {' or '.join(sorted(self.endpoint.content_types))}")
        body = await read_capped(request, self.max_body_bytes)
        try:
            verify(self.endpoint.verify, body, request.headers)
        except SignatureInvalid as exc:
            raise json_error(401 if exc.missing else 403, str(exc)) from None
        messages = self._split(request, body)
        if messages:
            await self.ingest.accept(messages)
        if self.endpoint.ok_status == 204:
            return web.Response(status=204)
        return web.json_response({"messages": len(messages)}, status=self.endpoint.ok_status)

    def _split(self, request: web.Request, body: bytes) -> Sequence[RawMessage]:
        verified = WebhookRequest(
            body=body,
            headers=request.headers,
            query=request.query,
            received_at=datetime.now(UTC),
            content_type=request.content_type,
        )
        try:
            messages = self.endpoint.split(verified)
        except (MalformedWebhook, ValueError) as exc:  # ValueError: bad JSON, bad UTF-8, a record refused
            raise json_error(400, f"not a {self.channel} webhook body: {_first_line(exc)}") from None
        for message in messages:
            if message.channel != self.channel:
                raise TypeError(f"{self.channel} split a message for channel {message.channel!r}")
            if "\x00" in message.external_id or any("\x00" in v for v in message.headers.values()):
                raise json_error(400, "a message id or header holds a NUL character")
        return messages

    async def handshake(self, request: web.Request) -> web.Response:
        """Meta's subscription check: echo ``hub.challenge`` when ``hub.verify_token`` matches."""
        assert isinstance(self.endpoint.handshake, VerifyToken)
        mode = request.query.get("hub.mode")
        token = request.query.get("hub.verify_token")
        challenge = request.query.get("hub.challenge")
        if mode != "subscribe" or token is None or not challenge:
            raise json_error(400, "a verification request needs hub.mode=subscribe, hub.verify_token and hub.challenge")
        if len(challenge) > MAX_CHALLENGE_CHARS:
            raise json_error(400, "hub.challenge is too long")
        if not hmac.compare_digest(_header_bytes(token), self.endpoint.handshake.token):
            raise json_error(403, "hub.verify_token does not match")
        return web.Response(text=challenge, content_type="text/plain")


async def read_capped(request: web.Request, limit: int) -> bytes:
    """The whole body, refusing (413) as soon as it passes ``limit``, whatever Content-Length said."""
    if request.content_length is not None and request.content_length > limit:
        raise json_error(413, f"the body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(READ_CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise json_error(413, f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def verify(method: Verification, body: bytes, headers: Mapping[str, str]) -> None:
    """Raise :class:`SignatureInvalid` unless the request is signed as ``method`` says."""
    if isinstance(method, Unverified):
        return
    if isinstance(method, SecretHeader):
        sent = headers.get(method.header)
        if not sent:
            raise SignatureInvalid(f"no {method.header} header", missing=True)
        if not hmac.compare_digest(_header_bytes(sent), method.secret):
            raise SignatureInvalid(f"{method.header} does not match")
        return
    _verify_hmac(method, body, headers)


def _verify_hmac(method: HmacSignature, body: bytes, headers: Mapping[str, str]) -> None:
    sent = headers.get(method.header)
    if not sent:
        raise SignatureInvalid(f"no {method.header} header", missing=True)
    signed = body
    if method.timestamp_header is not None:
        stamp = headers.get(method.timestamp_header)
        if not stamp:
            raise SignatureInvalid(f"no {method.timestamp_header} header", missing=True)
        signed = body + _header_bytes(stamp)
    given = _decode_signature(sent, method)
    expected = hmac.new(method.secret, signed, method.digest).digest()
    if not hmac.compare_digest(expected, given):
        raise SignatureInvalid(f"{method.header} does not match the body")
    if method.timestamp_header is not None and method.max_skew_seconds is not None:
        _check_skew(headers[method.timestamp_header], method)


def _decode_signature(sent: str, method: HmacSignature) -> bytes:
    if not sent.isascii() or not sent.startswith(method.prefix):
        raise SignatureInvalid(f"{method.header} is malformed")
    text = sent[len(method.prefix) :]
    try:
        if method.encoding == "hex":
            return bytes.fromhex(text)
        return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise SignatureInvalid(f"{method.header} is not {method.encoding}") from None


def _check_skew(stamp: str, method: HmacSignature) -> None:
    assert method.max_skew_seconds is not None
    try:
        seconds = float(stamp)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        raise SignatureInvalid(f"{method.timestamp_header} is not a Unix time in seconds")
    if abs(time.time() - seconds) > method.max_skew_seconds:
        raise SignatureInvalid(f"{method.timestamp_header} is more than {method.max_skew_seconds} s from now")


def _header_bytes(value: str) -> bytes:
    """A header or query value as the bytes that came (aiohttp keeps undecodable ones escaped)."""
    return value.encode("utf-8", "surrogateescape")


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:300]
