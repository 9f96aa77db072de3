"""The name of the pickup point chosen at the ship station, on the order

When the order carries no pickup point from the checkout, the packer chooses one of the
nearest at the ship station (#14); its id goes to ``pickup_point_id`` and what the Pickup Point
API called it to ``pickup_point_name``, so the station, the booking and ``packbench orders``
show where the parcel goes. Empty for a point chosen at the checkout (its name is not pulled).

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("pickup_point_name", sa.String(200), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("pickup_point_name")
