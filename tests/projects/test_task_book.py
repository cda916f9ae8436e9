"""The task book (任务书): each II.2 target's progress is computed from accepted projects."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tests.projects.helpers import ON, close_all, load_standard, project
from tests.teachers.helpers import add_pupils

from conftest import County, Personas
from jingzhun.projects.models import Project
from jingzhun.projects.selectors import TargetProgress, task_book
from jingzhun.registry.models import Area
from jingzhun.schools.models import School, Stage

K = Project.Kind


def _target(rows: list[TargetProgress], target_id: str, year: int | None = None) -> TargetProgress:
    return next(r for r in rows if r.id == target_id and (year is None or r.year == year))


def _village(county: County, code: str, poor: bool) -> Area:
    return Area.objects.create(
        code=code, name=f"村{code[-3:]}", level="village", parent=county.township_a, is_poor=poor
    )


def test_kindergartens_count_accepted_projects_in_poor_villages(
    county: County, personas: Personas
) -> None:
    load_standard()
    officer = personas.county_officer
    rich = _village(county, "420101001009", poor=False)
    done = [
        project(officer, K.KINDERGARTEN, village=county.village_a, plan_year=2016),
        project(officer, K.KINDERGARTEN, village=county.village_b, plan_year=2016),
        project(officer, K.KINDERGARTEN, village=county.village_b, plan_year=2017),
        # not counted: not in a poor village
        project(officer, K.KINDERGARTEN, village=rich, plan_year=2016),
    ]
    for p in done:
        close_all(officer, p)
    # not counted: not accepted
    project(officer, K.KINDERGARTEN, village=county.village_a, plan_year=2016)

    rows = task_book(officer, on=ON)

    k16, k17 = _target(rows, "kindergartens_2016"), _target(rows, "kindergartens_2017")
    assert (k16.year, k16.target, k16.done, k16.met) == (2016, 3, 2, False)
    assert (k17.year, k17.target, k17.done, k17.met) == (2017, 2, 1, False)
    # before the 2017 kindergarten's acceptance it does not count
    early = _target(task_book(officer, on=dt.date(2017, 7, 28)), "kindergartens_2017")
    assert early.done == 0


def test_renovated_schools_count_each_school_once(county: County, personas: Personas) -> None:
    load_standard()
    officer = personas.county_officer
    for p in [
        project(officer, K.RENOVATION, school=county.school_a, plan_year=2016),
        project(officer, K.RENOVATION, school=county.school_a, plan_year=2016),
        project(officer, K.RENOVATION, school=county.school_b, plan_year=2016),
        project(officer, K.RENOVATION, school=county.school_b, plan_year=2017),
        # another kind at a school does not count
        project(officer, K.INFORMATIZATION, school=county.school_a, plan_year=2017),
    ]:
        close_all(officer, p)

    rows = task_book(officer, on=ON)

    assert (
        _target(rows, "renovated_schools_2016").done,
        _target(rows, "renovated_schools_2016").target,
    ) == (2, 18)
    assert _target(rows, "renovated_schools_2017").done == 1


def test_informatization_adds_the_accepted_projects_budget(
    county: County, personas: Personas
) -> None:
    load_standard()
    officer = personas.county_officer
    close_all(
        officer,
        project(
            officer,
            K.INFORMATIZATION,
            school=county.school_a,
            budget=[("central", "1500000.00"), ("county", "200000.25")],
        ),
    )
    close_all(
        officer,
        project(
            officer, K.INFORMATIZATION, school=county.school_b, budget=[("provincial", "500000.00")]
        ),
    )
    # open, and of another plan year: neither counts
    project(officer, K.INFORMATIZATION, school=county.school_b, budget=[("county", "1.00")])
    close_all(
        officer,
        project(
            officer,
            K.INFORMATIZATION,
            school=county.school_b,
            plan_year=2017,
            budget=[("county", "9.00")],
        ),
    )

    row = _target(task_book(officer, on=ON), "informatization_2016")

    assert (row.target, row.done, row.met) == (Decimal("2200000.00"), Decimal("2200000.25"), True)


def test_special_education_funds_per_pupil_and_year(county: County, personas: Personas) -> None:
    load_standard()
    officer = personas.county_officer
    special = School.objects.create(
        code="2142010009", name="县特殊教育学校", kind="special", township=county.township_a
    )
    add_pupils(special, Stage.PRIMARY, 3, school_year=2016)
    add_pupils(special, Stage.PRIMARY, 2, school_year=2017)
    close_all(
        officer,
        project(
            officer,
            K.SPECIAL_EDUCATION,
            school=special,
            plan_year=2016,
            budget=[("county", "18000.00")],
        ),
    )
    close_all(
        officer,
        project(
            officer,
            K.SPECIAL_EDUCATION,
            school=special,
            plan_year=2017,
            budget=[("county", "6000.00")],
        ),
    )

    rows = [r for r in task_book(officer, on=ON) if r.id == "special_education_funds"]

    assert [(r.year, r.target, r.done, r.met) for r in rows] == [
        (2016, Decimal("18000.00"), Decimal("18000.00"), True),
        (2017, Decimal("12000.00"), Decimal("6000.00"), False),
        (2018, Decimal("0.00"), Decimal("0"), True),
    ]


def test_care_centres_in_every_township_with_poor_villages(
    county: County, personas: Personas
) -> None:
    load_standard()
    officer = personas.county_officer
    # a third township without poor villages needs none
    Area.objects.create(code="420101003", name="丙镇", level="township", parent=county.county)
    close_all(officer, project(officer, K.CARE_CENTRE, school=county.school_a))

    row = _target(task_book(officer, on=ON), "care_centres")

    assert (row.target, row.done, row.missing, row.met) == (2, 1, ("乙乡",), False)

    close_all(officer, project(officer, K.CARE_CENTRE, village=county.village_b))
    row = _target(task_book(officer, on=ON), "care_centres")
    assert (row.done, row.missing, row.met) == (2, (), True)
