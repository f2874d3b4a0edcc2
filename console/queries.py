"""What the officers' console reads: the inbox, a case with its whole thread, an attachment, the
dashboard and what changed since a cursor. One entry for the API and the pages alike, so that
what a unit officer may see (``scope_unit``) is decided in one place: a case of another unit is
not found, never forbidden (the caller answers 404 either way). The records are in
``console/records.py``, the reads in ``inbox_reads.py``, ``case_reads.py`` and ``figures.py``,
the inbox's SQL in ``inbox_sql.py``.

Reads only; the actions live in ``console/actions.py`` and ``triage/lifecycle.py``. Values are the
stored ones (UTC datetimes, the reporter unmasked): masking a confidential case's reporter for a
role not allowed is the caller's (``console.views.masked_summary`` / ``masked_detail``).

The inbox is sorted by the next deadline that applies (``NEXT_DUE_SQL``: the earliest deadline not met
while the clock runs), then the cases with no deadline running, newest first; it pages by keyset
so that page 2000 costs what page 1 does. On PostgreSQL the order and the text search are served
by the indexes of migration 0010 (expression indexes on ``NEXT_DUE``, trigram indexes on the
subject and the messages' text); SQLite runs the same statements without them.
"""

from __future__ import annotations

from console.case_reads import attachment, case_detail
from console.figures import dashboard
from console.inbox_reads import changes_since, inbox
from console.records import (
    DASHBOARD_OVERDUE,
    MAX_LIMIT,
    MIN_SEARCH,
    OVERDUE_COUNT_CAP,
    AttachmentFile,
    AttachmentInfo,
    AuditEntry,
    BadQuery,
    CaseDetail,
    CaseSummary,
    Changes,
    ChannelHealth,
    Dashboard,
    DeadlineInfo,
    DeadlineStats,
    InboxFilter,
    InboxPage,
    LinkedReporter,
    NewMessage,
    QueueVisit,
    ReporterInfo,
    SuggestedLink,
    ThreadEntry,
)

__all__ = [
    "DASHBOARD_OVERDUE",
    "MAX_LIMIT",
    "MIN_SEARCH",
    "OVERDUE_COUNT_CAP",
    "AttachmentFile",
    "AttachmentInfo",
    "AuditEntry",
    "BadQuery",
    "CaseDetail",
    "CaseSummary",
    "Changes",
    "ChannelHealth",
    "Dashboard",
    "DeadlineInfo",
    "DeadlineStats",
    "InboxFilter",
    "InboxPage",
    "LinkedReporter",
    "NewMessage",
    "QueueVisit",
    "ReporterInfo",
    "SuggestedLink",
    "ThreadEntry",
    "attachment",
    "case_detail",
    "changes_since",
    "dashboard",
    "inbox",
]
