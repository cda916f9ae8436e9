"""plain_rows: Arrow columns to SQLite-ready tuples, with None kept and no NumPy scalars."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa

from jingzhun.core.bulk import plain_rows


def test_plain_rows_converts_each_kind_of_column() -> None:
    table = pa.table(
        {
            "n": pa.array([1, None], pa.int16()),
            "money": pa.array([Decimal("500.00"), None], pa.decimal128(14, 2)),
            "day": pa.array([dt.date(2018, 9, 1), None]),
            "flag": pa.array([True, False]),
            "text": pa.array(["甲", None]).dictionary_encode(),
        }
    )
    rows = plain_rows(table, ["text", "n", "money", "day", "flag"])
    assert rows == [("甲", 1, "500.00", "2018-09-01", 1), (None, None, None, None, 0)]
    assert {type(v) for row in rows for v in row} <= {str, int, type(None)}
