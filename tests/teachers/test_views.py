"""The teacher pages (II.3): who sees them, what rows they show, and what their downloads hold."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.test import RequestFactory
from django.utils import timezone
from tests.teachers.helpers import add_pupils, add_teacher, teacher_id
from tests.teachers.views_helpers import (
    PDFTOTEXT,
    WHOLE_ID,
    client_for,
    get,
    pdf_text,
    row_text,
    sheets,
    text,
)

from conftest import County, Personas
from jingzhun.core.navigation import sidebar_links
from jingzhun.schools.models import School, Stage
from jingzhun.teachers.models import Exchange, ServicePeriod, Teacher, Training

PAGES = [
    "/teachers/",
    "/teachers/staffing/",
    "/teachers/training/",
    "/teachers/exchanges/",
    "/teachers/titles/",
    "/teachers/coverage/",
]
DOWNLOADS = [
    "/teachers/roster.xlsx",
    "/teachers/staffing.xlsx",
    "/teachers/training.xlsx",
    "/teachers/exchanges.xlsx",
    "/teachers/titles.xlsx",
    "/teachers/titles/long-service.xlsx",
    "/teachers/titles/long-service.pdf",
    "/teachers/coverage.xlsx",
]


@pytest.fixture
def staff(county: County) -> dict[str, Teacher]:
    """Teachers in both townships: 教师1-3 at school A, 教师4 at school B."""
    return {
        "a1": add_teacher(
            county.school_a,
            1,
            title=Teacher.Title.SENIOR,
            staffing=Teacher.Staffing.IN_ESTABLISHMENT,
            backbone=True,
        ),
        "a2": add_teacher(
            county.school_a,
            2,
            post=Teacher.Post.PRINCIPAL,
            staffing=Teacher.Staffing.SPECIAL_POST,
        ),
        "a3": add_teacher(county.school_a, 3, staffing=Teacher.Staffing.IN_ESTABLISHMENT),
        "b4": add_teacher(county.school_b, 4, title=Teacher.Title.SENIOR, backbone=True),
    }


# --------------------------------------------------------------------------- who sees what


@pytest.mark.parametrize("url", PAGES + DOWNLOADS)
def test_a_class_teacher_and_a_user_without_jurisdiction_are_refused(
    url: str, personas: Personas, staff: dict[str, Teacher]
) -> None:
    for user in (personas.teacher_a, personas.nobody):
        assert client_for(user).get(url).status_code == 403, (user.username, url)


@pytest.mark.parametrize("url", PAGES)
def test_every_page_renders_for_county_township_and_school(
    url: str, personas: Personas, staff: dict[str, Teacher]
) -> None:
    for user in (personas.county_officer, personas.township_a, personas.principal_a):
        response = get(user, url)
        assert response.status_code == 200, (user.username, url)
        assert len(response.content) < 300_000


def test_roster_is_scoped_to_the_users_jurisdiction(
    county: County, personas: Personas, staff: dict[str, Teacher]
) -> None:
    # when
    county_page = text(get(personas.county_officer, "/teachers/"))
    township_b_page = text(get(personas.township_b, "/teachers/"))
    principal_page = text(get(personas.principal_a, "/teachers/"))

    # then
    assert all(f"教师{n}" in county_page for n in (1, 2, 3, 4))
    assert "4 teachers" in county_page
    assert "教师4" in township_b_page and "1 teacher" in township_b_page
    assert not any(f"教师{n}" in township_b_page for n in (1, 2, 3))
    assert "甲镇中心小学" not in township_b_page
    assert "教师4" not in principal_page and "3 teachers" in principal_page


def test_roster_shows_ids_masked_and_never_whole(
    personas: Personas, staff: dict[str, Teacher]
) -> None:
    response = get(personas.county_officer, "/teachers/")
    html = response.content.decode()
    assert staff["a1"].id_masked in html
    assert "*" in staff["a1"].id_masked
    assert not WHOLE_ID.search(text(response))


def test_a_searched_id_is_refused_and_not_kept(
    personas: Personas, staff: dict[str, Teacher]
) -> None:
    # (the language switch keeps the address the user typed; no page text or link does)
    response = client_for(personas.county_officer).get("/teachers/", {"q": teacher_id(1)})
    assert 'id="jz-id-refused"' in response.content.decode()
    assert "4 teachers" in text(response)  # the search was dropped, not applied
    assert teacher_id(1) not in text(response)
    assert f"?q={teacher_id(1)}" not in response.content.decode().replace(
        f'value="/teachers/?q={teacher_id(1)}"', ""
    )


def test_roster_filters_and_the_export_holds_exactly_the_filtered_rows(
    county: County, personas: Personas, staff: dict[str, Teacher]
) -> None:
    cases: list[tuple[dict[str, str], list[str]]] = [
        ({"reason": "senior"}, ["教师1", "教师4"]),
        ({"status": "principal"}, ["教师2"]),
        ({"staffing": "in_establishment"}, ["教师1", "教师3"]),
        ({"backbone": "yes"}, ["教师1", "教师4"]),
        ({"backbone": "no", "township": county.township_a.code}, ["教师2", "教师3"]),
        ({"school": str(county.school_b.pk)}, ["教师4"]),
        ({"q": "教师3"}, ["教师3"]),
    ]
    for params, names in cases:
        page = text(get(personas.county_officer, "/teachers/", **params))
        shown = sorted(n for n in ("教师1", "教师2", "教师3", "教师4") if n in page)
        assert shown == names, params
        (sheet,) = sheets(get(personas.county_officer, "/teachers/roster.xlsx", **params).content)
        assert sheet[0] == ("教师花名册",) + (None,) * 12
        assert sheet[1][:3] == ("序号", "姓名", "身份证号")
        assert sorted(row[1] for row in sheet[2:]) == names, params


def test_roster_export_is_scoped_and_masked(personas: Personas, staff: dict[str, Teacher]) -> None:
    response = get(personas.township_a, "/teachers/roster.xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    (sheet,) = sheets(response.content)
    rows = sheet[2:]
    assert [r[1] for r in rows] == ["教师1", "教师2", "教师3"]
    assert rows[0][2] == staff["a1"].id_masked
    assert rows[0][4:9] == ("甲镇", "甲镇中心小学", "教师", "", "高级")
    assert rows[0][9:11] == ("在编", "是")
    assert not any(WHOLE_ID.search(str(v)) for r in rows for v in r)


def test_roster_is_paged(county: County, personas: Personas) -> None:
    for seq in range(1, 56):
        add_teacher(county.school_a, seq)
    first = get(personas.county_officer, "/teachers/")
    assert "55 teachers" in text(first) and "Page 1 of 2" in text(first)
    assert first.content.decode().count("data-teacher=") == 50
    second = get(personas.county_officer, "/teachers/", page="2")
    assert second.content.decode().count("data-teacher=") == 5
    (sheet,) = sheets(get(personas.county_officer, "/teachers/roster.xlsx").content)
    assert len(sheet) - 2 == 55


# --------------------------------------------------------------------------- staffing gaps


def test_staffing_gaps_per_school_township_and_county(
    county: County, personas: Personas, staff: dict[str, Teacher]
) -> None:
    # given: 2018 rolls: school A 100 primary pupils (the fixture's one included),
    # school B 40 junior pupils (one from the fixture)
    add_pupils(county.school_a, Stage.PRIMARY, 99)
    add_pupils(county.school_b, Stage.JUNIOR, 39)

    # when
    response = get(personas.county_officer, "/teachers/staffing/", year="2018")

    # then: A needs ceil(100/19 + 1/40) = 6, has 3: gap 3; B needs ceil(40/13.5) = 3, has 1: 2
    assert row_text(response, f'data-school="{county.school_a.pk}"') == (
        "甲镇 甲镇中心小学 100 0 0 1 6 3 3"
    )
    assert (
        row_text(response, f'data-school="{county.school_b.pk}"') == "乙乡 乙乡中学 0 40 0 0 3 1 2"
    )
    assert row_text(response, 'id="jz-county-total"') == "Total 2 140 1 9 4 5"
    assert "2018–2019" in text(response)

    # a township officer sees their township only
    town = get(personas.township_b, "/teachers/staffing/", year="2018")
    assert "甲镇中心小学" not in town.content.decode()
    assert row_text(town, 'id="jz-county-total"') == "Total 1 40 0 3 1 2"

    # the download: by school, by township, total
    by_school, by_township, total = sheets(
        get(personas.county_officer, "/teachers/staffing.xlsx", year="2018").content
    )
    assert by_school[2] == ("甲镇", "甲镇中心小学", 100, 0, 0, 1, 6, 3, 3)
    assert [r[0] for r in by_township[2:]] == ["甲镇", "乙乡"]
    assert total[2] == ("合计", "2所", 100, 40, 0, 1, 9, 4, 5)

    # filtered by township: the page and the download hold the same schools
    filtered = sheets(
        get(
            personas.county_officer,
            "/teachers/staffing.xlsx",
            year="2018",
            township=county.township_b.code,
        ).content
    )[0]
    assert [r[1] for r in filtered[2:]] == ["乙乡中学"]


def test_staffing_follows_the_working_school_year_by_default(
    county: County, personas: Personas, staff: dict[str, Teacher]
) -> None:
    # the pupils are on the 2018 rolls; the working year is today's (2026 here)
    response = get(personas.county_officer, "/teachers/staffing/")
    assert row_text(response, f'data-school="{county.school_a.pk}"').endswith(" 0 0 0 0 0 3 0")


# --------------------------------------------------------------------------- training


def _train(teacher: Teacher, start: dt.date, programme: str = "国培计划") -> Training:
    return Training.objects.create(
        teacher=teacher,
        programme=programme,
        level=Training.Level.NATIONAL,
        started_on=start,
        ended_on=start + dt.timedelta(days=5),
        hours=40,
    )


def test_training_against_the_target_and_a_year_without_one(
    county: County, personas: Personas, staff: dict[str, Teacher]
) -> None:
    _train(staff["a1"], dt.date(2018, 7, 1))
    _train(staff["a1"], dt.date(2018, 8, 1), "省培")
    _train(staff["b4"], dt.date(2018, 7, 1))
    _train(staff["a2"], dt.date(2017, 7, 1))

    # 2018: the plan's target is 230
    response = get(personas.county_officer, "/teachers/training/", year="2018")
    body = text(response)
    assert "Person-times in your jurisdiction: 3, against the plan's target of 230" in body
    assert 'id="jz-target-missed"' in response.content.decode()
    assert 'id="jz-no-target"' not in response.content.decode()
    # one of school A's three teachers trained; school A is the poor-village school
    assert row_text(response, f'data-school="{county.school_a.pk}"') == (
        "甲镇 甲镇中心小学 Yes 2 3 1 33.3% 33.3%"
    )
    assert "33.3%" in response.content.decode().split('id="jz-poor-share">')[1][:10]
    assert "3 trainings" in body

    # 2019: no target, and the page says so rather than showing one
    empty = get(personas.county_officer, "/teachers/training/", year="2019")
    assert 'id="jz-no-target"' in empty.content.decode()
    assert "The plan sets no training target for 2019" in text(empty)


def test_training_list_is_scoped_and_exported_as_filtered(
    county: County, personas: Personas, staff: dict[str, Teacher]
) -> None:
    _train(staff["a1"], dt.date(2018, 7, 1))
    _train(staff["a3"], dt.date(2018, 7, 2), "县培")
    _train(staff["b4"], dt.date(2018, 7, 1))

    town_a = text(get(personas.township_a, "/teachers/training/", year="2018"))
    assert "2 trainings" in town_a and "教师4" not in town_a

    listed, summary = sheets(
        get(personas.county_officer, "/teachers/training.xlsx", year="2018", q="县培").content
    )
    assert [r[1:6] for r in listed[2:]] == [("教师3", "甲镇", "甲镇中心小学", "县培", "国家级")]
    assert summary[0][0] == "2018年培训人次（目标230人次）"
    no_target = sheets(get(personas.county_officer, "/teachers/training.xlsx", year="2020").content)
    assert no_target[1][0][0] == "2020年培训人次（本年度无计划目标）"


def test_recording_a_training(
    county: County, personas: Personas, staff: dict[str, Teacher]
) -> None:
    client = client_for(personas.principal_a)
    form = client.get("/teachers/training/new/")
    assert form.status_code == 200
    assert "教师1" in form.content.decode() and "教师4" not in form.content.decode()

    # when
    response = client.post(
        "/teachers/training/new/",
        {
            "teacher": staff["a1"].pk,
            "programme": "乡村教师能力提升",
            "level": "provincial",
            "started_on": "2018-07-10",
            "ended_on": "2018-07-20",
            "hours": "60",
        },
    )

    # then
    assert response.status_code == 302
    saved = Training.objects.get()
    assert (saved.teacher, saved.programme, saved.level, saved.hours) == (
        staff["a1"],
        "乡村教师能力提升",
        "provincial",
        60,
    )
    assert "乡村教师能力提升" in text(client.get(response["Location"]))


def test_a_training_with_bad_dates_or_another_schools_teacher_is_refused(
    county: County, personas: Personas, staff: dict[str, Teacher]
) -> None:
    client = client_for(personas.principal_a)
    data = {
        "teacher": staff["a1"].pk,
        "programme": "国培",
        "level": "national",
        "started_on": "2018-07-10",
        "ended_on": "2018-07-01",
        "hours": "10",
    }
    response = client.post("/teachers/training/new/", data)
    assert response.status_code == 200
    assert "The end is before the start." in text(response)

    # a teacher of school B is not among the principal's choices
    response = client.post(
        "/teachers/training/new/", {**data, "teacher": staff["b4"].pk, "ended_on": "2018-07-12"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in text(response)

    # a county officer naming a school outside the county's list gets a 404
    county_client = client_for(personas.county_officer)
    assert county_client.get("/teachers/training/new/", {"school": "999999"}).status_code == 404
    assert not Training.objects.exists()


def test_only_those_who_edit_schools_record(personas: Personas, staff: dict[str, Teacher]) -> None:
    for user in (personas.township_a, personas.inspector, personas.bureau_leader):
        client = client_for(user)
        assert client.get("/teachers/training/new/").status_code == 403
        assert client.get("/teachers/exchanges/new/").status_code == 403
    assert not Training.objects.exists() and not Exchange.objects.exists()


# --------------------------------------------------------------------------- exchanges


@pytest.fixture
def town_school(county: County) -> School:
    """A town school in township A that sends teachers to school A (in a poor village)."""
    return School.objects.create(
        code="2142010003", name="甲镇中学", kind="junior_high", township=county.township_a
    )


def test_recording_an_exchange_and_the_share(
    county: County, personas: Personas, staff: dict[str, Teacher], town_school: School
) -> None:
    sender = add_teacher(town_school, 9, backbone=True)
    client = client_for(personas.county_officer)
    today = timezone.localdate()
    form = client.get("/teachers/exchanges/new/", {"school": town_school.pk})
    assert "教师9" in form.content.decode()

    # when
    response = client.post(
        "/teachers/exchanges/new/",
        {
            "school": town_school.pk,
            "teacher": sender.pk,
            "to_school": county.school_a.pk,
            "started_on": (today - dt.timedelta(days=30)).isoformat(),
            "ended_on": "",
        },
    )

    # then: 1 exchanged among 3 own + 1 = 25% >= 10%
    assert response.status_code == 302
    exchange = Exchange.objects.get()
    assert (exchange.teacher, exchange.from_school, exchange.to_school) == (
        sender,
        town_school,
        county.school_a,
    )
    page = get(personas.township_a, "/teachers/exchanges/")
    assert (
        row_text(page, f'data-school="{county.school_a.pk}"') == "甲镇 甲镇中心小学 3 1 25.0% Yes"
    )
    assert "1 exchange" in text(page)
    assert "教师9" not in text(get(personas.township_b, "/teachers/exchanges/"))

    listed, shares = sheets(get(personas.township_a, "/teachers/exchanges.xlsx").content)
    assert [r[1:4] for r in listed[2:]] == [("教师9", "甲镇中学", "甲镇中心小学")]
    assert shares[2] == ("甲镇", "甲镇中心小学", 3, 1, 0.25, "是")

    # a second exchange of the same teacher at the same time is refused, with the reason
    again = client.post(
        "/teachers/exchanges/new/",
        {
            "school": town_school.pk,
            "teacher": sender.pk,
            "to_school": county.school_a.pk,
            "started_on": today.isoformat(),
        },
    )
    assert again.status_code == 200
    assert "The teacher is on another exchange at that time." in text(again)
    assert Exchange.objects.count() == 1


def test_an_exchange_goes_to_a_poor_village_school(
    county: County, personas: Personas, staff: dict[str, Teacher], town_school: School
) -> None:
    sender = add_teacher(town_school, 9)
    response = client_for(personas.county_officer).post(
        "/teachers/exchanges/new/",
        {
            "school": town_school.pk,
            "teacher": sender.pk,
            "to_school": county.school_b.pk,  # not in a poor village: not a choice
            "started_on": "2026-09-01",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in text(response)
    assert not Exchange.objects.exists()


# --------------------------------------------------------------------------- titles


def _rural(teacher: Teacher, since: dt.date) -> None:
    ServicePeriod.objects.create(
        teacher=teacher, kind=ServicePeriod.Kind.VILLAGE_SCHOOL, place="甲村小学", started_on=since
    )


def test_titles_and_the_long_service_list(
    county: County, personas: Personas, staff: dict[str, Teacher]
) -> None:
    _rural(staff["a1"], dt.date(1995, 9, 1))
    _rural(staff["a3"], dt.date(2010, 9, 1))
    _rural(staff["b4"], dt.date(1990, 9, 1))

    page = get(personas.township_a, "/teachers/titles/")
    # school A (in a village): 1 of 3 teachers with a senior title
    assert row_text(page, f'data-school="{county.school_a.pk}"') == "甲镇 甲镇中心小学 3 1 33.3%"
    body = text(page)
    assert "1 teacher" in body and "教师1" in body and "教师3" not in body
    assert "教师4" not in body  # township B's

    (sheet,) = sheets(get(personas.county_officer, "/teachers/titles/long-service.xlsx").content)
    assert [r[1] for r in sheet[2:]] == ["教师4", "教师1"]  # longest first
    assert sheet[2][2] == staff["b4"].id_masked and sheet[2][3] == "乙乡"
    (shares,) = sheets(get(personas.county_officer, "/teachers/titles.xlsx").content)
    assert shares[2] == ("甲镇", "甲镇中心小学", 3, 1, 0.3333)


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) missing")
def test_the_long_service_pdf_names_the_teachers_and_no_whole_id(
    county: County, personas: Personas, staff: dict[str, Teacher], tmp_path: Path
) -> None:
    _rural(staff["a1"], dt.date(1995, 9, 1))
    _rural(staff["b4"], dt.date(1990, 9, 1))

    response = get(personas.township_a, "/teachers/titles/long-service.pdf")

    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    content = pdf_text(response.content, tmp_path)
    assert "在乡村学校和教学点任教20年以上教师名单" in content
    assert "填报单位：甲镇" in content and "共1人" in content
    assert "教师1" in content and staff["a1"].id_masked in content
    assert "甲镇中心小学" in content
    assert "教师4" not in content and "乙乡" not in content
    assert not WHOLE_ID.search(content)


# --------------------------------------------------------------------------- coverage


def test_coverage_shows_the_allowance_owed_and_unpaid(
    county: County, personas: Personas, staff: dict[str, Teacher]
) -> None:
    _train(staff["a1"], dt.date(2026, 5, 1))
    response = get(personas.county_officer, "/teachers/coverage/")
    body = text(response)
    assert "is owed at village primary schools and teaching points" in body
    # school A: no gap (no pupils this year), trained in 2026, no exchange, a village primary
    # school whose teachers were not paid last month's allowance
    assert row_text(response, f'data-school="{county.school_a.pk}"') == (
        "甲镇 甲镇中心小学 Yes Yes No No No"
    )
    assert row_text(response, 'id="jz-county-total"') == "Total 1 school 1 1 0 0 / 1 0"
    (sheet,) = sheets(get(personas.county_officer, "/teachers/coverage.xlsx").content)
    assert sheet[1][-2] == "乡村教师生活补助（已发/应发学校）"
    assert sheet[2] == ("甲镇", "甲镇中心小学", 1, 1, 0, "0/1", 0)
    # township B has no poor-village school
    assert 'id="jz-empty"' in get(personas.township_b, "/teachers/coverage/").content.decode()


# --------------------------------------------------------------------------- navigation, imports


def _links(user: Any) -> set[str]:
    request = RequestFactory().get("/")
    request.user = user
    return sidebar_links(request)


def test_the_sidebar_offers_the_pages_to_county_township_and_school(personas: Personas) -> None:
    for user in (personas.county_officer, personas.township_a, personas.principal_a):
        assert set(PAGES) <= _links(user), user.username
    assert not set(PAGES) & _links(personas.teacher_a)
    assert not set(PAGES) & _links(personas.nobody)


def test_the_imports_page_offers_the_roster_and_its_template(personas: Personas) -> None:
    client = client_for(personas.county_officer)
    page = client.get("/imports/").content.decode()
    assert '<option value="teachers">' in page
    assert "/imports/templates/teachers.xlsx" in page
    response = client.get("/imports/templates/teachers.xlsx")
    assert response.status_code == 200
    (sheet,) = sheets(b"".join(response.streaming_content))
    assert sheet[0][:5] == ("姓名", "身份证号", "性别", "出生日期", "学校标识码")


def test_pages_speak_chinese(personas: Personas, staff: dict[str, Teacher]) -> None:
    response = client_for(personas.county_officer, "zh-hans").get("/teachers/")
    assert "教师花名册" in text(response)
    coverage = client_for(personas.county_officer, "zh-hans").get("/teachers/coverage/")
    assert "生活补助已发放（应发学校）" in text(coverage)
