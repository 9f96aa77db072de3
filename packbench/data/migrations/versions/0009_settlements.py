"""Settlement lines from the payment providers (Vipps, Klarna, Stripe), matched to orders

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "settlement_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("line_key", sa.String(length=400), nullable=False),
        sa.Column("payout_id", sa.String(length=100), nullable=True),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_ore", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("provider_type", sa.String(length=100), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("order_by", sa.String(length=8), nullable=True),
        sa.Column("order_value", sa.String(length=64), nullable=True),
        sa.Column("related", sa.String(length=200), nullable=True),
        sa.Column("account", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "line_key"),
    )
    op.create_index("ix_settlement_line_order_id", "settlement_line", ["order_id"])
    op.create_index("ix_settlement_line_payout", "settlement_line", ["provider", "payout_id"])
    op.create_index("ix_settlement_line_reference", "settlement_line", ["provider", "reference"])
    op.create_index("ix_settlement_line_unmatched", "settlement_line", ["provider", "order_id"])


def downgrade() -> None:
    op.drop_index("ix_settlement_line_unmatched", table_name="settlement_line")
    op.drop_index("ix_settlement_line_reference", table_name="settlement_line")
    op.drop_index("ix_settlement_line_payout", table_name="settlement_line")
    op.drop_index("ix_settlement_line_order_id", table_name="settlement_line")
    op.drop_table("settlement_line")
