"""The command centre's reports (issue 15) on the hand-made county, for past periods."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.test import Client
from tests.aid.world import approve_school
from tests.conftest import County, Personas
from tests.duty.test_views import close_returned, drop_out_a, identify

from jingzhun.aid import services as aid_services
from jingzhun.duty import selectors as duty_selectors
from jingzhun.duty import services as duty_services
from jingzhun.duty.models import DropoutCase
from jingzhun.funds import services as funds_services
from jingzhun.funds.models import Payment
from jingzhun.schools.models import Enrolment

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def get(user: Any, url: str, **params: Any) -> Any:
    return client_for(user).get(url, params)


def section(response: Any, key: str) -> Any:
    return next(s for s in response.context["report"].sections if s.key == key)


def sheet_rows(content: bytes, index: int = 0) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [tuple(r) for r in book.worksheets[index].iter_rows(values_only=True)]


@pytest.fixture
def dropout_world(county: County, personas: Personas) -> DropoutCase:
    """Child A dropped out on 20 Sep 2018; the run of 8 Oct opened a case; she came back and
    the case was closed on 17 Oct 2018. Child B studies at school B throughout."""
    drop_out_a(county)
    identify()
    duty_services.cases_open_from_identification(actor=None, county_code="420101")
    case = DropoutCase.objects.get()
    return close_returned(county, personas, case)


def later_records(county: County, personas: Personas) -> None:
    """Records of a later period: child B drops out in 2019; a new run opens a second case."""
    Enrolment.objects.filter(pk=county.enrolment_b.pk).update(
        status="dropped_out", status_date=dt.date(2019, 3, 4)
    )
    identify(dt.date(2019, 3, 11))
    duty_services.cases_open_from_identification(actor=None, county_code="420101")


# --------------------------------------------------------------------------- dropout


def test_monthly_report_per_school_for_a_past_month(
    dropout_world: DropoutCase, county: County, personas: Personas
) -> None:
    # when
    response = get(personas.county_officer, "/centre/reports/dropout-monthly/", period="2018-10")
    # then: school A had the case (opened 8 Oct, closed in time 17 Oct, returned) and child A
    # was a confirmed dropout in the run of 8 Oct; school B has child B enrolled, with no one
    # named in the chain (class B's head teacher is not in the staff directory)
    rows = section(response, "dropout").rows
    assert response.status_code == 200
    assert rows == EXPECTED_OCTOBER
    before = [r[:] for r in rows]
    later_records(county, personas)
    again = get(personas.county_officer, "/centre/reports/dropout-monthly/", period="2018-10")
    assert section(again, "dropout").rows == before


EXPECTED_OCTOBER: list[list[Any]] = [
    # school, enrolled, suspected, confirmed, opened, closed, in time, returned, open, overdue,
    # covered, coverage %
    ["乙乡中学", 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, "0.0"],
    ["甲镇中心小学", 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, "—"],
]


def test_monthly_case_figures_agree_with_duty(
    dropout_world: DropoutCase, personas: Personas
) -> None:
    response = get(personas.county_officer, "/centre/reports/dropout-monthly/", period="2018-10")
    first, last = duty_selectors.month_bounds(2018, 10)
    duty = duty_selectors.period_report(
        user=personas.county_officer, first=first, last=last, by="school"
    )
    mine = {r[0]: r[4:7] + r[8:10] for r in section(response, "dropout").rows}
    for t in duty:
        assert mine[t.label] == [
            t.opened,
            t.closed,
            t.closed_in_time,
            t.open_at_end,
            t.overdue_at_end,
        ]


def test_quarterly_report_per_township_with_county_total(
    dropout_world: DropoutCase, county: County, personas: Personas
) -> None:
    response = get(personas.county_officer, "/centre/reports/dropout-quarterly/", period="2018-Q4")
    dropout = section(response, "dropout")
    assert dropout.rows == [
        ["乙乡", 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, "0.0"],
        ["甲镇", 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, "—"],
    ]
    assert dropout.total == [1, 0, 1, 1, 1, 1, 1, 0, 0, 0, "0.0"]
    # the quarter before: the case was not opened yet, only the run's figures are absent too
    q3 = get(personas.county_officer, "/centre/reports/dropout-quarterly/", period="2018-Q3")
    assert section(q3, "dropout").rows == []
    assert "No records in this period." in q3.content.decode()
    # a later period's records change nothing
    later_records(county, personas)
    again = get(personas.county_officer, "/centre/reports/dropout-quarterly/", period="2018-Q4")
    assert section(again, "dropout").rows == dropout.rows
    q1 = get(personas.county_officer, "/centre/reports/dropout-quarterly/", period="2019-Q1")
    assert section(q1, "dropout").rows == [
        # child B's case opened on 11 Mar 2019 with no step: overdue by the quarter's end
        ["乙乡", 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, "—"],
        # child A is back in class A, whose teacher has an account: covered
        ["甲镇", 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, "100.0"],
    ]


def test_scoping_of_units(dropout_world: DropoutCase, county: County, personas: Personas) -> None:
    url = "/centre/reports/dropout-monthly/"
    # a principal gets their school only
    mine = get(personas.principal_a, url, period="2018-10")
    assert [r[0] for r in section(mine, "dropout").rows] == ["甲镇中心小学"]
    assert "乙乡中学" not in mine.content.decode()
    assert (
        get(personas.principal_a, url, period="2018-10", unit=county.school_b.code).status_code
        == 404
    )
    assert get(personas.principal_a, url, period="2018-10", unit="420101002").status_code == 404
    # a township officer their township, and a school in it
    town = get(personas.township_a, url, period="2018-10")
    assert [r[0] for r in section(town, "dropout").rows] == ["甲镇中心小学"]
    assert (
        get(personas.township_a, url, period="2018-10", unit=county.school_b.code).status_code
        == 404
    )
    school = get(personas.township_a, url, period="2018-10", unit=county.school_a.code)
    assert school.context["report"].unit.name == "甲镇中心小学"
    # the county narrows to one township
    b = get(personas.county_officer, url, period="2018-10", unit="420101002")
    assert [r[0] for r in section(b, "dropout").rows] == ["乙乡中学"]
    # a class teacher and a user with no jurisdiction are refused
    assert get(personas.teacher_a, url, period="2018-10").status_code == 403
    assert get(personas.nobody, "/centre/reports/").status_code == 403
    assert get(personas.county_officer, "/centre/reports/weekly/").status_code == 404


def test_future_and_malformed_periods_are_refused(personas: Personas, county: County) -> None:
    future = get(personas.county_officer, "/centre/reports/dropout-monthly/", period="2099-01")
    assert future.status_code == 400
    assert "has not begun yet" in future.content.decode()
    bad = get(personas.county_officer, "/centre/reports/dropout-quarterly.xlsx", period="2018-13")
    assert bad.status_code == 400
    assert "Give the quarter as 2018-Q4." in bad.content.decode()
    assert (
        get(
            personas.county_officer, "/centre/reports/aid-semester/", period="2018-winter"
        ).status_code
        == 400
    )


def test_defaults_are_the_last_complete_periods(personas: Personas, county: County) -> None:
    from jingzhun.dashboard.reports_period import default

    today = dt.date(2026, 12, 6)
    assert default("month", today, 2026).param == "2026-11"
    assert default("quarter", today, 2026).param == "2026-Q3"
    assert default("semester", today, 2026).param == "2025-spring"
    assert default("year", today, 2026).param == "2025"
    # a county still closing 2025-2026 gets that year's last month
    assert default("month", today, 2025).param == "2026-08"
    page = get(personas.county_officer, "/centre/reports/")
    assert page.status_code == 200


def test_xlsx_and_pdf_of_the_monthly_report(dropout_world: DropoutCase, personas: Personas) -> None:
    xlsx = get(personas.county_officer, "/centre/reports/dropout-monthly.xlsx", period="2018-10")
    rows = sheet_rows(xlsx.content)
    assert rows[0][0] == "分学校情况（测试县2018年10月控辍保学学校月报）"
    assert rows[1][:4] == ("学校", "在校建档立卡学生", "疑似辍学", "确认辍学")
    assert rows[2][:8] == ("乙乡中学", 1, 0, 0, 0, 0, 0, 0)
    assert rows[3][:8] == ("甲镇中心小学", 0, 0, 1, 1, 1, 1, 1)
    assert rows[4][:4] == ("合计", 1, 0, 1)
    pdf = get(personas.county_officer, "/centre/reports/dropout-monthly.pdf", period="2018-10")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and b"/Type /Page" in pdf.content


# --------------------------------------------------------------------------- aid and annual


@pytest.fixture
def aid_world(county: County, personas: Personas) -> None:
    """Autumn 2018: aid computed; school A approved and paid by the bank; school B pending."""
    identify()
    aid_services.aid_compute(actor=None, county_code="420101", school_year=2018, semester="autumn")
    approve_school(personas, county)
    funds_services.allocation_record(
        actor=personas.aid_officer,
        channel="county",
        school_year=2018,
        programme="boarding_subsidy",
        amount=Decimal("5000.00"),
    )
    aid_services.aid_batch_create(
        actor=personas.aid_officer, school_year=2018, semester="autumn", idempotency_key="k1"
    )
    Payment.objects.update(status="paid")


def test_semester_aid_report(aid_world: None, county: County, personas: Personas) -> None:
    # given: child A (primary, boarding) is due the boarding subsidy, 500, paid, and the
    # primary fee waiver, 90, approved; child B (junior) the junior waiver, 130, still pending
    url = "/centre/reports/aid-semester/"
    response = get(personas.county_officer, url, period="2018-autumn")
    programmes = section(response, "programmes")
    assert programmes.rows == [
        ["Boarding living subsidy", 1, "500.00", "0.00", "500.00", "0.00", "0.00"],
        [
            "Compulsory education two exemptions (tuition and textbooks)",
            2,
            "220.00",
            "90.00",
            "0.00",
            "0.00",
            "130.00",
        ],
    ]
    assert programmes.total == [2, "720.00", "90.00", "500.00", "0.00", "130.00"]
    assert section(response, "townships").rows == [
        ["乙乡", 1, "130.00", "0.00", "0.00", "0.00", "130.00"],
        ["甲镇", 1, "590.00", "90.00", "500.00", "0.00", "0.00"],
    ]
    coverage = section(response, "coverage")
    assert coverage.rows[:2] == [["甲镇", 1, 1, "100.0"], ["乙乡", 1, 0, "0.0"]]
    assert coverage.total == [2, 1, "50.0"]
    # the bank sends back A's subsidy: returned, and A no longer covered
    Payment.objects.update(status="failed")
    failed = get(personas.county_officer, url, period="2018-autumn")
    assert section(failed, "programmes").total == [2, "720.00", "90.00", "0.00", "500.00", "130.00"]
    Payment.objects.update(status="paid")
    # a later semester's records change nothing
    aid_services.aid_compute(actor=None, county_code="420101", school_year=2018, semester="spring")
    again = get(personas.county_officer, url, period="2018-autumn")
    assert section(again, "programmes").rows == programmes.rows
    # a township officer of B sees B only; a principal of A their school
    town_b = get(personas.township_b, url, period="2018-autumn")
    assert section(town_b, "programmes").total == [1, "130.00", "0.00", "0.00", "0.00", "130.00"]
    assert "甲镇中心小学" not in town_b.content.decode()
    school_a = get(personas.principal_a, url, period="2018-autumn")
    assert section(school_a, "schools").rows == [
        ["甲镇中心小学", 1, "590.00", "90.00", "500.00", "0.00", "0.00"]
    ]
    xlsx = get(
        personas.county_officer,
        url.replace("/aid-semester/", "/aid-semester.xlsx"),
        period="2018-autumn",
    )
    rows = sheet_rows(xlsx.content)
    assert rows[1] == (
        "资助项目",
        "应助人数",
        "应助金额（元）",
        "免除金额（元）",
        "已发放金额（元）",
        "银行退回金额（元）",
        "未发放金额（元）",
    )
    assert rows[-1] == ("合计", 2, "720.00", "90.00", "500.00", "0.00", "130.00")


def test_annual_report(aid_world: None, county: County, personas: Personas) -> None:
    drop_out_a(county, dt.date(2018, 11, 5))
    identify(dt.date(2018, 11, 12))
    duty_services.cases_open_from_identification(actor=None, county_code="420101")
    response = get(personas.county_officer, "/centre/reports/annual/", period="2018")
    # then: each objective's figures at the end of 2018, and "no records" where none were kept
    assert section(response, "coverage").rows == [
        ["I.1 Aid", 2, 1, "50.0"],  # autumn 2018: A covered, B's waiver pending
        ["I.3 Teachers", 1, 0, "0.0"],  # school A, in a poor village, has no teacher
    ]
    assert section(response, "aid").rows == [
        ["Boarding living subsidy", 1, "500.00", "0.00", "500.00", "0.00", "0.00"],
        [
            "Compulsory education two exemptions (tuition and textbooks)",
            2,
            "220.00",
            "90.00",
            "0.00",
            "0.00",
            "130.00",
        ],
    ]
    assert section(response, "projects").rows == []
    assert section(response, "teachers").rows == [["II.3.1 Staffing gap (teachers)", 1, 1]]
    # A dropped out again on 5 Nov: a case opened on 12 Nov, no step since: overdue at year end
    assert section(response, "dropout").rows == [["甲镇", 1, 0, 0, 1, 1]]
    assert section(response, "funds").rows == [
        ["Boarding living subsidy", "5000.00", "0.00", "0.00", "5000.00"]
    ]
    assert section(response, "supervision").rows == []
    assert response.content.decode().count("No records in this period.") == 2
    empty = get(personas.county_officer, "/centre/reports/annual/", period="2017")
    # the year before had no records, but school A stood in its poor village with no teacher
    assert [(s.key, s.rows) for s in empty.context["report"].sections if s.rows] == [
        ("coverage", [["I.3 Teachers", 1, 0, "0.0"]])
    ]
    pdf = get(personas.county_officer, "/centre/reports/annual.pdf", period="2018")
    assert pdf.content.startswith(b"%PDF") and pdf.content.count(b"/Type /Page") >= 1
    with open("/tmp/reports-annual.pdf", "wb") as f:
        f.write(pdf.content)
    xlsx = sheet_rows(
        get(personas.county_officer, "/centre/reports/annual.xlsx", period="2018").content, 6
    )
    assert xlsx[2][0] == "本期无记录"
