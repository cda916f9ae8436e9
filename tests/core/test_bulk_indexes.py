"""plain_indexes_deferred: the plain indexes come back, the same, whatever happens inside."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from jingzhun.core.bulk import fetch_columns, plain_indexes_deferred

pytestmark = pytest.mark.django_db

TABLE = "schools_student"


def _indexes() -> list[tuple[str, str]]:
    return fetch_columns(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
        "AND sql IS NOT NULL ORDER BY name",
        [TABLE],
    )


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only; elsewhere it does nothing")
def test_plain_indexes_are_dropped_then_made_again() -> None:
    before = _indexes()
    plain = [n for n, sql in before if not sql.upper().startswith("CREATE UNIQUE")]
    assert plain  # the student table has plain indexes (blind indexes)
    with transaction.atomic():
        with plain_indexes_deferred(TABLE):
            assert {n for n, _sql in _indexes()} == {n for n, _sql in before} - set(plain)
        assert _indexes() == before
        with pytest.raises(RuntimeError):
            with plain_indexes_deferred(TABLE):
                raise RuntimeError("a failed write")
        assert _indexes() == before
        with plain_indexes_deferred(TABLE, enabled=False):
            assert _indexes() == before
    assert _indexes() == before


@pytest.mark.skipif(connection.vendor == "sqlite", reason="the other databases")
def test_elsewhere_nothing_is_dropped() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename LIKE %s", [TABLE + "%"])
        (before,) = cursor.fetchone()
        with transaction.atomic(), plain_indexes_deferred(TABLE):
            cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename LIKE %s", [TABLE + "%"])
            assert cursor.fetchone()[0] == before > 0
