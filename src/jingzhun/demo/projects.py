"""School conditions in the demo county (II.2): the basic standard, a first survey of the
schools in 2016, and the plan's projects of 2016 to 2018 with their time nodes, most closed
in time, some late and some still open past their due date.

Everything goes through the projects services, as the county's administrator would record it.
Deterministic from the seed; a second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q

from jingzhun.projects import services
from jingzhun.projects.models import Project, ProjectNode, QualityHighSchool, StandardVersion
from jingzhun.registry.models import Area
from jingzhun.schools.models import School

SEED_OFFSET = 0x50524F4A  # "PROJ"
SURVEYED_ON = dt.date(2016, 3, 1)
# (node, month, day) of each time node's due date in the plan year.
NODES = (
    ("setup", 3, 15),
    ("approval", 4, 30),
    ("tender", 6, 15),
    ("works_start", 7, 10),
    ("completion", 11, 20),
    ("acceptance", 12, 20),
)
BUILT = ("primary", "junior_high", "nine_year", "teaching_point")


@dataclass
class ProjectsDemo:
    surveys: int = 0
    projects: int = 0
    accepted: int = 0
    late_nodes: int = 0
    open_overdue: int = 0
    quality_schools: int = 0


def _budget(rng: random.Random, total: int) -> list[services.Budget]:
    central = Decimal(total * 6 // 10)
    provincial = Decimal(total * 2 // 10)
    return [
        services.Budget(source="central", amount=central),
        services.Budget(source="provincial", amount=provincial),
        services.Budget(source="county", amount=Decimal(total) - central - provincial),
    ]


def _nodes(year: int) -> dict[str, dt.date]:
    return {kind: dt.date(year, month, day) for kind, month, day in NODES}


def projects_demo(*, actor: Any, county: Area, as_of: dt.date, seed: int) -> ProjectsDemo:
    """Record the demo county's standard, surveys and projects (once)."""
    result = ProjectsDemo()
    services.standard_load_shipped(actor=None)
    # The county's general high schools are its quality ones (II.2.5), named once.
    # (县直 schools, under the county itself, have no township.)
    high = School.objects.filter(
        Q(township__code__startswith=county.code) | Q(township__isnull=True),
        location=School.Location.IN_COUNTY,
        kind__in=services.HIGH_SCHOOL_KINDS,
    ).order_by("code")
    if not QualityHighSchool.objects.exists():
        services.quality_high_schools_set(
            actor=actor, schools=list(high), on=dt.date(2016, 3, 1), note="2016年认定"
        )
    result.quality_schools = QualityHighSchool.objects.count()
    schools = list(
        School.objects.filter(
            township__parent=county, location=School.Location.IN_COUNTY, kind__in=BUILT
        ).order_by("code")
    )
    if not schools or Project.objects.filter(township_code__startswith=county.code).exists():
        return result
    rng = random.Random(seed + SEED_OFFSET)
    version = StandardVersion.current(SURVEYED_ON)
    assert version is not None
    items = list(version.items.all())
    gaps: dict[int, list[str]] = {}
    # The first survey: village schools miss three to five items, the others one or two.
    for school in schools:
        applicable = [i for i in items if i.applies_to(school)]
        if not applicable:
            continue
        rural = school.village_id is not None
        missing = rng.sample(
            applicable, min(len(applicable), _ri(rng, 3, 5) if rural else _ri(rng, 0, 2))
        )
        gaps[school.pk] = [i.code for i in missing]
        services.survey_create(
            actor=actor,
            school=school,
            surveyed_on=SURVEYED_ON,
            answers=[
                services.Answer(
                    item_code=i.code,
                    status="not_met" if i in missing else "met",
                    note="" if i not in missing else "2016年初摸底未达标",
                )
                for i in applicable
            ],
            note="2016年义务教育学校办学条件摸底",
        )
        result.surveys += 1
    # Weak-school renovation (全面改薄): the schools with gaps, village schools first, 18 in
    # 2016 and 15 in 2017 as the plan sets (as many as the county has).
    needing = sorted(
        (s for s in schools if gaps.get(s.pk)),
        key=lambda s: (s.village_id is None, s.code),
    )
    plan = [(s, 2016) for s in needing[:18]] + [(s, 2017) for s in needing[18:33]]
    for n, (school, year) in enumerate(plan):
        project = services.project_create(
            actor=actor,
            kind="renovation",
            name=f"{school.name}全面改薄工程",
            plan_year=year,
            school=school,
            items=gaps[school.pk],
            budget=_budget(rng, _ri(rng, 30, 150) * 10_000),
            nodes=_nodes(year),
        )
        result.projects += 1
        _work(actor, project, rng, as_of, result, stall=n % 11 == 5, late=n % 7 == 3)
    # Informatization (三通两平台) in 2016: about 2.2 million yuan over the village schools.
    village_schools = [s for s in schools if s.village_id is not None][:8]
    for school in village_schools:
        project = services.project_create(
            actor=actor,
            kind="informatization",
            name=f"{school.name}“三通两平台”设备配备",
            plan_year=2016,
            school=school,
            items=[c for c in gaps.get(school.pk, []) if c in ("broadband", "multimedia")],
            budget=_budget(rng, 2_200_000 // max(1, len(village_schools))),
            nodes=_nodes(2016),
        )
        result.projects += 1
        _work(actor, project, rng, as_of, result, stall=False, late=False)
    # Poor-village kindergartens (3 in 2016, 2 in 2017) and a care centre per township.
    poor = list(
        Area.objects.filter(parent__parent=county, level="village", is_poor=True).order_by("code")
    )
    for n, village in enumerate(poor[:5]):
        year = 2016 if n < 3 else 2017
        project = services.project_create(
            actor=actor,
            kind="kindergarten",
            name=f"{village.name}幼儿园",
            plan_year=year,
            village=village,
            budget=_budget(rng, _ri(rng, 40, 80) * 10_000),
            nodes=_nodes(year),
        )
        result.projects += 1
        _work(actor, project, rng, as_of, result, stall=n == 4, late=n == 1)
    townships = sorted({v.parent_id for v in poor if v.parent_id is not None})
    for n, township_id in enumerate(townships):
        village = next(v for v in poor if v.parent_id == township_id)
        project = services.project_create(
            actor=actor,
            kind="care_centre",
            name=f"{village.name}留守儿童关爱中心",
            plan_year=2017,
            village=village,
            budget=_budget(rng, _ri(rng, 10, 30) * 10_000),
            nodes=_nodes(2017),
        )
        result.projects += 1
        _work(actor, project, rng, as_of, result, stall=n == len(townships) - 1, late=False)
    return result


def _ri(rng: random.Random, lo: int, hi: int) -> int:
    return lo + int(rng.random() * (hi - lo + 1))


def _work(
    actor: Any,
    project: Project,
    rng: random.Random,
    as_of: dt.date,
    result: ProjectsDemo,
    *,
    stall: bool,
    late: bool,
) -> None:
    """Close the project's nodes in order: in time, one late (``late``), or stop before
    completion (``stall``: the last nodes stay open past their due date, black flags)."""
    nodes = list(ProjectNode.objects.filter(project=project).order_by("position", "pk"))
    previous: dt.date | None = None
    for n, node in enumerate(nodes):
        if stall and node.kind in ("completion", "acceptance"):
            result.open_overdue += 1
            continue
        closed = node.due_on - dt.timedelta(days=_ri(rng, 0, 12))
        if late and node.kind == "works_start":
            closed = node.due_on + dt.timedelta(days=_ri(rng, 10, 40))
            result.late_nodes += 1
        if previous is not None and closed <= previous:
            closed = previous + dt.timedelta(days=1)
        if closed > as_of:
            return
        services.project_node_close(
            actor=actor,
            node=node,
            closed_on=closed,
            evidence_ref=f"县教育局〔{closed.year}〕{project.pk}-{n + 1}号",
        )
        previous = closed
        if node.kind == "acceptance":
            result.accepted += 1
