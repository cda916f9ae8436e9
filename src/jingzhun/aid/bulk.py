"""The bulk evaluator: every profile of a semester against the rule book, set-wise in DuckDB.

It implements exactly the semantics of `aid.evaluate.evaluate_case` (a property test
holds the two together): household eligibility with the transition rule, the
enrolment window, the rules in force on the semester's first day with their
semester amount, and each rule's conditions.
"""

from __future__ import annotations

import pyarrow as pa

from jingzhun.aid.rulebook import RuleBook, semester_first_day, semester_last_day
from jingzhun.core.importing import duck

MONEY = pa.decimal128(14, 2)

# Columns a profile table must have; any other columns are carried through to the result.
PROFILE_SCHEMA = pa.schema(
    [
        ("student_id", pa.int64()),
        ("stage", pa.string()),
        ("grade", pa.int16()),
        ("boarding", pa.bool_()),
        ("location", pa.string()),
        ("household_status", pa.string()),
        ("exit_year", pa.int16()),
        ("enrolled_on", pa.date32()),
        ("left_on", pa.date32()),
    ]
)

LINE_COLUMNS = ("programme", "kind", "amount", "rule_id", "clause", "unit", "minimum")


def rules_table(book: RuleBook, semester: str) -> pa.Table:
    """Return the rules in force for a semester, one row per (rule, stage) for an equi-join."""
    rows: dict[str, list[object]] = {
        k: []
        for k in (
            "stage",
            "rule_id",
            "programme",
            "kind",
            "clause",
            "unit",
            "amount",
            "minimum",
            "grades",
            "boarding",
            "locations",
            "new_entrant",
            "degrees",
        )
    }
    for rule, amount in book.rules_for(semester):
        for stage in rule.when.stage:
            rows["stage"].append(stage)
            rows["rule_id"].append(rule.id)
            rows["programme"].append(rule.programme)
            rows["kind"].append(rule.kind)
            rows["clause"].append(rule.clause)
            rows["unit"].append(rule.unit)
            rows["amount"].append(amount)
            rows["minimum"].append(rule.minimum)
            rows["grades"].append(list(rule.when.grade) if rule.when.grade else None)
            rows["boarding"].append(rule.when.boarding)
            rows["locations"].append(list(rule.when.location) if rule.when.location else None)
            rows["new_entrant"].append(rule.when.new_entrant)
            rows["degrees"].append(list(rule.when.degree) if rule.when.degree else None)
    schema = pa.schema(
        [
            ("stage", pa.string()),
            ("rule_id", pa.string()),
            ("programme", pa.string()),
            ("kind", pa.string()),
            ("clause", pa.string()),
            ("unit", pa.string()),
            ("amount", MONEY),
            ("minimum", MONEY),
            ("grades", pa.list_(pa.int16())),
            ("boarding", pa.bool_()),
            ("locations", pa.list_(pa.string())),
            ("new_entrant", pa.bool_()),
            ("degrees", pa.list_(pa.string())),
        ]
    )
    return pa.table(rows, schema=schema)


def evaluate_bulk(book: RuleBook, profiles: pa.Table, semester: str) -> pa.Table:
    """Return one row per (profile, programme line): the profile's columns plus the line's.

    Profiles whose household does not qualify or whose enrolment misses the semester give
    no rows. Amounts are decimal(14,2), never float.
    """
    missing = [f.name for f in PROFILE_SCHEMA if f.name not in profiles.column_names]
    if missing:
        raise ValueError("profiles lack columns: " + ", ".join(missing))
    rules = rules_table(book, semester)
    con = duck()
    try:
        con.register("profiles", profiles)
        con.register("rules", rules)
        return con.sql(
            """
            WITH p AS (
                SELECT *,
                       CASE WHEN stage = 'university' AND grade >= 5
                            THEN 'graduate' ELSE 'undergraduate' END AS _degree,
                       (stage = 'university' AND grade = 1) AS _new_entrant
                FROM profiles
                WHERE (household_status = 'registered'
                       OR (household_status = 'left_poverty' AND exit_year IS NOT NULL
                           AND $school_year < exit_year + $transition))
                  AND (enrolled_on IS NULL OR enrolled_on <= $last_day)
                  AND (left_on IS NULL OR left_on > $first_day)
            )
            SELECT p.* EXCLUDE (_degree, _new_entrant),
                   r.programme, r.kind, r.amount, r.rule_id, r.clause, r.unit, r.minimum
            FROM p JOIN rules r ON r.stage = p.stage
            WHERE (r.grades IS NULL OR list_contains(r.grades, p.grade))
              AND (r.boarding IS NULL OR r.boarding = p.boarding)
              AND (r.locations IS NULL OR list_contains(r.locations, p.location))
              AND (r.new_entrant IS NULL OR r.new_entrant = p._new_entrant)
              AND (r.degrees IS NULL OR list_contains(r.degrees, p._degree))
            ORDER BY p.student_id, r.programme
            """,
            params={
                "school_year": book.school_year,
                "transition": book.transition_years,
                "first_day": semester_first_day(book.school_year, semester),
                "last_day": semester_last_day(book.school_year, semester),
            },
        ).to_arrow_table()
    finally:
        con.close()
