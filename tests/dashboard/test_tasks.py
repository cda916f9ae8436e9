"""The wall chart's tasks, flags and months on a hand-made county (tests/dashboard/tasks_world.py),
checked by hand; scoping on the page, in the .xlsx and in the PDF."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess  # nosec B404 - pdftotext on a file we made
from typing import Any

import openpyxl
import pytest
from django.test import Client
from tests.conftest import County, Personas
from tests.dashboard.tasks_world import TODAY, Tasks, build

from jingzhun.dashboard import tasks as T

START, END = T.school_year_range(2018)  # 2018-09-01 .. 2019-08-31


@pytest.fixture
def world(county: County, personas: Personas) -> Tasks:
    return build(county, personas)


def chart(user: Any, **filters: Any) -> list[T.Task]:
    f = T.TaskFilters(**filters)
    return T.tasks_for(user, start=START, end=END, filters=f, today=TODAY).tasks


def by_title(tasks: list[T.Task]) -> dict[str, T.Task]:
    return {t.title: t for t in tasks}


def test_flags_due_dates_and_owners_checked_by_hand(
    county: County, personas: Personas, world: Tasks
) -> None:
    # when
    tasks = chart(personas.county_officer)
    found = {(t.kind, t.title): (t.due, t.done, t.flag) for t in tasks if t.kind != T.TARGET}
    # then
    assert found == {
        (T.CASE, "Dropout case of 张小明"): (dt.date(2018, 10, 18), None, T.BLACK),
        (T.CASE, "Dropout case of 李小红"): (dt.date(2018, 11, 14), dt.date(2018, 11, 5), T.RED),
        (T.NODE, "甲校改薄: Set-up (立项)"): (dt.date(2018, 9, 15), dt.date(2018, 9, 10), T.RED),
        (T.NODE, "甲校改薄: Approval (审批)"): (
            dt.date(2018, 10, 15),
            dt.date(2018, 10, 20),
            T.LATE,
        ),
        (T.NODE, "甲校改薄: Tender (招标)"): (dt.date(2018, 11, 30), None, T.BLACK),
        (T.NODE, "甲校改薄: Start of works (开工)"): (dt.date(2018, 12, 14), None, T.OPEN),
        (T.NODE, "乙校改薄: Set-up (立项)"): (dt.date(2019, 1, 20), None, T.OPEN),
        (T.RECTIFICATION, "Rectification: 甲镇中心小学资助公示缺失"): (
            dt.date(2018, 11, 30),
            dt.date(2018, 11, 25),
            T.RED,
        ),
        (T.RECTIFICATION, "Rectification: 乙乡中学资助公示缺失"): (
            dt.date(2018, 12, 1),
            None,
            T.BLACK,
        ),
    }
    # ordered by due date
    dues = [t.due for t in tasks]
    assert dues == sorted(dues)
    named = by_title(tasks)
    assert named["Dropout case of 张小明"].owner == personas.township_a.staff_member.name
    assert named["Dropout case of 张小明"].township == "甲镇"
    assert named["甲校改薄: Tender (招标)"].owner == "甲镇中心小学"
    assert named["乙乡中学资助公示缺失".join(("Rectification: ", ""))].owner == "乙乡中学"


def test_months_a_task_occupies(personas: Personas, world: Tasks) -> None:
    named = by_title(chart(personas.county_officer))
    # the tender: from the approval's due date (10-15) to today, being overdue
    assert named["甲校改薄: Tender (招标)"].span(TODAY) == (dt.date(2018, 10, 15), TODAY)
    # case B: opened 11-01, closed 11-05, due 11-14
    assert named["Dropout case of 李小红"].span(TODAY) == (
        dt.date(2018, 11, 1),
        dt.date(2018, 11, 14),
    )
    # the first node of project A starts with its plan year
    assert named["甲校改薄: Set-up (立项)"].span(TODAY) == (
        dt.date(2018, 1, 1),
        dt.date(2018, 9, 15),
    )


def test_a_range_leaves_out_tasks_outside_it(personas: Personas, world: Tasks) -> None:
    tasks = T.tasks_for(
        personas.county_officer,
        start=dt.date(2019, 1, 1),
        end=dt.date(2019, 1, 31),
        today=TODAY,
    ).tasks
    assert [t.title for t in tasks if t.kind != T.TARGET] == ["乙校改薄: Set-up (立项)"]


def test_filters(personas: Personas, county: County, world: Tasks) -> None:
    user = personas.county_officer
    assert {t.title for t in chart(user, flag=T.BLACK) if t.kind != T.TARGET} == {
        "Dropout case of 张小明",
        "甲校改薄: Tender (招标)",
        "Rectification: 乙乡中学资助公示缺失",
    }
    assert {t.kind for t in chart(user, kind=T.NODE)} == {T.NODE}
    assert len(chart(user, kind=T.NODE)) == 5
    assert {t.school for t in chart(user, school_id=county.school_b.pk)} == {"乙乡中学"}
    owner = personas.township_a.staff_member.name
    # township A's officer: case A's responsible person and the owner of A's rectification
    assert [t.title for t in chart(user, owner=owner)] == [
        "Dropout case of 张小明",
        "Rectification: 甲镇中心小学资助公示缺失",
    ]
    done = {t.title for t in chart(user, state="done") if t.kind != T.TARGET}
    assert done == {
        "Dropout case of 李小红",
        "甲校改薄: Set-up (立项)",
        "甲校改薄: Approval (审批)",
        "Rectification: 甲镇中心小学资助公示缺失",
    }
    assert {t.township for t in chart(user, township=county.township_a.code)} == {"甲镇"}


def test_target_lines_are_the_countys(personas: Personas, world: Tasks) -> None:
    targets = [t for t in chart(personas.county_officer) if t.kind == T.TARGET]
    # the shipped book's targets of 2016 and 2017, none met (no accepted project): black;
    # special-education funds each year from 2016 (6,000 yuan x 0 pupils = 0: met); those of
    # 2016 and 2017, met in time, lie before the school year 2018-2019 and are left out
    assert sorted((t.due.year, t.flag, t.title) for t in targets) == [
        (2016, T.BLACK, "Informatization, 三通两平台 (II.2.4): 2,200,000.00 yuan (2016)"),
        (2016, T.BLACK, "Kindergarten (II.2.2): 3 projects in poor villages (2016)"),
        (2016, T.BLACK, "Weak-school renovation, 全面改薄 (II.2.3): 18 schools (2016)"),
        (2017, T.BLACK, "Kindergarten (II.2.2): 2 projects in poor villages (2017)"),
        (2017, T.BLACK, "Weak-school renovation, 全面改薄 (II.2.3): 15 schools (2017)"),
        (2018, T.RED, "Special-education resource classroom (II.2.6): 0.00 yuan (2018)"),
    ]
    assert not [t for t in chart(personas.township_a) if t.kind == T.TARGET]


def test_each_jurisdiction_sees_its_own_tasks(personas: Personas, world: Tasks) -> None:
    town_a = {t.title for t in chart(personas.township_a)}
    town_b = {t.title for t in chart(personas.township_b)}
    assert town_b == {
        "Dropout case of 李小红",
        "乙校改薄: Set-up (立项)",
        "Rectification: 乙乡中学资助公示缺失",
    }
    assert not any("甲" in t or "张小明" in t for t in town_b)
    assert not any("乙" in t or "李小红" in t for t in town_a)
    principal = {t.title for t in chart(personas.principal_a)}
    assert "Dropout case of 李小红" not in principal
    assert "甲校改薄: Tender (招标)" in principal
    # a class teacher: their pupils' cases, nothing else
    assert {t.title for t in chart(personas.teacher_a)} == {"Dropout case of 张小明"}
    assert chart(personas.nobody) == []


# --------------------------------------------------------------------------- the pages


def client_for(user: Any) -> Client:
    c = Client()
    c.cookies["django_language"] = "en"
    c.force_login(user)
    return c


Q = "from=2018-09&to=2019-08"


def test_wall_chart_page_shows_only_the_jurisdiction(personas: Personas, world: Tasks) -> None:
    page = client_for(personas.township_b).get(f"/centre/wall-chart/?{Q}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "乙校改薄" in text and "李小红" in text and "乙乡中学资助公示缺失" in text
    assert (
        "甲校改薄" not in text and "张小明" not in text and "甲镇中心小学资助公示缺失" not in text
    )
    assert 'id="jz-chart"' in text
    assert len(page.content) < 300_000
    # the months across: 12 columns of the school year
    assert text.count('<th class="m') == 12


def test_wall_chart_refuses_no_jurisdiction(personas: Personas) -> None:
    assert client_for(personas.nobody).get("/centre/wall-chart/").status_code == 403


def test_wall_chart_pages(personas: Personas, world: Tasks) -> None:
    page = client_for(personas.county_officer).get(f"/centre/wall-chart/?{Q}&kind=node")
    assert page.status_code == 200
    assert page.content.decode().count('data-kind="node"') == 5


def test_xlsx_is_what_is_filtered_and_scoped(personas: Personas, world: Tasks) -> None:
    response = client_for(personas.township_b).get(f"/centre/wall-chart.xlsx?{Q}")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = [[str(v or "") for v in r] for r in book.active.iter_rows(min_row=3, values_only=True)]
    assert len(rows) == 3
    text = " ".join(" ".join(r) for r in rows)
    assert "乙校改薄" in text and "李小红" in text and "乙乡中学资助公示缺失" in text
    assert "甲" not in text and "张小明" not in text
    assert {r[1] for r in rows} == {"控辍个案", "项目节点", "整改"}
    flagged = client_for(personas.county_officer).get(
        f"/centre/wall-chart.xlsx?{Q}&flag=black&kind=node"
    )
    rows = list(openpyxl.load_workbook(io.BytesIO(flagged.content)).active.iter_rows(min_row=3))
    assert len(rows) == 3


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_pdf_is_a3_landscape_and_scoped(personas: Personas, world: Tasks, tmp_path: Any) -> None:
    response = client_for(personas.township_b).get(f"/centre/wall-chart.pdf?{Q}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "chart.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(  # noqa: S603
        ["pdftotext", "-layout", str(path), "-"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "乙校改薄" in text and "李小红" in text
    assert "甲校改薄" not in text and "张小明" not in text
    info = subprocess.run(  # noqa: S603
        ["pdfinfo", str(path)],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "1190.55 x 841.89" in info  # A3 landscape, in points
