"""officers: issue 20 (logins, sessions, API tokens)

``officer``: who logs in to the console, with a role (and a unit for unit officers) and an argon2
password hash; ``officer_session``: console logins; ``officer_token``: API tokens. Sessions and
tokens are stored as the SHA-256 of what the browser or the integration holds.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STRING = sqlmodel.sql.sqltypes.AutoString
_MOMENT = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "officer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _STRING(length=64), nullable=False),
        sa.Column("role", _STRING(length=16), nullable=False),
        sa.Column("unit", _STRING(length=64), nullable=True),
        sa.Column("language", _STRING(length=8), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", _MOMENT(), nullable=False),
        sa.Column("password_changed_at", _MOMENT(), nullable=False),
        sa.Column("disabled_at", _MOMENT(), nullable=True),
        sa.ForeignKeyConstraint(["unit"], ["unit.key"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    for table in ("officer_session", "officer_token"):
        optional = (
            [sa.Column("expires_at", _MOMENT(), nullable=False), sa.Column("seen_at", _MOMENT(), nullable=False)]
            if table == "officer_session"
            else [sa.Column("used_at", _MOMENT(), nullable=True), sa.Column("revoked_at", _MOMENT(), nullable=True)]
        )
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("officer_id", sa.Integer(), nullable=False),
            sa.Column("token_hash", _STRING(length=64), nullable=False),
            sa.Column("created_at", _MOMENT(), nullable=False),
            *optional,
            sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("token_hash"),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_officer_id"), ["officer_id"], unique=False)


def downgrade() -> None:
    for table in ("officer_token", "officer_session"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_officer_id"))
        op.drop_table(table)
    op.drop_table("officer")
