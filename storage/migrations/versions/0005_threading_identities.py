"""threading identities: issue 18 (threading, identities, messages without a case, merge and split)

A case can follow a closed one and be merged into another; a case message keeps its channel id
(replies name it); an outbox row may answer a message without a case, which gets a table of its
own.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STRING = sqlmodel.sql.sqltypes.AutoString
_MOMENT = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    # A plain ADD COLUMN, never a rebuild of ``cases``: SQLite cannot drop the table while rows
    # point at it, and Alembic adds a foreign key on SQLite only by rebuilding.
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in ("previous_case_id", "merged_into_id"):
        if sqlite:
            op.execute(f"ALTER TABLE cases ADD COLUMN {name} INTEGER REFERENCES cases (id)")
        else:
            op.add_column("cases", sa.Column(name, sa.Integer(), sa.ForeignKey("cases.id"), nullable=True))
    closed = sa.text("closed_at IS NOT NULL")  # the case a new one follows: found without a scan
    op.create_index(
        "ix_cases_closed_conversation", "cases", ["conversation_key"], sqlite_where=closed, postgresql_where=closed
    )
    op.add_column("case_message", sa.Column("channel_message_id", _STRING(length=512), nullable=True))
    op.create_index("ix_case_message_channel_message_id", "case_message", ["channel", "channel_message_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "caseless_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("raw_message_id", sa.Integer(), nullable=False),
        sa.Column("channel", _STRING(length=64), nullable=False),
        sa.Column("conversation_key", _STRING(length=512), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("reason", _STRING(length=16), nullable=False),
        sa.Column("answer", _STRING(length=16), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", _MOMENT(), nullable=False),
        sa.Column("created_at", _MOMENT(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("handled_by", _STRING(length=128), nullable=True),
        sa.Column("handled_at", _MOMENT(), nullable=True),
        sa.ForeignKeyConstraint(["raw_message_id"], ["raw_message.id"]),
        sa.ForeignKeyConstraint(["reporter_id"], ["reporter.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("raw_message_id"),
    )
    op.create_index("ix_caseless_message_conversation", "caseless_message", ["conversation_key", "received_at"])
    op.create_index("ix_caseless_message_case_id", "caseless_message", ["case_id"])
    # Identities: what a channel proved links by itself; what was typed is a claim for an officer.
    # Identities made before this revision were linked on sight already: they count as proven.
    op.add_column("reporter", sa.Column("person_id", sa.Integer(), nullable=True))
    op.create_index("ix_reporter_person_id", "reporter", ["person_id"])
    op.add_column("reporter_identity", sa.Column("proven", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table(
        "identity_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("kind", _STRING(length=16), nullable=False),
        sa.Column("value", _STRING(length=320), nullable=False),
        sa.Column("raw_message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _MOMENT(), nullable=False),
        sa.Column("dismissed_at", _MOMENT(), nullable=True),
        sa.Column("dismissed_by", _STRING(length=128), nullable=True),
        sa.ForeignKeyConstraint(["reporter_id"], ["reporter.id"]),
        sa.ForeignKeyConstraint(["raw_message_id"], ["raw_message.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reporter_id", "kind", "value", name="uq_identity_claim_reporter_identity"),
    )
    op.create_index("ix_identity_claim_reporter_id", "identity_claim", ["reporter_id"])
    op.create_index("ix_identity_claim_value", "identity_claim", ["value"])
    op.create_table(
        "reporter_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("source", _STRING(length=16), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("created_at", _MOMENT(), nullable=False),
        sa.Column("created_by", _STRING(length=128), nullable=False),
        sa.Column("removed_at", _MOMENT(), nullable=True),
        sa.Column("removed_by", _STRING(length=128), nullable=True),
        sa.ForeignKeyConstraint(["reporter_id"], ["reporter.id"]),
        sa.ForeignKeyConstraint(["other_id"], ["reporter.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reporter_link_reporter_id", "reporter_link", ["reporter_id"])
    op.create_index("ix_reporter_link_other_id", "reporter_link", ["other_id"])
    op.create_table(
        "case_move",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", _STRING(length=8), nullable=False),
        sa.Column("source_case_id", sa.Integer(), nullable=False),
        sa.Column("target_case_id", sa.Integer(), nullable=False),
        sa.Column("case_message_ids", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", _MOMENT(), nullable=False),
        sa.Column("actor", _STRING(length=128), nullable=False),
        sa.Column("undone_at", _MOMENT(), nullable=True),
        sa.Column("undone_by", _STRING(length=128), nullable=True),
        sa.ForeignKeyConstraint(["source_case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["target_case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_move_source_case_id", "case_move", ["source_case_id"])
    op.create_index("ix_case_move_target_case_id", "case_move", ["target_case_id"])


def downgrade() -> None:
    for table in ("case_move", "reporter_link", "identity_claim"):
        op.drop_table(table)
    with op.batch_alter_table("reporter_identity") as batch:
        batch.drop_column("proven")
    op.drop_index("ix_reporter_person_id", table_name="reporter")
    with op.batch_alter_table("reporter") as batch:
        batch.drop_column("person_id")
    op.drop_index("ix_caseless_message_case_id", table_name="caseless_message")
    op.drop_index("ix_caseless_message_conversation", table_name="caseless_message")
    op.drop_table("caseless_message")
    op.execute("DELETE FROM outbox WHERE case_id IS NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_case_message_channel_message_id", table_name="case_message")
    op.drop_index("ix_cases_closed_conversation", table_name="cases")
    with op.batch_alter_table("case_message") as batch:
        batch.drop_column("channel_message_id")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("merged_into_id")
        batch.drop_column("previous_case_id")
