"""The composition root: builds the parts from the settings and runs the chosen components.

``satupintu run`` runs every component in one process; ``satupintu worker <name>`` runs one.
Stage consumers run in their own threads (kombu and the database sessions are synchronous);
the HTTP server runs on the asyncio loop.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import web
from kombu.entity import Queue
from sqlalchemy import Engine

import console.app as console
import public_pages
from config.routing import RoutingConfig, load_routing
from config.settings import ConfigError, Settings
from connectors.base import Connector, ConnectorContext
from connectors.email import EmailConnector
from connectors.email.smtp import Security, SmtpAccount, SmtpMailer
from connectors.registry import load_enabled
from connectors.webform import WebformConnector
from normalizer.stage import NormalizeStage
from pipeline.consumer import StageConsumer
from pipeline.delivery import DeliveryStage, other_ways_of
from pipeline.dropfolder import drop_folders
from pipeline.http import Health, build_admin_app, build_app
from pipeline.ingest import Ingestor
from pipeline.media import MediaFetcher
from pipeline.metrics import Metrics
from pipeline.profiles import ProfileFetcher, profile_sources
from pipeline.pull import PullHealthCollector, pull_loops
from pipeline.queues import Publisher, Topology
from pipeline.stage import RawStage
from pipeline.sweeper import Sweeper
from storage.blobs import BlobStore
from storage.db import create_db_engine
from storage.migrate import current, head, upgrade
from storage.units import sync_units
from triage.calendar import WorkingCalendar
from triage.lifecycle import Desk
from triage.replies import ReplyPolicy
from triage.stage import TriagePolicy, TriageStage
from triage.sweep import DeadlineWatch

logger = logging.getLogger(__name__)

COMPONENTS = ("http", "normalizer", "triage", "deliver", "sweeper", "media")
SHUTDOWN_GRACE_SECONDS = 10.0
GC_THRESHOLDS = (50_000, 50, 100)
"""The collector's generation thresholds (CPython's default: 700, 10, 10). A message makes and
frees thousands of objects, nearly all by reference counting, so the default ran a young
collection every few messages with next to nothing to find: 10-15 % of the stages' CPU
(bench/README.md). A cycle now waits a little longer to be freed."""


@dataclass(slots=True)
class Parts:
    """What every component is built from."""

    settings: Settings
    engine: Engine
    topology: Topology
    routing: RoutingConfig
    channels: list[str] = field(default_factory=list)
    mailer: SmtpMailer | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Parts:
        parts = cls(
            settings=settings,
            engine=create_db_engine(settings.database_url),
            topology=Topology(settings.broker_url, settings.pipeline.queue_prefix, settings.data_dir),
            routing=load_routing(settings.routing_file),
            mailer=outgoing_mailer(settings),
        )
        parts.channels = sorted(parts.connectors())
        return parts

    def connectors(self) -> dict[str, Connector[Any]]:
        """A fresh set of enabled connectors (each event loop gets its own clients)."""
        context = ConnectorContext(
            mailer=self.mailer, zone=self.settings.zone, public_url=self.settings.survey.public_url
        )
        return load_enabled(self.settings.connectors, context)

    def publisher(self) -> Publisher:
        return Publisher(self.topology, self.channels)

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar.from_settings(self.settings)

    def prepare_database(self) -> None:
        """Migrate and sync the units from routing.toml; safe to run at every start."""
        upgrade(self.engine)
        sync_units(self.engine, self.routing)

    def check_database(self) -> None:
        """Workers do not migrate (several may start at once); they refuse an old schema."""
        found, wanted = current(self.engine), head()
        if found != wanted:
            raise ConfigError(
                f"database_url: the schema is at revision {found or 'none'}, this version needs {wanted}; "
                "run `satupintu db upgrade` first"
            )
        sync_units(self.engine, self.routing)


def outgoing_mailer(settings: Settings) -> SmtpMailer | None:
    """The SMTP account the web form's email receipts use: the email channel's, else the old [smtp].
    A disabled email channel sends nothing at all: no mailer then, whatever else is set."""
    email = settings.connectors.get("email")
    if email is not None:
        channel = EmailConnector.from_section(email)
        if not channel.config.enabled:
            return None
        if email.get("smtp_host"):
            return channel.mailer
    old = settings.smtp
    if old is None:
        return None
    logger.warning(
        "[smtp] is deprecated: move it to [connectors.email] as address, smtp_host, smtp_port, "
        "smtp_security (tls, starttls or plain), smtp_username, smtp_password"
    )
    security: Security = "starttls" if old.starttls else "plain"
    return SmtpMailer(SmtpAccount(old.host, old.port, security, old.sender, old.username, old.password))


class Pipeline:
    """Runs the chosen components until told to stop, then stops them in order."""

    def __init__(self, parts: Parts, components: Iterable[str]) -> None:
        self.parts = parts
        self.components = set(components)
        unknown = self.components - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown components: {sorted(unknown)}")
        self.stop_consumers = threading.Event()
        self.threads: list[threading.Thread] = []
        self.closers: list[Callable[[], None]] = []
        self.health = Health(parts.engine, parts.topology)
        self.metrics = Metrics(parts.engine)
        self.metrics.registry.register(PullHealthCollector(parts.engine))

    def start_threads(self) -> None:
        settings = self.parts.settings.pipeline
        for name, queues, stage in self._stages():
            consumer = StageConsumer(
                name,
                self.parts.topology,
                queues,
                stage.handle,
                stage.publisher,
                batch_size=settings.batch_size,
                stop=self.stop_consumers,
                metrics=self.metrics,
            )
            self._thread(name, consumer.run)
            self.closers.append(stage.close)
        if "sweeper" in self.components:
            sweeper = Sweeper(
                self.parts.engine,
                self.parts.publisher(),
                stale_after=settings.stale_after_seconds,
                interval=settings.sweep_interval_seconds,
                periodic=[DeadlineWatch(self.parts.engine, Desk.from_parts(self.parts)).maybe_sweep],
            )
            everything = self.parts.topology.is_memory
            self._thread("sweeper", lambda: sweeper.run(self.stop_consumers, everything_first=everything))

    def _thread(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=f"satupintu-{name}", daemon=True)
        thread.start()
        self.threads.append(thread)

    def _stages(self) -> list[tuple[str, list[Queue], RawStage[Any] | DeliveryStage]]:
        """The consuming components chosen, each with its queues and its stage."""
        parts, settings = self.parts, self.parts.settings
        attempts = settings.pipeline.max_attempts
        stages: list[tuple[str, list[Queue], RawStage[Any] | DeliveryStage]] = []
        if "normalizer" in self.components:
            connectors = parts.connectors()
            normalize = NormalizeStage(
                parts.engine,
                parts.publisher(),
                connectors,
                max_attempts=attempts,
                other_ways=other_ways_of(connectors, settings.replies.fallback),  # a failed status's offer
            )
            stages.append(("normalizer", [parts.topology.normalize_queue()], normalize))
        if "triage" in self.components:
            connectors = parts.connectors()
            policy = TriagePolicy(
                calendar=parts.calendar(),
                tracking_prefix=settings.tracking.prefix,
                replies=ReplyPolicy(
                    sending=frozenset(name for name, c in connectors.items() if c.spec.can_send),
                    fallback=settings.replies.fallback,
                ),
                tracking_block_size=settings.tracking.block_size,
                thread_window_minutes=settings.triage.thread_window_minutes,
                duplicate_minutes=settings.triage.duplicate_minutes,
                sla=settings.sla,
                templates_dir=settings.templates_dir,
                survey=settings.survey,
                forms_mailed=any(isinstance(c, WebformConnector) and c.mails_receipts() for c in connectors.values()),
            )
            triage = TriageStage(parts.engine, parts.publisher(), parts.routing, policy, max_attempts=attempts)
            stages.append(("triage", [parts.topology.triage_queue()], triage))
        if "deliver" in self.components:
            delivery = DeliveryStage(
                parts.engine,
                parts.publisher(),
                parts.connectors(),
                max_attempts=attempts,
                send_lease=timedelta(seconds=settings.pipeline.send_lease_seconds),
                max_concurrent_sends=settings.pipeline.max_concurrent_sends,
                fallback=settings.replies.fallback,  # the other ways offered when a reply fails for good
            )
            stages.append(("deliver", [parts.topology.deliver_queue(c) for c in parts.channels], delivery))
        return stages

    async def serve(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; then finish what is in hand and close.

        The ``http`` component is the inbound side: it serves the webhook routes and runs the
        pull loops of polling connectors. Every process serves the probes and the metrics on
        ``http.admin_port`` when that is set (the public port has /metrics only behind a token).
        """
        runner: web.AppRunner | None = None
        admin: web.AppRunner | None = None
        ingest: Ingestor | None = None
        inbound: dict[str, Connector[Any]] = {}
        fetching: dict[str, Connector[Any]] = {}
        polls: list[asyncio.Task[None]] = []
        self.start_threads()
        try:
            if "http" in self.components:
                inbound = self.parts.connectors()
                for connector in inbound.values():
                    await connector.start()
                blobs = BlobStore(self.parts.settings.blob_dir)
                ingest = Ingestor(self.parts.engine, self.parts.publisher(), blobs, self.metrics)
            if "media" in self.components:
                fetching = self.parts.connectors()
                for connector in fetching.values():
                    await connector.start()
                fetcher = MediaFetcher(
                    self.parts.engine,
                    BlobStore(self.parts.settings.blob_dir),
                    fetching,
                    max_attempts=self.parts.settings.pipeline.max_attempts,
                    max_bytes=self.parts.settings.pipeline.max_media_bytes,
                    metrics=self.metrics,
                )
                polls.append(asyncio.create_task(fetcher.run(stop), name="media"))
                if profile_sources(fetching):  # who a channel's users are (role profile), beside the media
                    profiles = ProfileFetcher(
                        self.parts.engine,
                        fetching,
                        max_attempts=self.parts.settings.pipeline.max_attempts,
                        metrics=self.metrics,
                    )
                    polls.append(asyncio.create_task(profiles.run(stop), name="profiles"))
            _tune_collector()  # before the first request, so that it pauses nobody
            if ingest is not None:
                runner = await self._start_http(ingest, inbound)
                polls += [
                    asyncio.create_task(loop.run(stop), name=loop.name)
                    for loop in pull_loops(inbound, ingest, self.parts.engine, self.parts.settings.pull)
                ]
                polls += [  # files saved into an importing connector's drop folder
                    asyncio.create_task(folder.run(stop), name=folder.name)
                    for folder in drop_folders(
                        inbound, self.parts.settings, self.parts.engine, self.parts.publisher, self.closers
                    )
                ]
            admin = await self._start_admin()
            for task in polls:
                task.add_done_callback(lambda done: _ended(done, stop))
            logger.info("satupintu started", extra={"components": sorted(self.components)})
            await stop.wait()
        finally:
            stop.set()  # a start that failed (a port taken) must end the loops it started
            logger.info("satupintu stopping")
            self.health.draining = True
            for listening in (runner, admin):
                if listening is not None:
                    await listening.cleanup()  # stops accepting, lets requests in flight finish
            await asyncio.gather(*polls, return_exceptions=True)
            for connector in [*inbound.values(), *fetching.values()]:
                await connector.stop()
            if ingest is not None:
                ingest.close()
            await asyncio.to_thread(self.stop_threads)
            logger.info("satupintu stopped")

    async def _start_http(self, ingest: Ingestor, connectors: dict[str, Connector[Any]]) -> web.AppRunner:
        http = self.parts.settings.http
        app = build_app(
            connectors=connectors,
            ingest=ingest,
            health=self.health,
            metrics=self.metrics,
            http=http,
        )
        app.add_routes(public_pages.routes(self.parts.engine, self.parts.settings))  # every channel's status page
        console.install(app, self.parts)  # the officers' pages and API
        return await _listen(app, http.host, http.port)

    async def _start_admin(self) -> web.AppRunner | None:
        """Probes and metrics on ``http.admin_port``, for every process, if that port is set."""
        http = self.parts.settings.http
        if http.admin_port is None:
            return None
        return await _listen(build_admin_app(self.health, self.metrics), http.host, http.admin_port)

    def stop_threads(self) -> None:
        self.stop_consumers.set()
        for thread in self.threads:
            thread.join(timeout=SHUTDOWN_GRACE_SECONDS)
        for close in self.closers:
            close()
        self.parts.engine.dispose()


def _ended(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    """A loop (pull, media) ends only when told to; one that ends otherwise is a bug, so the process
    says so and stops for its supervisor to restart it, rather than serving on without the loop."""
    if stop.is_set() or task.cancelled():
        return
    logger.critical("%s ended unexpectedly; stopping", task.get_name(), exc_info=task.exception())
    stop.set()


def _tune_collector() -> None:
    """Keep what start-up built (modules, config, the classifier, the phone metadata) out of the
    garbage collector's full passes: traversing it stalled every thread for 50-80 ms a few times
    a minute under load (bench/README.md). It lives as long as the process anyway. Then collect
    less often (``GC_THRESHOLDS``)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def _listen(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE_SECONDS)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    logger.info("http listening", extra={"host": host, "port": port})
    return runner


def run_until_signalled(parts: Parts, components: Iterable[str]) -> None:
    """Run in the foreground; SIGINT or SIGTERM stops cleanly."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await Pipeline(parts, components).serve(stop)

    asyncio.run(main())
