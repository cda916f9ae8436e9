"""The basic standard, surveys and projects added to the hand-made county (tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from jingzhun.projects.models import Project, ProjectNode, StandardVersion, Survey
from jingzhun.projects.services import (
    Answer,
    Budget,
    project_create,
    project_node_close,
    standard_load_shipped,
    survey_create,
)
from jingzhun.schools.models import School

ON = dt.date(2018, 10, 1)
MET, NOT_MET, NA = "met", "not_met", "not_applicable"

# The shipped standard's items for a boarding primary school (school A) and a day junior high
# school (school B): the boarding-only items and the teaching points' item do not apply.
ALL_ITEMS = (
    "safe_buildings",
    "enough_classrooms",
    "desks_and_chairs",
    "bed_per_boarder",
    "toilets",
    "canteen",
    "drinking_water",
    "sports_ground",
    "library_books",
    "lab_equipment",
    "music_pe_art",
    "broadband",
    "multimedia_classrooms",
    "digital_resources_point",
    "security",
)
BOARDING_PRIMARY = tuple(c for c in ALL_ITEMS if c != "digital_resources_point")
DAY_SCHOOL = tuple(c for c in BOARDING_PRIMARY if c not in ("bed_per_boarder", "canteen"))


def load_standard() -> StandardVersion:
    version, _ = standard_load_shipped()
    return version


def survey(
    actor: Any,
    school: School,
    on: dt.date,
    *,
    not_met: Iterable[str] = (),
    na: Iterable[str] = (),
    items: Iterable[str] = BOARDING_PRIMARY,
) -> Survey:
    """Record a survey with every item in `items` met except those named."""
    not_met, na = set(not_met), set(na)
    answers = [
        Answer(code, NA, note="本学期无寄宿生")
        if code in na
        else Answer(code, NOT_MET if code in not_met else MET)
        for code in items
    ]
    return survey_create(actor=actor, school=school, surveyed_on=on, answers=answers)


def nodes(start: dt.date, step_days: int = 30) -> dict[str, dt.date]:
    """Return due dates a month apart for the six time nodes, the first on `start`."""
    return {
        kind: start + dt.timedelta(days=step_days * n) for n, kind in enumerate(ProjectNode.ORDER)
    }


def project(
    actor: Any,
    kind: str,
    *,
    school: School | None = None,
    plan_year: int = 2016,
    items: Iterable[str] = (),
    budget: Iterable[tuple[str, str]] = (("county", "100000.00"),),
    start: dt.date | None = None,
    due: dict[str, dt.date] | None = None,
    **extra: Any,
) -> Project:
    return project_create(
        actor=actor,
        kind=kind,
        name=f"{kind} {plan_year}",
        plan_year=plan_year,
        school=school,
        items=list(items),
        budget=[Budget(source, Decimal(amount)) for source, amount in budget],
        nodes=due or nodes(start or dt.date(plan_year, 3, 1)),
        **extra,
    )


def close_all(actor: Any, p: Project, *, late_days: int = 0) -> Project:
    """Close every node of a project on its due date (plus `late_days`)."""
    for node in p.nodes.order_by("position"):
        project_node_close(
            actor=actor,
            node=node,
            closed_on=node.due_on + dt.timedelta(days=late_days),
            evidence_ref=f"scan/{p.pk}/{node.kind}.pdf",
        )
    return p
