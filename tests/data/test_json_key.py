"""A JSON key read in SQL on both databases (the print history and reprints use it)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import col, select

from packbench.data.engine import Database
from packbench.data.models import Event
from packbench.data.types import JsonInt


def test_a_json_key_is_read_in_sql_on_every_database(db: Database) -> None:
    with db.write() as s:
        for job, other in ((5, 1), (6, 5), (12, 7)):
            s.add(
                Event(
                    kind="print.submitted",
                    station="admin",
                    terminal="t",
                    data=json.dumps({"print_job": job, "other": other}),
                )
            )
        s.add(Event(kind="print.submitted", station="admin", terminal="t", data=None))
    with db.read() as s:
        one = s.exec(select(Event).where(JsonInt(Event.data, "print_job") == 5)).all()
        some = s.exec(
            select(Event.data)
            .where(JsonInt(Event.data, "print_job").in_([6, 12]))
            .order_by(col(Event.id))
        ).all()
    assert [json.loads(e.data or "{}")["other"] for e in one] == [1]
    assert [json.loads(d or "{}")["print_job"] for d in some] == [6, 12]


def test_only_our_own_key_names_are_read() -> None:
    with pytest.raises(ValueError):
        JsonInt(Event.data, "x') OR 1=1 --")
