"""offline channels: issue 17 (phone log, walk-in, letter, LAPOR!)

A case keeps the tracking ID the report has on the platform it came from (SP4N-LAPOR!), one case
per such ID and channel.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (no rebuild of ``cases``, which rows point at).
    op.add_column("cases", sa.Column("external_ref", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.create_index("uq_cases_channel_external_ref", "cases", ["channel", "external_ref"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_cases_channel_external_ref", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("external_ref")
