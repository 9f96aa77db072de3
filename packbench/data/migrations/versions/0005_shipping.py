"""Shipping: number series, the post station's handovers and the parcels in each cage

``number_series`` holds the next serial of every number series the bench issues (SSCC serials
per GS1 company prefix, S10 tracking numbers per carrier range). A serial is taken in the same
transaction that writes it onto a parcel, so a crash either issues it or leaves it unused, and a
cancelled shipment never gives its numbers back.

``handover`` is one carrier's pickup on one day at the post station (open while parcels are
scanned into the cage, closed when the driver takes them); ``handover_parcel`` says which parcel
was scanned into which cage, when and by whom (a parcel is in at most one cage).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "number_series",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_value", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "handover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=50), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("terminal", sa.String(length=64), nullable=False),
        sa.Column("opened_by", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["opened_by"], ["packer.id"]),
        sa.ForeignKeyConstraint(["closed_by"], ["packer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handover_carrier_status", "handover", ["carrier", "status"])
    op.create_table(
        "handover_parcel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("packer_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["handover_id"], ["handover.id"]),
        sa.ForeignKeyConstraint(["parcel_id"], ["parcel.id"]),
        sa.ForeignKeyConstraint(["packer_id"], ["packer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("parcel_id"),
    )
    op.create_index("ix_handover_parcel_handover_id", "handover_parcel", ["handover_id"])


def downgrade() -> None:
    op.drop_index("ix_handover_parcel_handover_id", table_name="handover_parcel")
    op.drop_table("handover_parcel")
    op.drop_index("ix_handover_carrier_status", table_name="handover")
    op.drop_table("handover")
    op.drop_table("number_series")
