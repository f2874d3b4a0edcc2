"""The shared aiohttp server: health checks and every webhook connector's routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any

from aiohttp import web
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from connectors.base import Connector, Ingest
from pipeline.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from pipeline.metrics import Metrics
from pipeline.queues import Topology

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
READY_TIMEOUT_SECONDS = 3.0


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error is JSON with a reason; a storage outage is 503 so the sender retries."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        return web.json_response({"error": exc.reason}, status=exc.status, headers=_kept_headers(exc))
    except SQLAlchemyError:
        logger.exception("storage unavailable", extra={"path": request.path})
        return web.json_response({"error": "storage unavailable, try again"}, status=503, headers={"Retry-After": "5"})


def _kept_headers(exc: web.HTTPException) -> dict[str, str]:
    return {k: v for k, v in exc.headers.items() if k in {"Allow", "Retry-After"}}


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
    max_body_bytes: int,
) -> web.Application:
    app = build_admin_app(health, metrics, max_body_bytes=max_body_bytes)
    for connector in connectors.values():
        app.add_routes(connector.routes(ingest))
    return app


def build_admin_app(health: Health, metrics: Metrics, *, max_body_bytes: int = 1024**2) -> web.Application:
    """The probes and the metrics: all a process without webhooks serves (``http.admin_port``)."""
    app = web.Application(client_max_size=max_body_bytes, middlewares=[json_errors])
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", partial(_metrics, metrics))
    return app


async def _metrics(metrics: Metrics, _request: web.Request) -> web.Response:
    """Prometheus text format; the backlog is counted in the database, off the event loop."""
    body = await asyncio.to_thread(metrics.exposition)
    return web.Response(body=body, headers={"Content-Type": METRICS_CONTENT_TYPE})
