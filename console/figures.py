"""The dashboard: open cases per unit and channel, the overdue ones, this month's deadlines, the
satisfaction index, and each channel's health."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select

from console import inbox_sql
from console.case_reads import MET_BY
from console.inbox_reads import inbox
from console.records import (
    DASHBOARD_OVERDUE,
    OVERDUE_COUNT_CAP,
    ChannelHealth,
    Dashboard,
    DeadlineStats,
    InboxFilter,
)
from storage.tables import CASES, RAW, STATE
from triage import survey
from triage.deadlines import DEADLINES
from triage.threading import officer_recorded

_RECENT_INBOUND = 20_000
"""How many of the latest raw messages the last inbound of every channel is read from; only a
channel with none among them is looked up on its own (a scan: it went silent, it shows red)."""


def dashboard(
    connection: Connection,
    scope_unit: str | None,
    now: datetime,
    *,
    channels: Sequence[str] = (),
    zone: ZoneInfo | None = None,
    silent_after: timedelta = timedelta(hours=24),
) -> Dashboard:
    """The figures of the officer's scope; ``channels``: the configured ones (``settings.connectors``)."""
    scope = [CASES.c.unit == scope_unit] if scope_unit is not None else []
    month_start = _month_start(now, zone or UTC)
    by_unit: dict[str, int] = {}
    by_channel: dict[str, int] = {}
    open_cases = select(CASES.c.unit, CASES.c.channel, func.count()).where(*scope, CASES.c.closed_at.is_(None))
    for unit, channel, count in connection.execute(open_cases.group_by(CASES.c.unit, CASES.c.channel)):
        by_unit[unit] = by_unit.get(unit, 0) + int(count)
        by_channel[channel] = by_channel.get(channel, 0) + int(count)
    due = inbox_sql.next_due(connection)
    missed = select(CASES.c.id).where(*scope, due < now).limit(OVERDUE_COUNT_CAP).subquery()
    overdue_count = int(connection.execute(select(func.count()).select_from(missed)).scalar_one())
    overdue = inbox(connection, scope_unit, InboxFilter(overdue=True), limit=DASHBOARD_OVERDUE, now=now).items
    month_end = _month_start(month_start.astimezone(zone or UTC) + timedelta(days=32), zone or UTC)
    skm = [
        index
        for index in survey.indexes(connection, month_start, month_end)
        if scope_unit is None or index.unit == scope_unit
    ]
    return Dashboard(
        open_by_unit=by_unit,
        open_by_channel=by_channel,
        overdue=overdue,
        overdue_count=overdue_count,
        month_start=month_start,
        deadlines=_deadline_stats(connection, scope, month_start, now),
        skm=skm,
        channels=_channel_health(connection, channels, now, silent_after),
        overdue_capped=overdue_count >= OVERDUE_COUNT_CAP,
    )


def _month_start(moment: datetime, zone: ZoneInfo | Any) -> datetime:
    local = moment.astimezone(zone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def _deadline_stats(
    connection: Connection, scope: list[ColumnElement[bool]], since: datetime, now: datetime
) -> list[DeadlineStats]:
    """Per deadline: met this month in time, met this month late, and missed and still running."""
    stopped = or_(CASES.c.paused_at.is_not(None), CASES.c.closed_at.is_not(None))
    columns = []
    for name in DEADLINES:
        due, met = CASES.c[f"{name}_due"], CASES.c[MET_BY[name]]
        done = and_(met.is_not(None), met >= since)
        columns += [
            func.sum(case((and_(done, met <= due), 1), else_=0)),
            func.sum(case((and_(done, met > due), 1), else_=0)),
            func.sum(case((and_(met.is_(None), ~stopped, due < now), 1), else_=0)),
        ]
    # Whatever was met since then is open still, or was closed since (closing comes after the rest).
    recent = or_(CASES.c.closed_at.is_(None), CASES.c.closed_at >= since)
    row = connection.execute(select(*columns).where(*scope, recent)).one()
    values = [int(value or 0) for value in row]
    return [
        DeadlineStats(name, values[3 * i], values[3 * i + 1], values[3 * i + 2]) for i, name in enumerate(DEADLINES)
    ]


def _channel_health(
    connection: Connection, channels: Sequence[str], now: datetime, silent_after: timedelta
) -> list[ChannelHealth]:
    from pipeline.delivery import SEND_HEALTH_KEY
    from pipeline.pull import HEALTH_PREFIX

    wanted = list(dict.fromkeys(channels))
    last = _last_inbound(connection, wanted)
    states = connection.execute(
        select(STATE.c.channel, STATE.c.key, STATE.c.value).where(
            STATE.c.channel.in_(wanted), or_(STATE.c.key == SEND_HEALTH_KEY, STATE.c.key.startswith(HEALTH_PREFIX))
        )
    ).all()
    reasons: dict[str, list[str]] = {channel: [] for channel in wanted}
    for channel, key, value in states:
        try:
            record = json.loads(value)
        except ValueError:
            continue
        if key == SEND_HEALTH_KEY and record.get("state") == "down":
            reasons[channel].append(f"send_down: {record.get('reason') or ''}".rstrip(": "))
        elif key != SEND_HEALTH_KEY and record.get("state") == "auth_failed":
            reasons[channel].append(f"auth_failed: {record.get('last_error') or ''}".rstrip(": "))
    desk = officer_recorded()  # officers type these in: a quiet week at the counter is no fault
    for channel in wanted:
        seen = last.get(channel)
        if channel not in desk and (seen is None or now - seen > silent_after):
            reasons[channel].insert(0, "silent")
    return [ChannelHealth(channel, last.get(channel), bool(reasons[channel]), reasons[channel]) for channel in wanted]


def _last_inbound(connection: Connection, channels: Sequence[str]) -> dict[str, datetime]:
    if not channels:
        return {}
    top = connection.execute(select(func.max(RAW.c.id))).scalar_one_or_none() or 0
    recent = connection.execute(
        select(RAW.c.channel, func.max(RAW.c.received_at))
        .where(RAW.c.id > top - _RECENT_INBOUND, RAW.c.channel.in_(channels))
        .group_by(RAW.c.channel)
    ).all()
    found = {str(channel): at for channel, at in recent}
    for channel in channels:
        if channel not in found:
            at = connection.execute(select(func.max(RAW.c.received_at)).where(RAW.c.channel == channel)).scalar()
            if at is not None:
                found[channel] = at
    return found
