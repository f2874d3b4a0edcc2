"""sweeper indexes cover only unfinished rows

PostgreSQL cached a generic plan for ``UPDATE raw_message ... WHERE id = $1 AND state = $2`` that
used the (state, queued_at) index and scanned every row in that state (5 ms a row with a backlog
of 20,000). Partial indexes on ``queued_at`` hold only the rows the sweeper looks for.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RAW_UNFINISHED = sa.text("state IN ('received', 'normalized')")
OUTBOX_UNFINISHED = sa.text("state IN ('pending', 'sending')")


def upgrade() -> None:
    op.drop_index("ix_raw_message_state_queued_at", table_name="raw_message")
    op.create_index(
        "ix_raw_message_unfinished_queued_at",
        "raw_message",
        ["queued_at"],
        postgresql_where=RAW_UNFINISHED,
        sqlite_where=RAW_UNFINISHED,
    )
    op.drop_index("ix_outbox_state_queued_at", table_name="outbox")
    op.create_index(
        "ix_outbox_unfinished_queued_at",
        "outbox",
        ["queued_at"],
        postgresql_where=OUTBOX_UNFINISHED,
        sqlite_where=OUTBOX_UNFINISHED,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_unfinished_queued_at", table_name="outbox")
    op.create_index("ix_outbox_state_queued_at", "outbox", ["state", "queued_at"])
    op.drop_index("ix_raw_message_unfinished_queued_at", table_name="raw_message")
    op.create_index("ix_raw_message_state_queued_at", "raw_message", ["state", "queued_at"])
