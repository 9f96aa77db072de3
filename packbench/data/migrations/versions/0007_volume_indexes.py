"""Indexes that keep the admin list and the dashboard quick with a long history

The order list sorts by the order date; the dashboard counts today's completions. Both read the
whole orders table without these (measured with benchmarks/volume.py on 200,000 orders).

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_orders_created_at", "orders", ["created_at"])
    op.create_index("ix_orders_completed_at", "orders", ["completed_at"])


def downgrade() -> None:
    op.drop_index("ix_orders_completed_at", table_name="orders")
    op.drop_index("ix_orders_created_at", table_name="orders")
