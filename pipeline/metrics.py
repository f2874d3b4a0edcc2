"""Prometheus metrics: what this process did, and the backlog as the database tells it.

Counters and timings are per process (each `satupintu worker` has its own); the backlog gauge is
read from the database at scrape time, so every process reports the same, true figure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from envelopes import Stored
from storage.db import reading
from storage.sweeps import count_unfinished
from triage.case_metrics import CaseCollector

BATCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The metrics of one process, in a registry of its own (no module-level globals)."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "satupintu_messages",
            "Messages a stage finished, by what became of them (stored, normalized, triaged, sent, retry, dead, …)",
            ["stage", "outcome"],
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "satupintu_batch_seconds",
            "Time a stage took for one batch, from its work items to its commit",
            ["stage"],
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.batch_failures = Counter(
            "satupintu_batch_failures",
            "Batches that failed as a whole and were put back on the queue",
            ["stage"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "satupintu_http_rejected",
            "Requests the HTTP server answered with an error (4xx, 5xx), by channel and status",
            ["channel", "status"],
            registry=self.registry,
        )
        self.registry.register(BacklogCollector(engine))
        self.registry.register(CaseCollector(engine))
        self._counted: dict[tuple[str, str], Counter] = {}
        """``messages``' children by (stage, outcome): ``labels()`` takes a lock and builds a key
        at every call, and every request and every batch counts."""

    def count(self, stage: str, outcomes: Mapping[str, int]) -> None:
        for outcome, number in outcomes.items():
            if number:
                child = self._counted.get((stage, outcome))
                if child is None:
                    child = self._counted[stage, outcome] = self.messages.labels(stage=stage, outcome=outcome)
                child.inc(number)

    def accepted(self, stored: Sequence[Stored]) -> None:
        """Count what ingest stored. Inside an HTTP request (:meth:`answering`), the ones already
        stored count as duplicates only if the request is answered as a success: a key reused for
        another report (409) is a refusal, not a retry."""
        created = sum(s.created for s in stored)
        self.count("ingest", {"stored": created})
        pending = _PENDING.get()
        if pending is None:
            self.count("ingest", {"duplicate": len(stored) - created})
        else:
            pending.duplicates += len(stored) - created

    def answering(self) -> Token[_Answering | None]:
        """Hold this request's duplicates until :meth:`answered` says how it went."""
        return _PENDING.set(_Answering())

    def answered(self, token: Token[_Answering | None], channel: str, status: int) -> None:
        pending = _PENDING.get()
        _PENDING.reset(token)
        if status >= 400:
            self.rejected.labels(channel=channel, status=str(status)).inc()
        elif pending is not None:
            self.count("ingest", {"duplicate": pending.duplicates})

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


@dataclass(slots=True)
class _Answering:
    """One request's duplicates, held until its answer is known."""

    duplicates: int = 0


_PENDING: ContextVar[_Answering | None] = ContextVar("satupintu_pending_duplicates", default=None)


class BacklogCollector(Collector):
    """``satupintu_backlog{record, state}``: unfinished rows, counted when scraped."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "satupintu_backlog", "Raw messages and outbox rows not yet done, by state", labels=["record", "state"]
        )
        try:
            with reading(self.engine) as connection:
                counts = count_unfinished(connection)
        except SQLAlchemyError:
            return  # an unreachable database shows as a missing series; /readyz says why
        for (record, state), number in sorted(counts.items()):
            gauge.add_metric([record, state], number)
        yield gauge
