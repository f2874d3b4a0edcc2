"""Prometheus metrics: what this process did, and the backlog as the database tells it.

Counters and timings are per process (each `satupintu worker` has its own); the backlog gauge is
read from the database at scrape time, so every process reports the same, true figure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from storage.db import reading
from storage.sweeps import count_unfinished

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
        self.registry.register(BacklogCollector(engine))

    def count(self, stage: str, outcomes: Mapping[str, int]) -> None:
        for outcome, number in outcomes.items():
            if number:
                self.messages.labels(stage=stage, outcome=outcome).inc(number)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


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
