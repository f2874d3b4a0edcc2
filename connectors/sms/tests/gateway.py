"""A local server following the Android SMS gateway's documented API, and the phone's webhooks.

``POST /messages`` (and the older ``/message``) with Basic auth and ``{"id", "textMessage":
{"text"}, "phoneNumbers", "withDeliveryReport"}`` answers 202 with ``{"id", "state": "Pending",
"recipients": [...]}``; a second message under an id it already holds is refused (409). ``report``
posts the webhooks the phone would post for a message (``sms:sent``, ``sms:delivered``, ...),
signed as the app signs them: ``X-Signature`` = hex HMAC-SHA256 of the body followed by
``X-Timestamp``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

USERNAME, PASSWORD = "sms", "gateway-password"
SIGNING_KEY = "k3y-of-the-gateway"
DEVICE = "ffffffffceb0b1db0000018e937c815b"


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    retry_after: int | None = None


@dataclass
class GatewayServer:
    legacy_only: bool = False
    """An older app: only ``/message``."""
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    scripted: list[Answer] = field(default_factory=list)
    attempts: int = 0
    url: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/message", self._post)
        if not self.legacy_only:
            app.router.add_post("/messages", self._post)
        return app

    async def _post(self, request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"message": "Unauthorized"}, status=401)
        self.attempts += 1
        if self.scripted:
            answer = self.scripted.pop(0)
            headers = {"Retry-After": str(answer.retry_after)} if answer.retry_after is not None else {}
            return web.json_response(answer.body, status=answer.status, headers=headers)
        body = await request.json()
        text = (body.get("textMessage") or {}).get("text") or body.get("message")
        if not text or not body.get("phoneNumbers"):
            return web.json_response({"message": "Text message is empty"}, status=400)
        message_id = body.get("id") or f"gw{len(self.messages)}"
        if message_id in self.messages:
            return web.json_response({"message": "message with this id already exists"}, status=409)
        self.messages[message_id] = {"text": text, "phoneNumbers": body["phoneNumbers"], "path": request.path}
        recipients = [{"phoneNumber": p, "state": "Pending", "error": None} for p in body["phoneNumbers"]]
        return web.json_response(
            {
                "id": message_id,
                "deviceId": DEVICE,
                "state": "Pending",
                "isHashed": False,
                "isEncrypted": False,
                "recipients": recipients,
            },
            status=202,
        )

    async def __aenter__(self) -> GatewayServer:
        self._server = TestServer(self.app(), host="127.0.0.1")
        await self._server.start_server()
        self.url = str(self._server.make_url("")).rstrip("/")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.close()


def event(name: str, payload: dict[str, Any], event_id: str = "Ey6ECgOkVVFjz3CL48B8C") -> bytes:
    return json.dumps(
        {"deviceId": DEVICE, "event": name, "id": event_id, "payload": payload, "webhookId": f"wh-{name}"}
    ).encode()


def signed(body: bytes, key: str = SIGNING_KEY, stamp: int | None = None) -> dict[str, str]:
    timestamp = str(int(time.time()) if stamp is None else stamp)
    signature = hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Signature": signature, "X-Timestamp": timestamp}


async def post(base_url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """What the phone does: POST the event to our webhook."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base_url}/webhooks/sms", data=body, headers=signed(body) if headers is None else headers
        ) as response,
    ):
        return response.status, await response.text()
