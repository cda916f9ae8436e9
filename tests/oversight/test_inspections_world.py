"""The inspections' test world (no tests here): the hand-made county identified, school A's
autumn 2018 aid approved, and the inspector's plan for the second half of 2018."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tests.aid.world import approve_school, identify
from tests.conftest import County, Personas

from jingzhun.aid import services as aid_services
from jingzhun.identification.models import ChildStatus, IdentificationRun
from jingzhun.oversight import services
from jingzhun.oversight.models import Finding, InspectionPlan, Visit
from jingzhun.registry.models import Person
from jingzhun.schools.models import Student

VISITED = dt.date(2018, 10, 10)
ALL_MET = {
    "aid_paid_noticed": "met",
    "attendance": "met",
    "dropout_cases": "met",
    "responsibility_chain": "met",
    "project_nodes": "met",
    "evidence_on_file": "met",
}


@dataclass
class W:
    county: County
    personas: Personas
    plan: InspectionPlan
    visit_a: Visit
    visit_b: Visit
    visit_town_a: Visit


def answers(kind: str = "school", **override: str) -> dict[str, services.Answer]:
    ids = [k for k in ALL_MET if kind == "school" or k != "attendance"]
    return {k: services.Answer(override.get(k, ALL_MET[k])) for k in ids}


def build(county: County, personas: Personas, *, aid: bool = True) -> W:
    identify()
    if aid:
        aid_services.aid_compute(
            actor=None, county_code="420101", school_year=2018, semester="autumn"
        )
        approve_school(personas, county)
    plan = services.plan_create(
        actor=personas.inspector,
        year=2018,
        half="H2",
        title="2018年下半年督导检查",
        starts_on=dt.date(2018, 10, 8),
        ends_on=dt.date(2018, 12, 20),
        schools=[county.school_a, county.school_b],
        townships=[county.township_a],
    )
    visits = plan.visits.all()
    return W(
        county,
        personas,
        plan,
        visits.get(school=county.school_a),
        visits.get(school=county.school_b),
        visits.get(school__isnull=True),
    )


def more_poor_students(county: County, n: int) -> list[int]:
    """Add n poor students at school A to the latest run (as identification leaves them)."""
    run = IdentificationRun.objects.filter(status="done").order_by("-pk").first()
    assert run is not None
    ids = []
    for i in range(n):
        student = Student.objects.create(
            county_code="420101",
            roll_index=f"extra-{i}",
            roll_masked=f"G420101*********{i:03d}",
            name=f"学生{i}",
            sex="M",
            birth_date=dt.date(2010, 1, 1),
            poor_flag=True,
        )
        person = Person.objects.create(
            household=county.household_a,
            name=f"学生{i}",
            sex="M",
            birth_date=dt.date(2010, 1, 1),
            relation="之子",
        )
        ChildStatus.objects.create(
            run=run,
            person=person,
            category="in_county",
            age=8,
            household_status="registered",
            village_code=county.village_a.code,
            student=student,
            school=county.school_a,
        )
        ids.append(student.pk)
    return ids


def finding(w: W, visit: Visit | None = None, **kw: Any) -> Finding:
    visit = visit or w.visit_a
    if visit.status != "done":
        services.visit_record(
            actor=w.personas.inspector,
            visit=visit,
            visited_on=VISITED,
            answers=answers(visit.kind),
        )
        visit.refresh_from_db()
    values: dict[str, Any] = {
        "severity": "serious",
        "text": "资助公示材料缺失",
        "deadline": dt.date(2018, 11, 30),
        "found_on": VISITED,
        **kw,
    }
    return services.finding_record(actor=w.personas.inspector, visit=visit, **values)
