"""Database guards: SQLite must run with the pragmas the architecture requires; raw driver
calls raise Django's errors; writers that must not overlap are serialised."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.transaction import TransactionManagementError

REQUIRED_PRAGMAS = {"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1"}


def read_sqlite_pragmas(connection: Any) -> dict[str, str]:
    """Return the live values of the pragmas we depend on."""
    values = {}
    with connection.cursor() as cursor:
        for name in REQUIRED_PRAGMAS:
            cursor.execute(f"PRAGMA {name}")
            values[name] = str(cursor.fetchone()[0]).lower()
    return values


def check_sqlite_pragmas(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Refuse to run on an SQLite connection without WAL, synchronous=FULL and foreign keys."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME", ""))
    if name == ":memory:" or "mode=memory" in name:
        return
    values = read_sqlite_pragmas(connection)
    wrong = {k: v for k, v in values.items() if v != REQUIRED_PRAGMAS[k]}
    if wrong:
        raise ImproperlyConfigured(
            f"SQLite pragmas not in force: {wrong}; required {REQUIRED_PRAGMAS}. "
            "Check DATABASES OPTIONS (init_command)."
        )
    mode = connection.settings_dict.get("OPTIONS", {}).get("transaction_mode")
    timeout = connection.settings_dict.get("OPTIONS", {}).get("timeout", 0)
    if mode != "IMMEDIATE" or float(timeout) < 5:
        raise ImproperlyConfigured(
            "SQLite must use transaction_mode=IMMEDIATE and a timeout of at least 5 s."
        )


@contextmanager
def copy(cursor: Any, sql: str, params: Sequence[Any] | None = None) -> Iterator[Any]:
    """Yield psycopg's COPY object for ``sql`` on the driver cursor under Django's ``cursor``.

    Django maps driver errors to its own (IntegrityError, DataError, OperationalError, ...)
    only for calls made through its cursor wrapper; a raw call escapes as
    psycopg.errors.UniqueViolation and the like, which no service catches. Every raw driver
    call goes through here, under Django's own error wrapper, and nowhere else (a test
    checks the source).
    """
    with cursor.db.wrap_database_errors, cursor.cursor.copy(sql, params) as block:
        yield block


def lock_key(name: str) -> int:
    """Return the signed 64-bit PostgreSQL advisory lock key of a name."""
    digest = hashlib.blake2b(f"jingzhun:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def serialise(name: str, part: str = "") -> None:
    """Let the rest of the current transaction run alone among those serialising on ``name``
    and ``part`` (a county): a second one waits here until the first commits or rolls back,
    then reads what the first wrote, and finds its work already done.

    PostgreSQL: transaction-level advisory locks (``pg_advisory_xact_lock``), released at
    commit or rollback. With a part, ``name`` is taken shared and ``name:part`` exclusive, so
    that parts run beside each other while a caller without a part (a county not yet known)
    waits for every part, and every part for it. SQLite: nothing more to do, transactions
    begin IMMEDIATE (checked at connection): one writer at a time from its first statement.

    Call it first thing inside ``transaction.atomic()``, before reading what the work decides
    on; outside a transaction it would serialise nothing, so it refuses.
    """
    if not connection.in_atomic_block:
        raise TransactionManagementError("serialise() runs inside transaction.atomic().")
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if part:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [lock_key(name)])
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(f"{name}:{part}")])
        else:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(name)])
