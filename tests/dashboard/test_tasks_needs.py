"""What needs me, for each role, on the hand-made county (tests/dashboard/tasks_world.py), and
the home page of each persona."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from tests.aid.world import identify
from tests.conftest import County, Personas
from tests.dashboard.tasks_world import TODAY, Tasks, build

from jingzhun.core.sensitive import seal
from jingzhun.dashboard import tasks as T
from jingzhun.dashboard.needs import needs_me
from jingzhun.duty.models import DropoutCase
from jingzhun.registry.models import Person

ID_C = "420101200909090011"

# The shipped task book's targets of 2016 and 2017 that no project met: black for the county.
TARGETS_BLACK = 5


@pytest.fixture
def world(county: County, personas: Personas) -> Tasks:
    return build(county, personas)


def titles(tasks: list[T.Task]) -> list[str]:
    return [t.title for t in tasks if t.kind != T.TARGET]


def waiting(user: Any) -> dict[str, int]:
    return {w.label: w.count for w in needs_me(user, TODAY).waiting}


NODES_DUE = "Project time nodes due, to close with their evidence"


def test_county_officer(personas: Personas, world: Tasks) -> None:
    needs = needs_me(personas.county_officer, TODAY)
    # newest overdue first
    assert titles(needs.overdue) == [
        "Rectification: 乙乡中学资助公示缺失",
        "甲校改薄: Tender (招标)",
        "Dropout case of 张小明",
    ]
    assert needs.overdue_count == 3 + TARGETS_BLACK
    # due from Monday 12-10 to Sunday 12-16: the start of works (12-14)
    assert titles(needs.due_week) == ["甲校改薄: Start of works (开工)"]
    assert needs.due_week_count == 1
    # the tender (overdue) and the start of works (this week), to close with evidence
    # the county administrator also inspects: B's rectification has progress to verify
    assert waiting(personas.county_officer) == {
        NODES_DUE: 2,
        "Rectifications with progress reported, awaiting verification": 1,
    }
    assert needs.changes == [] and needs.run_url == ""


def test_township_officers(personas: Personas, world: Tasks) -> None:
    a = needs_me(personas.township_a, TODAY)
    assert titles(a.overdue) == ["甲校改薄: Tender (招标)", "Dropout case of 张小明"]
    assert a.overdue_count == 2
    assert titles(a.due_week) == ["甲校改薄: Start of works (开工)"]
    assert a.waiting == []
    b = needs_me(personas.township_b, TODAY)
    assert titles(b.overdue) == ["Rectification: 乙乡中学资助公示缺失"]
    assert (b.overdue_count, b.due_week_count) == (1, 0)


def test_a_case_waiting_for_verification(personas: Personas, world: Tasks) -> None:
    DropoutCase.objects.filter(pk=world.case_a.pk).update(status=DropoutCase.Status.RESOLVED)
    label = "Dropout cases with an outcome, awaiting verification"
    assert waiting(personas.township_a) == {label: 1}
    assert waiting(personas.township_b) == {}
    # a principal cannot verify
    assert label not in waiting(personas.principal_a)


def test_school_class_and_others(personas: Personas, world: Tasks) -> None:
    p = needs_me(personas.principal_a, TODAY)
    assert titles(p.overdue) == ["甲校改薄: Tender (招标)", "Dropout case of 张小明"]
    assert waiting(personas.principal_a) == {NODES_DUE: 2}
    t = needs_me(personas.teacher_a, TODAY)
    assert titles(t.overdue) == ["Dropout case of 张小明"]
    assert (t.due_week_count, t.waiting) == (0, [])
    # the inspector: progress reported on B's rectification awaits verification
    assert waiting(personas.inspector) == {
        "Rectifications with progress reported, awaiting verification": 1
    }
    assert waiting(personas.bureau_leader) == {}
    assert needs_me(personas.bureau_leader, TODAY).overdue_count == 3 + TARGETS_BLACK
    nobody = needs_me(personas.nobody, TODAY)
    assert nobody.empty


def test_changes_of_the_last_run(county: County, personas: Personas, world: Tasks) -> None:
    # given: a first run, then a third child in B's household, aged 9 and on no roll
    identify()
    Person.objects.create(
        household=county.household_b,
        name="李小军",
        sex="M",
        birth_date=dt.date(2009, 9, 9),
        relation="之子",
        **seal(ID_C, prefix="id", purpose="id"),
    )
    run = identify(dt.date(2018, 11, 1))
    # then: the second run's one change (a suspected dropout in township B)
    county_needs = needs_me(personas.county_officer, TODAY)
    assert county_needs.run_url == f"/identification/runs/{run.pk}/"
    assert [(c.label, c.count) for c in county_needs.changes] == [
        ("New dropout or suspected dropout", 1)
    ]
    assert [(c.label, c.count) for c in needs_me(personas.township_b, TODAY).changes] == [
        ("New dropout or suspected dropout", 1)
    ]
    assert needs_me(personas.township_a, TODAY).changes == []
    assert needs_me(personas.township_a, TODAY).run_url == county_needs.run_url


@pytest.mark.parametrize(
    "persona",
    [
        "county_officer",
        "aid_officer",
        "bureau_leader",
        "township_a",
        "township_b",
        "principal_a",
        "teacher_a",
        "inspector",
        "nobody",
    ],
)
def test_home_page_renders_for_each_persona(personas: Personas, world: Tasks, persona: str) -> None:
    client = Client()
    client.cookies["django_language"] = "en"
    client.force_login(getattr(personas, persona))
    response = client.get("/")
    assert response.status_code == 200
    text = response.content.decode()
    if persona == "nobody":
        assert 'id="no-jurisdiction"' in text and 'id="home-needs"' not in text
        return
    assert 'id="home-needs"' in text
    assert "What needs me" in text
    assert len(response.content) < 300_000
    # the real today (2026) has every open task of 2018 overdue: the black count is shown
    assert 'data-count="overdue"' in text
    if persona == "township_b":
        assert "张小明" not in text and "甲校改薄" not in text
