"""The payment provider's reference and the customer's pickup point on each order

``payment_reference`` is WooCommerce's ``transaction_id`` (the reference a settlement line names,
#15); ``pickup_point_id`` the point the customer chose at the checkout (the shipping line's
meta, as the Bring plugin stores it), booked with the carrier (#14).

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("payment_reference", sa.String(100), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("pickup_point_id", sa.String(40), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("pickup_point_id")
        batch.drop_column("payment_reference")
