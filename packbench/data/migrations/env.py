"""Alembic environment: always called with a connection from ``packbench.data.migrate``."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import packbench.data.models  # noqa: F401  (registers the tables on the metadata)

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through packbench (packbench init), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
