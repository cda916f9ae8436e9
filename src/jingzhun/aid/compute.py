"""Computing a semester's entitlements for a county, set-wise.

Profiles come from the identification links (registry person <-> roll student), the
student's enrolment for the school year, the school's location and the household's
status. The bulk evaluator gives the lines; they are compared with the stored
entitlements in DuckDB, and only the differences are written: new entitlements,
changed ones (with an Adjustment), and withdrawn ones (with an Adjustment).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils.translation import gettext as _

from jingzhun.aid.bulk import MONEY, evaluate_bulk
from jingzhun.aid.rulebook import ENTITLED_KINDS, RuleBook
from jingzhun.core.bulk import (
    copy_arrow,
    fetch_arrow,
    fetch_columns,
    insert_rows,
    plain_rows,
    select_in,
    update_rows,
)
from jingzhun.core.importing import duck
from jingzhun.core.periods import Semester

# A household that left poverty without a known exit year (the national registry's export has
# none) is read with the year the setting JINGZHUN_UNKNOWN_EXIT_YEAR gives (the first two
# parameters: that year, or NULL, and whether one is assumed), and marked as assumed.
# The explanation's derived inputs (parameters: the assumed exit year, whether one is assumed,
# the first day of the school year), shared by the profile read and the SQLite write.
EXIT_YEAR_SQL = """CASE WHEN h.status = 'left_poverty' AND h.exit_year IS NULL THEN %s
            ELSE h.exit_year END"""
ASSUMED_SQL = "(h.status = 'left_poverty' AND h.exit_year IS NULL AND %s)"
LEFT_ON_SQL = """CASE WHEN e.status IN ('enrolled', 'suspended') THEN NULL
            ELSE COALESCE(e.status_date, %s) END"""
# From an enrolment to the school, the person, the household and the village.
PLACES_SQL = """JOIN schools_school sc ON sc.id = e.school_id
JOIN registry_person p ON p.id = l.person_id
JOIN registry_household h ON h.id = p.household_id
JOIN registry_area v ON v.id = h.village_id"""

# Each profile column and the expression it is read with (with its parameters' names).
PROFILE_COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("student_id", "s.id", ()),
    ("person_id", "l.person_id", ()),
    ("enrolment_id", "e.id", ()),
    ("school_id", "e.school_id", ()),
    ("school_class_id", "e.school_class_id", ()),
    ("stage", "e.stage", ()),
    ("grade", "e.grade", ()),
    ("boarding", "e.boarding", ()),
    ("location", "sc.location", ()),
    ("household_status", "h.status", ()),
    ("exit_year", EXIT_YEAR_SQL, ("assumed",)),
    ("exit_year_assumed", ASSUMED_SQL, ("is_assumed",)),
    ("enrolled_on", "e.enrolled_on", ()),
    ("left_on", LEFT_ON_SQL, ("year_start",)),
    ("village_code", "v.code", ()),
    ("degree", "e.degree", ()),
    ("freshman", "e.freshman", ()),
)
# What the evaluation alone reads (load_raw's `lean`): the places and the assumption flag are
# written from the rows themselves on SQLite (JOINED_INSERT_SQL).
PLACE_COLUMNS = ("person_id", "school_id", "school_class_id", "village_code", "exit_year_assumed")
PROFILE_FROM = f"""
FROM identification_link l
JOIN schools_student s ON s.id = l.student_id
JOIN schools_enrolment e ON e.student_id = s.id AND e.school_year = %s
{PLACES_SQL}
WHERE v.code LIKE %s
"""
PROFILE_SQL = "SELECT " + ", ".join(expr for _n, expr, _p in PROFILE_COLUMNS) + PROFILE_FROM

RAW_SCHEMA = pa.schema(
    [
        ("student_id", pa.int64()),
        ("person_id", pa.int64()),
        ("enrolment_id", pa.int64()),
        ("school_id", pa.int64()),
        ("school_class_id", pa.int64()),
        ("stage", pa.string()),
        ("grade", pa.int16()),
        ("boarding", pa.bool_()),
        ("location", pa.string()),
        ("household_status", pa.string()),
        ("exit_year", pa.int16()),
        ("exit_year_assumed", pa.bool_()),
        ("enrolled_on", pa.date32()),
        ("left_on", pa.date32()),
        ("village_code", pa.string()),
        ("degree", pa.string()),
        ("freshman", pa.bool_()),
    ]
)

# What JINGZHUN_UNKNOWN_EXIT_YEAR may say.
UNKNOWN_EXIT_YEAR_CHOICES = ("keep", "none")

EXISTING_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("student_id", pa.int64()),
        ("programme", pa.string()),
        ("amount", MONEY),
        ("rule_id", pa.string()),
        ("review", pa.string()),
    ]
)


def unknown_exit_year_mode() -> str:
    """Return the setting JINGZHUN_UNKNOWN_EXIT_YEAR, checked (ImproperlyConfigured if wrong)."""
    mode = getattr(settings, "UNKNOWN_EXIT_YEAR", "keep")
    if mode not in UNKNOWN_EXIT_YEAR_CHOICES:
        raise ImproperlyConfigured(
            f"JINGZHUN_UNKNOWN_EXIT_YEAR must be one of {', '.join(UNKNOWN_EXIT_YEAR_CHOICES)}, "
            f"not {mode!r}."
        )
    return str(mode)


def assumed_exit_year(school_year: int) -> int | None:
    """Return the exit year taken for a household that left poverty in an unknown year.

    `keep`: the school year being computed, so that the transition period applies (脱贫不脱政策)
    and the children keep their aid until the poverty office gives the year. `none`: no year,
    so no aid until it is known.
    """
    return school_year if unknown_exit_year_mode() == "keep" else None


def load_raw(county_code: str, school_year: int, *, lean: bool = False) -> pa.Table:
    """Return every enrolment of the school year of every identified student of the county.

    `exit_year_assumed` marks a household that left poverty in an unknown year whose exit
    year was taken as the school year (see assumed_exit_year). `lean` (SQLite only) leaves
    out PLACE_COLUMNS, which only writing needs.
    """
    year_start = Semester.named(school_year, "autumn").first_day
    assumed = assumed_exit_year(school_year)
    if not lean:
        # The persons' county (their partition key: their village's county) lets PostgreSQL
        # read one partition of the registry instead of every county's.
        return fetch_arrow(
            PROFILE_SQL + " AND p.county_code = %s",
            [
                assumed,
                assumed is not None,
                year_start,
                school_year,
                f"{county_code}%",
                county_code[:6],
            ],
            RAW_SCHEMA,
        )
    values = {"assumed": assumed, "is_assumed": assumed is not None, "year_start": year_start}
    columns = [c for c in PROFILE_COLUMNS if c[0] not in PLACE_COLUMNS]
    # Plain values, not the ones Django's converters make per value from a declared bool or
    # date column (a Python call each): Arrow converts the whole column.
    plain = {"boarding": "INTEGER", "freshman": "INTEGER", "enrolled_on": "TEXT"}
    return _read_sqlite(
        "SELECT "
        + ", ".join(
            f"CAST({expr} AS {plain[name]})" if name in plain else expr
            for name, expr, _p in columns
        )
        + PROFILE_FROM,
        [*(values[p] for _n, _e, names in columns for p in names), school_year, f"{county_code}%"],
        pa.schema([RAW_SCHEMA.field(name) for name, _e, _p in columns]),
    )


def _read_sqlite(sql: str, params: list[Any], schema: pa.Schema) -> pa.Table:
    """Read a query on SQLite into Arrow, each column converted by Arrow in one call."""
    batches = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(200_000):
            arrays = []
            for field, values in zip(schema, zip(*rows, strict=True), strict=True):
                arrays.append(_sqlite_array(values, field.type))
            batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def _sqlite_array(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    """Return SQLite values as an Arrow array: a column's values arrive typed by its declared
    type (booleans, dates), an expression's as stored (0/1, ISO text)."""
    try:
        return pa.array(values, kind)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        if pa.types.is_boolean(kind):
            return pa.array(values, pa.int8()).cast(kind)
        if pa.types.is_date(kind):
            return pa.array(values, pa.string()).cast(kind)
        raise


def semester_enrolments(raw: pa.Table, school_year: int, semester: str) -> pa.Table:
    """Return one enrolment per student with `attends`: whether it covers the semester.

    An enrolment covers the semester when it started by its last day and was still active on
    its first; an inactive enrolment without a status date counts as left before the year
    began. A student with two covering enrolments (a transfer) is taken at the later one; a
    student with none, at their latest enrolment of the year.
    """
    period = Semester.named(school_year, semester)
    n = raw.num_rows
    epoch = dt.date(1970, 1, 1)
    # Dates as days; a missing start sorts first and counts as started, a missing end as active.
    enrolled = _days(raw.column("enrolled_on"), -(1 << 31))
    attends = (enrolled <= (period.last_day - epoch).days) & (
        _days(raw.column("left_on"), (1 << 31) - 1) > (period.first_day - epoch).days
    )
    student = raw.column("student_id").to_numpy()
    if n and not np.all(student[1:] > student[:-1]):  # not one row per student in order
        order = np.argsort(student, kind="stable")
        ordered = student[order]
        keep = np.ones(n, dtype=bool)
        twice = ordered[1:] == ordered[:-1]
        keep[1:] &= ~twice
        keep[:-1] &= ~twice
        # A student with several enrolments: the covering one, then the latest start, then
        # the latest enrolment (the last of each student's rows in this order).
        many = np.flatnonzero(~keep)
        rows = order[many]
        best = np.lexsort(
            (
                raw.column("enrolment_id").to_numpy()[rows],
                enrolled[rows],
                attends[rows],
                student[rows],
            )
        )
        last = np.ones(len(best), dtype=bool)
        last[:-1] = student[rows[best]][1:] != student[rows[best]][:-1]
        keep[many[best[last]]] = True
        chosen = order[keep]
        raw, attends = raw.take(pa.array(chosen)), attends[chosen]
    return raw.append_column("attends", pa.array(attends))


def _days(column: pa.ChunkedArray, null: int) -> np.ndarray:
    """Return a date column as days since 1970, nulls as `null`."""
    days = pa.chunked_array(
        [chunk.view(pa.int32()) for chunk in column.chunks], pa.int32()
    ).fill_null(null)
    return days.to_numpy()


def load_profiles(
    county_code: str, school_year: int, semester: str, *, lean: bool = False
) -> pa.Table:
    """Return one profile per identified student whose enrolment covers the semester."""
    raw = load_raw(county_code, school_year, lean=lean)
    chosen = semester_enrolments(raw, school_year, semester)
    return chosen.filter(chosen.column("attends")).drop_columns(["attends"])


@dataclass
class Changes:
    """What a computation found, before it is written."""

    inserts: pa.Table
    updates: pa.Table  # changed or restored: id, new values, old amount/rule, kind
    withdrawals: pa.Table  # id, old amount, old rule
    unchanged: int
    lines: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.inserts.num_rows or self.updates.num_rows or self.withdrawals.num_rows)


def compute_changes(
    book: RuleBook,
    *,
    county_code: str,
    semester: str,
    progress: Callable[..., None] | None = None,
) -> Changes:
    """Evaluate every profile and compare with the stored entitlements of the semester."""
    say = progress or (lambda *a, **k: None)
    existing = fetch_arrow(
        "SELECT id, student_id, programme, amount, rule_id, review FROM aid_entitlement "
        # county_code (the village's county) lets PostgreSQL read one partition.
        "WHERE school_year = %s AND semester = %s AND village_code LIKE %s AND county_code = %s",
        [book.school_year, semester, f"{county_code}%", county_code[:6]],
        EXISTING_SCHEMA,
    )
    once_taken = fetch_arrow(
        "SELECT student_id, programme FROM aid_entitlement WHERE review <> 'withdrawn' "
        "AND NOT (school_year = %s AND semester = %s) AND village_code LIKE %s "
        "AND programme IN (" + ",".join(["%s"] * max(1, len(_once(book)))) + ")",
        [book.school_year, semester, f"{county_code}%", *(_once(book) or ["-"])],
        pa.schema([("student_id", pa.int64()), ("programme", pa.string())]),
    )
    say(_("Reading profiles"), force=True)
    # On SQLite, a first computation of the semester (nothing stored to compare with) reads
    # only what the evaluation needs: the rows are written from the database's own rows.
    lean = connection.vendor == "sqlite" and not existing.num_rows and not once_taken.num_rows
    profiles = load_profiles(county_code, book.school_year, semester, lean=lean)
    say(_("Evaluating the rule book"), 0, profiles.num_rows, force=True)
    lines = evaluate_bulk(book, profiles, semester)
    say(_("Comparing with stored entitlements"), profiles.num_rows, profiles.num_rows, force=True)
    if not existing.num_rows and not once_taken.num_rows:
        # Nothing stored to compare with (the semester's first computation): every line of
        # an entitled kind is new, already in (student, programme) order.
        return _all_new(lines, profiles.num_rows)
    con = duck()
    try:
        con.register("lines_all", lines)
        con.register("existing", existing)
        con.register("once_taken", once_taken)
        kinds = ", ".join(f"'{k}'" for k in ENTITLED_KINDS)
        con.execute(
            f"""
            CREATE TEMP TABLE new AS
            SELECT l.student_id, l.person_id, l.enrolment_id, l.school_id, l.school_class_id,
                   l.village_code, l.stage, l.programme, l.kind, l.amount, l.rule_id, l.clause, l.unit,
                   l.grade, l.boarding, l.location, l.household_status, l.exit_year,
                   coalesce(l.exit_year_assumed, FALSE) AS exit_year_assumed,
                   l.enrolled_on, l.left_on
            FROM lines_all l
            ANTI JOIN once_taken o ON o.student_id = l.student_id AND o.programme = l.programme
            WHERE l.kind IN ({kinds})
            """
        )
        inserts = con.sql(
            "SELECT n.* FROM new n ANTI JOIN existing e "
            "ON e.student_id = n.student_id AND e.programme = n.programme ORDER BY 1, programme"
        ).to_arrow_table()
        updates = con.sql(
            """
            SELECT e.id, n.*, e.amount AS old_amount, e.rule_id AS old_rule_id, e.review AS old_review,
                   CASE WHEN e.review = 'withdrawn' THEN 'restored' ELSE 'changed' END AS change
            FROM new n JOIN existing e
              ON e.student_id = n.student_id AND e.programme = n.programme
            WHERE e.review = 'withdrawn' OR e.amount <> n.amount OR e.rule_id <> n.rule_id
            ORDER BY e.id
            """
        ).to_arrow_table()
        withdrawals = con.sql(
            """
            SELECT e.id, e.amount AS old_amount, e.rule_id AS old_rule_id FROM existing e
            ANTI JOIN new n ON e.student_id = n.student_id AND e.programme = n.programme
            WHERE e.review <> 'withdrawn' ORDER BY e.id
            """
        ).to_arrow_table()
        total_new = con.execute("SELECT count(*) FROM new").fetchall()[0]
    finally:
        con.close()
    lines_new = int(total_new[0]) if total_new else 0
    unchanged = lines_new - inserts.num_rows - updates.num_rows
    return Changes(
        inserts=inserts,
        updates=updates,
        withdrawals=withdrawals,
        unchanged=unchanged,
        lines=lines.num_rows,
        counts={
            "profiles": profiles.num_rows,
            "lines": lines.num_rows,
            "entitlements": lines_new,
            "inserted": inserts.num_rows,
            "changed": updates.num_rows,
            "withdrawn": withdrawals.num_rows,
            "unchanged": unchanged,
        },
    )


# The columns of a new entitlement as compute_changes gives them (Changes.inserts).
NEW_COLUMNS = (
    "student_id",
    "person_id",
    "enrolment_id",
    "school_id",
    "school_class_id",
    "village_code",
    "stage",
    "programme",
    "kind",
    "amount",
    "rule_id",
    "clause",
    "unit",
    "grade",
    "boarding",
    "location",
    "household_status",
    "exit_year",
    "exit_year_assumed",
    "enrolled_on",
    "left_on",
)


def _all_new(lines: pa.Table, profiles: int) -> Changes:
    """Return the changes when nothing is stored: every entitled line is inserted."""
    new = lines.filter(pc.is_in(lines.column("kind"), value_set=pa.array(ENTITLED_KINDS)))
    new = new.select([c for c in NEW_COLUMNS if c in new.column_names])  # lean: fewer
    assumed = new.schema.get_field_index("exit_year_assumed")
    if assumed >= 0:
        new = new.set_column(assumed, "exit_year_assumed", new.column(assumed).fill_null(False))
    # In the unique key's order (student first), as compute_changes gives its inserts: the
    # key's index then grows at its end instead of everywhere at once.
    new = new.take(pc.sort_indices(new.column("student_id")))
    empty = pa.table({"id": pa.array([], pa.int64())})
    return Changes(
        inserts=new,
        updates=empty,
        withdrawals=empty,
        unchanged=0,
        lines=lines.num_rows,
        counts={
            "profiles": profiles,
            "lines": lines.num_rows,
            "entitlements": new.num_rows,
            "inserted": new.num_rows,
            "changed": 0,
            "withdrawn": 0,
            "unchanged": 0,
        },
    )


def _once(book: RuleBook) -> list[str]:
    return sorted({r.programme for r in book.rules if r.unit == "once"})


# The inputs stored with each entitlement as its explanation.
EXPLANATION = (
    "unit",
    "grade",
    "boarding",
    "location",
    "household_status",
    "exit_year",
    "exit_year_assumed",
    "enrolled_on",
    "left_on",
)

ENTITLEMENT_COLUMNS = [
    "student_id",
    "person_id",
    "school_id",
    "school_class_id",
    "village_code",
    "stage",
    "programme",
    "kind",
    "amount",
    "rule_id",
    "clause",
    "unit",
    "grade",
    "boarding",
    "location",
    "household_status",
    "exit_year",
    "exit_year_assumed",
    "enrolled_on",
    "left_on",
    "school_year",
    "semester",
    "rule_book_id",
    "computation_id",
    "review",
    "review_reason",
    "county_code",
]


def write_changes(
    changes: Changes,
    *,
    school_year: int,
    semester: str,
    rule_book_id: int,
    computation_id: int,
    progress: Callable[..., None] | None = None,
) -> None:
    """Write the differences: insert new entitlements, update changed ones, withdraw the rest.

    Every change to a stored entitlement also writes an Adjustment with the old and new amount.
    Must run inside the caller's transaction.
    """
    say = progress or (lambda *a, **k: None)
    n = changes.inserts.num_rows

    def report(done: int) -> None:
        say(_("Writing entitlements"), done, n)

    if n and connection.vendor == "sqlite" and "enrolment_id" in changes.inserts.column_names:
        _insert_joined(
            changes.inserts,
            school_year=school_year,
            semester=semester,
            rule_book_id=rule_book_id,
            computation_id=computation_id,
            progress=report,
        )
    elif n:
        table = changes.inserts.select(
            [c for c in ENTITLEMENT_COLUMNS if c in changes.inserts.column_names]
        )
        table = (
            table.append_column("school_year", pa.repeat(pa.scalar(school_year, pa.int16()), n))
            .append_column("semester", pa.repeat(pa.scalar(semester, pa.string()), n))
            .append_column("rule_book_id", pa.repeat(pa.scalar(rule_book_id, pa.int64()), n))
            .append_column("computation_id", pa.repeat(pa.scalar(computation_id, pa.int64()), n))
            .append_column("review", pa.repeat(pa.scalar("pending", pa.string()), n))
            .append_column("review_reason", pa.repeat(pa.scalar("", pa.string()), n))
        )
        # The partition key: the county of the village (core/partitions.py).
        table = table.append_column(
            "county_code", pc.utf8_slice_codeunits(_text(table.column("village_code")), 0, 6)
        )

        if connection.vendor == "postgresql":
            copy_arrow("aid_entitlement", ENTITLEMENT_COLUMNS, table, progress=report)
        else:
            insert_rows(
                "aid_entitlement",
                ENTITLEMENT_COLUMNS,
                plain_rows(table, ENTITLEMENT_COLUMNS),
                progress=report,
            )
    adjustments: list[tuple[Any, ...]] = []
    if changes.updates.num_rows:
        rows = changes.updates.to_pylist()
        update_rows(
            "aid_entitlement",
            [
                "amount",
                "rule_id",
                "clause",
                *EXPLANATION,
                "rule_book_id",
                "computation_id",
                "review",
                "school_id",
                "school_class_id",
                "village_code",
                "stage",
                "person_id",
                "county_code",
            ],
            [
                (
                    r["amount"],
                    r["rule_id"],
                    r["clause"],
                    *(r[c] for c in EXPLANATION),
                    rule_book_id,
                    computation_id,
                    "pending" if r["change"] == "restored" else _keep_review(r),
                    r["school_id"],
                    r["school_class_id"],
                    r["village_code"],
                    r["stage"],
                    r["person_id"],
                    (r["village_code"] or "")[:6],
                    r["id"],
                )
                for r in rows
            ],
        )
        adjustments += [
            (
                r["id"],
                computation_id,
                r["change"],
                r["old_amount"] if r["change"] != "restored" else Decimal("0.00"),
                r["amount"],
                r["old_rule_id"],
                r["rule_id"],
                r["school_id"],
                r["school_class_id"],
                r["village_code"],
            )
            for r in rows
        ]
    if changes.withdrawals.num_rows:
        ids = changes.withdrawals.column("id").to_pylist()
        update_rows(
            "aid_entitlement",
            ["review", "computation_id"],
            [("withdrawn", computation_id, i) for i in ids],
        )
        info = _entitlement_places(ids)
        adjustments += [
            (i, computation_id, "withdrawn", old, Decimal("0.00"), rule, "", *info[i])
            for i, old, rule in zip(
                ids,
                changes.withdrawals.column("old_amount").to_pylist(),
                changes.withdrawals.column("old_rule_id").to_pylist(),
                strict=True,
            )
        ]
    insert_rows(
        "aid_adjustment",
        [
            "entitlement_id",
            "computation_id",
            "kind",
            "old_amount",
            "new_amount",
            "old_rule_id",
            "new_rule_id",
            "school_id",
            "school_class_id",
            "village_code",
        ],
        adjustments,
    )


def _text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Return a text column as plain strings (a dictionary-encoded one decoded)."""
    kind = column.type
    return column.cast(kind.value_type) if pa.types.is_dictionary(kind) else column


# The SQLite page cache during that insert (KiB; the connection's own is restored after).
JOINED_INSERT_CACHE_KB = 256 * 1024
# SQLite: new entitlements made by the database from the enrolment and the rule (those two per
# line, packed in one integer, in a JSON array), the explanation read again from the rows the
# profile was read from, by the same expressions (PROFILE_SQL), in the same write transaction
# (which holds SQLite's write lock since the computation began, so nothing has changed them).
# Parameters: EXIT_YEAR_SQL's, ASSUMED_SQL's and LEFT_ON_SQL's, the computation's four
# constants, the lines.
JOINED_INSERT_SQL = f"""
INSERT INTO aid_entitlement ({{columns}})
SELECT e.student_id, l.person_id, e.school_id, e.school_class_id, v.code, e.stage,
       r.programme, r.kind, r.amount, r.rule_id, r.clause, r.unit, e.grade, e.boarding,
       sc.location, h.status, {EXIT_YEAR_SQL}, {ASSUMED_SQL}, e.enrolled_on, {LEFT_ON_SQL},
       %s, %s, %s, %s, 'pending', ''{{county}}
FROM json_each(%s) n
JOIN temp.aid_new_rule r ON r.code = n.value & {{mask}}
JOIN schools_enrolment e ON e.id = n.value >> {{shift}}
JOIN identification_link l ON l.student_id = e.student_id
{PLACES_SQL}
"""


def _insert_joined(
    inserts: pa.Table,
    *,
    school_year: int,
    semester: str,
    rule_book_id: int,
    computation_id: int,
    progress: Callable[[int], None],
) -> None:
    """Insert new entitlements on SQLite from (enrolment, rule) pairs (see JOINED_INSERT_SQL).

    Python binds two integers per entitlement instead of twenty-seven values.
    """
    rule = inserts.column("rule_id").combine_chunks()
    if not pa.types.is_dictionary(rule.type):
        rule = rule.dictionary_encode()
    codes = rule.indices.to_numpy(zero_copy_only=False)
    # Each rule's columns, from its first line (a rule gives one programme, amount, clause).
    first = np.full(len(rule.dictionary), -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    used = np.flatnonzero(first >= 0)
    of_rule = inserts.take(pa.array(first[used])).select(
        ["programme", "kind", "amount", "rule_id", "clause", "unit"]
    )
    rules = plain_rows(of_rule, of_rule.column_names)
    # Each line as one integer, enrolment << shift | rule, in a JSON array: SQLite reads it
    # with json_each, with no Python value per line.
    shift = max(1, (len(rule.dictionary) - 1).bit_length())
    packed = pa.array(
        (inserts.column("enrolment_id").to_numpy() << shift) | codes.astype(np.int64)
    ).cast(pa.string())
    lines = pc.binary_join(pa.ListArray.from_arrays([0, len(packed)], packed), ",")[0]
    year_start = Semester.named(school_year, "autumn").first_day
    assumed = assumed_exit_year(school_year)
    # JOINED_INSERT_SQL's select list, in this order (the county code where the table has it).
    columns = [c for c in ENTITLEMENT_COLUMNS if c != "county_code"]
    if columns[:20] != [*NEW_COLUMNS[:2], *NEW_COLUMNS[3:]] or columns[20:] != [
        "school_year",
        "semester",
        "rule_book_id",
        "computation_id",
        "review",
        "review_reason",
    ]:
        raise RuntimeError("ENTITLEMENT_COLUMNS no longer match JOINED_INSERT_SQL")
    county = ""
    if "county_code" in ENTITLEMENT_COLUMNS:
        columns.append("county_code")
        county = ", substr(v.code, 1, 6)"
    sql = JOINED_INSERT_SQL.format(
        columns=", ".join(connection.ops.quote_name(c) for c in columns),
        county=county,
        shift=shift,
        mask=(1 << shift) - 1,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE aid_new_rule (code INTEGER PRIMARY KEY, programme, kind, amount, "
            "rule_id, clause, unit)"
        )
        cursor.execute("PRAGMA cache_size")
        cache = int(cursor.fetchone()[0])
        # The indexes of a million new rows do not fit the default 2 MB page cache.
        cursor.execute(f"PRAGMA cache_size = {-JOINED_INSERT_CACHE_KB}")
        try:
            cursor.executemany(
                "INSERT INTO temp.aid_new_rule VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(int(c), *r) for c, r in zip(used, rules, strict=True)],
            )
            progress(0)
            cursor.execute(
                sql,
                [
                    assumed,
                    assumed is not None,
                    year_start,
                    school_year,
                    semester,
                    rule_book_id,
                    computation_id,
                    f"[{lines.as_py()}]",
                ],
            )
            if cursor.rowcount != inserts.num_rows:
                raise RuntimeError(
                    f"wrote {cursor.rowcount} entitlements, expected {inserts.num_rows}"
                )
            progress(inserts.num_rows)
        finally:
            cursor.execute(f"PRAGMA cache_size = {cache}")
            cursor.execute("DROP TABLE temp.aid_new_rule")


def _keep_review(row: dict[str, Any]) -> str:
    """Return the review state of a changed entitlement.

    An exclusion stands, and so does a county approval (the adjustment is listed for the aid
    centre, and anything already paid is settled by a reversing entry, never in place);
    anything earlier goes back to class review, since the notice showed the old amount.
    """
    return row["old_review"] if row["old_review"] in ("approved", "excluded") else "pending"


def _entitlement_places(ids: list[int]) -> dict[int, tuple[Any, Any, str]]:
    out: dict[int, tuple[Any, Any, str]] = {}
    sql = (
        "SELECT id, school_id, school_class_id, village_code FROM aid_entitlement "
        "WHERE id IN ({marks})"
    )
    for text, params in select_in(sql, ids):
        for pk, school, klass, village in fetch_columns(text, params):
            out[pk] = (school, klass, village)
    return out
