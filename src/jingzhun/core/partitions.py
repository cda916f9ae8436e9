"""County codes on the large tables, and their PostgreSQL partitions by county.

Six tables carry their row's county code (``county_code``): registry persons, students,
enrolments, identification links, aid entitlements and payments. Every write path fills it:

* a person takes the county of their household's village (the first six digits of its code);
* an enrolment and a link take their student's ``county_code``;
* an entitlement takes the county of the village it names (``village_code``), the one the
  aid reads select it by;
* a payment takes its batch's ``county_code``.

The bulk writers (imports, identification, aid, funds) write the column themselves; rows saved
through the ORM fill it in ``save()`` and ``bulk_create()`` (:class:`CountyRow`).

On PostgreSQL five of the tables (all but links) are partitioned ``BY LIST (county_code)``
with a DEFAULT partition (migration ``core.0009``, :func:`partition_table`); a county's
partitions are made by ``jingzhun county-setup``, by an import that brings a new county code
and by ``jingzhun partitions --ensure`` (:func:`ensure_partitions`), which also moves the rows
waiting in the DEFAULT partition into them. On SQLite nothing of this runs. docs/scaling.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models, transaction

from jingzhun.core.bulk import select_in

# The partitioned tables, parents first where one names another (the order partitions are made).
PARTITIONED_TABLES = (
    "registry_person",
    "schools_student",
    "schools_enrolment",
    "aid_entitlement",
    "funds_payment",
)
# Carries county_code (filled, scoped) but stays one table: Link.student is one-to-one, and a
# partitioned table cannot hold a unique key on student_id alone.
COUNTY_TABLES = (*PARTITIONED_TABLES, "identification_link")

_CODE = re.compile(r"^[0-9]{6}$")


def _county_of(obj: Any) -> str:
    """Return the county code a new row of one of the county tables belongs to."""
    label = obj._meta.label
    if label == "registry.Person":
        from jingzhun.registry.models import Household

        if obj.household_id is None:
            return ""
        code = (
            Household.objects.filter(pk=obj.household_id)
            .values_list("village__code", flat=True)
            .first()
        )
        return (code or "")[:6]
    if label in ("schools.Enrolment", "identification.Link"):
        from jingzhun.schools.models import Student

        if obj.student_id is None:
            return ""
        return (
            Student.objects.filter(pk=obj.student_id).values_list("county_code", flat=True).first()
            or ""
        )
    if label == "aid.Entitlement":
        return (obj.village_code or "")[:6]
    if label == "funds.Payment":
        from jingzhun.funds.models import PaymentBatch

        if obj.batch_id is None:
            return ""
        return (
            PaymentBatch.objects.filter(pk=obj.batch_id)
            .values_list("county_code", flat=True)
            .first()
            or ""
        )
    return ""


class CountyRowManager(models.Manager):  # type: ignore[type-arg]
    """``bulk_create`` fills each new row's county code first."""

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        for obj in objs:
            if not obj.county_code:
                obj.county_code = _county_of(obj)
        return super().bulk_create(objs, *args, **kwargs)


class CountyRow(models.Model):
    """A row of a county table: ``save()`` fills the county code when it is blank."""

    objects = CountyRowManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not getattr(self, "county_code", ""):
            self.county_code = _county_of(self)
        super().save(*args, **kwargs)


# ----------------------------------------------------------------- follow the student's county


def follow_student_county(
    tables: Sequence[str] = ("schools_enrolment", "identification_link"),
    *,
    student_ids: Sequence[int] | None = None,
    blank_only: bool = False,
) -> int:
    """Give enrolments and links their student's county code where it differs (set-wise).

    Run after the rolls are written, for the students whose county changed (``student_ids``,
    from the import's sync): they take their older enrolments and their link along (on
    PostgreSQL the rows move partition). ``blank_only`` fills the rows just written without
    a county code (new links). With neither, every row of the tables is checked (a repair:
    a join over the whole tables, slow at province scale).
    """
    moved = 0
    base = (
        "UPDATE {t} SET county_code = s.county_code FROM schools_student s "
        "WHERE s.id = {t}.student_id AND {t}.county_code <> s.county_code"
    )
    with connection.cursor() as cursor:
        for table in tables:
            sql = base.format(t=table)
            if blank_only:
                cursor.execute(sql + f" AND {table}.county_code = ''")
                moved += max(cursor.rowcount, 0)
            elif student_ids is not None:
                scoped = sql + f" AND {table}.student_id IN ({{marks}})"
                for text, params in select_in(scoped, student_ids):
                    cursor.execute(text, params)
                    moved += max(cursor.rowcount, 0)
            else:
                cursor.execute(sql)
                moved += max(cursor.rowcount, 0)
    if moved:
        ensure_partitions()
    return moved


def follow_household_county(household_ids: Sequence[int] | None = None) -> int:
    """Give persons their household's county code where it differs (set-wise): the persons
    of ``household_ids`` (households that moved village in an import), or with None every
    person (a repair)."""
    sql = (
        "UPDATE registry_person SET county_code = substr(a.code, 1, 6) "
        "FROM registry_household h JOIN registry_area a ON a.id = h.village_id "
        "WHERE h.id = registry_person.household_id "
        "AND registry_person.county_code <> substr(a.code, 1, 6)"
    )
    moved = 0
    with connection.cursor() as cursor:
        if household_ids is None:
            cursor.execute(sql)
            moved = max(cursor.rowcount, 0)
        else:
            scoped = sql + " AND registry_person.household_id IN ({marks})"
            for text, params in select_in(scoped, household_ids):
                cursor.execute(text, params)
                moved += max(cursor.rowcount, 0)
    if moved:
        ensure_partitions()
    return moved


# ----------------------------------------------------------------- PostgreSQL partitions


def is_partitioned() -> bool:
    """Whether the large tables are partitioned here (PostgreSQL after migration core.0009)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = %s AND pg_catalog.pg_table_is_visible(c.oid)",
            ["registry_person"],
        )
        return bool(cursor.fetchone()[0])


def can_make_partitions() -> bool:
    """Whether this connection's role owns the partitioned tables (may create partitions).

    The application's role (``jingzhun db-app-role``) owns nothing: its imports leave a new
    county's rows in the DEFAULT partition, and the owner's ``jingzhun partitions --ensure``
    (or ``county-setup``) makes the partitions and moves them.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bool_and(pg_has_role(c.relowner, 'USAGE')) FROM pg_class c "
            "WHERE c.relname = ANY(%s) AND pg_catalog.pg_table_is_visible(c.oid)",
            [list(PARTITIONED_TABLES)],
        )
        return bool(cursor.fetchone()[0])


def partition_name(table: str, county_code: str) -> str:
    return f"{table}_c{county_code}"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _defs(cursor: Any, table: str) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """Return (index definitions, (name, definition) of constraints, FKs into the table)."""
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indrelid "
        "WHERE c.relname = %s AND pg_catalog.pg_table_is_visible(c.oid) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid "
        "                AND k.contype IN ('p', 'u'))",
        [table],
    )
    indexes = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        "SELECT k.conname, pg_get_constraintdef(k.oid), k.contype, "
        "       coalesce(t.relname, '') FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_class t ON t.oid = k.confrelid "
        "WHERE c.relname = %s AND pg_catalog.pg_table_is_visible(c.oid) "
        "AND k.contype IN ('u', 'f') ORDER BY k.conname",
        [table],
    )
    constraints = []
    for name, definition, kind, target in cursor.fetchall():
        # A foreign key into another partitioned table cannot be kept (no unique key on id).
        if kind == "f" and target in PARTITIONED_TABLES:
            continue
        constraints.append((name, definition))
    cursor.execute(
        "SELECT c.relname, k.conname FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class t ON t.oid = k.confrelid "
        "WHERE t.relname = %s AND pg_catalog.pg_table_is_visible(t.oid) AND k.contype = 'f'",
        [table],
    )
    inbound = [
        f"ALTER TABLE {_q(src)} DROP CONSTRAINT {_q(name)}" for src, name in cursor.fetchall()
    ]
    return indexes, constraints, inbound


def partition_table(table: str) -> None:
    """Turn one table into a table PARTITION BY LIST (county_code), rows kept (PostgreSQL).

    The new table is made LIKE the old one, with a DEFAULT partition and one partition per
    county code its rows hold; the rows are moved, the names swapped, the indexes and
    constraints made again under their names, after the rows (faster than row by row).

    Keys are unique *indexes*, not constraints: the primary key becomes the unique index
    ``<table>_id_county`` on (id, county_code) (Django keeps ``id`` as its key: ids come from
    the identity sequence and stay unique), and each unique constraint a unique index of the
    same name and columns (each includes county_code). PostgreSQL 15's ``pg_restore --clean``
    cannot drop the constraints a partition inherits (``jingzhun restore --force`` would
    fail); it drops partitioned indexes. A later migration that removes one of these
    UniqueConstraints needs ``DROP INDEX`` on PostgreSQL. Foreign keys into the table are
    dropped (a partitioned table has no unique key on id alone); ``jingzhun
    check-integrity`` checks them set-wise.
    """
    old = f"{table}__unpartitioned"
    with connection.cursor() as cursor:
        indexes, constraints, inbound = _defs(cursor, table)
        for statement in inbound:
            cursor.execute(statement)
        cursor.execute("SELECT max(id) FROM " + _q(table))
        top = cursor.fetchone()[0]
        cursor.execute(f"ALTER TABLE {_q(table)} RENAME TO {_q(old)}")
        for name, _definition in constraints:
            cursor.execute(f"ALTER TABLE {_q(old)} DROP CONSTRAINT {_q(name)}")
        cursor.execute(f"ALTER TABLE {_q(old)} DROP CONSTRAINT {_q(table + '_pkey')}")
        cursor.execute(
            f"CREATE TABLE {_q(table)} (LIKE {_q(old)} INCLUDING DEFAULTS INCLUDING IDENTITY "
            "INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE) "
            "PARTITION BY LIST (county_code)"
        )
        cursor.execute(f"CREATE TABLE {_q(table + '_default')} PARTITION OF {_q(table)} DEFAULT")
        cursor.execute(f"SELECT DISTINCT county_code FROM {_q(old)}")
        for (code,) in cursor.fetchall():
            _create_partition(cursor, table, code)
        cursor.execute(f"INSERT INTO {_q(table)} SELECT * FROM {_q(old)}")
        cursor.execute(f"DROP TABLE {_q(old)}")
        if top is not None:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [_q(table), top])
        cursor.execute(
            f"CREATE UNIQUE INDEX {_q(table + '_id_county')} ON {_q(table)} (id, county_code)"
        )
        for definition in indexes:
            cursor.execute(definition)
        for name, definition in constraints:
            if definition.startswith("UNIQUE ("):
                columns = definition[len("UNIQUE ") :]
                cursor.execute(f"CREATE UNIQUE INDEX {_q(name)} ON {_q(table)} {columns}")
            else:
                cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")


def _create_partition(cursor: Any, table: str, code: str) -> bool:
    """Make the partition of one county (a six-digit code) if it is missing; True if made."""
    if not _CODE.match(code or ""):
        return False
    name = partition_name(table, code)
    cursor.execute("SELECT to_regclass(%s)", [name])
    if cursor.fetchone()[0] is not None:
        return False
    cursor.execute(f"CREATE TABLE {_q(name)} PARTITION OF {_q(table)} FOR VALUES IN (%s)", [code])
    return True


def ensure_partitions(county_codes: Iterable[str] | None = None) -> list[str]:
    """Make the missing partitions (of the given counties, or of every county with rows).

    Rows of a county already waiting in the DEFAULT partition are moved into its new
    partition (PostgreSQL refuses a partition whose rows the DEFAULT one still holds).
    Idempotent. Returns the partitions made. PostgreSQL only; nothing to do elsewhere, nor
    under a role that does not own the tables (:func:`can_make_partitions`).
    """
    if not is_partitioned() or not can_make_partitions():
        return []
    made = []
    with transaction.atomic(), connection.cursor() as cursor:
        for table in PARTITIONED_TABLES:
            default = _q(table + "_default")
            if county_codes is None:
                cursor.execute(f"SELECT DISTINCT county_code FROM {default}")
                codes = sorted(row[0] for row in cursor.fetchall())
            else:
                codes = sorted(set(county_codes))
            for code in codes:
                if not _CODE.match(code or ""):
                    continue
                name = partition_name(table, code)
                cursor.execute("SELECT to_regclass(%s)", [name])
                if cursor.fetchone()[0] is not None:
                    continue
                # Take the county's rows out of DEFAULT, make the partition, put them back.
                cursor.execute(
                    f"CREATE TEMPORARY TABLE _moving ON COMMIT DROP AS "
                    f"SELECT * FROM {default} WHERE county_code = %s",
                    [code],
                )
                cursor.execute(f"DELETE FROM {default} WHERE county_code = %s", [code])
                _create_partition(cursor, table, code)
                cursor.execute(f"INSERT INTO {_q(table)} SELECT * FROM _moving")
                cursor.execute("DROP TABLE _moving")
                made.append(name)
    return made


def partitions() -> list[tuple[str, str, int]]:
    """Return (table, partition, rows) of every partition, DEFAULT ones included."""
    if not is_partitioned():
        return []
    out = []
    with connection.cursor() as cursor:
        for table in PARTITIONED_TABLES:
            cursor.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s ORDER BY 1",
                [table],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f"SELECT count(*) FROM {_q(name)}")
                out.append((table, name, int(cursor.fetchone()[0])))
    return out


# ----------------------------------------------------------------- integrity


def drop_outbound_foreign_keys() -> list[str]:
    """Drop the database foreign keys out of the partitioned tables; return their names.

    Django makes them DEFERRABLE INITIALLY DEFERRED: every row written queues one check per
    key, run one by one at commit (4.5 s for 300,000 enrolments with three keys, against
    0.35 s for their insert). The writers take these values from rows they have just read or
    written, the ORM keeps its on_delete rules, and :func:`dangling_references` checks them
    set-wise. PostgreSQL only.
    """
    dropped = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid "
            "WHERE c.contype = 'f' AND NOT t.relispartition AND t.relname = ANY(%s) "
            "AND t.relnamespace = current_schema()::regnamespace ORDER BY 1, 2",
            [list(PARTITIONED_TABLES)],
        )
        for table, name in cursor.fetchall():
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_q(name)}")
            dropped.append(name)
    return dropped


def drop_blind_like_indexes() -> list[str]:
    """Drop the ``varchar_pattern_ops`` ("_like") copies Django makes of the indexes on
    blind-index columns (``*_index``); return their names. A keyed hash is compared whole,
    never searched by prefix, and each copy cost a bulk write as much as the index itself.
    PostgreSQL only."""
    dropped = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] "
            "WHERE x.indnatts = 1 AND NOT t.relispartition AND i.relname LIKE %s "
            "AND a.attname LIKE %s AND t.relnamespace = current_schema()::regnamespace "
            "ORDER BY 1",
            ["%\\_like", "%\\_index"],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP INDEX {_q(name)}")
            dropped.append(name)
    return dropped


def dangling_references() -> list[tuple[str, str, str, int]]:
    """Return (table, column, referenced table, rows) of references to a missing row.

    Every foreign key into or out of a partitioned table, whose database constraint was
    dropped (the partitioning, :func:`drop_outbound_foreign_keys`), checked set-wise (one
    anti-join each); `jingzhun check-integrity` runs it.
    """
    from django.apps import apps

    found = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            for field in model._meta.concrete_fields:
                related = field.related_model
                if not field.is_relation or field.many_to_many or related is None:
                    continue
                target = related._meta.db_table  # type: ignore[union-attr]
                if target not in PARTITIONED_TABLES and table not in PARTITIONED_TABLES:
                    continue
                column = str(field.column)
                key = str(field.target_field.column)  # type: ignore[attr-defined]
                cursor.execute(
                    f"SELECT count(*) FROM {_q(table)} s WHERE s.{_q(column)} IS NOT NULL "
                    f"AND NOT EXISTS (SELECT 1 FROM {_q(target)} t "
                    f"WHERE t.{_q(key)} = s.{_q(column)})"
                )
                n = int(cursor.fetchone()[0])
                if n:
                    found.append((table, column, target, n))
    return found
