"""The shared aiohttp server: every connector's webhooks and routes, the probes, and the metrics.

Every request passes one middleware (:func:`front`): request bodies share a memory budget, every
error leaves in the one JSON shape of :mod:`pipeline.errors`, each refused request is counted by
channel and status, and a storage outage is a 503 with ``Retry-After``, logged once when it
starts and once when it ends rather than once per request. What the middleware itself refuses (a
body over the limit, no room in the budget, storage away, a bug) a browser gets as a short page
in Indonesian, with the same status: a reporter must never face raw JSON.

``/metrics`` is not public: it is served on ``http.admin_port`` (with the probes), and on the
public port only to a holder of ``http.metrics_token``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp.web import AbstractResource
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from config.settings import HttpSettings
from connectors.base import Connector, Ingest, MessageStatus, StoredMessage, WebhookInbound, page_templates, size_text
from envelopes import RawMessage, Stored
from pipeline.errors import JSON, error_body, json_error
from pipeline.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from pipeline.metrics import Metrics
from pipeline.queues import Topology
from pipeline.webhooks import WebhookHandler

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
READY_TIMEOUT_SECONDS = 3.0
STORAGE_RETRY_AFTER_SECONDS = 5
NO_CHANNEL = "none"
"""The ``channel`` label of a request that no connector's route took (probes, unknown paths)."""
KEPT_HEADERS = frozenset({"Allow", "Retry-After", "WWW-Authenticate"})
HTML = "text/html"
PAGE_NOTICES = {
    413: (
        "Kiriman terlalu besar",
        "Kiriman terlalu besar: paling banyak {size}, lampiran termasuk. Kecilkan atau kurangi lampiran.",
    ),
    500: ("Terjadi kesalahan", "Terjadi kesalahan pada sistem kami. Coba lagi nanti."),
    503: ("Layanan sedang terganggu", "Layanan sedang sibuk atau terganggu. Coba lagi dalam {seconds} detik."),
}
"""What a browser is told, by status: the title and the notice of the page."""
T = TypeVar("T")
_PAGES = page_templates()


class Refused(Exception):
    """A request the server itself turns away before any handler runs (413, 503)."""

    def __init__(self, status: int, reason: str, *, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


class BodyBudget:
    """Bounds the request bodies held in memory at once, whatever the route (webhooks, the form's
    multipart): a request reserves its Content-Length (the body limit when it sends none, at least
    ``floor`` bytes) before its body is read, waits up to ``wait`` seconds for room, and is
    answered 503 with ``Retry-After`` when none comes; so the number of requests holding a body is
    bounded too (``total / floor``)."""

    def __init__(self, total: int, max_body_bytes: int, *, floor: int = 16 * 1024, wait: float = 1.0) -> None:
        self.free = total
        self.max_body_bytes = max_body_bytes
        self.floor = floor
        self.wait = wait
        self._room = asyncio.Event()
        self._waiters = 0

    def need(self, request: web.Request) -> int:
        """What the request must reserve (0 without a body); :class:`Refused` (413) when its
        Content-Length is over the body limit."""
        if not request.body_exists:
            return 0
        size = request.content_length
        if size is not None and size > self.max_body_bytes:
            raise Refused(413, f"the body is larger than {self.max_body_bytes} bytes")
        return max(self.floor, self.max_body_bytes if size is None else size)

    async def take(self, need: int) -> None:
        """Reserve ``need`` bytes, waiting up to ``wait`` seconds for room; :class:`Refused` (503)
        when none comes. The common case, room and nobody queued, neither locks nor suspends."""
        if self.free < need or self._waiters:
            await self._wait_for_room(need)
        self.free -= need  # no await since the check: nothing else ran on the loop in between

    def give_back(self, need: int) -> None:
        self.free += need
        if self._waiters:
            self._room.set()

    async def _wait_for_room(self, need: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait
        self._waiters += 1
        try:
            while self.free < need:
                self._room.clear()  # no await since the check: a give_back after it sets it again
                async with asyncio.timeout_at(deadline):
                    await self._room.wait()
        except TimeoutError:
            raise Refused(503, "too many requests in progress, try again", retry_after=1) from None
        finally:
            self._waiters -= 1


class StorageWatch:
    """Says once that storage refuses requests, and once that it answers again, with the count of
    requests refused in between: an outage at 50 requests/s must not write a traceback each."""

    def __init__(self) -> None:
        self.refused = 0
        self._since = 0.0

    def refuse(self, exc: SQLAlchemyError) -> None:
        if not self.refused:
            self._since = time.monotonic()
            logger.warning("storage unavailable (%s): answering 503 until it is back", type(exc).__name__)
        self.refused += 1

    def answered(self) -> None:
        if self.refused:
            logger.info(
                "storage available again after %.1f s; %d requests were refused",
                time.monotonic() - self._since,
                self.refused,
            )
            self.refused = 0


class WatchedIngest:
    """The :class:`Ingest` handed to connectors: each call that reached storage tells the watch it
    is up, so the end of an outage is logged at the first request that stored or read again."""

    def __init__(self, inner: Ingest, watch: StorageWatch) -> None:
        self.inner = inner
        self.watch = watch

    async def accept(self, messages: Sequence[RawMessage]) -> list[Stored]:
        return self._seen(await self.inner.accept(messages))

    async def status(self, channel: str, raw_id: int) -> MessageStatus | None:
        return self._seen(await self.inner.status(channel, raw_id))

    async def stored(self, channel: str, external_id: str) -> StoredMessage | None:
        return self._seen(await self.inner.stored(channel, external_id))

    async def put_blob(self, data: bytes) -> str:
        return await self.inner.put_blob(data)

    async def state_get(self, channel: str, key: str) -> str | None:
        return self._seen(await self.inner.state_get(channel, key))

    async def state_set(self, channel: str, key: str, value: str) -> None:
        await self.inner.state_set(channel, key, value)
        self.watch.answered()

    async def state_setdefault(self, channel: str, key: str, value: str) -> str:
        return self._seen(await self.inner.state_setdefault(channel, key, value))

    def _seen(self, result: T) -> T:
        self.watch.answered()
        return result


def front(
    metrics: Metrics, budget: BodyBudget, watch: StorageWatch, channels: Mapping[AbstractResource | None, str]
) -> Middleware:
    """The middleware every request passes (see the module's docstring)."""

    def refused(request: web.Request, status: int, reason: str, retry_after: int | None = None) -> web.Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        if status in PAGE_NOTICES and prefers_html(request.headers.get("Accept", "")):
            title, notice = PAGE_NOTICES[status]
            size = size_text(budget.max_body_bytes)
            page = _PAGES.get_template("refused.html").render(
                title=title, notice=notice.format(size=size, seconds=retry_after)
            )
            return web.Response(text=page, status=status, content_type=HTML, charset="utf-8", headers=headers)
        return _error(status, reason, headers)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        channel = channels.get(request.match_info.route.resource, NO_CHANNEL)
        answering = metrics.answering()
        status = 500
        try:
            need = budget.need(request)
            if need:
                await budget.take(need)
            try:
                response = await handler(request)
            finally:
                if need:
                    budget.give_back(need)
            status = response.status
            return response
        except Refused as exc:
            status = exc.status
            return refused(request, status, exc.reason, exc.retry_after)
        except web.HTTPException as exc:
            status = exc.status
            if status < 400 or exc.content_type == JSON:
                raise  # a redirect, or an error already in the shape (json_error, a connector's own)
            return _in_shape(exc)
        except SQLAlchemyError as exc:
            status = 503
            watch.refuse(exc)
            return refused(request, 503, "storage unavailable, try again", STORAGE_RETRY_AFTER_SECONDS)
        except Exception:
            logger.exception("unhandled error", extra={"path": request.path, "channel": channel})
            return refused(request, 500, "internal error")
        finally:
            metrics.answered(answering, channel, status)

    return middleware


def prefers_html(accept: str) -> bool:
    """Whether an ``Accept`` header ranks HTML above JSON: a browser's does (``text/html`` before
    ``*/*;q=0.8``); an API client's (``*/*``, ``application/json``, none) does not."""
    ranks: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        ranks[media.lower()] = next((_quality(p[2:]) for p in params if p.lower().startswith("q=")), 1.0)

    def rank(media: str) -> float:
        return ranks.get(media, ranks.get(media.partition("/")[0] + "/*", ranks.get("*/*", 0.0)))

    return rank(HTML) > rank(JSON)


def _quality(text: str) -> float:
    try:
        return min(max(float(text), 0.0), 1.0)
    except ValueError:
        return 0.0  # a malformed weight counts as "not acceptable", never as a 500


def _in_shape(exc: web.HTTPException) -> web.Response:
    """An error raised by a handler or by aiohttp itself (404, 405, 413), in the one shape."""
    default = f"{exc.status}: {exc.reason}"
    reason = exc.text if exc.text and exc.text != default else exc.reason
    return _error(exc.status, reason, {k: v for k, v in exc.headers.items() if k in KEPT_HEADERS})


def _error(status: int, reason: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(error_body(status, reason), status=status, headers=headers)


class Health:
    """``/healthz``: the process answers. ``/readyz``: the database and the broker answer."""

    def __init__(self, engine: Engine, topology: Topology) -> None:
        self.engine = engine
        self.topology = topology
        self.draining = False

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, _request: web.Request) -> web.Response:
        checks = await asyncio.gather(asyncio.to_thread(self._check_database), asyncio.to_thread(self._check_broker))
        problems = {name: problem for name, problem in zip(("database", "broker"), checks, strict=True) if problem}
        if self.draining:
            problems["process"] = "shutting down"
        status = 503 if problems else 200
        return web.json_response(
            {"status": "ready" if not problems else "not ready", "problems": problems}, status=status
        )

    def _check_database(self) -> str | None:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            return type(exc).__name__
        return None

    def _check_broker(self) -> str | None:
        try:
            with self.topology.connection() as connection:
                connection.ensure_connection(max_retries=1, timeout=READY_TIMEOUT_SECONDS)
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            return type(exc).__name__
        return None


def build_app(
    *,
    connectors: Mapping[str, Connector[Any]],
    ingest: Ingest,
    health: Health,
    metrics: Metrics,
    http: HttpSettings,
) -> web.Application:
    """The public server: each connector's declared webhooks and its own routes, and the probes;
    ``/metrics`` only behind ``http.metrics_token``."""
    channels: dict[AbstractResource | None, str] = {}
    watch = StorageWatch()
    budget = BodyBudget(http.max_body_bytes_in_flight, http.max_body_bytes)
    app = web.Application(client_max_size=http.max_body_bytes, middlewares=[front(metrics, budget, watch, channels)])
    _add_probes(app, health)
    if http.metrics_token is not None:
        token = http.metrics_token.get_secret_value().encode()
        app.router.add_get("/metrics", _bearer(token, _metrics_handler(metrics)))
    watched = WatchedIngest(ingest, watch)
    for name, connector in connectors.items():
        if not isinstance(connector, WebhookInbound):
            continue
        routes: list[web.RouteDef] = []
        for endpoint in connector.webhooks():
            routes += WebhookHandler(name, endpoint, watched, max_body_bytes=http.max_body_bytes).routes()
        routes += connector.routes(watched)
        for route in app.add_routes(routes):
            channels[route.resource] = name
    return app


def build_admin_app(health: Health, metrics: Metrics) -> web.Application:
    """The probes and the metrics, for ``http.admin_port``: every process serves them there."""
    channels: dict[AbstractResource | None, str] = {}
    app = web.Application(
        client_max_size=1024, middlewares=[front(metrics, BodyBudget(1024**2, 1024), StorageWatch(), channels)]
    )
    _add_probes(app, health)
    app.router.add_get("/metrics", _metrics_handler(metrics))
    return app


def _add_probes(app: web.Application, health: Health) -> None:
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)


def _metrics_handler(metrics: Metrics) -> Handler:
    async def exposition(_request: web.Request) -> web.Response:
        """Prometheus text format; the backlog is counted in the database, off the event loop."""
        body = await asyncio.to_thread(metrics.exposition)
        return web.Response(body=body, headers={"Content-Type": METRICS_CONTENT_TYPE})

    return exposition


def _bearer(token: bytes, handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        sent = request.headers.get("Authorization", "")
        scheme, _, given = sent.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token):
            raise json_error(401, "a bearer token is needed", headers={"WWW-Authenticate": "Bearer"})
        return await handler(request)

    return guarded
