"""Computing a semester's entitlements for a county, set-wise.

Profiles come from the identification links (registry person <-> roll student), the
student's enrolment for the school year, the school's location and the household's
status. The bulk evaluator gives the lines; they are compared with the stored
entitlements in DuckDB, and only the differences are written: new entitlements,
changed ones (with an Adjustment), and withdrawn ones (with an Adjustment).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils.translation import gettext as _

from jingzhun.aid.bulk import MONEY, evaluate_bulk
from jingzhun.aid.rulebook import ENTITLED_KINDS, RuleBook
from jingzhun.core.bulk import copy_arrow, fetch_arrow, insert_rows, plain_rows, update_rows
from jingzhun.core.importing import duck
from jingzhun.core.periods import Semester

# A household that left poverty without a known exit year (the national registry's export has
# none) is read with the year the setting JINGZHUN_UNKNOWN_EXIT_YEAR gives (the first two
# parameters: that year, or NULL, and whether one is assumed), and marked as assumed.
PROFILE_SQL = """
SELECT s.id, l.person_id, e.id, e.school_id, e.school_class_id, e.stage, e.grade, e.boarding,
       sc.location, h.status,
       CASE WHEN h.status = 'left_poverty' AND h.exit_year IS NULL THEN %s
            ELSE h.exit_year END,
       (h.status = 'left_poverty' AND h.exit_year IS NULL AND %s),
       e.enrolled_on,
       CASE WHEN e.status IN ('enrolled', 'suspended') THEN NULL
            ELSE COALESCE(e.status_date, %s) END,
       v.code, e.degree, e.freshman
FROM identification_link l
JOIN schools_student s ON s.id = l.student_id
JOIN schools_enrolment e ON e.student_id = s.id AND e.school_year = %s
JOIN schools_school sc ON sc.id = e.school_id
JOIN registry_person p ON p.id = l.person_id
JOIN registry_household h ON h.id = p.household_id
JOIN registry_area v ON v.id = h.village_id
WHERE v.code LIKE %s
"""

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


def load_raw(county_code: str, school_year: int) -> pa.Table:
    """Return every enrolment of the school year of every identified student of the county.

    `exit_year_assumed` marks a household that left poverty in an unknown year whose exit
    year was taken as the school year (see assumed_exit_year).
    """
    year_start = Semester.named(school_year, "autumn").first_day
    assumed = assumed_exit_year(school_year)
    return fetch_arrow(
        PROFILE_SQL,
        [assumed, assumed is not None, year_start, school_year, f"{county_code}%"],
        RAW_SCHEMA,
    )


def semester_enrolments(raw: pa.Table, school_year: int, semester: str) -> pa.Table:
    """Return one enrolment per student with `attends`: whether it covers the semester.

    An enrolment covers the semester when it started by its last day and was still active on
    its first; an inactive enrolment without a status date counts as left before the year
    began. A student with two covering enrolments (a transfer) is taken at the later one; a
    student with none, at their latest enrolment of the year.
    """
    period = Semester.named(school_year, semester)
    con = duck()
    try:
        con.register("raw", raw)
        return con.sql(
            """
            SELECT * FROM (
                SELECT *, (coalesce(enrolled_on, DATE '1900-01-01') <= $last
                           AND (left_on IS NULL OR left_on > $first)) AS attends
                FROM raw
            )
            QUALIFY row_number() OVER (
                PARTITION BY student_id
                ORDER BY attends DESC, enrolled_on DESC NULLS LAST, enrolment_id DESC
            ) = 1
            ORDER BY student_id
            """,
            params={"first": period.first_day, "last": period.last_day},
        ).to_arrow_table()
    finally:
        con.close()


def load_profiles(county_code: str, school_year: int, semester: str) -> pa.Table:
    """Return one profile per identified student whose enrolment covers the semester."""
    chosen = semester_enrolments(load_raw(county_code, school_year), school_year, semester)
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
    say(_("Reading profiles"), force=True)
    profiles = load_profiles(county_code, book.school_year, semester)
    say(_("Evaluating the rule book"), 0, profiles.num_rows, force=True)
    lines = evaluate_bulk(book, profiles, semester)
    existing = fetch_arrow(
        "SELECT id, student_id, programme, amount, rule_id, review FROM aid_entitlement "
        "WHERE school_year = %s AND semester = %s AND village_code LIKE %s",
        [book.school_year, semester, f"{county_code}%"],
        EXISTING_SCHEMA,
    )
    once_taken = fetch_arrow(
        "SELECT student_id, programme FROM aid_entitlement WHERE review <> 'withdrawn' "
        "AND NOT (school_year = %s AND semester = %s) AND village_code LIKE %s "
        "AND programme IN (" + ",".join(["%s"] * max(1, len(_once(book)))) + ")",
        [book.school_year, semester, f"{county_code}%", *(_once(book) or ["-"])],
        pa.schema([("student_id", pa.int64()), ("programme", pa.string())]),
    )
    say(_("Comparing with stored entitlements"), profiles.num_rows, profiles.num_rows, force=True)
    con = duck()
    try:
        con.register("lines_all", lines)
        con.register("existing", existing)
        con.register("once_taken", once_taken)
        kinds = ", ".join(f"'{k}'" for k in ENTITLED_KINDS)
        con.execute(
            f"""
            CREATE TEMP TABLE new AS
            SELECT l.student_id, l.person_id, l.school_id, l.school_class_id, l.village_code,
                   l.stage, l.programme, l.kind, l.amount, l.rule_id, l.clause, l.unit,
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
    if n:
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

        def report(done: int) -> None:
            say(_("Writing entitlements"), done, n)

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


def _keep_review(row: dict[str, Any]) -> str:
    """Return the review state of a changed entitlement.

    An exclusion stands, and so does a county approval (the adjustment is listed for the aid
    centre, and anything already paid is settled by a reversing entry, never in place);
    anything earlier goes back to class review, since the notice showed the old amount.
    """
    return row["old_review"] if row["old_review"] in ("approved", "excluded") else "pending"


def _entitlement_places(ids: list[int]) -> dict[int, tuple[Any, Any, str]]:
    out: dict[int, tuple[Any, Any, str]] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        marks = ",".join(["%s"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, school_id, school_class_id, village_code FROM aid_entitlement "
                f"WHERE id IN ({marks})",
                chunk,
            )
            for pk, school, klass, village in cursor.fetchall():
                out[pk] = (school, klass, village)
    return out
