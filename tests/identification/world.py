"""A small county imported through the real path, identified, with one persona per role.

As of 2018-10-08 (see helpers.py): township A (甲镇, village 甲村, school 甲镇中心小学) and
township B (乙乡, village 乙村, school 乙乡中学).

| child | lives in | age | status | school |
|---|---|---|---|---|
| 张小明 MING | A | 8 | enrolled in the county (or unlinked: see `ming_without_id`) | A, class 1班 grade 3 |
| 张小红 HONG | A | 6 | suspected dropout (disabled, on no roll) | — |
| 李大伟 TWIN1, 李小伟 TWIN2 | B | 9 | enrolled in the county | B |
| 李晓燕 LATE | B | 7 | enrolled in the county | A, grade 2 |
| 李明 MIGRANT | B | 10 | enrolled outside the county | 省城大学 (no township) |
| 李宝 TODDLER | B | 3 | preschool age, not enrolled | — |
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import make_user
from tests.identification.helpers import AS_OF, MING, TODDLER, TWIN1, build, rolls_rows

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.identification.models import IdentificationRun, ReviewCandidate
from jingzhun.identification.services import identification_run
from jingzhun.registry.models import Area, Person
from jingzhun.schools.models import School, SchoolClass, Student

EVIDENCE = {
    "name_agrees": True,
    "birth_date_agrees": True,
    "sex_agrees": True,
    "village_agrees": True,
    "id_distance": None,
    "match_weight": 12.5,
}


@dataclass
class World:
    run: IdentificationRun
    users: dict[str, User]
    school_a: School
    school_b: School
    candidate_a: ReviewCandidate  # MING (A) ? MING's roll record without ID, school A
    candidate_b: ReviewCandidate  # TODDLER (B) ? TWIN1's roll record, school B

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["users"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def identify(actor: Any = None) -> IdentificationRun:
    return identification_run(actor=actor, county_code="420101", as_of=AS_OF)


def make_world(tmp: Path, *, ming_without_id: bool = True) -> World:
    """Import, identify, and add one pending review candidate in each township.

    With `ming_without_id`, MING's roll record has no ID number, neither in the ID column nor
    in the roll number (an L number), so the exact stage leaves him unlinked (a suspected
    dropout) and the candidate proposes his roll record.
    """
    rows = rolls_rows()
    if ming_without_id:
        rows[0][2] = ""
        rows[0][0] = "L201800000000000013"
    build(tmp, rolls=rows)
    county = Area.objects.get(code="420101")
    school_a = School.objects.get(code="2142010001")
    school_b = School.objects.get(code="2142010002")
    class_a = SchoolClass.objects.get(school=school_a, grade=3)
    users = {
        "county_officer": make_user("county", Role.COUNTY_ADMIN, area=county),
        "aid_officer": make_user("aid", Role.AID_OFFICER, area=county),
        "bureau_leader": make_user("leader", Role.BUREAU_LEADER, area=county),
        "township_a": make_user(
            "town_a", Role.TOWNSHIP_OFFICER, area=Area.objects.get(code="420101001")
        ),
        "township_b": make_user(
            "town_b", Role.TOWNSHIP_OFFICER, area=Area.objects.get(code="420101002")
        ),
        "principal_a": make_user("principal_a", Role.PRINCIPAL, school=school_a),
        "teacher_a": make_user("teacher_a", Role.CLASS_TEACHER, school_class=class_a),
        "inspector": make_user("inspector", Role.INSPECTOR, area=county),
        "nobody": make_user("nobody"),
    }
    run = identify()
    ming_student = Student.objects.get(name=MING[0])
    candidate_a = ReviewCandidate.objects.create(
        person=Person.objects.get(name=MING[0]),
        student=ming_student,
        probability=0.93,
        evidence=EVIDENCE,
        village_code="420101001001",
        school=school_a,
        run=run,
    )
    candidate_b = ReviewCandidate.objects.create(
        person=Person.objects.get(name=TODDLER[0]),
        student=Student.objects.get(name=TWIN1[0]),
        probability=0.61,
        evidence={"name_agrees": False, "birth_date_agrees": False},
        village_code="420101002001",
        school=school_b,
        run=run,
    )
    return World(run, users, school_a, school_b, candidate_a, candidate_b)
