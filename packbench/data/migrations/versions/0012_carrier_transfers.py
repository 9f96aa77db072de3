"""Carrier transfers: a Cargonizer consignment's EDI, sent when its handover closes

``carrier_transfer`` is written in the transaction that closes a handover (one row per
shipment, so a consignment is transferred once) and sent after that transaction committed;
a call whose answer was lost (``sending``) is looked up before it is sent again.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "carrier_transfer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=True),
        sa.Column("carrier", sa.String(length=50), nullable=False),
        sa.Column("consignment_id", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"]),
        sa.ForeignKeyConstraint(["handover_id"], ["handover.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shipment_id"),
    )
    op.create_index("ix_carrier_transfer_handover_id", "carrier_transfer", ["handover_id"])
    op.create_index(
        "ix_carrier_transfer_status_next", "carrier_transfer", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_carrier_transfer_status_next", table_name="carrier_transfer")
    op.drop_index("ix_carrier_transfer_handover_id", table_name="carrier_transfer")
    op.drop_table("carrier_transfer")
