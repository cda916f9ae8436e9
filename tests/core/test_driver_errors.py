"""Raw driver calls (PostgreSQL COPY) raise Django's errors, and writers can be serialised.

The bulk helpers use psycopg's COPY under Django's cursor wrapper; a constraint violation
there must arrive as django.db.IntegrityError (what every service catches), never as
psycopg.errors.UniqueViolation, which escaped as a crash (issue 11, item 6).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pyarrow as pa
import pytest
from django.db import (
    IntegrityError,
    ProgrammingError,
    connection,
    transaction,
)
from django.db.transaction import TransactionManagementError

from jingzhun.core import db
from jingzhun.core.bulk import copy_arrow, fetch_arrow, insert_rows
from jingzhun.registry.models import Area

SRC = Path(__file__).resolve().parents[2] / "src" / "jingzhun"
COLUMNS = ["code", "name", "level", "is_poor"]


def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (COPY)")


@pytest.mark.django_db
def test_a_duplicate_through_insert_rows_is_djangos_integrity_error() -> None:
    Area.objects.create(code="420101", name="测试县", level="county")
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows("registry_area", COLUMNS, [("420101", "again", "county", False)])
    # the transaction is usable again and nothing was added
    assert Area.objects.filter(code="420101").count() == 1


@pytest.mark.django_db
def test_a_duplicate_through_copy_arrow_is_djangos_integrity_error() -> None:
    _postgres_only()
    Area.objects.create(code="420101", name="测试县", level="county")
    table = pa.table(
        {
            "code": ["420102", "420101"],
            "name": ["其他县", "again"],
            "level": ["county", "county"],
            "is_poor": [False, False],
        }
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_arrow("registry_area", COLUMNS, table)
    assert list(Area.objects.values_list("code", flat=True)) == ["420101"]


@pytest.mark.django_db
def test_a_bad_query_through_copy_out_is_a_django_error() -> None:
    _postgres_only()
    with pytest.raises(ProgrammingError), transaction.atomic():
        fetch_arrow("SELECT no_such_column FROM registry_area", [], pa.schema([("x", pa.int64())]))


def test_serialise_refuses_to_run_outside_a_transaction() -> None:
    with pytest.raises(TransactionManagementError):
        db.serialise("test", "420101")


@pytest.mark.django_db(transaction=True)
def test_serialise_holds_a_lock_others_cannot_take_until_commit() -> None:
    """While one transaction holds the county's lock, another cannot take it; after commit it can.

    Asked with pg_try_advisory_xact_lock from a second connection: no timing involved.
    """
    _postgres_only()
    taken, release, done = threading.Event(), threading.Event(), threading.Event()

    def holder() -> None:
        try:
            with transaction.atomic():
                db.serialise("test", "420101")
                taken.set()
                release.wait(30)
        finally:
            connection.close()
            done.set()

    def try_lock(name: str, *, shared: bool = False) -> bool:
        fn = "pg_try_advisory_xact_lock_shared" if shared else "pg_try_advisory_xact_lock"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT {fn}(%s)", [db.lock_key(name)])
            return bool(cursor.fetchone()[0])

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert taken.wait(30)
        assert not try_lock("test:420101")  # the county is taken
        assert try_lock("test:420102")  # another county is free
        assert try_lock("test", shared=True)  # other counties may serialise beside it
        assert not try_lock("test")  # a writer without a county waits for every county
    finally:
        release.set()
        thread.join()
    assert done.is_set()
    assert try_lock("test:420101")


def test_no_raw_driver_call_outside_the_one_helper() -> None:
    """Every raw psycopg call goes through core.db, which maps its errors (no sibling left)."""
    raw = re.compile(r"\bcursor\.cursor\b|\.connection\.cursor\(|^\s*(import|from) psycopg", re.M)
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path != SRC / "core" / "db.py" and raw.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
