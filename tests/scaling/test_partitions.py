"""A province on PostgreSQL: the large tables are partitioned by county, and a county's
queries read only its own partitions (EXPLAIN); new counties get theirs; the unique
guarantees (no double payment) hold on the partitioned tables.

On SQLite the province tests skip with a message; the county-code tests run on both.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from tests.conftest import County, make_user

from jingzhun.accounts.roles import Role
from jingzhun.aid.models import Entitlement
from jingzhun.core import crypto
from jingzhun.core.partitions import (
    PARTITIONED_TABLES,
    ensure_partitions,
    is_partitioned,
    partition_name,
    partitions,
)
from jingzhun.core.scoping import scope_queryset
from jingzhun.funds.models import Payment
from jingzhun.identification import engine
from jingzhun.identification.models import Link
from jingzhun.registry.models import Area, Household, Person
from jingzhun.schools.models import Enrolment, Student

# Codes no other test uses: partitions made by transactional tests stay in the test database.
COUNTIES = [f"4590{n:02d}" for n in range(1, 6)]
PER_COUNTY = 2000

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="partitions by county exist on PostgreSQL only (set DATABASE_URL to a PostgreSQL "
    "database to run these tests)",
)


def _sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _province() -> None:
    """Five counties of PER_COUNTY persons, students, enrolments, entitlements, payments each.

    Built set-wise (INSERT ... SELECT generate_series); the counties' partitions made after
    the rows landed in DEFAULT, as for counties an import brings.
    """
    for code in COUNTIES:
        county = Area.objects.create(code=code, name=f"C{code}", level="county")
        town = Area.objects.create(
            code=f"{code}001", name=f"T{code}", level="township", parent=county
        )
        Area.objects.create(code=f"{code}001001", name=f"V{code}", level="village", parent=town)
    _sql(
        "INSERT INTO schools_school (code, name, kind, location, township_id, in_poor_village, "
        "boarding, row_hash) SELECT 'S' || a.code, 'School ' || a.code, 'primary', "
        "'in_county', a.id, false, false, '' FROM registry_area a WHERE a.level = 'township' "
        "AND a.code LIKE '4590%%'"
    )
    _sql(
        "INSERT INTO registry_household (household_no, village_id, status, relapsed, "
        "poverty_cause, minimum_income, bank_name, bank_masked, row_hash) "
        "SELECT 'H' || v.code || '-' || g, v.id, 'registered', false, '', false, '', '', '' "
        "FROM registry_area v, generate_series(1, %s) g WHERE v.level = 'village' "
        "AND v.code LIKE '4590%%'",
        [PER_COUNTY],
    )
    _sql(
        "INSERT INTO registry_person (household_id, name, id_masked, id_status, education, "
        "school_status, sex, birth_date, relation, ethnicity, disability_kind, left_behind, "
        "guardian_name, guardian_id_masked, phone, row_hash, id_index, county_code) "
        "SELECT h.id, 'P' || h.id, '', 'valid', '', '', 'M', DATE '2010-01-01', '', '', '', "
        "false, '', '', '', '', 'idx' || h.id, substr(v.code, 1, 6) "
        "FROM registry_household h JOIN registry_area v ON v.id = h.village_id "
        "WHERE v.code LIKE '4590%%'"
    )
    _sql(
        "INSERT INTO schools_student (roll_index, roll_masked, county_code, name, id_masked, "
        "id_status, shared_id, migrant, sex, poor_flag, row_hash, person_id) "
        "SELECT 'roll' || p.id, '', p.county_code, p.name, '', 'valid', false, false, 'M', "
        "true, '', p.id FROM registry_person p WHERE p.county_code LIKE '4590%%'"
    )
    _sql(
        "INSERT INTO schools_enrolment (student_id, school_id, school_year, stage, grade, "
        "boarding, status, degree, freshman, row_hash, county_code) "
        "SELECT s.id, sc.id, 2018, 'primary', 3, false, 'enrolled', '', false, '', "
        "s.county_code FROM schools_student s JOIN schools_school sc "
        "ON sc.code = 'S' || s.county_code || '001' WHERE s.county_code LIKE '4590%%'"
    )
    _sql(
        "INSERT INTO aid_entitlement (student_id, person_id, school_id, village_code, stage, "
        "programme, kind, amount, rule_id, clause, unit, grade, boarding, location, "
        "household_status, exit_year_assumed, school_year, semester, rule_book_id, "
        "computation_id, review, review_reason, county_code) "
        "SELECT e.student_id, s.person_id, e.school_id, e.county_code || '001001', 'primary', "
        "'living', 'grant', 500, 'r1', '1', 'semester', 3, false, 'in_county', 'registered', "
        "false, 2018, 'autumn', 1, 1, 'approved', '', e.county_code "
        "FROM schools_enrolment e JOIN schools_student s ON s.id = e.student_id "
        "WHERE e.county_code LIKE '4590%%'"
    )
    user = make_user("province_funds")
    _sql(
        "INSERT INTO funds_paymentbatch (county_code, purpose, school_year, semester, "
        "idempotency_key, reference, status, control, gaps, created_by_id, created_at) "
        "SELECT c, 'aid', 2018, 'autumn', 'k' || c, c || '-2018A-001', 'draft', '{}', '[]', "
        "%s, now() FROM unnest(%s::text[]) c",
        [user.pk, COUNTIES],
    )
    _sql(
        "INSERT INTO funds_payment (batch_id, source, programme, amount, payee_name, "
        "beneficiary, bank_name, account_cipher, account_key, account_index, account_masked, "
        "reference, village_code, status, bank_reason, county_code) "
        "SELECT b.id, 'entitlement:' || t.id, t.programme, t.amount, 'payee', '', '', "
        "'\\x00'::bytea, 1, '', '', b.reference || '-' || lpad(t.id::text, 6, '0'), "
        "t.village_code, 'pending', '', t.county_code FROM aid_entitlement t "
        "JOIN funds_paymentbatch b ON b.county_code = t.county_code "
        "WHERE t.county_code LIKE '4590%%'"
    )
    made = ensure_partitions()
    assert len(made) == len(COUNTIES) * len(PARTITIONED_TABLES)
    _sql("ANALYZE")


def _plan_partitions(plan: str) -> set[str]:
    """The partitions of the county tables a plan reads (DEFAULT ones included)."""
    names = "|".join(PARTITIONED_TABLES)
    return set(re.findall(rf"\b((?:{names})_(?:c\d{{6}}|default))\b", plan))


def _explain_sql(sql: str, params: list[Any]) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _only(plan: str, code: str, tables: tuple[str, ...]) -> None:
    read = _plan_partitions(plan)
    want = {partition_name(t, code) for t in tables}
    assert read == want, plan


@postgres_only
@pytest.mark.django_db
def test_a_county_reads_only_its_partitions() -> None:
    _province()
    assert is_partitioned()
    counts = {name: rows for _t, name, rows in partitions()}
    for table in PARTITIONED_TABLES:
        assert counts[f"{table}_default"] == 0
        for code in COUNTIES:
            assert counts[partition_name(table, code)] == PER_COUNTY

    code = COUNTIES[2]
    county = Area.objects.get(code=code)
    town = Area.objects.get(code=f"{code}001")
    officer = make_user("c_officer", Role.COUNTY_ADMIN, area=county)
    township = make_user("t_officer", Role.TOWNSHIP_OFFICER, area=town)

    def plan(qs: QuerySet[Any]) -> str:
        return qs.explain()

    # The scoping querysets of a county user.
    _only(plan(scope_queryset(Person.objects.all(), officer)), code, ("registry_person",))
    _only(plan(scope_queryset(Student.objects.all(), officer)), code, ("schools_student",))
    _only(plan(scope_queryset(Enrolment.objects.all(), officer)), code, ("schools_enrolment",))
    _only(plan(scope_queryset(Payment.objects.all(), officer)), code, ("funds_payment",))
    # A township user's persons (their village codes lie in the county).
    _only(plan(scope_queryset(Person.objects.all(), township)), code, ("registry_person",))
    assert scope_queryset(Person.objects.all(), township).count() == PER_COUNTY
    assert scope_queryset(Person.objects.all(), officer).count() == PER_COUNTY
    assert scope_queryset(Payment.objects.all(), officer).count() == PER_COUNTY

    # The aid computation's read of a county's stored entitlements (aid/compute.py).
    _only(
        plan(
            Entitlement.objects.filter(
                school_year=2018, semester="autumn", village_code__startswith=code, county_code=code
            ).order_by("id")
        ),
        code,
        ("aid_entitlement",),
    )

    # Identification reads the county's children, students and enrolments (engine.py).
    seen: list[tuple[str, list[Any]]] = []
    real = engine.fetch_arrow

    def recording(sql: str, params: Any, schema: Any) -> Any:
        seen.append((sql, list(params)))
        return real(sql, params, schema)

    engine.fetch_arrow = recording  # type: ignore[assignment]
    try:
        inputs = engine.load_inputs(county_code=code, as_of=dt.date(2018, 10, 1))
    finally:
        engine.fetch_arrow = real  # type: ignore[assignment]
    assert inputs.persons.num_rows == PER_COUNTY
    assert inputs.students.num_rows == PER_COUNTY
    tables = [("registry_person",), ("schools_student",), ("schools_student", "schools_enrolment")]
    assert len(seen) == len(tables)
    for (sql, params), read in zip(seen, tables, strict=True):
        _only(_explain_sql(sql, params), code, read)


def _in_default(table: str, code: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}_default WHERE county_code = %s", [code])
        return int(cursor.fetchone()[0])


@postgres_only
@pytest.mark.django_db
def test_a_new_county_gets_its_partitions_and_its_waiting_rows(county: County) -> None:
    # A county whose rows came before its partitions (or under the application's role,
    # which may not make partitions): its rows wait in DEFAULT.
    code = "459077"
    top = Area.objects.create(code=code, name="New", level="county")
    village = Area.objects.create(code=f"{code}001001", name="V", level="village", parent=top)
    household = Household.objects.create(household_no="H-new", village=village)
    person = Person.objects.create(
        household=household, name="New", sex="F", birth_date=dt.date(2011, 5, 5)
    )
    assert person.county_code == code
    assert _in_default("registry_person", code) == 1
    call_command("partitions", "--ensure")
    rows = {name: n for _t, name, n in partitions()}
    assert rows[partition_name("registry_person", code)] == 1
    assert _in_default("registry_person", code) == 0
    assert Person.objects.get(pk=person.pk).county_code == code
    # The hand-made county's rows moved the same way.
    assert rows[partition_name("schools_enrolment", "420101")] == 2
    assert _in_default("schools_enrolment", "420101") == 0
    # Idempotent; a county named before it has rows gets empty partitions.
    assert ensure_partitions() == []
    call_command("partitions", "--ensure", "--county", "459088")
    rows = {name: n for _t, name, n in partitions()}
    for table in PARTITIONED_TABLES:
        assert rows[partition_name(table, "459088")] == 0
    with pytest.raises(CommandError):
        call_command("partitions", "--ensure", "--county", "42")


@postgres_only
@pytest.mark.django_db
def test_the_application_role_leaves_partitions_to_the_owner() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE jz_partition_app NOLOGIN")
        cursor.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO jz_partition_app")
        cursor.execute("SET LOCAL ROLE jz_partition_app")
        try:
            assert ensure_partitions(["459099"]) == []
            with pytest.raises(CommandError):
                call_command("partitions", "--ensure")
        finally:
            cursor.execute("RESET ROLE")


@postgres_only
@pytest.mark.django_db
def test_unique_guarantees_hold_on_partitioned_tables(county: County) -> None:
    ensure_partitions()
    # No second enrolment of a student at one school in one year, nor two active ones.
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.create(
            student=county.student_a,
            school=county.school_a,
            school_year=2018,
            stage="primary",
            grade=2,
        )
    # No second person with one ID in a county.
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(
            household=county.household_a,
            name="Twin",
            id_index=county.person_a.id_index,
            sex="M",
            birth_date=dt.date(2010, 1, 1),
        )
    # No second live payment for one source: the guarantee that stops a double payment.
    user = make_user("funds_u")
    from jingzhun.funds.models import PaymentBatch

    batch = PaymentBatch.objects.create(
        county_code="420101",
        purpose="aid",
        school_year=2018,
        semester="autumn",
        idempotency_key="k1",
        reference="420101-2018A-001",
        created_by=user,
    )

    def pay(n: int, status: str = "pending") -> Payment:
        return Payment.objects.create(
            batch=batch,
            source="entitlement:1",
            programme="living",
            amount=500,
            payee_name="x",
            account_cipher=b"\x00",
            account_key=1,
            account_index="",
            account_masked="",
            reference=f"420101-2018A-001-{n:06d}",
            status=status,
        )

    first = pay(1)
    assert first.county_code == "420101"
    with pytest.raises(IntegrityError), transaction.atomic():
        pay(2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=first.pk).update(status="failed")
        pay(1, status="failed")  # the same reference twice
    Payment.objects.filter(pk=first.pk).update(status="failed")
    assert pay(3).county_code == "420101"  # a failed payment may be paid again


@pytest.mark.django_db
def test_rows_carry_their_county_code(county: County) -> None:
    assert {p.county_code for p in Person.objects.all()} == {"420101"}
    assert {e.county_code for e in Enrolment.objects.all()} == {"420101"}
    link = Link.objects.create(
        person=county.person_a,
        student=county.student_a,
        method="exact",
        run_id=_run(county),
    )
    assert link.county_code == county.student_a.county_code


def _run(county: County) -> int:
    from jingzhun.identification.models import IdentificationRun

    return IdentificationRun.objects.create(
        county_code="420101", as_of=dt.date(2018, 10, 1), school_year=2018
    ).pk


@pytest.mark.django_db
def test_check_integrity(county: County, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("check-integrity".replace("-", "_"))
    assert "Every reference names an existing row." in capsys.readouterr().out
    if connection.vendor != "postgresql":
        return  # SQLite keeps its foreign keys: a dangling row cannot be made
    # On PostgreSQL the database keeps no foreign key into a partitioned table.
    _sql("DELETE FROM schools_enrolment WHERE student_id = %s", [county.student_b.pk])
    _sql("DELETE FROM schools_student WHERE id = %s", [county.student_b.pk])
    Enrolment.objects.create(
        student_id=county.student_b.pk,
        school=county.school_b,
        school_year=2019,
        stage="primary",
        grade=3,
        county_code="420101",
    )
    with pytest.raises(CommandError):
        call_command("check_integrity")
    assert "schools_enrolment.student_id: 1 rows" in capsys.readouterr().out


@postgres_only
@pytest.mark.django_db
def test_no_foreign_key_out_and_an_outbound_dangling_reference_is_found(
    county: County, capsys: pytest.CaptureFixture[str]
) -> None:
    """The partitioned tables carry no foreign key out (each cost a check per written row at
    commit) and no "_like" copy of a blind index; check-integrity finds what a key would have
    refused."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c "
            "WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)",
            [list(PARTITIONED_TABLES)],
        )
        assert cursor.fetchall() == []
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s) AND indexname LIKE %s",
            [["schools_student", "registry_person", "registry_household"], "%\\_index\\_%\\_like"],
        )
        assert cursor.fetchall() == []
    school = county.school_b
    enrolment = Enrolment.objects.filter(student=county.student_b).first()
    assert enrolment is not None
    _sql("UPDATE schools_enrolment SET school_id = %s WHERE id = %s", [10**9, enrolment.pk])
    with pytest.raises(CommandError):
        call_command("check_integrity")
    out = capsys.readouterr().out
    assert "schools_enrolment.school_id: 1 rows name no row of schools_school" in out
    _sql("UPDATE schools_enrolment SET school_id = %s WHERE id = %s", [school.pk, enrolment.pk])
    call_command("check_integrity")
    assert "Every reference names an existing row." in capsys.readouterr().out


def test_partitions_command_on_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    if connection.vendor == "postgresql":
        pytest.skip("the message is SQLite's; PostgreSQL lists its partitions")
    call_command("partitions", "--ensure")
    assert "PostgreSQL only" in capsys.readouterr().out


# ------------------------------------------------------- rows follow a student who moves county


@pytest.mark.django_db
def test_a_student_who_moves_county_takes_their_rows_and_no_one_else_is_touched(
    tmp_path: Any,
) -> None:
    from tests.imports.helpers import (
        AREAS,
        AREAS_HEADER,
        ROLLS_HEADER,
        SCHOOLS,
        SCHOOLS_HEADER,
        make_id,
        run_import,
        write_csv,
    )

    areas = [*AREAS, ["420102", "邻县", "县", "", ""], ["420102001", "丙镇", "乡镇", "420102", ""]]
    schools = [*SCHOOLS, ["2142020001", "丙镇中学", "初级中学", "420102001", "", "否", "县内"]]
    for kind, header, rows in (
        ("areas", AREAS_HEADER, areas),
        ("schools", SCHOOLS_HEADER, schools),
    ):
        assert run_import(kind, write_csv(tmp_path / f"{kind}.csv", header, rows)).status == "done"

    def roll(pid: str, school: str, year: str, grade: str) -> list[str]:
        return [f"G{pid}", "学生" + pid[-4:], pid, "男", f"{pid[6:10]}-{pid[10:12]}-{pid[12:14]}",
                school, year, "初中", grade, "1班", "王老师", "否", "在读", "", f"{year}-09-01", "是"]  # fmt: skip

    mover, stayer = make_id("420101", "20060301", "011"), make_id("420101", "20060402", "022")
    first = [roll(mover, "2142010002", "2017", "1"), roll(stayer, "2142010002", "2017", "1")]
    assert run_import("rolls", write_csv(tmp_path / "r1.csv", ROLLS_HEADER, first)).status == "done"
    # The next year the mover studies in the neighbouring county.
    second = [roll(mover, "2142020001", "2018", "2"), roll(stayer, "2142010002", "2018", "2")]
    batch = run_import("rolls", write_csv(tmp_path / "r2.csv", ROLLS_HEADER, second))
    assert batch.status == "done", batch.message

    def codes(pid: str) -> tuple[str, list[str]]:
        st = Student.objects.get(roll_index=crypto.blind_index(f"G{pid}", purpose="roll"))
        return st.county_code, sorted(
            Enrolment.objects.filter(student=st).values_list("county_code", flat=True)
        )

    assert codes(mover) == ("420102", ["420102", "420102"])  # the 2017 enrolment followed
    assert codes(stayer) == ("420101", ["420101", "420101"])
