"""console: issue 20 (inbox indexes and text search)

The officers' inbox is sorted by a case's next deadline (``storage.models.NEXT_DUE_SQL``) and
searched by substring in subjects and messages. On PostgreSQL: expression indexes on the next
deadline (all cases, per unit, per assignee) for keyset pages at a million cases, and trigram
indexes (``pg_trgm``, a trusted extension: the database owner may create it) for
``lower(...) LIKE '%words%'``. SQLite gets none of these: it cannot use them for a substring
search, and it is the small, embedded installation. Both get two partial indexes for the
dashboard: the open cases by unit and channel, and the closed ones by when.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of ``storage.models.NEXT_DUE_SQL`` as of this revision (PostgreSQL prints both alike).
NEXT_DUE_SQL = (
    "CASE WHEN closed_at IS NULL AND paused_at IS NULL THEN LEAST("
    "CASE WHEN forwarded_at IS NULL THEN verify_due END, "
    "CASE WHEN first_response_at IS NULL THEN first_response_due END, "
    "CASE WHEN resolved_at IS NULL THEN resolution_due END, "
    "CASE WHEN resolved_at IS NULL THEN final_due END) END"
)
_NEXT_DUE = {
    "ix_cases_next_due": f"(({NEXT_DUE_SQL}), id)",
    "ix_cases_unit_next_due": f"(unit, ({NEXT_DUE_SQL}), id)",
    "ix_cases_assignee_next_due": f"(assignee, ({NEXT_DUE_SQL}), id)",
}
_TRIGRAM = {
    "ix_cases_subject_trgm": "cases USING gin (lower(subject) gin_trgm_ops)",
    "ix_case_message_text_trgm": "case_message USING gin (lower(text) gin_trgm_ops)",
}


def upgrade() -> None:
    open_cases, closed_cases = sa.text("closed_at IS NULL"), sa.text("closed_at IS NOT NULL")
    op.create_index(
        "ix_cases_open_unit_channel",
        "cases",
        ["unit", "channel"],
        sqlite_where=open_cases,
        postgresql_where=open_cases,
    )
    op.create_index(
        "ix_cases_closed_at", "cases", ["closed_at"], sqlite_where=closed_cases, postgresql_where=closed_cases
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, columns in _NEXT_DUE.items():
        op.execute(f"CREATE INDEX {name} ON cases {columns}")
    for name, target in _TRIGRAM.items():
        op.execute(f"CREATE INDEX {name} ON {target}")
        # The search picks its plan by PostgreSQL's estimate of how many rows hold the words,
        # read from these statistics: a finer histogram tells rare words from common ones.
        op.execute(f"ALTER INDEX {name} ALTER COLUMN 1 SET STATISTICS 1000")


def downgrade() -> None:
    op.drop_index("ix_cases_closed_at", table_name="cases")
    op.drop_index("ix_cases_open_unit_channel", table_name="cases")
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in [*_NEXT_DUE, *_TRIGRAM]:
        op.execute(f"DROP INDEX IF EXISTS {name}")
