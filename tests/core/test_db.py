"""SQLite runs only with the pragmas the architecture requires."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from jingzhun.core.db import check_sqlite_pragmas, read_sqlite_pragmas

pytestmark = pytest.mark.django_db


def test_live_connection_has_required_pragmas() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only (this run is on PostgreSQL)")
    assert read_sqlite_pragmas(connection) == {
        "journal_mode": "wal",
        "synchronous": "2",
        "foreign_keys": "1",
    }
    options = connection.settings_dict["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE" and options["timeout"] >= 5


@pytest.mark.django_db(transaction=True)
def test_a_connection_without_them_is_refused() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only (this run is on PostgreSQL)")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous = NORMAL")
    try:
        with pytest.raises(ImproperlyConfigured, match="synchronous"):
            check_sqlite_pragmas(sender=None, connection=connection)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = FULL")
