"""Column types: timezone-aware UTC datetimes on every database; a JSON key read in SQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always returns an aware datetime (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: packbench stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Any) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            # process_bind_param and SQLite's DATETIME storage format in one step (a page of
            # the shop's orders binds thousands of these): "YYYY-MM-DD HH:MM:SS.ffffff".
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError(f"naive datetime {value!r}: packbench stores aware UTC times only")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


_JSON_KEY = re.compile(r"[a-z_][a-z0-9_]{0,63}")


class JsonInt(ColumnElement[int]):
    """A text column's JSON object's top-level ``key`` as an integer, in SQL, on SQLite and
    PostgreSQL alike (``json_extract`` is SQLite's alone: PostgreSQL refused the reprint).
    ``key`` is one of our own names, never outside text."""

    inherit_cache = False
    type = Integer()

    def __init__(self, column: Any, key: str) -> None:
        if not _JSON_KEY.fullmatch(key):
            raise ValueError(f"not a JSON key this helper reads: {key!r}")
        self.column = column
        self.key = key


@compiles(JsonInt)
def _json_int_sqlite(element: JsonInt, compiler: Any, **kw: Any) -> str:
    return f"json_extract({compiler.process(element.column, **kw)}, '$.{element.key}')"


@compiles(JsonInt, "postgresql")
def _json_int_postgresql(element: JsonInt, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"CAST(CAST({column} AS json) ->> '{element.key}' AS INTEGER)"
