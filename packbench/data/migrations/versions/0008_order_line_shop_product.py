"""The shop's product id on each order line

A line pulled before its product (or with an empty SKU, as WooCommerce sends for some products)
is linked when the product arrives: by SKU, or by this id.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_line") as batch:
        batch.add_column(sa.Column("shop_product_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_line") as batch:
        batch.drop_column("shop_product_id")
