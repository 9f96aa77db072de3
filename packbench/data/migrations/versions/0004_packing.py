"""Packing: box overrides, the pack plan of an order, which units are in which parcel

``pack_plan`` keeps the box suggestion made when an order was opened at the pack station (so a
reopened order shows the same suggestion) and a weight warning waiting for confirmation.
``parcel_item`` says how many units of each line went into each parcel (scan by scan).
``box_override`` remembers each order packed in another box than suggested, keyed by the
order's set of items; after enough of the same, that box becomes the suggestion.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pack_plan",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("items_key", sa.String(), nullable=False),
        sa.Column("suggestion", sa.String(), nullable=False),
        sa.Column("learned", sa.Boolean(), nullable=False),
        sa.Column("pending_weight_g", sa.Integer(), nullable=True),
        sa.Column("pending_weight_seq", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_table(
        "parcel_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["parcel_id"], ["parcel.id"]),
        sa.ForeignKeyConstraint(["order_line_id"], ["order_line.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("parcel_id", "order_line_id"),
    )
    op.create_index("ix_parcel_item_parcel_id", "parcel_item", ["parcel_id"])
    op.create_table(
        "box_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("items_key", sa.String(), nullable=False),
        sa.Column("suggested_code", sa.String(length=32), nullable=True),
        sa.Column("box_code", sa.String(length=32), nullable=False),
        sa.Column("packer_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.ForeignKeyConstraint(["packer_id"], ["packer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_box_override_items_key", "box_override", ["items_key"])


def downgrade() -> None:
    op.drop_index("ix_box_override_items_key", table_name="box_override")
    op.drop_table("box_override")
    op.drop_index("ix_parcel_item_parcel_id", table_name="parcel_item")
    op.drop_table("parcel_item")
    op.drop_table("pack_plan")
