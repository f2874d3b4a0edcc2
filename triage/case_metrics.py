"""``satupintu_cases{status}`` and ``satupintu_cases_overdue{deadline}``, counted in the
database when scraped, so every process reports the same figure."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, and_, func, select
from sqlalchemy.exc import SQLAlchemyError

from storage.db import reading, utcnow
from storage.models import CASE_STATUSES
from storage.tables import ALERTS, CASES

_MET = {
    "verify": CASES.c.forwarded_at,
    "first_response": CASES.c.first_response_at,
    "resolution": CASES.c.resolved_at,
    "final": CASES.c.resolved_at,
}


class CaseCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        cases = GaugeMetricFamily("satupintu_cases", "Cases by status", labels=["status"])
        overdue = GaugeMetricFamily(
            "satupintu_cases_overdue", "Open cases past a deadline, clock running, by deadline", labels=["deadline"]
        )
        escalations = GaugeMetricFamily(
            "satupintu_case_alerts", "Deadline warnings and escalations raised, by level", labels=["level"]
        )
        now = utcnow()
        try:
            with reading(self.engine) as connection:
                counts: dict[str, int] = {
                    s: int(n)
                    for s, n in connection.execute(select(CASES.c.status, func.count()).group_by(CASES.c.status))
                }
                late: dict[str, int] = {}
                for name, met in _MET.items():
                    due = CASES.c[f"{name}_due"]
                    late[name] = connection.execute(
                        select(func.count()).where(
                            and_(CASES.c.closed_at.is_(None), CASES.c.paused_at.is_(None), due < now, met.is_(None))
                        )
                    ).scalar_one()
                alerts: dict[str, int] = {
                    lv: int(n)
                    for lv, n in connection.execute(select(ALERTS.c.level, func.count()).group_by(ALERTS.c.level))
                }
        except SQLAlchemyError:
            return
        for status in CASE_STATUSES:
            cases.add_metric([status], counts.get(status, 0))
        for name, number in late.items():
            overdue.add_metric([name], number)
        for level in ("warning", "breach"):
            escalations.add_metric([level], alerts.get(level, 0))
        yield cases
        yield overdue
        yield escalations
