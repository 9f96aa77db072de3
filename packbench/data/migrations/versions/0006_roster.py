"""The team's roster: who works which station on a day

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "roster_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("packer_id", sa.Integer(), nullable=False),
        sa.Column("station", sa.String(length=16), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["assigned_by"], ["packer.id"]),
        sa.ForeignKeyConstraint(["packer_id"], ["packer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "packer_id"),
    )
    op.create_index("ix_roster_entry_packer_id", "roster_entry", ["packer_id"])


def downgrade() -> None:
    op.drop_index("ix_roster_entry_packer_id", table_name="roster_entry")
    op.drop_table("roster_entry")
