"""Background jobs: a heartbeat (a job whose runner died is seen as stale) and a
lock key (one running batch job per date).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("jobs", sa.Column("lock_key", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_jobs_lock_key"), "jobs", ["lock_key"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_jobs_lock_key"), table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lock_key")
        batch.drop_column("heartbeat_at")
