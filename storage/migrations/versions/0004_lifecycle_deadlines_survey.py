"""lifecycle deadlines survey: issue 18 (lifecycle, deadlines, confidentiality, survey)

The case gets its lifecycle (assignee, language, the verification checklist, the clock's pause)
and its deadlines (verification, the legal ceiling, when the file became complete); alerts,
the units' inboxes and the satisfaction survey get tables. Cases made before this revision count
as complete from their receipt, so their file_complete_at is their received_at.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STRING = AutoString
_MOMENT = UTCDateTime

_CASE_COLUMNS: tuple[tuple[str, Callable[[], sa.Column[Any]]], ...] = (
    ("language", lambda: sa.Column("language", _STRING(length=8), nullable=False, server_default="id")),
    ("assignee", lambda: sa.Column("assignee", _STRING(length=128), nullable=True)),
    ("verify_due", lambda: sa.Column("verify_due", _MOMENT(), nullable=True)),
    ("final_due", lambda: sa.Column("final_due", _MOMENT(), nullable=True)),
    ("file_complete_at", lambda: sa.Column("file_complete_at", _MOMENT(), nullable=True)),
    ("missing", lambda: sa.Column("missing", sa.JSON(), nullable=False, server_default="[]")),
    ("checklist", lambda: sa.Column("checklist", sa.JSON(), nullable=False, server_default="{}")),
    ("paused_at", lambda: sa.Column("paused_at", _MOMENT(), nullable=True)),
    ("paused_status", lambda: sa.Column("paused_status", _STRING(length=32), nullable=True)),
    ("forwarded_at", lambda: sa.Column("forwarded_at", _MOMENT(), nullable=True)),
    ("first_response_at", lambda: sa.Column("first_response_at", _MOMENT(), nullable=True)),
    ("resolved_at", lambda: sa.Column("resolved_at", _MOMENT(), nullable=True)),
    ("extended", lambda: sa.Column("extended", sa.Boolean(), nullable=False, server_default=sa.false())),
)


def upgrade() -> None:
    # Plain ADD COLUMN (every column nullable or with a default): a batch copy of ``cases`` on
    # SQLite would drop the table that other tables' rows reference.
    for _name, column in _CASE_COLUMNS:
        op.add_column("cases", column())
    op.execute("UPDATE cases SET file_complete_at = received_at WHERE complete")
    op.create_table(
        "case_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("deadline", _STRING(length=32), nullable=False),
        sa.Column("level", _STRING(length=16), nullable=False),
        sa.Column("due", _MOMENT(), nullable=False),
        sa.Column("at", _MOMENT(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "deadline", "level", "due", name="uq_case_alert_once"),
    )
    op.create_index(op.f("ix_case_alert_case_id"), "case_alert", ["case_id"], unique=False)
    op.create_table(
        "unit_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit", _STRING(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", _STRING(length=32), nullable=False),
        sa.Column("at", _MOMENT(), nullable=False),
        sa.Column("seen_at", _MOMENT(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["unit"], ["unit.key"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_unit_inbox_unit"), "unit_inbox", ["unit"], unique=False)
    op.create_index(op.f("ix_unit_inbox_case_id"), "unit_inbox", ["case_id"], unique=False)
    op.create_table(
        "survey",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("token", _STRING(length=64), nullable=False),
        sa.Column("unit", _STRING(length=64), nullable=False),
        sa.Column("channel", _STRING(length=64), nullable=False),
        sa.Column("sent_at", _MOMENT(), nullable=False),
        sa.Column("answered_at", _MOMENT(), nullable=True),
        sa.Column("answered_via", _STRING(length=64), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("case_id"),
        sa.UniqueConstraint("token"),
    )
    op.create_table(
        "survey_answer",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("element", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["survey.case_id"]),
        sa.PrimaryKeyConstraint("case_id", "element"),
    )


def downgrade() -> None:
    op.drop_table("survey_answer")
    op.drop_table("survey")
    op.drop_index(op.f("ix_unit_inbox_case_id"), table_name="unit_inbox")
    op.drop_index(op.f("ix_unit_inbox_unit"), table_name="unit_inbox")
    op.drop_table("unit_inbox")
    op.drop_index(op.f("ix_case_alert_case_id"), table_name="case_alert")
    op.drop_table("case_alert")
    for name, _column in reversed(_CASE_COLUMNS):
        op.drop_column("cases", name)  # SQLite 3.35+ drops a column in place
