"""A local HTTP server speaking the documented Graph API, for tests and the benchmark: no test
can reach Meta. It answers what Meta answers (and nothing we would like it to answer instead):

* ``POST /<version>/<phone-number-id>/messages`` (WhatsApp): ``{"messaging_product", "contacts",
  "messages": [{"id": "wamid…"}]}``; ``POST /<version>/<ig-account-id>/messages`` (Instagram
  Send API, a body with ``recipient``): ``{"recipient_id", "message_id"}``;
* ``GET /<version>/<media-id>``: ``{"messaging_product", "url", "mime_type", "sha256",
  "file_size", "id"}``, the URL served by ``GET /media/<media-id>`` with the same bearer token;
* ``GET /<version>/<IGSID>?fields=name,username`` (Instagram's User Profile API): the fields asked
  for that :attr:`GraphServer.profiles` has (``name`` may be null), Meta's 100 for an unknown id,
  and :attr:`GraphServer.profile_refusal` for every lookup once set (code 10, no permission; 230,
  no consent);
  ``GET /cdn/<name>``: a signed CDN URL as Instagram's attachments have (no token);
* errors in Meta's shape, ``{"error": {"message", "type", "code", "error_data", "fbtrace_id"}}``,
  scripted with :meth:`GraphServer.fail_next` (429 with ``Retry-After``, 5xx, 131047, 190…), and
  190 for every call once :meth:`GraphServer.expire_token` was called.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from connectors.base import Connector

C = TypeVar("C", bound=Connector[Any])
ERROR_TYPES = {190: "OAuthException", 100: "OAuthException"}


@dataclass
class Fault:
    status: int
    code: int | None
    message: str
    retry_after: str | None = None


@dataclass
class GraphServer:
    token: str
    version: str = "v21.0"
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    """media id (or CDN name) -> (bytes, content type)."""
    sent: list[dict[str, Any]] = field(default_factory=list)
    """Every accepted send, as ``{"path", "body"}``."""
    calls: list[str] = field(default_factory=list)
    """Every request, ``METHOD path``."""
    faults: deque[Fault] = field(default_factory=deque)
    media_faults: deque[Fault] = field(default_factory=deque)
    expired: bool = False
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    """IGSID -> its profile fields (``name``, ``username``, ``profile_pic``...)."""
    profile_refusal: Fault | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    base_url: str = ""

    def fail_next(
        self, status: int, code: int | None, message: str, *, retry_after: str | None = None, times: int = 1
    ) -> None:
        """The next ``times`` sends are refused so."""
        self.faults.extend(Fault(status, code, message, retry_after) for _ in range(times))

    def fail_media(self, status: int, code: int | None, message: str, *, times: int = 1) -> None:
        self.media_faults.extend(Fault(status, code, message) for _ in range(times))

    def expire_token(self) -> None:
        self.expired = True

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(f"/{self.version}/{{account}}/messages", self._messages)
        app.router.add_get(f"/{self.version}/{{media_id}}", self._media_url)
        app.router.add_get("/media/{media_id}", self._media_bytes)
        app.router.add_get("/cdn/{name}", self._cdn)
        return app

    def _authorized(self, request: web.Request) -> web.Response | None:
        self.calls.append(f"{request.method} {request.path}")
        if self.expired or request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, 190, "Error validating access token: Session has expired on Tuesday, 01-Dec-26.")
        return None

    async def _messages(self, request: web.Request) -> web.Response:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        body = await request.json()
        if self.faults:
            fault = self.faults.popleft()
            return _error(fault.status, fault.code, fault.message, fault.retry_after)
        number = next(self._ids)
        self.sent.append({"path": request.path, "account": request.match_info["account"], "body": body})
        if "recipient" in body:  # Instagram's Send API
            return web.json_response(
                {"recipient_id": body["recipient"]["id"], "message_id": f"aWdfZAG1faXRlbT{number:010d}"}
            )
        to = body.get("to", "")
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": f"wamid.HBgL{number:012d}"}],
            }
        )

    async def _media_url(self, request: web.Request) -> web.Response:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        media_id = request.match_info["media_id"]
        if "fields" in request.query and media_id not in self.media:
            return self._profile(media_id, request.query["fields"])
        if self.media_faults:
            fault = self.media_faults.popleft()
            return _error(fault.status, fault.code, fault.message, fault.retry_after)
        if media_id not in self.media:
            return _error(400, 100, f"Unsupported get request. Object with ID '{media_id}' does not exist")
        data, content_type = self.media[media_id]
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.base_url}/media/{media_id}",
                "mime_type": content_type,
                "sha256": hashlib.sha256(data).hexdigest(),
                "file_size": len(data),
                "id": media_id,
            }
        )

    def _profile(self, igsid: str, fields: str) -> web.Response:
        if self.profile_refusal is not None:
            fault = self.profile_refusal
            return _error(fault.status, fault.code, fault.message, fault.retry_after)
        profile = self.profiles.get(igsid)
        if profile is None:
            return _error(
                400,
                100,
                f"Unsupported get request. Object with ID '{igsid}' does not exist, cannot be loaded due to "
                "missing permissions, or does not support this operation",
            )
        wanted = [f.strip() for f in fields.split(",") if f.strip()]
        return web.json_response({**{f: profile.get(f) for f in wanted}, "id": igsid})

    async def _media_bytes(self, request: web.Request) -> web.Response:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        found = self.media.get(request.match_info["media_id"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[0], content_type=found[1])

    async def _cdn(self, request: web.Request) -> web.Response:
        self.calls.append(f"GET {request.path}")
        found = self.media.get(request.match_info["name"])
        if found is None or "Authorization" in request.headers:
            return web.Response(status=403 if found else 404, text="URL signature expired")
        return web.Response(body=found[0], content_type=found[1])


def _error(status: int, code: int | None, message: str, retry_after: str | None = None) -> web.Response:
    headers = {"Retry-After": retry_after} if retry_after else None
    error: dict[str, Any] = {
        "message": message,
        "type": ERROR_TYPES.get(code or 0, "GraphMethodException"),
        "fbtrace_id": "AbCdEfGh",
    }
    if code is not None:
        error["code"] = code
        error["error_data"] = {"messaging_product": "whatsapp", "details": message}
    return web.json_response({"error": error}, status=status, headers=headers)


@asynccontextmanager
async def running(server: GraphServer) -> AsyncIterator[str]:
    """Serve ``server`` on a free loopback port; yields its base URL (``graph_api_url``)."""
    runner = web.AppRunner(server.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield server.base_url
    finally:
        await runner.cleanup()


@asynccontextmanager
async def connected(server: GraphServer, connector_class: type[C], section: dict[str, Any]) -> AsyncIterator[C]:
    """``server`` running, and a started connector of ``connector_class`` sending to it."""
    async with running(server) as url:
        connector = connector_class.from_section({**section, "graph_api_url": url})
        await connector.start()
        try:
            yield connector
        finally:
            await connector.stop()


def signature(app_secret: str, body: bytes) -> dict[str, str]:
    """The header Meta adds to a webhook POST: ``X-Hub-Signature-256: sha256=<hex>``."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}
