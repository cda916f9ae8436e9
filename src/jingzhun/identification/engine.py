"""The identification engine: set-wise matching and classification over Arrow tables in DuckDB.

Reads the county's registry children and roll students once, links them (exact IDs verified
by name or birth date, then the fuzzy stage for the rest), classifies every child aged 3-22,
and compares the result with the previous run. Nothing here loops over the county row by row
through the ORM.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.utils.translation import gettext as _

from jingzhun.core.bulk import fetch_arrow, fetch_columns
from jingzhun.core.importing import duck
from jingzhun.identification.fuzzy import name_keys

ACTIVE = ("enrolled", "suspended")

# The current enrolment of a student in a school year, defined once (the ORM twin is
# selectors.current_enrolments): of the student's enrolments that year, one in school
# (enrolled or suspended) first; then the latest status date (no date counts as oldest);
# then the highest enrolment id (the record that landed last).
CURRENT_ENROLMENT_ORDER = (
    "status IN ('enrolled', 'suspended') DESC, status_date DESC NULLS LAST, enrolment_id DESC"
)


def current_enrolment_sql(school_year: int, *, columns: str = "*", table: str = "e") -> str:
    """Return the DuckDB query of each student's current enrolment in `school_year`.

    `table` holds enrolments in ENROLMENT_SCHEMA's shape; one row per student comes out.
    """
    return (
        f"SELECT {columns} FROM {table} WHERE school_year = {int(school_year)} "
        f"QUALIFY row_number() OVER (PARTITION BY student_id ORDER BY {CURRENT_ENROLMENT_ORDER})"
        " = 1"
    )


@dataclass
class Inputs:
    """Everything the engine reads, as Arrow tables."""

    persons: pa.Table  # children of registered-poor households aged 3-22
    students: pa.Table
    enrolments: pa.Table
    accepted: set[tuple[int, int]] = field(default_factory=set)
    rejected: set[tuple[int, int]] = field(default_factory=set)
    home_teaching: set[int] = field(default_factory=set)
    out_of_county: set[int] = field(default_factory=set)


@dataclass
class Result:
    links: pa.Table  # person_id, student_id, method, probability
    statuses: pa.Table
    candidates: pa.Table  # person_id, student_id, probability, evidence (json text)
    discrepancies: pa.Table
    counts: dict[str, int]
    model: dict[str, Any]
    duplicates: pa.Table | None = None  # person_id, student_id, primary_id


PERSON_SCHEMA = pa.schema(
    [
        ("person_id", pa.int64()),
        ("name", pa.string()),
        ("id_index", pa.string()),
        ("birth_date", pa.date32()),
        ("sex", pa.string()),
        ("household_status", pa.string()),
        ("village_code", pa.string()),
        ("id15_index", pa.string()),
        ("education", pa.string()),
        ("school_status", pa.string()),
    ]
)
STUDENT_SCHEMA = pa.schema(
    [
        ("student_id", pa.int64()),
        ("name", pa.string()),
        ("id_index", pa.string()),
        ("birth_date", pa.date32()),
        ("sex", pa.string()),
        ("poor_flag", pa.bool_()),
        ("roll_id_index", pa.string()),
        ("id15_index", pa.string()),
    ]
)
ENROLMENT_SCHEMA = pa.schema(
    [
        ("enrolment_id", pa.int64()),
        ("student_id", pa.int64()),
        ("school_id", pa.int64()),
        ("school_year", pa.int32()),
        ("stage", pa.string()),
        ("grade", pa.int32()),
        ("boarding", pa.bool_()),
        ("status", pa.string()),
        ("status_date", pa.date32()),
        ("location", pa.string()),
        ("school_village", pa.string()),
        ("school_township", pa.string()),
    ]
)


def load_inputs(*, county_code: str, as_of: dt.date) -> Inputs:
    """Read the county's children, students and enrolments from the database."""
    oldest = dt.date(as_of.year - 23, as_of.month, min(as_of.day, 28))
    # `county_code` may also be a province's prefix (two digits): a province-wide run.
    code = f"{county_code}%"
    # A county's own code (not a province prefix) also names the partition to read
    # (core/partitions.py): every row's county_code is the county the LIKE selects it by.
    own = len(county_code) == 6
    in_county = " AND {}.county_code = %s" if own else ""
    persons = fetch_arrow(
        "SELECT p.id, p.name, p.id_index, p.birth_date, p.sex, h.status, a.code, "
        "p.id15_index, p.education, p.school_status "
        "FROM registry_person p JOIN registry_household h ON h.id = p.household_id "
        "JOIN registry_area a ON a.id = h.village_id "
        "WHERE a.code LIKE %s AND h.status <> 'removed' AND p.birth_date > %s"
        + in_county.format("p"),
        [code, oldest, *([county_code] if own else [])],
        PERSON_SCHEMA,
    )
    # An ID that failed its checks joins nothing: its index is left out here.
    students = fetch_arrow(
        "SELECT id, name, CASE WHEN id_status = 'valid' THEN id_index END, birth_date, sex, "
        "poor_flag, roll_id_index, id15_index FROM schools_student s WHERE county_code LIKE %s"
        + in_county.format("s"),
        [code, *([county_code] if own else [])],
        STUDENT_SCHEMA,
    )
    enrolments = fetch_arrow(
        "SELECT e.id, e.student_id, e.school_id, e.school_year, e.stage, e.grade, e.boarding, "
        "e.status, e.status_date, s.location, coalesce(v.code, ''), coalesce(t.code, '') "
        "FROM schools_enrolment e JOIN schools_student st ON st.id = e.student_id "
        "JOIN schools_school s ON s.id = e.school_id "
        "LEFT JOIN registry_area v ON v.id = s.village_id "
        "LEFT JOIN registry_area t ON t.id = s.township_id WHERE st.county_code LIKE %s"
        + in_county.format("st")
        + in_county.format("e"),
        [code, *([county_code, county_code] if own else [])],
        ENROLMENT_SCHEMA,
    )
    decided = fetch_columns(
        "SELECT person_id, student_id, decision FROM identification_reviewcandidate "
        "WHERE decision <> 'pending'"
    )
    home = {
        pid
        for (pid,) in fetch_columns(
            "SELECT person_id FROM identification_hometeaching WHERE since <= %s "
            "AND (until IS NULL OR until >= %s)",
            [as_of, as_of],
        )
    }
    year = as_of.year if as_of.month >= 9 else as_of.year - 1
    proofs = {
        pid
        for (pid,) in fetch_columns(
            "SELECT person_id FROM identification_outofcountyproof WHERE school_year = %s", [year]
        )
    }
    return Inputs(
        persons=persons,
        students=students,
        enrolments=enrolments,
        accepted={(p, s) for p, s, d in decided if d == "accepted"},
        rejected={(p, s) for p, s, d in decided if d == "rejected"},
        home_teaching=home,
        out_of_county=proofs,
    )


def pinyin_key(name: str | None) -> str:
    """Return the toneless pinyin of a name ('张小明' -> 'zhangxiaoming'), read the same way
    as the fuzzy stage reads it (character by character, surnames by their surname reading)."""
    return name_keys(name or "")[0] or ""


def exact_links(con: Any, persons: pa.Table, students: pa.Table) -> pa.Table:
    """Join on the ID blind index and keep only hits whose name or birth date agrees.

    A sibling's ID typed on a roll joins the wrong child; requiring the name (characters or
    toneless pinyin) or the birth date to agree turns those into residue for the fuzzy stage.
    Agreement by characters or birth date is decided in DuckDB; only the few hits that agree
    on neither have their names converted to pinyin (distinct names only).
    """
    # The join carries only the birth dates; the few hits whose birth dates differ have
    # their names fetched afterwards and compared by characters, then by pinyin.
    # Three ways an ID ties a roll row to a person: the ID column; the ID inside a national
    # roll number (G + the ID at first registration), a second witness when a sibling's ID
    # was typed in the column; and, for a registry ID Excel rounded, its 15 surviving digits.
    # Each hit still needs the name or the birth date to agree (the 15 digits hold the birth
    # date, so for those the name must agree).
    hits = con.sql("""
        WITH h AS (
            SELECT p.person_id, s.student_id, (p.birth_date = s.birth_date) IS TRUE AS agrees
            FROM p JOIN s ON s.id_index = p.id_index
            UNION
            SELECT p.person_id, s.student_id, (p.birth_date = s.birth_date) IS TRUE
            FROM p JOIN s ON s.roll_id_index = p.id_index
            UNION
            SELECT p.person_id, s.student_id, false
            FROM p JOIN s ON s.id15_index = p.id15_index WHERE p.id15_index IS NOT NULL)
        SELECT person_id, student_id, bool_or(agrees) AS agrees FROM h GROUP BY ALL""").to_arrow_table()
    agrees = hits.column("agrees")
    doubtful = hits.filter(pc.invert(agrees))
    # Names of just those rows, picked out of the inputs by a vectorised membership test.
    person_names = _names(persons, "person_id", doubtful.column("person_id"))
    student_names = _names(students, "student_id", doubtful.column("student_id"))
    pairs = list(
        zip(
            doubtful.column("person_id").to_pylist(),
            doubtful.column("student_id").to_pylist(),
            strict=True,
        )
    )
    keys = {n: pinyin_key(n) for n in {*person_names.values(), *student_names.values()}}
    by_name = [
        (pid, sid)
        for pid, sid in pairs
        if person_names[pid] == student_names[sid]
        or keys[person_names[pid]] == keys[student_names[sid]]
    ]
    return pa.concat_tables(
        [
            hits.filter(agrees).select(["person_id", "student_id"]),
            pa.table(
                {
                    "person_id": pa.array([b[0] for b in by_name], pa.int64()),
                    "student_id": pa.array([b[1] for b in by_name], pa.int64()),
                }
            ),
        ]
    )


def _names(table: pa.Table, key: str, wanted: Any) -> dict[int, str]:
    """Return {id: name} for the rows of `table` whose `key` is among `wanted`."""
    rows = table.filter(
        pc.is_in(table.column(key), value_set=pa.array(wanted.to_pylist(), pa.int64()))
    )
    return dict(zip(rows.column(key).to_pylist(), rows.column("name").to_pylist(), strict=True))


# The registry's 在校生状况 values that say a child is not in school (blank says nothing).
NOT_IN_SCHOOL = ("", "非在校生", "否", "不在校")
# The 文化程度 values that put junior high behind a child.
PAST_JUNIOR = (
    "初中",
    "高中",
    "中专",
    "中职",
    "技校",
    "大专",
    "大专及以上",
    "本科",
    "本科及以上",
    "研究生",
)


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def classify(con: Any, *, as_of: dt.date, school_year: int) -> pa.Table:
    """Return one status row per child, from tables p (children), l (links) and e (enrolments)."""
    return con.sql(f"""
        WITH kids AS (
            SELECT *, (year(DATE '{as_of}') - year(birth_date)
                       - CASE WHEN month(DATE '{as_of}') * 100 + day(DATE '{as_of}')
                                   < month(birth_date) * 100 + day(birth_date) THEN 1 ELSE 0 END) AS age,
                   -- School age is counted on 31 August, when the school year begins.
                   ({school_year} - year(birth_date)
                       - CASE WHEN 831 < month(birth_date) * 100 + day(birth_date)
                              THEN 1 ELSE 0 END) AS sage,
                   coalesce(school_status, '') NOT IN {_sql_list(NOT_IN_SCHOOL)}
                       AS reported_in_school,
                   coalesce(education, '') IN {_sql_list(PAST_JUNIOR)} AS finished_junior
            FROM p),
        cur AS ({current_enrolment_sql(school_year)}),
        dropped_before AS (
            SELECT DISTINCT student_id FROM e
            WHERE status = 'dropped_out' AND school_year < {school_year}),
        -- Last year's roll says more than 文化程度: a child in junior grade 1-2 (or primary)
        -- then has not finished junior high now; one in grade 3 has.
        prev AS (
            SELECT student_id,
                   stage = 'junior' AND grade >= 3 AS finished,
                   stage IN ('primary', 'junior') AND NOT (stage = 'junior' AND grade >= 3)
                       AS unfinished
            FROM ({current_enrolment_sql(school_year - 1)}))
        SELECT k.person_id, k.age, k.household_status, k.village_code,
               l.student_id, l.method AS link_method, c.enrolment_id, c.school_id, c.stage,
               c.grade, coalesce(c.boarding, false) AS boarding,
               coalesce(c.status, '') AS enrolment_status,
               CASE
                 WHEN c.status IN ('enrolled', 'suspended') AND c.location = 'in_county' THEN 'in_county'
                 WHEN c.status IN ('enrolled', 'suspended') THEN 'out_of_county'
                 WHEN ht.person_id IS NOT NULL THEN 'home_teaching'
                 WHEN c.status = 'dropped_out' THEN 'dropped_out'
                 WHEN pr.person_id IS NOT NULL THEN 'out_of_county'
                 WHEN c.status = 'graduated' AND c.stage IN ('senior', 'vocational', 'university')
                   THEN 'finished_study'
                 WHEN c.status = 'graduated' AND c.stage = 'junior' AND k.sage >= 15
                   THEN CASE WHEN k.sage <= 18 THEN 'not_continuing' ELSE 'finished_study' END
                 -- The registry says the child studies, the county's rolls do not have them:
                 -- most study elsewhere; a receiving school's confirmation settles it.
                 WHEN k.reported_in_school THEN 'to_verify_outside'
                 WHEN k.sage <= 5 THEN 'preschool_not_enrolled'
                 WHEN k.sage >= 15 AND ((k.finished_junior AND NOT coalesce(pv.unfinished, false))
                                        OR coalesce(pv.finished, false))
                   THEN CASE WHEN k.sage <= 18 THEN 'not_continuing' ELSE 'finished_study' END
                 WHEN k.sage <= 15 THEN 'suspected_dropout'
                 WHEN k.sage <= 18 THEN 'not_continuing'
                 ELSE 'finished_study'
               END AS category,
               (c.status IN ('enrolled', 'suspended') AND d.student_id IS NOT NULL) IS TRUE AS returned,
               (l.student_id IS NOT NULL OR ht.person_id IS NOT NULL OR pr.person_id IS NOT NULL) AS known
        FROM kids k
        LEFT JOIN l ON l.person_id = k.person_id
        LEFT JOIN cur c ON c.student_id = l.student_id
        LEFT JOIN dropped_before d ON d.student_id = l.student_id
        LEFT JOIN prev pv ON pv.student_id = l.student_id
        LEFT JOIN ht ON ht.person_id = k.person_id
        LEFT JOIN pr ON pr.person_id = k.person_id
        WHERE k.age BETWEEN 3 AND 22
        ORDER BY k.person_id""").to_arrow_table()


def discrepancies(con: Any, *, school_year: int) -> pa.Table:
    """Students marked poor on a roll who are in no registry, and linked pairs that disagree.

    Each row carries the student's school this year and, where linked, the child's village,
    so that the school and the township see their own.
    """
    return con.sql(f"""
        WITH cur AS ({current_enrolment_sql(school_year, columns="student_id, school_id")}),
        found AS (
            SELECT 'not_in_registry' AS kind, s.student_id, NULL::BIGINT AS person_id
            FROM s LEFT JOIN l ON l.student_id = s.student_id
            WHERE s.poor_flag AND l.student_id IS NULL
              AND s.student_id IN (SELECT student_id FROM e WHERE school_year = {school_year}
                                   AND status IN ('enrolled', 'suspended'))
            UNION ALL
            SELECT 'birth_date', s.student_id, p.person_id
            FROM l JOIN s USING (student_id) JOIN p USING (person_id)
            WHERE s.birth_date IS NOT NULL AND s.birth_date <> p.birth_date
            UNION ALL
            SELECT 'sex', s.student_id, p.person_id
            FROM l JOIN s USING (student_id) JOIN p USING (person_id)
            WHERE s.sex IN ('M', 'F') AND s.sex <> p.sex)
        SELECT f.kind, f.student_id, f.person_id, cur.school_id,
               coalesce(p.village_code, '') AS village_code
        FROM found f LEFT JOIN cur USING (student_id) LEFT JOIN p USING (person_id)
        ORDER BY 1, 2""").to_arrow_table()


def roll_duplicates(con: Any) -> pa.Table:
    """Unlinked roll records of a linked child (重复学籍): the same ID as the linked record, or
    (with no ID or the same one) the same name, birth date and sex. One record per child
    keeps the link; these are tied to the same person."""
    return con.sql("""
        WITH linked AS (
            SELECT l.person_id, s.student_id AS primary_id, s.name, s.birth_date, s.sex,
                   s.id_index FROM l JOIN s USING (student_id)),
        free AS (SELECT * FROM s WHERE student_id NOT IN (SELECT student_id FROM l))
        SELECT person_id, student_id, primary_id FROM (
        SELECT linked.person_id, free.student_id, linked.primary_id,
               count(*) OVER (PARTITION BY free.student_id) AS n
        FROM free JOIN linked ON (
            (free.id_index IS NOT NULL AND free.id_index = linked.id_index
             AND free.name = linked.name)
            OR (free.name = linked.name AND free.birth_date = linked.birth_date
                AND coalesce(free.sex, '') IN ('', linked.sex)
                AND (free.id_index IS NULL OR free.id_index = linked.id_index))))
        WHERE n = 1 ORDER BY 2""").to_arrow_table()


FuzzyStage = Callable[[Any, Inputs, pa.Table], tuple[pa.Table, pa.Table, dict[str, Any]]]


def run_engine(
    inputs: Inputs,
    *,
    as_of: dt.date,
    fuzzy: FuzzyStage | None = None,
    progress: Callable[..., None] | None = None,
) -> Result:
    """Link and classify; `fuzzy` (if given) links the residue and proposes review candidates."""
    say = progress or (lambda *a, **k: None)
    school_year = as_of.year if as_of.month >= 9 else as_of.year - 1
    con = duck()
    con.register("p", inputs.persons)
    con.register("s", inputs.students)
    con.register("e", inputs.enrolments)
    say(_("Matching by ID number"), 0, 3)
    exact = exact_links(con, inputs.persons, inputs.students)
    accepted = pa.table(
        {
            "person_id": pa.array([a for a, _ in sorted(inputs.accepted)], pa.int64()),
            "student_id": pa.array([b for _, b in sorted(inputs.accepted)], pa.int64()),
        }
    )
    con.register("x", exact)
    con.register("acc", accepted)
    # Decisions people made are kept: accepted pairs are links; a person or student they
    # name is not offered to any other link.
    base = con.sql("""
        SELECT person_id, student_id, 'reviewed' AS method, NULL::DOUBLE AS probability FROM acc
        UNION ALL
        SELECT person_id, student_id, 'exact', NULL::DOUBLE FROM x
        WHERE person_id NOT IN (SELECT person_id FROM acc)
          AND student_id NOT IN (SELECT student_id FROM acc)
        QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY student_id DESC) = 1""").to_arrow_table()
    con.register("base", base)
    # One student per person: a person matched by two roll numbers keeps the latest.
    base = con.sql("""SELECT * FROM base
        QUALIFY row_number() OVER (PARTITION BY student_id ORDER BY method = 'reviewed' DESC,
                                   person_id) = 1""").to_arrow_table()
    say(_("Linking the rest by name, birth date and place"), 1, 3)
    candidates = pa.table(
        {
            "person_id": pa.array([], pa.int64()),
            "student_id": pa.array([], pa.int64()),
            "probability": pa.array([], pa.float64()),
            "evidence": pa.array([], pa.string()),
        }
    )
    model: dict[str, Any] = {}
    links = base
    if fuzzy is not None:
        fuzzy_links, candidates, model = fuzzy(con, inputs, base)
        links = pa.concat_tables([base, fuzzy_links.select(base.column_names).cast(base.schema)])
    con.register("l", links)
    duplicates = roll_duplicates(con)
    con.register("ht", pa.table({"person_id": pa.array(sorted(inputs.home_teaching), pa.int64())}))
    con.register("pr", pa.table({"person_id": pa.array(sorted(inputs.out_of_county), pa.int64())}))
    say(_("Classifying every child"), 2, 3)
    statuses = classify(con, as_of=as_of, school_year=school_year)
    found = discrepancies(con, school_year=school_year)
    con.register("statuses", statuses)
    counts: dict[str, int] = {"children": statuses.num_rows}
    for category, n in con.sql("SELECT category, count(*) FROM statuses GROUP BY 1").fetchall():
        counts[str(category)] = int(n)
    for method, n in con.sql("SELECT method, count(*) FROM l GROUP BY 1").fetchall():
        counts[f"links_{method}"] = int(n)
    counts["review_candidates"] = candidates.num_rows
    counts["discrepancies"] = found.num_rows
    counts["roll_duplicates"] = duplicates.num_rows
    con.close()
    return Result(links, statuses, candidates, found, counts, model, duplicates)
