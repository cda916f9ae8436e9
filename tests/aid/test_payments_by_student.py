"""Payments listed by student (siblings on one card are two students), status words that match
the batch's real state, the aid lists' filters and exports, and the notice PDF's text."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.utils import timezone
from tests.conftest import County, Personas

from jingzhun.aid import services, wording
from jingzhun.core.crypto import mask_account as mask
from jingzhun.core.sensitive import seal
from jingzhun.funds import services as funds
from jingzhun.funds.models import Payment, PaymentBatch
from jingzhun.registry.models import Person
from jingzhun.schools.models import Enrolment, Student

from .test_documents import _pdf_text, needs_pdftotext
from .test_views import BANK_A, Q, login, page, post_notice
from .world import approve_school, identify

SIBLING_ID = "420101201105050021"


def _sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [tuple(r) for r in book.worksheets[0].iter_rows(values_only=True)]


@pytest.fixture
def siblings(county: County, personas: Personas) -> County:
    """张小明 and his sister 张小丽 in class A, their aid paid to their father's card."""
    Person.objects.create(
        household=county.household_a,
        name="张父",
        sex="M",
        birth_date=dt.date(1980, 1, 1),
        relation="户主",
        **seal("420101198001010011", prefix="id", purpose="id"),
    )
    sister = Person.objects.create(
        household=county.household_a,
        name="张小丽",
        sex="F",
        birth_date=dt.date(2011, 5, 5),
        relation="之女",
        **seal(SIBLING_ID, prefix="id", purpose="id"),
    )
    student = Student.objects.create(
        county_code="420101",
        **seal("G" + SIBLING_ID, prefix="roll", purpose="roll"),
        name="张小丽",
        sex="F",
        birth_date=dt.date(2011, 5, 5),
        id_status="valid",
        poor_flag=True,
        person=sister,
        **seal(SIBLING_ID, prefix="id", purpose="id"),
    )
    Enrolment.objects.create(
        student=student,
        school=county.school_a,
        school_class=county.class_a,
        school_year=2018,
        stage="primary",
        grade=3,
        boarding=True,
    )
    identify()
    services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    approve_school(personas, county)
    funds.allocation_record(
        actor=personas.aid_officer,
        channel="county",
        school_year=2018,
        programme="boarding_subsidy",
        amount=Decimal("5000.00"),
    )
    return county


def _batch(personas: Personas) -> PaymentBatch:
    return services.aid_batch_create(
        actor=personas.aid_officer, school_year=2018, semester="autumn", idempotency_key="k1"
    )


def test_siblings_on_one_card_are_two_students(siblings: County, personas: Personas) -> None:
    # given
    batch = _batch(personas)
    client = login(personas.aid_officer, "zh-hans")
    # when
    response = client.get(f"/aid/batches/{batch.pk}/")
    # then
    rows = [
        (r["student"], r["class"], r["p"].payee_name, r["account"], r["siblings"])
        for r in response.context["payment_rows"]
    ]
    assert sorted(rows) == [
        ("张小丽", "三年级1班", "张父", mask(BANK_A), 2),
        ("张小明", "三年级1班", "张父", mask(BANK_A), 2),
    ]
    text = response.content.decode()
    assert 'id="jz-payee-note"' in text and 'data-siblings="2"' in text
    assert BANK_A not in text
    # the search finds one student by name; the export keeps exactly the filtered rows
    found = client.get(f"/aid/batches/{batch.pk}/?q=小丽")
    assert [r["student"] for r in found.context["payment_rows"]] == ["张小丽"]
    export = client.get(f"/aid/batches/{batch.pk}/payments.xlsx?q=小丽")
    rows_x = _sheet_rows(export.content)
    assert rows_x[1][:7] == ("学生", "学校", "班级", "资助项目", "金额", "收款人(户名)", "账号")
    assert [r[:3] + r[5:7] for r in rows_x[2:]] == [
        ("张小丽", "甲镇中心小学", "三年级1班", "张父", mask(BANK_A))
    ]
    assert BANK_A.encode() not in export.content


def test_bank_file_keeps_the_student(siblings: County, personas: Personas) -> None:
    batch = _batch(personas)
    funds.payment_batch_approve(actor=personas.aid_officer, batch_id=batch.pk)
    name, content = funds.bank_file_export(
        actor=personas.aid_officer,
        batch_id=batch.pk,
        fmt="csv",
        labels={"boarding_subsidy": "寄宿生生活补助"},
    )
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    body = sorted((r[1], r[2], r[5]) for r in lines[2:-1])
    assert body == [
        (BANK_A, "张父", "寄宿生生活补助（张小丽）"),
        (BANK_A, "张父", "寄宿生生活补助（张小明）"),
    ]
    assert {p.beneficiary for p in Payment.objects.all()} == {"张小明", "张小丽"}


def test_status_words_follow_the_batch(siblings: County, personas: Personas) -> None:
    batch = _batch(personas)
    officer = login(personas.aid_officer)
    student_url = f"/aid/students/{siblings.student_a.pk}/"

    def states() -> tuple[str, set[str], set[str], str]:
        detail = officer.get(f"/aid/batches/{batch.pk}/")
        coverage = officer.get(f"/aid/coverage/{Q}")
        student = page(officer, student_url)
        words = {r["state"] for r in detail.context["payment_rows"]}
        gaps = {g["g"].reason_label for g in coverage.context["gaps"] if g["programme"] != "—"}
        return detail.context["batch_words"], words, gaps, student

    batch_words, words, gaps, student = states()
    assert batch_words == "In a draft batch" and words == {"In a draft batch"}
    assert "In a draft batch" in gaps and "In a draft batch" in student
    funds.payment_batch_approve(actor=personas.aid_officer, batch_id=batch.pk)
    batch_words, words, gaps, student = states()
    assert words == {"Approved, not yet sent to the bank"}
    assert "Approved, not yet sent to the bank" in gaps
    assert "Sent to the bank" not in " ".join(gaps) and "Sent to the bank" not in student
    funds.bank_file_export(actor=personas.aid_officer, batch_id=batch.pk, fmt="csv")
    batch_words, words, gaps, student = states()
    assert words == {"Sent to the bank"} and "Sent to the bank, not yet confirmed" in gaps
    # the bank pays one child and refuses the other
    first, second = Payment.objects.order_by("id")
    out = io.StringIO()
    csv.writer(out).writerows(
        [
            ["参考号", "账号", "金额", "状态", "失败原因"],
            [first.reference, BANK_A, str(first.amount), "成功", ""],
            [second.reference, BANK_A, str(second.amount), "失败", "账户冻结"],
        ]
    )
    funds.bank_return_apply(
        actor=personas.aid_officer,
        batch_id=batch.pk,
        data=out.getvalue().encode(),
        file_name="r.csv",
    )
    first.refresh_from_db()
    day = timezone.localtime(first.settled_at).date().isoformat()
    _batch_words, words, gaps, _student = states()
    assert words == {f"Paid on {day}", "Failed: 账户冻结"}
    batches = officer.get("/aid/batches/?year=2018&semester=autumn")
    assert "Reconciled with the bank&#x27;s return" in batches.content.decode()


def test_payment_words() -> None:
    settled = dt.datetime(2018, 11, 2, 3, 0, tzinfo=dt.UTC)
    assert wording.payment_words(batch_status="draft", status="pending") == "In a draft batch"
    assert (
        wording.payment_words(batch_status="approved", status="pending")
        == "Approved, not yet sent to the bank"
    )
    assert wording.payment_words(batch_status="sent", status="pending") == "Sent to the bank"
    assert (
        wording.payment_words(batch_status="reconciled", status="paid", settled_at=settled)
        == "Paid on 2018-11-02"
    )
    assert (
        wording.payment_words(batch_status="reconciled", status="failed", reason="户名不符")
        == "Failed: 户名不符"
    )


def test_coverage_filters_and_export_hold_the_same_rows(
    siblings: County, personas: Personas
) -> None:
    client = login(personas.county_officer, "zh-hans")
    everything = client.get(f"/aid/coverage/{Q}")
    names = sorted(g["g"].student_name for g in everything.context["gaps"])
    assert names == ["张小丽", "张小明", "李小红"]
    # by school, by township, by reason and by name
    school_b = client.get(f"/aid/coverage/{Q}&school={siblings.school_b.pk}")
    assert [g["g"].student_name for g in school_b.context["gaps"]] == ["李小红"]
    township_a = client.get(f"/aid/coverage/{Q}&township={siblings.township_a.code}")
    assert sorted(g["g"].student_name for g in township_a.context["gaps"]) == ["张小丽", "张小明"]
    pending = client.get(f"/aid/coverage/{Q}&reason=pending_review")
    assert [g["g"].student_name for g in pending.context["gaps"]] == ["李小红"]
    found = client.get(f"/aid/coverage/{Q}&q=小丽")
    assert [(g["g"].student_name, g["class"]) for g in found.context["gaps"]] == [
        ("张小丽", "三年级1班")
    ]
    text = found.content.decode()
    assert (
        'id="jz-total"' in text and "/aid/coverage.xlsx?" in text and "q=%E5%B0%8F%E4%B8%BD" in text
    )
    # the export holds exactly the filtered gaps
    workbook = client.get(f"/aid/coverage.xlsx{Q}&q=小丽")
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    gaps_sheet = book.worksheets[-1]
    rows = [r for r in gaps_sheet.iter_rows(min_row=3, values_only=True)]
    assert [(r[0], r[2]) for r in rows] == [("张小丽", "三年级1班")]


def test_entitlement_list_filters_by_class_and_exports_the_same_rows(
    siblings: County, personas: Personas
) -> None:
    client = login(personas.county_officer)
    url = f"/aid/entitlements/{Q}&school={siblings.school_a.pk}&class={siblings.class_a.pk}"
    response = client.get(url)
    listed = sorted((r["e"].student.name, r["e"].programme) for r in response.context["rows"])
    assert {name for name, _p in listed} == {"张小明", "张小丽"}
    assert response.context["page"].paginator.count == len(listed)
    export = client.get(
        f"/aid/entitlements.xlsx{Q}&school={siblings.school_a.pk}&class={siblings.class_a.pk}"
    )
    rows = _sheet_rows(export.content)[2:]
    assert sorted(r[0] for r in rows) == sorted(name for name, _p in listed)
    assert {r[2] for r in rows} == {"三年级1班"}
    # a name search
    found = client.get(f"/aid/entitlements/{Q}&q=李小")
    assert {r["e"].student.name for r in found.context["rows"]} == {"李小红"}


def test_lists_are_paged_and_small(siblings: County, personas: Personas) -> None:
    client = login(personas.county_officer)
    for url in (
        f"/aid/coverage/{Q}",
        f"/aid/entitlements/{Q}",
        f"/aid/adjustments/{Q}",
        f"/aid/notices/{Q}",
        "/aid/loans/?year=2018",
        "/aid/batches/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(response.content) < 300_000, url
        assert 'class="jz-filters"' in response.content.decode(), url


@needs_pdftotext
def test_notice_pdf_reads_as_the_school_posts_it(
    county: County, personas: Personas, tmp_path: Path
) -> None:
    identify()
    services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    notice = post_notice(
        county, personas.teacher_a, personas.principal_a, county.school_a, county.class_a
    )
    response = login(personas.principal_a).get(f"/aid/notices/{notice.pk}/notice.pdf")
    assert response.status_code == 200
    text = "\n".join(_pdf_text(response.content, tmp_path))
    flat = "".join(text.split())
    assert "甲镇中心小学" in flat and "张小明" in flat and "三年级1班" in flat
    assert "义务教育家庭经济困难寄宿生生活补助" in flat
    assert "2018" in flat and "秋季学期" in flat
    assert county.student_a.id_masked not in flat and "420101" + "2010" not in flat


def test_batch_page_is_for_the_county_only(siblings: County, personas: Personas) -> None:
    batch = _batch(personas)
    client = login(personas.township_a)
    assert client.get(f"/aid/batches/{batch.pk}/payments.xlsx").status_code == 404
    with zipfile.ZipFile(
        io.BytesIO(
            login(personas.aid_officer).get(f"/aid/batches/{batch.pk}/payments.xlsx").content
        )
    ) as archive:
        assert any(n.startswith("xl/worksheets/") for n in archive.namelist())
