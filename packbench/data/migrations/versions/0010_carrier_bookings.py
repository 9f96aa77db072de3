"""Carrier bookings: a shipment booked with a carrier's web API, and the carrier's labels

``shipment`` records a booking in two steps, so no network call happens inside a transaction:
``booking_state = requested`` with the request is committed before the carrier is called, and
the answer (``booked`` with the consignment number, or ``refused``/``held`` with the reason)
after. A shipment still ``requested`` after a crash is looked up by reference before anything
is booked again. ``carrier_label`` keeps the carrier's label documents (PDF or ZPL bytes, or
the link they are fetched from) so a label reprints without asking the carrier again.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shipment") as batch:
        batch.add_column(
            sa.Column("booking_state", sa.String(length=16), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("consignment_number", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("tracking_url", sa.String(length=500), nullable=True))
        batch.add_column(
            sa.Column("product", sa.String(length=20), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("booking_request", sa.String(), nullable=True))
        batch.add_column(sa.Column("booking_response", sa.String(), nullable=True))
        batch.add_column(sa.Column("booking_error", sa.String(length=1000), nullable=True))
        batch.add_column(sa.Column("booked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("pickup_point_id", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("pickup_point_name", sa.String(length=200), nullable=True))
    op.create_table(
        "carrier_label",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("page_width_mm", sa.Float(), nullable=True),
        sa.Column("page_height_mm", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_carrier_label_shipment_id", "carrier_label", ["shipment_id"])


def downgrade() -> None:
    op.drop_index("ix_carrier_label_shipment_id", table_name="carrier_label")
    op.drop_table("carrier_label")
    with op.batch_alter_table("shipment") as batch:
        for name in (
            "pickup_point_name",
            "pickup_point_id",
            "booked_at",
            "booking_error",
            "booking_response",
            "booking_request",
            "product",
            "tracking_url",
            "consignment_number",
            "booking_state",
        ):
            batch.drop_column(name)
