"""A local server that answers the Bot API methods the connector uses, as core.telegram.org/bots/api
documents them: ``/bot<token>/<method>`` (form or JSON parameters, ``{"ok": true, "result": ...}``
or ``{"ok": false, "error_code", "description", "parameters": {"retry_after"}}``) and file
downloads at ``/file/bot<token>/<file_path>``.

getUpdates is a long poll: it waits up to ``timeout`` (here at most ``hold`` seconds) for an update
with ``update_id >= offset``; an offset confirms every update before it, which Telegram then
forgets (``forget=False`` keeps them, as if every confirmation had been lost). While a webhook is
set, getUpdates answers 409 as Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

TOKEN = "123456:TEST-token_of-the-bot"
BOT = {"id": 123456, "is_bot": True, "first_name": "ULT Kampus", "username": "ult_kampus_bot"}


@dataclass
class Scripted:
    """An error answer for the next calls of a method."""

    status: int
    description: str
    retry_after: int | None = None


@dataclass
class BotApiServer:
    token: str = TOKEN
    hold: float = 0.3
    forget: bool = True
    page: int = 100
    """At most this many updates per getUpdates (Telegram's limit is 100)."""
    updates: list[dict[str, Any]] = field(default_factory=list)
    confirmed: set[int] = field(default_factory=set)
    sent: list[dict[str, Any]] = field(default_factory=list)
    left: list[int] = field(default_factory=list)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    webhook: dict[str, Any] | None = None
    scripted: dict[str, list[Scripted]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)
    url: str = ""
    _arrived: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _next_message_id: int = 9000

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        return app

    # --- what a test arranges -----------------------------------------------------------------

    def add_update(self, update: dict[str, Any]) -> None:
        """Safe from any thread: the server may run in a thread of its own."""
        self.updates.append(update)
        if self._arrived is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._arrived.set)

    def add_file(self, file_id: str, path: str, data: bytes) -> None:
        self.files[file_id] = (path, data)

    def fail_next(self, method: str, *answers: Scripted) -> None:
        self.scripted.setdefault(method, []).extend(answers)

    def pending(self) -> list[dict[str, Any]]:
        return [u for u in self.updates if u["update_id"] not in self.confirmed]

    # --- serving ------------------------------------------------------------------------------

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        self.calls.append((method, params, time.monotonic()))
        script = self.scripted.get(method)
        if script:
            failure = script.pop(0)
            return _error(failure.status, failure.description, failure.retry_after)
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        answer: web.Response = await handler(params)
        return answer

    async def _getMe(self, params: dict[str, Any]) -> web.Response:
        return _ok(BOT)

    async def _getUpdates(self, params: dict[str, Any]) -> web.Response:
        if self.webhook is not None:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook")
        offset = params.get("offset")
        if offset is not None:
            self.confirmed |= {u["update_id"] for u in self.updates if u["update_id"] < int(offset)}
        if self._arrived is None:
            self._arrived = asyncio.Event()
        wait = min(float(params.get("timeout", 0)), self.hold)
        found = self._after(offset)
        if not found and wait > 0:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), wait)
            found = self._after(offset)
        limit = min(int(params.get("limit", 100)), self.page)
        return _ok(found[:limit])

    def _after(self, offset: Any) -> list[dict[str, Any]]:
        start = int(offset) if offset is not None else None
        return [
            u
            for u in self.updates
            if (start is None or u["update_id"] >= start) and (not self.forget or u["update_id"] not in self.confirmed)
        ]

    async def _sendMessage(self, params: dict[str, Any]) -> web.Response:
        self._next_message_id += 1
        self.sent.append({**params, "message_id": self._next_message_id})
        chat = {"id": int(params["chat_id"]), "type": "private"}
        return _ok({"message_id": self._next_message_id, "date": 1764561600, "chat": chat, "text": params["text"]})

    async def _leaveChat(self, params: dict[str, Any]) -> web.Response:
        self.left.append(int(params["chat_id"]))
        return _ok(True)

    async def _getFile(self, params: dict[str, Any]) -> web.Response:
        found = self.files.get(str(params["file_id"]))
        if found is None:
            return _error(400, "Bad Request: wrong file_id or the file is temporarily unavailable")
        path, data = found
        return _ok(
            {"file_id": params["file_id"], "file_unique_id": "u" + path, "file_size": len(data), "file_path": path}
        )

    async def _setWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = params
        return _ok(True)

    async def _deleteWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = None
        return _ok(True)

    async def _getWebhookInfo(self, params: dict[str, Any]) -> web.Response:
        url = self.webhook["url"] if self.webhook else ""
        return _ok({"url": url, "has_custom_certificate": False, "pending_update_count": len(self.pending())})

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        for stored_path, data in self.files.values():
            if stored_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return web.Response(status=404)

    # --- running ------------------------------------------------------------------------------

    async def __aenter__(self) -> BotApiServer:
        self._loop = asyncio.get_running_loop()
        self._server = TestServer(self.app(), host="127.0.0.1")
        await self._server.start_server()
        self.url = str(self._server.make_url("")).rstrip("/")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.close()

    @contextmanager
    def in_thread(self) -> Iterator[BotApiServer]:
        """Served from a thread of its own (for a caller that cannot await, the pull contract)."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        stopping: asyncio.Future[None] | None = None

        async def serve() -> None:
            nonlocal stopping
            async with self:
                stopping = loop.create_future()
                ready.set()
                await stopping

        thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
        thread.start()
        ready.wait(10)
        try:
            yield self
        finally:
            assert stopping is not None
            loop.call_soon_threadsafe(stopping.set_result, None)
            thread.join(10)
            loop.close()


async def _params(request: web.Request) -> dict[str, Any]:
    """The method's parameters, from the query, a form (values JSON-encoded when not strings, as
    python-telegram-bot sends them) or a JSON body."""
    found: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        found.update(await request.json())
    elif request.can_read_body:
        for key, value in (await request.post()).items():
            found[key] = _value(value) if isinstance(value, str) else value
    return found


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)
