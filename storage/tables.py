"""The Core tables behind the SQLModel classes, for the hot path's statements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table

from storage.models import (
    Attachment,
    Case,
    CaseAlert,
    CaseEvent,
    CaseMessage,
    ConnectorState,
    DeliveryStatusRow,
    Lease,
    MediaRow,
    Outbox,
    QueueDay,
    QueueTicket,
    RawMessageRow,
    ReporterIdentity,
    ReporterProfileRow,
    ReporterRow,
    SurveyAnswer,
    SurveyRow,
    TrackingCounter,
    Unit,
    UnitInboxRow,
)


def _table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


RAW = _table(RawMessageRow)
REPORTER = _table(ReporterRow)
IDENTITY = _table(ReporterIdentity)
PROFILES = _table(ReporterProfileRow)
CASES = _table(Case)
MESSAGES = _table(CaseMessage)
ATTACHMENTS = _table(Attachment)
EVENTS = _table(CaseEvent)
OUTBOX = _table(Outbox)
COUNTER = _table(TrackingCounter)
STATE = _table(ConnectorState)
UNITS = _table(Unit)
DELIVERY_STATUS = _table(DeliveryStatusRow)
MEDIA = _table(MediaRow)
LEASES = _table(Lease)
ALERTS = _table(CaseAlert)
UNIT_INBOX = _table(UnitInboxRow)
SURVEYS = _table(SurveyRow)
SURVEY_ANSWERS = _table(SurveyAnswer)
QUEUE_DAYS = _table(QueueDay)
QUEUE_TICKETS = _table(QueueTicket)
