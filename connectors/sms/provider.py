"""Sending SMS, behind a small interface another gateway can implement.

The one built is the open-source "SMS Gateway for Android" app (capcom6/android-sms-gateway): its
local server on the phone (``http://<phone>:8080``) or its cloud/private server
(``https://api.sms-gate.app/3rdparty/v1``), both answering ``POST <gateway_url>/messages`` with
Basic auth and ``{"textMessage": {"text"}, "phoneNumbers": [...], "id", "withDeliveryReport"}``
(older app versions only know ``/message``, tried when ``/messages`` is not found). We choose the
message ``id`` (from the outbox row's idempotency key), so a resend after a crash carries the same
id, which the gateway does not send twice (409 Conflict; older apps accept it quietly), and the
gateway's ``sms:sent``/``sms:delivered``/``sms:failed`` webhooks name it.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Protocol

import aiohttp

from connectors.base import PermanentSendError, TransientSendError

TIMEOUT_SECONDS = 20.0
ID_LENGTH = 21
"""The length of the gateway's own (nano) ids; its servers take ids up to 36 characters."""


class SmsProvider(Protocol):
    """What the SMS connector needs of a gateway."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, phone: str, text: str, key: str) -> str:
        """Hand one text to ``phone`` (E.164) to the gateway; return the id its statuses will name.
        ``key`` is the same for every attempt at the same message. Raise ``TransientSendError``
        or ``PermanentSendError``."""
        ...


def message_id(key: str) -> str:
    """The gateway message id of an outbox row: stable, short, of the gateway's alphabet."""
    return hashlib.sha256(key.encode()).hexdigest()[:ID_LENGTH]


class AndroidSmsGateway:
    """``provider = "android-sms-gateway"``."""

    def __init__(self, gateway_url: str, username: str, password: str) -> None:
        self.base = gateway_url.rstrip("/")
        self._authorization = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            headers={"Authorization": self._authorization}, timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        )

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, phone: str, text: str, key: str) -> str:
        wanted = message_id(key)
        body = {"id": wanted, "textMessage": {"text": text}, "phoneNumbers": [phone], "withDeliveryReport": True}
        status, answer, retry_after = await self._post("/messages", body)
        if status == 404:
            status, answer, retry_after = await self._post("/message", {**body, "message": text, "textMessage": None})
        if status in {200, 201, 202}:
            return str(answer.get("id") or wanted) if isinstance(answer, dict) else wanted
        if status == 409:  # this id was accepted before: the first attempt got through
            return wanted
        why = _reason(answer) or f"HTTP {status}"
        if status in {401, 403}:
            raise PermanentSendError(
                f"the SMS gateway refused our credentials: {why}", code=str(status), channel_down=True
            )
        if status == 429 or status >= 500:
            raise TransientSendError(f"the SMS gateway answered {status}: {why}", retry_after=retry_after)
        raise PermanentSendError(f"the SMS gateway refused the message: {why}", code=str(status))

    async def _post(self, path: str, body: dict[str, Any]) -> tuple[int, Any, float | None]:
        if self._session is None:
            raise RuntimeError("the SMS gateway client is used before start()")
        sent = {k: v for k, v in body.items() if v is not None}
        try:
            async with self._session.post(f"{self.base}{path}", json=sent) as response:
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = None
                retry = response.headers.get("Retry-After", "")
                return response.status, answer, float(retry) if retry.isdigit() else None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientSendError(f"the SMS gateway is not reachable: {type(exc).__name__}") from None


def _reason(answer: Any) -> str | None:
    if isinstance(answer, dict):
        found = answer.get("message") or answer.get("error")
        return str(found)[:300] if found else None
    return None
