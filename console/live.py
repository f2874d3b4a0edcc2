"""Live updates: new cases and new messages appear on the console's pages without reloading.

``GET /console/live`` is a stream of server-sent events. Every ``POLL_SECONDS`` it asks
``console.queries.changes_since`` (in the officer's scope: a unit officer hears nothing of another
unit) and, when something changed, sends ``event: change`` with the tracking numbers concerned;
the page's script then fetches the page again and swaps in its live regions
(``console/static/console.js``). Each event's ``id`` is the cursor, so a browser that reconnects
(``Last-Event-ID``) misses nothing. A stream ends after ``STREAM_SECONDS`` (the browser reconnects
at once) and when the server shuts down, so that it never holds a shutdown up.

``GET /console/live?format=json&cursor=...`` answers the same once, for a script without
``EventSource`` that polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import orjson
from aiohttp import web
from sqlalchemy import Engine

from console.access import unit_scope
from console.auth import officer_of
from console.queries import BadQuery, Changes, changes_since
from storage.db import reading

if TYPE_CHECKING:
    from pipeline.app import Parts

LIVE = "/console/live"
POLL_SECONDS = 2.0
HEARTBEAT_SECONDS = 15.0
STREAM_SECONDS = 300.0
RETRY_MS = 2000
MAX_CURSOR_CHARS = 512
STOPPING: web.AppKey[asyncio.Event] = web.AppKey("console_live_stopping", asyncio.Event)


def setup(app: web.Application, parts: Parts, *, poll_seconds: float = POLL_SECONDS) -> None:
    live = Live(parts.engine, poll_seconds)
    app[STOPPING] = live.stopping
    app.on_shutdown.append(live.shutdown)
    app.router.add_get(LIVE, live.handle)


def concerned(changes: Changes) -> list[str]:
    """The tracking numbers a change is about, each once, in the order they changed."""
    numbers = [case.tracking_number for case in changes.cases] + [m.tracking_number for m in changes.messages]
    return list(dict.fromkeys(numbers))


def event(name: str, data: object, cursor: str | None = None) -> bytes:
    lines = []
    if cursor is not None:
        lines.append(f"id: {cursor}")
    lines += [f"event: {name}", f"data: {orjson.dumps(data).decode()}", "", ""]
    return "\n".join(lines).encode()


class Live:
    def __init__(self, engine: Engine, poll_seconds: float) -> None:
        self.engine = engine
        self.poll_seconds = poll_seconds
        self.stopping = asyncio.Event()

    async def shutdown(self, _app: web.Application) -> None:
        self.stopping.set()

    def _changes(self, scope: str | None, cursor: str | None) -> Changes:
        with reading(self.engine) as connection:
            return changes_since(connection, scope, cursor)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        officer = officer_of(request)
        if officer is None:
            raise web.HTTPUnauthorized()
        scope = unit_scope(officer)
        cursor = request.headers.get("Last-Event-ID") or request.query.get("cursor") or None
        if cursor is not None and len(cursor) > MAX_CURSOR_CHARS:
            return web.json_response({"error": "cursor: too long"}, status=400)
        try:
            first = await asyncio.to_thread(self._changes, scope, cursor)
        except BadQuery as exc:
            if request.query.get("format") == "json":
                return web.json_response({"error": str(exc)}, status=400)
            first = await asyncio.to_thread(self._changes, scope, None)  # a stale cursor: start from now
            cursor = None
        if request.query.get("format") == "json":
            return web.json_response({"cases": concerned(first) if cursor else [], "cursor": first.cursor})
        return await self._stream(request, scope, first, cursor is not None)

    async def _stream(
        self, request: web.Request, scope: str | None, first: Changes, resumed: bool
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",  # a proxy must not hold the events back
            }
        )
        await response.prepare(request)
        cursor = first.cursor
        ended = time.monotonic() + STREAM_SECONDS
        quiet_since = time.monotonic()
        with contextlib.suppress(ConnectionResetError):
            await response.write(f"retry: {RETRY_MS}\n\n".encode())
            await response.write(event("ready", {}, cursor))
            if resumed and concerned(first):
                await response.write(event("change", {"cases": concerned(first)}, cursor))
            while time.monotonic() < ended and not self.stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), self.poll_seconds)
                if self.stopping.is_set():
                    break
                changes = await asyncio.to_thread(self._changes, scope, cursor)
                cursor = changes.cursor
                numbers = concerned(changes)
                if numbers:
                    await response.write(event("change", {"cases": numbers}, cursor))
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since >= HEARTBEAT_SECONDS:
                    await response.write(b": still here\n\n")  # keeps proxies from closing it
                    quiet_since = time.monotonic()
        return response
