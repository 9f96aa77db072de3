"""Outbox idempotency keys and the sync lease

Each outbox row gets a key so a retried push or a re-queued change is recognised as the same
change; rows written before this revision get ``legacy-<id>``. The sync lease lets several
terminals share one database with one sync at a time.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_lease",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=100), nullable=True))
    op.execute("UPDATE outbox SET idempotency_key = 'legacy-' || id WHERE idempotency_key IS NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column(
            "idempotency_key", existing_type=sa.String(length=100), nullable=False
        )
        batch_op.create_unique_constraint("uq_outbox_idempotency_key", ["idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_idempotency_key", type_="unique")
        batch_op.drop_column("idempotency_key")
    op.drop_table("sync_lease")
