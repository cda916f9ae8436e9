"""The fast paths of the aid computation give exactly what the general ones give.

* evaluate_bulk's case table (bulk._plan) is Conditions.matches for every case;
* evaluate_bulk in parallel slices gives the rows of one pass, dictionaries shared;
* semester_enrolments (NumPy) picks the enrolment the window query picked (DuckDB);
* a first computation (nothing stored: no comparison; on SQLite a lean read and rows made
  by the database from enrolment and rule) stores, column by column, what the full profile
  read and the evaluator give.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from jingzhun.aid import bulk, compute, services
from jingzhun.aid.bulk import FULL_PROFILE_SCHEMA, evaluate_bulk
from jingzhun.aid.evaluate import DEGREE_LEVELS
from jingzhun.aid.models import Entitlement
from jingzhun.aid.rulebook import ENTITLED_KINDS, LOCATIONS, STAGES
from jingzhun.core.importing import duck
from jingzhun.registry.models import Household

from .test_bulk_agrees import BOOKS, book
from .world import identify


@pytest.mark.parametrize("semester", ["autumn", "spring"])
@pytest.mark.parametrize("name", BOOKS[:3])
def test_case_table_is_conditions_matches(name: str, semester: str) -> None:
    rule_book = book(name)
    plan = bulk._plan(rule_book, semester)
    other = "\0other"
    for key, case in enumerate(itertools.product(*(range(n) for n in plan.shape))):
        stage, grade, boarding, location, new_entrant, graduate = case
        values = {
            "stage": plan.stages[stage - 1] if stage else other,
            "grade": plan.grades[grade - 1] if grade else -999,
            "boarding": bool(boarding),
            "location": plan.locations[location - 1] if location else other,
            "new_entrant": bool(new_entrant),
            "degree": "graduate" if graduate else "undergraduate",
        }
        expected = [k for k, (rule, _a) in enumerate(plan.rules) if rule.when.matches(values)]
        start = plan.offset[key]
        assert list(plan.flat[start : start + plan.count[key]]) == expected, values
    assert plan.count[plan.none] == 0
    programmes = [rule.programme for rule, _a in plan.rules]
    assert programmes == sorted(programmes)


def _random_profiles(n: int, seed: int) -> pa.Table:
    rng = random.Random(seed)

    def day() -> dt.date | None:
        return rng.choice([None, dt.date(2018, 6, 1) + dt.timedelta(days=rng.randrange(480))])

    rows = [
        {
            "student_id": i,
            "stage": rng.choice([*STAGES, "unknown", None]),
            "grade": rng.choice([None, *range(0, 9)]),
            "boarding": rng.choice([True, False, None]),
            "location": rng.choice([*LOCATIONS, None]),
            "household_status": rng.choice(["registered", "left_poverty", "removed", "odd"]),
            "exit_year": rng.choice([None, *range(2012, 2020)]),
            "enrolled_on": day(),
            "left_on": day(),
            "degree": rng.choice([*DEGREE_LEVELS, None]),
            "freshman": rng.choice([True, False, None]),
        }
        for i in range(n)
    ]
    return pa.Table.from_pylist(rows, schema=FULL_PROFILE_SCHEMA)


@pytest.mark.parametrize("semester", ["autumn", "spring"])
def test_parallel_slices_give_the_rows_of_one_pass(
    monkeypatch: pytest.MonkeyPatch, semester: str
) -> None:
    profiles = _random_profiles(3000, seed=12)
    rule_book = book("shipped")
    one = evaluate_bulk(rule_book, profiles, semester)
    monkeypatch.setattr(bulk, "PARALLEL_ROWS", 1)
    monkeypatch.setattr(bulk.os, "cpu_count", lambda: 3)
    sliced = evaluate_bulk(rule_book, profiles, semester)
    assert sliced.column("student_id").num_chunks == 3
    assert one.num_rows > 500
    assert sliced.to_pylist() == one.to_pylist()
    programme = sliced.column("programme").combine_chunks()
    assert len(set(programme.dictionary.to_pylist())) == len(programme.dictionary)


def test_rows_come_per_profile_in_programme_order() -> None:
    profiles = _random_profiles(2000, seed=3)
    lines = evaluate_bulk(book("shipped"), profiles, "autumn")
    keys = list(
        zip(
            lines.column("student_id").to_pylist(),
            lines.column("programme").to_pylist(),
            strict=True,
        )
    )
    assert keys == sorted(keys)


# The window query semester_enrolments ran in DuckDB before it was NumPy: the reference.
WINDOW_SQL = """
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
"""


@pytest.mark.parametrize("seed", range(6))
def test_semester_enrolments_pick_what_the_window_query_picked(seed: int) -> None:
    rng = random.Random(seed)
    days = [None, *(dt.date(2018, 6, 1) + dt.timedelta(days=d) for d in range(0, 400, 7))]
    students = rng.sample(range(1, 10_000), 400)
    rows = []
    for enrolment_id, student in enumerate(
        rng.choice(students) for _ in range(1000 if seed % 2 else 400)
    ):
        rows.append(
            {
                "student_id": student,
                "enrolment_id": enrolment_id + 1,
                "enrolled_on": rng.choice(days),
                "left_on": rng.choice(days),
            }
        )
    rng.shuffle(rows)
    if seed == 0:  # one enrolment per student, in order: no reordering at all
        rows = sorted({r["student_id"]: r for r in rows}.values(), key=lambda r: r["student_id"])
    raw = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("student_id", pa.int64()),
                ("enrolment_id", pa.int64()),
                ("enrolled_on", pa.date32()),
                ("left_on", pa.date32()),
            ]
        ),
    )
    semester = rng.choice(["autumn", "spring"])
    got = compute.semester_enrolments(raw, 2018, semester)
    period = compute.Semester.named(2018, semester)
    con = duck()
    try:
        con.register("raw", raw)
        expected = con.sql(
            WINDOW_SQL, params={"first": period.first_day, "last": period.last_day}
        ).to_arrow_table()
    finally:
        con.close()
    assert got.to_pylist() == expected.to_pylist()


def _expected_rows(county_code: str, semester: str) -> list[dict[str, Any]]:
    """Return what the general path stores: the full profile read, evaluated."""
    rule_book = services.book_of(
        services.rulebook_install(actor=None, county_code=county_code, school_year=2018)
    )
    profiles = compute.load_profiles(county_code, 2018, semester)
    lines = evaluate_bulk(rule_book, profiles, semester).to_pylist()
    out = []
    for line in lines:
        if line["kind"] not in ENTITLED_KINDS:
            continue
        row = {c: line[c] for c in compute.NEW_COLUMNS if c != "enrolment_id"}
        row["exit_year_assumed"] = bool(row["exit_year_assumed"])
        row["county_code"] = row["village_code"][:6]
        out.append(row)
    return sorted(out, key=lambda r: (r["student_id"], r["programme"]))


@pytest.mark.parametrize("semester", ["autumn", "spring"])
def test_first_computation_stores_what_the_general_path_gives(
    county: Any, personas: Any, semester: str
) -> None:
    # given: a household that left poverty in a year the registry does not give (assumed)
    # and a student who transferred out during the year (left_on from the status date)
    identify()
    Household.objects.filter(pk=county.household_b.pk).update(status="left_poverty", exit_year=None)
    enrolment = county.enrolment_a
    enrolment.status = "transferred_out"
    enrolment.status_date = dt.date(2019, 1, 10)
    enrolment.save()
    expected = _expected_rows("420101", semester)
    assert any(r["exit_year_assumed"] for r in expected)
    assert any(r["left_on"] for r in expected) or semester == "spring"
    # when
    result = services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester=semester
    )
    # then
    fields = [c for c in expected[0]]
    stored = list(
        Entitlement.objects.filter(computation=result.computation)
        .order_by("student_id", "programme")
        .values(*fields)
    )
    for row in stored:
        row["amount"] = Decimal(row["amount"])
    assert stored == expected
    assert result.counts["inserted"] == len(expected)
    assert {r["semester"] for r in Entitlement.objects.values("semester")} == {semester}
