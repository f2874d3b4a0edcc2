"""The deadline watch, run by the sweeper: a warning before a deadline, an escalation after it,
and the closing of resolved cases the reporter did not answer.

Each alert is raised once per deadline, level and due moment (``case_alert``'s unique key), so
sweeps may overlap, repeat or run in several processes; an extended or resumed deadline is a
new due moment and can warn again. A warning and an escalation are case events; an escalation
also lands in the responsible unit's inbox (the front desk's for verification, the case's unit's
otherwise) and, when the unit has an address and the email channel sends, in its mail.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select

from storage.cases import record_events
from storage.db import transaction, utcnow
from storage.models import CASE_CLOSED, CASE_RESOLVED
from storage.sql import insert_ignore
from storage.tables import ALERTS, CASES
from triage import lifecycle
from triage.deadlines import open_deadlines

logger = logging.getLogger(__name__)

ACTOR = "system:deadlines"
BATCH = 500


class DeadlineWatch:
    """Looks at the running deadlines at most every ``every`` and raises what is due."""

    def __init__(self, engine: Engine, desk: lifecycle.Desk, every: timedelta = timedelta(seconds=60)) -> None:
        self.engine = engine
        self.desk = desk
        self.every = every
        self.warn_before = timedelta(hours=desk.clock.sla.warn_before_hours)
        self._last: datetime | None = None

    def maybe_sweep(self) -> int:
        now = utcnow()
        if self._last is not None and now - self._last < self.every:
            return 0
        self._last = now
        return self.sweep(now)

    def sweep(self, now: datetime) -> int:
        """Raise every alert due at ``now`` and close the resolved cases left unanswered; returns
        how many alerts and closings it made."""
        made = 0
        with transaction(self.engine) as connection:
            soon = now + self.warn_before
            near = or_(
                and_(CASES.c.verify_due <= soon, CASES.c.forwarded_at.is_(None)),
                and_(CASES.c.first_response_due <= soon, CASES.c.first_response_at.is_(None)),
                and_(CASES.c.resolution_due <= soon, CASES.c.resolved_at.is_(None)),
                and_(CASES.c.final_due <= soon, CASES.c.resolved_at.is_(None)),
            )
            rows = connection.execute(
                select(CASES).where(CASES.c.closed_at.is_(None), CASES.c.paused_at.is_(None), near).limit(BATCH)
            ).mappings()
            for case in [dict(row) for row in rows]:
                for deadline, due in open_deadlines(case).items():
                    if due <= soon:
                        made += self._alert(connection, case, deadline, due, now)
            made += self._close_unanswered(connection, now)
        return made

    def _alert(self, connection: Any, case: dict[str, Any], deadline: str, due: datetime, now: datetime) -> int:
        level = "breach" if due < now else "warning"
        row = {"case_id": case["id"], "deadline": deadline, "level": level, "due": due, "at": now}
        if connection.execute(insert_ignore(connection, ALERTS).returning(ALERTS.c.id), row).first() is None:
            return 0  # raised before (RETURNING, since PostgreSQL's rowcount counts the ignored row)
        action = "deadline_breached" if level == "breach" else "deadline_warning"
        record_events(
            connection,
            [
                {
                    "case_id": case["id"],
                    "actor": ACTOR,
                    "action": action,
                    "detail": {"deadline": deadline, "due": due.isoformat()},
                }
            ],
        )
        if level == "breach":
            responsible = self.desk.routing.default_unit if deadline == "verify" else case["unit"]
            facts = {
                **lifecycle._facts(self.desk, case),
                "deadline": deadline,
                "due": due,
                "level": level,
                "unit_name": self.desk.unit_name(responsible),
            }
            text = self.desk.texts.render("unit_escalation", "id", **facts)
            lifecycle.notify_unit(connection, self.desk, {**case, "unit": responsible}, "escalated", text, now)
        return 1

    def _close_unanswered(self, connection: Any, now: datetime) -> int:
        """LAPOR!'s rule: a resolved case closes ``close_after_days`` working days after its
        follow-up report when the reporter has not answered since."""
        calendar, days = self.desk.clock.calendar, self.desk.clock.sla.close_after_days
        rows = connection.execute(
            select(CASES.c.id, CASES.c.resolved_at, CASES.c.updated_at)
            .where(CASES.c.status == CASE_RESOLVED, CASES.c.closed_at.is_(None))
            .limit(BATCH)
        ).all()
        closed = 0
        for case_id, resolved_at, updated_at in rows:
            quiet_since = max(resolved_at, updated_at) if resolved_at else updated_at
            if calendar.deadline(quiet_since, days) > now:
                continue
            changed = connection.execute(
                CASES.update()
                .where(CASES.c.id == case_id, CASES.c.status == CASE_RESOLVED)
                .values(status=CASE_CLOSED, closed_at=now, updated_at=now)
            ).rowcount
            if changed:
                detail = {"reason": f"no answer from the reporter {days} working days after the follow-up report"}
                record_events(connection, [{"case_id": case_id, "actor": ACTOR, "action": "closed", "detail": detail}])
                closed += 1
        return closed
