"""Picking: batches of orders on a cart of totes, the stops of the pick list, short picks

A pick batch is one walk through the warehouse for up to N orders, one tote each. Its tasks are
the pick list: one row per order line and location, numbered by stop in walking order, with
how many were picked and how many the shelf did not have. Progress is written per scan, so a
picker who leaves or a terminal that crashes resumes exactly. ``order_line.short_qty`` keeps
the units a short pick left missing, for the admin station and the dashboard.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pick_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("packer_id", sa.Integer(), nullable=True),
        sa.Column("terminal", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("at_location", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["packer_id"], ["packer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pick_batch_status", "pick_batch", ["status"])
    op.create_table(
        "pick_batch_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("tote", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["pick_batch.id"]),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("batch_id", "order_id"),
        sa.UniqueConstraint("batch_id", "tote"),
    )
    op.create_index("ix_pick_batch_order_order_id", "pick_batch_order", ["order_id"])
    op.create_table(
        "pick_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("tote", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("picked", sa.Integer(), nullable=False),
        sa.Column("short", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["pick_batch.id"]),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.ForeignKeyConstraint(["order_line_id"], ["order_line.id"]),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pick_task_batch_id", "pick_task", ["batch_id"])
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("short_qty", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_column("short_qty")
    op.drop_index("ix_pick_task_batch_id", table_name="pick_task")
    op.drop_table("pick_task")
    op.drop_index("ix_pick_batch_order_order_id", table_name="pick_batch_order")
    op.drop_table("pick_batch_order")
    op.drop_index("ix_pick_batch_status", table_name="pick_batch")
    op.drop_table("pick_batch")
