"""Personas and a small hand-made county shared by the whole suite.

County 420101 has townships A (420101001) and B (420101002); each has a poor village,
a school with one class, a household with a child, and an enrolment.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.accounts.services import user_create
from jingzhun.core.sensitive import seal
from jingzhun.registry.models import Area, Household, Person
from jingzhun.schools.models import Enrolment, School, SchoolClass, Stage, Student

PASSWORD = "correct-horse-battery-9"
# Valid resident IDs (GB 11643 checksum) for the hand-made county.
ID_A = "420101201001010018"
ID_B = "420101201102020020"


@pytest.fixture(autouse=True)
def english() -> Any:
    """Run each test in English (the site's default is zh-hans), so texts can be asserted.

    Requests still follow their own language (cookie, Accept-Language, else zh-hans).
    """
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def empty_cache() -> Any:
    """Start each test with an empty cache: a rolled-back test leaves audit ids to be used
    again, so the next test could meet figures cached under its data version
    (jingzhun.core.cache)."""
    cache.clear()
    yield


@dataclass
class County:
    county: Area
    township_a: Area
    township_b: Area
    village_a: Area
    village_b: Area
    school_a: School
    school_b: School
    class_a: SchoolClass
    class_b: SchoolClass
    household_a: Household
    household_b: Household
    person_a: Person
    person_b: Person
    student_a: Student
    student_b: Student
    enrolment_a: Enrolment
    enrolment_b: Enrolment


def _area(code: str, name: str, level: str, parent: Area | None, poor: bool = False) -> Area:
    return Area.objects.create(code=code, name=name, level=level, parent=parent, is_poor=poor)


def _person(household: Household, name: str, id_number: str, birth: dt.date, sex: str) -> Person:
    return Person.objects.create(
        household=household,
        name=name,
        sex=sex,
        birth_date=birth,
        relation="之子",
        **seal(id_number, prefix="id", purpose="id"),
    )


def _student(
    roll: str, name: str, id_number: str, birth: dt.date, sex: str, person: Person
) -> Student:
    return Student.objects.create(
        county_code="420101",
        **seal(roll, prefix="roll", purpose="roll"),
        name=name,
        sex=sex,
        birth_date=birth,
        id_status="valid",
        poor_flag=True,
        person=person,
        **seal(id_number, prefix="id", purpose="id"),
    )


@pytest.fixture
def county(db: Any) -> County:
    """Build the hand-made county."""
    c = _area("420101", "测试县", "county", None)
    ta = _area("420101001", "甲镇", "township", c)
    tb = _area("420101002", "乙乡", "township", c)
    va = _area("420101001001", "甲村", "village", ta, poor=True)
    vb = _area("420101002001", "乙村", "village", tb, poor=True)
    sa = School.objects.create(
        code="2142010001",
        name="甲镇中心小学",
        kind="primary",
        township=ta,
        village=va,
        in_poor_village=True,
        boarding=True,
    )
    sb = School.objects.create(code="2142010002", name="乙乡中学", kind="junior_high", township=tb)
    ca = SchoolClass.objects.create(
        school=sa,
        school_year=2018,
        stage=Stage.PRIMARY,
        grade=3,
        name="1班",
        head_teacher_name="王老师",
    )
    cb = SchoolClass.objects.create(
        school=sb,
        school_year=2018,
        stage=Stage.JUNIOR,
        grade=1,
        name="2班",
        head_teacher_name="李老师",
    )
    ha = Household.objects.create(
        household_no="4201010010010001",
        village=va,
        registration_year=2015,
        **seal("6228480012345678901", prefix="bank", purpose="bank"),
    )
    hb = Household.objects.create(
        household_no="4201010020010001", village=vb, registration_year=2016
    )
    pa = _person(ha, "张小明", ID_A, dt.date(2010, 1, 1), "M")
    pb = _person(hb, "李小红", ID_B, dt.date(2011, 2, 2), "F")
    st_a = _student("G" + ID_A, "张小明", ID_A, dt.date(2010, 1, 1), "M", pa)
    st_b = _student("G" + ID_B, "李小红", ID_B, dt.date(2011, 2, 2), "F", pb)
    ea = Enrolment.objects.create(
        student=st_a,
        school=sa,
        school_class=ca,
        school_year=2018,
        stage=Stage.PRIMARY,
        grade=3,
        boarding=True,
    )
    eb = Enrolment.objects.create(
        student=st_b, school=sb, school_class=cb, school_year=2018, stage=Stage.JUNIOR, grade=1
    )
    return County(c, ta, tb, va, vb, sa, sb, ca, cb, ha, hb, pa, pb, st_a, st_b, ea, eb)


def make_user(username: str, role: str = "", **jurisdiction: Any) -> User:
    return user_create(actor=None, username=username, password=PASSWORD, role=role, **jurisdiction)


@dataclass
class Personas:
    county_officer: User
    aid_officer: User
    bureau_leader: User
    township_a: User
    township_b: User
    principal_a: User
    teacher_a: User
    inspector: User
    nobody: User

    def all(self) -> dict[str, User]:
        return dict(self.__dict__)


@pytest.fixture
def personas(county: County) -> Personas:
    """Create one user per role, in township A unless said otherwise, and one with no jurisdiction."""
    return Personas(
        county_officer=make_user("county", Role.COUNTY_ADMIN, area=county.county),
        aid_officer=make_user("aid", Role.AID_OFFICER, area=county.county),
        bureau_leader=make_user("leader", Role.BUREAU_LEADER, area=county.county),
        township_a=make_user("town_a", Role.TOWNSHIP_OFFICER, area=county.township_a),
        township_b=make_user("town_b", Role.TOWNSHIP_OFFICER, area=county.township_b),
        principal_a=make_user("principal_a", Role.PRINCIPAL, school=county.school_a),
        teacher_a=make_user("teacher_a", Role.CLASS_TEACHER, school_class=county.class_a),
        inspector=make_user("inspector", Role.INSPECTOR, area=county.county),
        nobody=make_user("nobody"),
    )


# Tables the database keeps append-only (lines before the entries they name).
APPEND_ONLY_TABLES = ("core_auditevent", "funds_journalline", "funds_journalentry")


@pytest.fixture
def audit_flushable(transactional_db: Any) -> Any:
    """Let a transactional test's teardown flush the append-only audit table.

    The database refuses DELETE on audit events; SQLite's flush deletes row by row,
    so the rows are removed here with the guard lifted for a moment, then restored.
    """
    yield

    if connection.vendor != "sqlite":
        return  # PostgreSQL flushes with TRUNCATE: see flush_past_audit_truncate_guard.
    with connection.cursor() as cursor:
        # Rows elsewhere may still name a journal entry (a receipt, a disbursement): the flush
        # that follows removes them; until then the foreign keys are not checked.
        cursor.execute("PRAGMA foreign_keys = OFF")
        for table in APPEND_ONLY_TABLES:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [table],
            )
            triggers = cursor.fetchall()
            for name, _sql in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
            cursor.execute(f"DELETE FROM {table}")
            for _name, sql in triggers:
                cursor.execute(sql)
        cursor.execute("PRAGMA foreign_keys = ON")


@pytest.fixture(autouse=True)
def audit_checkpoints_apart(settings: Any, tmp_path_factory: Any, request: Any) -> None:
    """Each test appends audit checkpoints to a file of its own (made only when written)."""
    name = "".join(c if c.isalnum() else "_" for c in request.node.nodeid)[-150:]
    base = tmp_path_factory.getbasetemp() / "audit-checkpoints"
    settings.AUDIT_CHECKPOINT_FILE = base / f"{name}.jsonl"


@pytest.fixture(autouse=True, scope="session")
def flush_past_audit_truncate_guard() -> Any:
    """Let a transactional test's teardown flush (TRUNCATE) the audit table on PostgreSQL.

    A statement trigger refuses TRUNCATE of the audit table. The flush's transaction runs in
    replica mode, which fires no ordinary trigger and which only a superuser (as the suite
    connects) may set; the application's role may not (docs/security.md).
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self: Any, style: Any, tables: Any, **options: Any) -> list[str]:
        statements = original(self, style, tables, **options)
        if statements and "core_auditevent" in tables:
            return ["SET LOCAL session_replication_role = replica", *statements]
        return statements

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]
    yield
    DatabaseOperations.sql_flush = original  # type: ignore[method-assign]


def subprocess_env() -> dict[str, str]:
    """Return the environment for a child process that uses this test's database."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{s['NAME']}"
    else:
        url = f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "JINGZHUN_TESTING": "1",
        "DJANGO_SETTINGS_MODULE": "jingzhun.settings",
        "JINGZHUN_VAR_DIR": str(settings.VAR_DIR),
        "JINGZHUN_AUDIT_CHECKPOINT_FILE": str(settings.AUDIT_CHECKPOINT_FILE),
    }
