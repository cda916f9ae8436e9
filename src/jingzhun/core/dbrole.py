"""The PostgreSQL role the application runs as: data rights only, no DDL, no TRUNCATE.

Migrations run as the role that owns the tables (``jingzhun migrate`` with the owner's
DATABASE_URL); the web app and the worker run as this role, which owns nothing, so it can
neither drop, alter nor truncate a table nor disable a trigger, and which may only read and
append audit events. ``jingzhun db-app-role`` prints these statements for the owner to run.
"""

from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_$]{0,62}")
AUDIT_TABLE = "core_auditevent"
# Append-only like the audit log: the fund ledger's journal (funds.0005 adds the triggers).
APPEND_ONLY_TABLES = (AUDIT_TABLE, "funds_journalentry", "funds_journalline")


def identifier(name: str) -> str:
    """Return a PostgreSQL identifier, quoted; refuse anything but a plain lower-case name."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"Not a plain PostgreSQL name: {name!r}")
    return f'"{name}"'


def app_role_sql(role: str, *, owner: str, database: str, schema: str = "public") -> list[str]:
    """Return the statements that create the application's role (run them as the owner)."""
    r, o, d, s = (identifier(n) for n in (role, owner, database, schema))
    on_schema = f"FOR ROLE {o} IN SCHEMA {s}"
    return [
        f"CREATE ROLE {r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        # PostgreSQL before 15 lets every role create tables in public.
        f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC",
        f"GRANT CONNECT ON DATABASE {d} TO {r}",
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        # The audit log and the fund journal are append-only for the application, whatever
        # the triggers.
        *(f"REVOKE UPDATE, DELETE ON {s}.{identifier(t)} FROM {r}" for t in APPEND_ONLY_TABLES),
        # Tables and sequences later migrations create get the same rights.
        f"ALTER DEFAULT PRIVILEGES {on_schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES {on_schema} GRANT USAGE, SELECT ON SEQUENCES TO {r}",
    ]
