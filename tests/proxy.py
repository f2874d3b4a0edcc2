"""A TCP proxy a test can cut and restore: an outage of the broker or the database, on demand.

It runs its own event loop in a thread, so that it keeps forwarding whatever the test's loop
and the pipeline's threads are doing. :meth:`TcpProxy.cut` drops every open connection and
refuses new ones (nothing listens on the port), as when a server goes away; :meth:`restore`
listens again on the same port. :meth:`TcpProxy.stall` keeps the connections but forwards nothing,
as a server too busy to answer (RabbitMQ blocking publishers under an alarm); :meth:`flow` resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

from tests.support import free_port

CHUNK_BYTES = 65536
CONTROL_TIMEOUT_SECONDS = 10.0


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to the server of a URL; use it as a context manager."""

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        if parts.hostname is None or parts.port is None:
            raise ValueError("the upstream URL needs a host and a port")
        self._upstream_url = upstream_url
        self._upstream = (parts.hostname, parts.port)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    @property
    def url(self) -> str:
        """The upstream URL with the proxy's address in place of the server's."""
        parts = urlsplit(self._upstream_url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    def __enter__(self) -> Self:
        self._thread.start()
        self.restore()
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._control(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CONTROL_TIMEOUT_SECONDS)
        self._loop.close()

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        self._control(self._cut())

    def restore(self) -> None:
        """Accept connections again."""
        self._control(self._listen())

    def stall(self) -> None:
        """Keep every connection open but forward nothing, either way."""
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def flow(self) -> None:
        """Forward again what was held back, and what comes next."""
        self._loop.call_soon_threadsafe(self._flowing.set)

    def _control(self, action: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(action, self._loop).result(CONTROL_TIMEOUT_SECONDS)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _close(self) -> None:
        """Cut, and let every forwarding task end before the loop stops."""
        await self._cut()
        forwarding = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in forwarding:
            task.cancel()
        await asyncio.gather(*forwarding, return_exceptions=True)

    async def _forward(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            client_writer.transport.abort()
            return
        pair = {client_writer, server_writer}
        self._open |= pair
        try:
            await asyncio.gather(
                _pump(client_reader, server_writer, self._flowing), _pump(server_reader, client_writer, self._flowing)
            )
        finally:
            self._open -= pair
            for writer in pair:
                writer.transport.abort()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, flowing: asyncio.Event) -> None:
    """Copy one direction, while ``flowing``, until it ends; then end the other side too."""
    with contextlib.suppress(OSError):
        while data := await reader.read(CHUNK_BYTES):
            await flowing.wait()
            writer.write(data)
            await writer.drain()
    writer.transport.abort()
