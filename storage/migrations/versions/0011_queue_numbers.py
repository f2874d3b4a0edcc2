"""queue numbers: issue 21 (the walk-in desk's numbers per counter and day)

``queue_day``: one row per counter and day, the lock every take and call updates first, with the
last number given and the calls made; ``queue_ticket``: each number handed out, from waiting to
called, set aside or served.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STRING = sqlmodel.sql.sqltypes.AutoString
_MOMENT = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "queue_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter", _STRING(length=32), nullable=False),
        sa.Column("day", _STRING(length=10), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("counter", "day"),
    )
    op.create_table(
        "queue_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter", _STRING(length=32), nullable=False),
        sa.Column("day", _STRING(length=10), nullable=False),
        sa.Column("number", _STRING(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("state", _STRING(length=16), nullable=False),
        sa.Column("taken_at", _MOMENT(), nullable=False),
        sa.Column("taken_by", _STRING(length=64), nullable=True),
        sa.Column("called_at", _MOMENT(), nullable=True),
        sa.Column("last_called_at", _MOMENT(), nullable=True),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("set_aside_at", _MOMENT(), nullable=True),
        sa.Column("times_set_aside", sa.Integer(), nullable=False),
        sa.Column("returned_at", _MOMENT(), nullable=True),
        sa.Column("served_at", _MOMENT(), nullable=True),
        sa.Column("served_by", _STRING(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("counter", "day", "number"),
    )
    op.create_index("ix_queue_ticket_line", "queue_ticket", ["counter", "day", "state", "position"])


def downgrade() -> None:
    op.drop_index("ix_queue_ticket_line", table_name="queue_ticket")
    op.drop_table("queue_ticket")
    op.drop_table("queue_day")
