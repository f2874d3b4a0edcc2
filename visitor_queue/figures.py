"""The walk-in desk's figures per counter and day: visitors, waiting time (median and 90th
percentile, from taking the number to its first call), not present and served. The dashboard shows
today's; ``satupintu report queue --from --to`` any days'."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Row

from config.settings import QueueSettings
from storage import queue_numbers as store
from storage.queue_numbers import SERVED, SET_ASIDE, WAITING


@dataclass(frozen=True, slots=True)
class DayFigures:
    day: str
    counter: str
    counter_name: str
    visitors: int
    """Numbers taken."""
    served: int
    not_present: int
    """Set aside and not served by the end (or yet)."""
    waiting: int
    """Taken and never called (the day ended, or it is still going)."""
    wait_median_minutes: float | None
    wait_p90_minutes: float | None


def day_figures(connection: Connection, settings: QueueSettings, first: date, last: date) -> list[DayFigures]:
    names = {counter.key: counter.name for counter in settings.counters}
    groups: dict[tuple[str, str], list[Row[Any]]] = defaultdict(list)
    for row in store.tickets_between(connection, first.isoformat(), last.isoformat()):
        groups[(row.day, row.counter)].append(row)
    figures = []
    for (day, counter), rows in sorted(groups.items()):
        waits = sorted((row.called_at - row.taken_at).total_seconds() / 60 for row in rows if row.called_at is not None)
        states = [row.state for row in rows]
        figures.append(
            DayFigures(
                day=day,
                counter=counter,
                counter_name=names.get(counter, counter),
                visitors=len(rows),
                served=states.count(SERVED),
                not_present=states.count(SET_ASIDE),
                waiting=states.count(WAITING),
                wait_median_minutes=round(statistics.median(waits), 1) if waits else None,
                wait_p90_minutes=round(_nearest_rank(waits, 0.9), 1) if waits else None,
            )
        )
    return figures


def _nearest_rank(ordered: list[float], share: float) -> float:
    """The smallest value at least ``share`` of the values are at or below."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]
