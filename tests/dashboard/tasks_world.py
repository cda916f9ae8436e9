"""A few tasks at known dates on the hand-made county (tests/conftest.py), for the wall chart,
the task books and "what needs me".

TODAY is Monday 2018-12-10. Township A (school A, village A), township B (school B, village B).

- Case A (child A, school A): opened 2018-10-08, last step 2018-10-09, open. Due: seven working
  days from Wed 10-10 = Thu 2018-10-18 -> black (overdue) on TODAY.
- Case B (child B, school B): opened 2018-11-01, closed 2018-11-05 in time. Due: seven working
  days from Tue 11-06 = Wed 2018-11-14 -> red.
- Project "甲校改薄" (renovation, school A, plan year 2018): set-up due 09-15 closed 09-10 (red);
  approval due 10-15 closed 10-20 (late); tender due 11-30 open (black); start of works due
  12-14 open (open, due this week).
- Project "乙校改薄" (renovation, school B, plan year 2018): set-up due 2019-01-20 open (open).
- Rectification at school A: found 10-10, deadline 11-30, closed 11-25 (red), owner: township A's
  officer. Rectification at school B: found 10-10, deadline 12-01, open (black), progress noted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tests.conftest import County, Personas

from jingzhun.duty.models import DropoutCase
from jingzhun.oversight.models import (
    Finding,
    InspectionPlan,
    Rectification,
    RectificationEntry,
    Visit,
)
from jingzhun.projects.models import Project, ProjectNode

TODAY = dt.date(2018, 12, 10)


@dataclass
class Tasks:
    case_a: DropoutCase
    case_b: DropoutCase
    project_a: Project
    project_b: Project
    rect_a: Rectification
    rect_b: Rectification


def node(project: Project, kind: str, pos: int, due: dt.date, closed: dt.date | None) -> None:
    ProjectNode.objects.create(
        project=project, kind=kind, position=pos, due_on=due, closed_on=closed
    )


def build(c: County, p: Personas) -> Tasks:
    case_a = DropoutCase.objects.create(
        person=c.person_a,
        student=c.student_a,
        source="identification",
        reason="辍学",
        opened_on=dt.date(2018, 10, 8),
        village_code=c.village_a.code,
        school=c.school_a,
        school_class=c.class_a,
        assignee=p.township_a.staff_member,
        last_step_on=dt.date(2018, 10, 9),
    )
    case_b = DropoutCase.objects.create(
        person=c.person_b,
        student=c.student_b,
        source="identification",
        reason="辍学",
        opened_on=dt.date(2018, 11, 1),
        village_code=c.village_b.code,
        school=c.school_b,
        school_class=c.class_b,
        assignee=p.township_b.staff_member,
        last_step_on=dt.date(2018, 11, 5),
        status=DropoutCase.Status.CLOSED,
        outcome=DropoutCase.Outcome.RETURNED,
        resolved_on=dt.date(2018, 11, 5),
        closed_on=dt.date(2018, 11, 5),
    )
    pa = Project.objects.create(
        kind="renovation",
        name="甲校改薄",
        school=c.school_a,
        village=c.village_a,
        township_code=c.township_a.code,
        in_poor_village=True,
        plan_year=2018,
    )
    node(pa, "setup", 1, dt.date(2018, 9, 15), dt.date(2018, 9, 10))
    node(pa, "approval", 2, dt.date(2018, 10, 15), dt.date(2018, 10, 20))
    node(pa, "tender", 3, dt.date(2018, 11, 30), None)
    node(pa, "works_start", 4, dt.date(2018, 12, 14), None)
    pb = Project.objects.create(
        kind="renovation",
        name="乙校改薄",
        school=c.school_b,
        township_code=c.township_b.code,
        plan_year=2018,
    )
    node(pb, "setup", 1, dt.date(2019, 1, 20), None)
    plan = InspectionPlan.objects.create(
        county_code="420101",
        year=2018,
        half="H2",
        title="督导检查",
        starts_on=dt.date(2018, 10, 8),
        ends_on=dt.date(2018, 12, 20),
        checklist_source="test",
    )
    rects = []
    for school, township, deadline, closed, owner in (
        (c.school_a, c.township_a, dt.date(2018, 11, 30), dt.date(2018, 11, 25), p.township_a),
        (c.school_b, c.township_b, dt.date(2018, 12, 1), None, None),
    ):
        visit = Visit.objects.create(
            plan=plan, township=township, school=school, planned_on=dt.date(2018, 10, 10)
        )
        finding = Finding.objects.create(
            plan=plan,
            visit=visit,
            township=township,
            school=school,
            severity="serious",
            text=f"{school.name}资助公示缺失",
            found_on=dt.date(2018, 10, 10),
        )
        rects.append(
            Rectification.objects.create(
                finding=finding,
                owner=owner,
                deadline=deadline,
                status="closed" if closed else "open",
                closed_on=closed,
            )
        )
    RectificationEntry.objects.create(
        rectification=rects[1], kind="progress", happened_on=dt.date(2018, 11, 20), text="整改中"
    )
    return Tasks(case_a, case_b, pa, pb, rects[0], rects[1])
