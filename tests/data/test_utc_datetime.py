"""UTCDateTime's one-step SQLite bind gives exactly the text SQLAlchemy's two steps give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from packbench.data.types import UTCDateTime

OSLO = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 12, 6, 14, 33, 0, 0, tzinfo=UTC),  # no microseconds: still six digits
        datetime(2026, 12, 6, 14, 33, 5, 123456, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 59, 59, 999999, tzinfo=OSLO),  # another zone: stored as UTC
        datetime(1, 1, 1, 1, 0, 0, 1, tzinfo=OSLO),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        None,
    ],
)
def test_one_step_bind_matches_sqlalchemys(value: datetime | None) -> None:
    dialect = sqlite.dialect()
    column = UTCDateTime()
    two_steps = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    assert two_steps is not None
    expected = two_steps(column.process_bind_param(value, dialect))
    assert column.bind_processor(dialect)(value) == expected


def test_a_naive_time_is_refused_in_one_step_too() -> None:
    dialect = sqlite.dialect()
    with pytest.raises(ValueError, match="naive datetime"):
        UTCDateTime().bind_processor(dialect)(datetime(2026, 12, 6, 14, 33))
