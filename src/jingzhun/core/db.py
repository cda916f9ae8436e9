"""Database guards: SQLite must run with the pragmas the architecture requires."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

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
