"""Aid pages: each persona sees its own jurisdiction, writes go through services, refusals hold."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from tests.conftest import ID_A, ID_B, County, Personas, make_user

from jingzhun.accounts.roles import Role
from jingzhun.aid import services
from jingzhun.aid.models import (
    Adjustment,
    AidComputation,
    AidNotice,
    Entitlement,
    Loan,
    NoticeObjection,
    RuleBookVersion,
)
from jingzhun.aid.rulebook import shipped_source
from jingzhun.core.crypto import mask_account as mask
from jingzhun.core.models import AuditEvent
from jingzhun.core.sensitive import seal
from jingzhun.funds import services as funds
from jingzhun.funds.models import Allocation, BankReturn, Payment, PaymentBatch
from jingzhun.registry.models import Person
from jingzhun.schools.models import Enrolment, School, Student

from .world import approve_school, identify

PERIOD = {"year": "2018", "semester": "autumn"}
Q = "?year=2018&semester=autumn"
BANK_A = "6228480012345678901"
WHOLE = (ID_A, ID_B, BANK_A)


def login(user: Any, language: str = "en") -> Client:
    """Return a client logged in as the user, asking for pages in a language."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    return client


def page(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    text = response.content.decode()
    for whole in WHOLE:
        assert whole not in text, url
    return text


def reviews(student: Any) -> list[str]:
    return sorted(
        Entitlement.objects.filter(student=student, semester="autumn").values_list(
            "review", flat=True
        )
    )


@pytest.fixture
def computed(county: County, personas: Personas) -> County:
    """The county identified and its autumn 2018 entitlements computed (A: 2 lines, B: 1)."""
    identify()
    services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    return county


@pytest.fixture
def school_b(computed: County) -> dict[str, Any]:
    """A principal and class teacher for school B (the shared personas work in township A)."""
    return {
        "principal": make_user("principal_b", Role.PRINCIPAL, school=computed.school_b),
        "teacher": make_user("teacher_b", Role.CLASS_TEACHER, school_class=computed.class_b),
    }


def post_notice(c: County, teacher: Any, principal: Any, school: Any, cls: Any) -> AidNotice:
    services.entitlement_class_check(
        actor=teacher, school_class_id=cls.pk, school_year=2018, semester="autumn"
    )
    services.entitlement_school_review(
        actor=principal, school_id=school.pk, school_year=2018, semester="autumn"
    )
    return services.notice_post(
        actor=principal,
        school_id=school.pk,
        school_year=2018,
        semester="autumn",
        starts_on=dt.date(2018, 9, 17),
    )


# --------------------------------------------------------------------------- overview


def test_overview_counts_review_states_of_the_users_jurisdiction(
    computed: County, personas: Personas
) -> None:
    expected = {
        "county_officer": 3,
        "aid_officer": 3,
        "township_a": 2,
        "township_b": 1,
        "principal_a": 2,
        "teacher_a": 2,
        "inspector": 3,
    }
    for persona, n in expected.items():
        response = login(getattr(personas, persona)).get(f"/aid/{Q}")
        assert response.status_code == 200, persona
        assert response.context["total"] == n, persona
        assert dict((v, k) for v, _label, k in response.context["counts"])["pending"] == n
    text = page(login(personas.aid_officer), f"/aid/{Q}")
    assert 'id="jz-compute-now"' in text
    assert 'id="jz-compute-now"' not in page(login(personas.township_a), f"/aid/{Q}")
    assert login(personas.nobody).get("/aid/").status_code == 403


def test_compute_button_starts_the_task_for_the_aid_centre_only(
    county: County, personas: Personas
) -> None:
    identify()
    # when a township officer tries, nothing is computed
    response = login(personas.township_a).post("/aid/", PERIOD)
    assert response.status_code == 403
    assert AidComputation.objects.count() == 0 and Entitlement.objects.count() == 0
    assert AuditEvent.objects.filter(action="access.denied").count() == 1
    # when the aid centre starts it (the test backend runs it at once)
    client = login(personas.aid_officer)
    response = client.post("/aid/", PERIOD)
    assert response.status_code == 302
    assert response["Location"].startswith("/aid/?year=2018&semester=autumn&task=")
    task = response["Location"].rsplit("=", 1)[1]
    assert client.get("/aid/progress/", {"task": task}).json() == {
        "task": True,
        "state": "finished",
    }
    computation = AidComputation.objects.get()
    assert (computation.status, computation.started_by) == ("done", personas.aid_officer)
    assert Entitlement.objects.count() == 3
    # the progress endpoint tells others nothing
    assert login(personas.township_a).get("/aid/progress/", {"task": task}).json() == {
        "task": False
    }


def test_compute_without_a_rule_book_is_refused_with_a_message(
    county: County, personas: Personas
) -> None:
    response = login(personas.aid_officer).post(
        "/aid/", {"year": "2030", "semester": "autumn"}, follow=True
    )
    assert response.status_code == 200
    assert "There is no rule book for 2030 or the year before" in response.content.decode()
    assert AidComputation.objects.count() == 0


# --------------------------------------------------------------------------- rule book


def test_rule_book_page_reads_as_a_table(computed: County, personas: Personas) -> None:
    text = page(login(personas.township_a), "/aid/rulebook/?year=2018")
    rows = re.findall(r'<tr data-rule="boarding_junior">(.*?)</tr>', text, re.S)
    assert len(rows) == 1
    cells = [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", rows[0], re.S)
    ]
    assert cells == [
        "Boarding living subsidy",
        "II.1.2",
        "Junior high; boarding students",
        "1,250.00 a year",
        "Cash",
        "2018-09-01 – 2019-08-31",
    ]
    assert "1,000.00–8,000.00 a year" in text  # a loan's range
    assert (
        "Compulsory education two exemptions (tuition and textbooks) + Boarding living subsidy"
        in text
    )
    assert "as shipped for this school year" in text  # the version history
    assert 'id="jz-edit"' not in text
    chinese = page(login(personas.township_a, "zh-hans"), "/aid/rulebook/?year=2018")
    assert "义务教育家庭经济困难寄宿生生活补助" in chinese


def test_rule_book_edit_shows_the_line_of_an_error_and_saves_nothing(
    computed: County, personas: Personas
) -> None:
    client = login(personas.aid_officer)
    source = shipped_source(2018)
    broken = source.replace('amount: "1250.00"', "amount: 1250.5", 1)
    line = source.splitlines().index('    amount: "1250.00"') + 1
    # when
    response = client.post(
        "/aid/rulebook/edit/?year=2018", {"source": broken, "reason": "raise the subsidy"}
    )
    # then
    assert response.status_code == 200
    problems = response.context["problems"]
    assert [p[1] for p in problems] == [line]
    assert f'data-line="{line}"' in response.content.decode()
    assert f"line {line}" in response.content.decode()
    assert RuleBookVersion.objects.count() == 1
    # a good edit makes version 2 with who and why
    good = source.replace('amount: "1250.00"', 'amount: "1300.00"', 1)
    response = client.post(
        "/aid/rulebook/edit/?year=2018",
        {"source": good.replace("\n", "\r\n"), "reason": "county raised the subsidy"},
    )
    assert response.status_code == 302
    version = RuleBookVersion.objects.get(version=2)
    assert (version.created_by, version.reason, version.source) == (
        personas.aid_officer,
        "county raised the subsidy",
        good,
    )
    assert "1,300.00 a year" in page(client, "/aid/rulebook/?year=2018")


def test_rule_book_edit_is_for_the_aid_centre_only(computed: County, personas: Personas) -> None:
    for who in ("county_officer", "township_a", "principal_a", "inspector"):
        client = login(getattr(personas, who))
        assert client.get("/aid/rulebook/edit/?year=2018").status_code == 403, who
        response = client.post(
            "/aid/rulebook/edit/?year=2018", {"source": shipped_source(2018) + "\n", "reason": "x"}
        )
        assert response.status_code == 403, who
    assert RuleBookVersion.objects.count() == 1


def test_rule_book_install_for_a_new_year(county: County, personas: Personas) -> None:
    assert "There is no rule book" in page(login(personas.aid_officer), "/aid/rulebook/?year=2019")
    assert login(personas.township_a).post("/aid/rulebook/?year=2019").status_code == 403
    response = login(personas.aid_officer).post("/aid/rulebook/?year=2019")
    assert response.status_code == 302
    version = RuleBookVersion.objects.get(school_year=2019)
    assert version.version == 1 and "school_year: 2019" in version.source


# --------------------------------------------------------------------------- entitlements


def test_entitlement_list_is_scoped_and_filtered(computed: County, personas: Personas) -> None:
    def names(user: Any, query: str = "") -> list[tuple[str, str, str]]:
        response = login(user).get(f"/aid/entitlements/{Q}{query}")
        assert response.status_code == 200
        return [
            (r["e"].student.name, r["programme"], r["amount"]) for r in response.context["rows"]
        ]

    # ordered by school name (乙乡中学 sorts before 甲镇中心小学), class, student, programme
    assert names(personas.county_officer) == [
        ("李小红", "Compulsory education two exemptions (tuition and textbooks)", "130.00"),
        ("张小明", "Boarding living subsidy", "500.00"),
        ("张小明", "Compulsory education two exemptions (tuition and textbooks)", "90.00"),
    ]
    assert [n for n, _p, _a in names(personas.township_b)] == ["李小红"]
    assert [n for n, _p, _a in names(personas.principal_a)] == ["张小明", "张小明"]
    assert names(personas.county_officer, f"&school={computed.school_b.pk}") == [
        ("李小红", "Compulsory education two exemptions (tuition and textbooks)", "130.00")
    ]
    assert len(names(personas.county_officer, "&reason=boarding_subsidy")) == 1
    assert names(personas.county_officer, "&status=approved") == []
    text = page(login(personas.township_a), f"/aid/entitlements/{Q}")
    assert "乙乡中学" not in text and "李小红" not in text
    assert "II.1.2" in text and "2018 v1" in text


def test_student_page_explains_each_amount_in_words(computed: County, personas: Personas) -> None:
    client = login(personas.principal_a)
    text = page(client, f"/aid/students/{computed.student_a.pk}/")
    assert "500.00 yuan: Boarding living subsidy, Primary, clause II.1.2, rule book 2018 v1" in text
    assert "90.00 yuan waived: Compulsory education two exemptions" in text
    response = client.get(f"/aid/students/{computed.student_a.pk}/")
    (period,) = response.context["periods"]
    assert dict(period["inputs"]) == {
        "Stage": "Primary",
        "Grade": "3",
        "Boarding": "yes",
        "School location": "In the county",
        "Household status": "Registered",
    }
    assert computed.student_a.id_masked not in text
    # a class teacher sees the student but no notice link (notices are the school's)
    notice = post_notice(
        computed, personas.teacher_a, personas.principal_a, computed.school_a, computed.class_a
    )
    assert f"/aid/notices/{notice.pk}/" in page(client, f"/aid/students/{computed.student_a.pk}/")
    teacher_page = page(login(personas.teacher_a), f"/aid/students/{computed.student_a.pk}/")
    assert "II.1.2" in teacher_page and f"/aid/notices/{notice.pk}/" not in teacher_page
    # another township's student is missing, not forbidden
    assert (
        login(personas.township_b).get(f"/aid/students/{computed.student_a.pk}/").status_code == 404
    )
    assert client.get(f"/aid/students/{computed.student_b.pk}/").status_code == 404
    assert client.get("/aid/students/999999/").status_code == 404


# --------------------------------------------------------------------------- review


def test_class_teacher_checks_the_class(computed: County, personas: Personas) -> None:
    client = login(personas.teacher_a)
    text = page(client, f"/aid/review/{Q}")
    assert 'id="jz-checked"' in text and "张小明" in text and "李小红" not in text
    # when
    response = client.post("/aid/review/", {**PERIOD, "action": "class_check"})
    # then
    assert response.status_code == 302
    assert reviews(computed.student_a) == ["class_checked", "class_checked"]
    assert reviews(computed.student_b) == ["pending"]
    assert AuditEvent.objects.filter(action="aid.class_check").count() == 1
    assert 'id="jz-checked"' not in page(client, f"/aid/review/{Q}")


def test_teacher_cannot_check_another_class(computed: County, personas: Personas) -> None:
    response = login(personas.teacher_a).post(
        "/aid/review/", {**PERIOD, "action": "class_check", "class_id": computed.class_b.pk}
    )
    assert response.status_code == 404
    assert reviews(computed.student_b) == ["pending"]


def test_principal_confirms_excludes_with_reason_and_posts_the_notice(
    computed: County, personas: Personas
) -> None:
    services.entitlement_class_check(
        actor=personas.teacher_a,
        school_class_id=computed.class_a.pk,
        school_year=2018,
        semester="autumn",
    )
    client = login(personas.principal_a)
    text = page(client, f"/aid/review/{Q}")
    assert f'name="exclude" value="{computed.student_a.pk}"' in text
    # an exclusion without a reason is refused and changes nothing
    response = client.post(
        "/aid/review/",
        {**PERIOD, "action": "school_review", "exclude": [computed.student_a.pk]},
        follow=True,
    )
    assert "Give a reason for every excluded student." in response.content.decode()
    assert reviews(computed.student_a) == ["class_checked", "class_checked"]
    # confirming makes the list ready for notice
    response = client.post("/aid/review/", {**PERIOD, "action": "school_review"})
    assert response.status_code == 302
    assert reviews(computed.student_a) == ["confirmed", "confirmed"]
    # post the notice
    response = client.post(
        "/aid/review/", {**PERIOD, "action": "notice_post", "starts_on": "2018-09-17"}
    )
    notice = AidNotice.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/aid/notices/{notice.pk}/"
    assert (notice.starts_on, notice.ends_on) == (dt.date(2018, 9, 17), dt.date(2018, 9, 21))
    assert reviews(computed.student_a) == ["noticed", "noticed"]


def test_principal_excludes_a_student_with_a_reason(computed: County, personas: Personas) -> None:
    services.entitlement_class_check(
        actor=personas.teacher_a,
        school_class_id=computed.class_a.pk,
        school_year=2018,
        semester="autumn",
    )
    sid = computed.student_a.pk
    response = login(personas.principal_a).post(
        "/aid/review/",
        {**PERIOD, "action": "school_review", "exclude": [sid], f"reason_{sid}": "income verified"},
    )
    assert response.status_code == 302
    assert reviews(computed.student_a) == ["excluded", "excluded"]
    assert set(
        Entitlement.objects.filter(student_id=sid).values_list("review_reason", flat=True)
    ) == {"income verified"}


def test_township_sees_review_state_per_school_and_cannot_act(
    computed: County, personas: Personas
) -> None:
    client = login(personas.township_a)
    response = client.get(f"/aid/review/{Q}")
    assert [(s["school"].school_name, s["cells"]) for s in response.context["schools"]] == [
        ("甲镇中心小学", [2, 0, 0, 0, 0, 0, 0])
    ]
    assert "乙乡中学" not in response.content.decode()
    for action in ("class_check", "school_review", "notice_post", ""):
        data = {
            **PERIOD,
            "action": action,
            "class_id": computed.class_a.pk,
            "starts_on": "2018-09-17",
        }
        assert client.post("/aid/review/", data).status_code == 403
    assert set(Entitlement.objects.values_list("review", flat=True)) == {"pending"}
    assert AidNotice.objects.count() == 0


# --------------------------------------------------------------------------- notices


def test_principal_of_school_a_gets_404_for_school_bs_notice(
    computed: County, personas: Personas, school_b: dict[str, Any]
) -> None:
    notice_b = post_notice(
        computed, school_b["teacher"], school_b["principal"], computed.school_b, computed.class_b
    )
    client = login(personas.principal_a)
    for url in ("", "notice.pdf", "notice.xlsx"):
        assert client.get(f"/aid/notices/{notice_b.pk}/{url}").status_code == 404, url
    response = client.post(f"/aid/notices/{notice_b.pk}/", {"action": "object", "text": "not poor"})
    assert response.status_code == 404
    assert NoticeObjection.objects.count() == 0
    assert "乙乡中学" not in page(client, f"/aid/notices/{Q}")
    listed = page(login(personas.township_b), f"/aid/notices/{Q}")
    assert f'data-notice="{notice_b.pk}"' in listed
    # the list follows the working school year: 2018's notice is not on this year's list
    assert f'data-notice="{notice_b.pk}"' not in page(
        login(personas.township_b), "/aid/notices/?year=2026&semester=autumn"
    )


def test_notice_objection_resolution_and_approval(computed: County, personas: Personas) -> None:
    notice = post_notice(
        computed, personas.teacher_a, personas.principal_a, computed.school_a, computed.class_a
    )
    url = f"/aid/notices/{notice.pk}/"
    text = page(login(personas.principal_a), url)
    assert (
        "Boarding living subsidy" in text
        and 'id="jz-object"' in text
        and 'id="jz-approve"' not in text
    )
    # the school records an objection about a student on the notice
    response = login(personas.principal_a).post(
        url, {"action": "object", "student": computed.student_a.pk, "text": "家里新买了车"}
    )
    assert response.status_code == 302
    objection = NoticeObjection.objects.get()
    assert (objection.student, objection.text) == (computed.student_a, "家里新买了车")
    # the principal cannot approve nor resolve
    assert login(personas.principal_a).post(url, {"action": "approve"}).status_code == 403
    assert (
        login(personas.principal_a)
        .post(
            url, {"action": "resolve", "objection": objection.pk, "outcome": "upheld", "note": "x"}
        )
        .status_code
        == 403
    )
    # the aid centre cannot approve while the objection is open
    aid = login(personas.aid_officer)
    response = aid.post(url, {"action": "approve"}, follow=True)
    assert "Resolve the open objections first." in response.content.decode()
    notice.refresh_from_db()
    assert notice.status == "posted"
    # it dismisses the objection, then approves
    response = aid.post(
        url,
        {
            "action": "resolve",
            "objection": objection.pk,
            "outcome": "dismissed",
            "note": "车是亲戚的",
        },
    )
    assert response.status_code == 302
    objection.refresh_from_db()
    assert (objection.resolution, objection.resolution_note) == ("dismissed", "车是亲戚的")
    assert aid.post(url, {"action": "approve"}).status_code == 302
    notice.refresh_from_db()
    assert notice.status == "approved"
    assert reviews(computed.student_a) == ["approved", "approved"]


def test_notice_sheet_downloads_carry_no_id(computed: County, personas: Personas) -> None:
    notice = post_notice(
        computed, personas.teacher_a, personas.principal_a, computed.school_a, computed.class_a
    )
    client = login(personas.principal_a)
    pdf = client.get(f"/aid/notices/{notice.pk}/notice.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    for whole in (ID_A, ID_A[:6] + "2010", computed.student_a.id_masked):
        assert whole.encode() not in pdf.content
    xlsx = client.get(f"/aid/notices/{notice.pk}/notice.xlsx")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as archive:
        text = "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    assert "张小明" in text and "三年级1班" in text and "义务教育家庭经济困难寄宿生生活补助" in text
    assert ID_A not in text and "2010-01-01" not in text and "甲村" not in text
    assert client.post(f"/aid/notices/{notice.pk}/notice.pdf").status_code == 405


# --------------------------------------------------------------------------- payment


@pytest.fixture
def approved(computed: County, personas: Personas) -> County:
    approve_school(personas, computed)
    funds.allocation_record(
        actor=personas.aid_officer,
        channel="county",
        school_year=2018,
        programme="boarding_subsidy",
        amount=Decimal("5000.00"),
    )
    return computed


def test_township_officer_cannot_reach_batch_pages(approved: County, personas: Personas) -> None:
    batch = services.aid_batch_create(
        actor=personas.aid_officer, school_year=2018, semester="autumn", idempotency_key="k1"
    )
    client = login(personas.township_a)
    assert client.get(f"/aid/batches/{batch.pk}/").status_code == 404
    assert client.post(f"/aid/batches/{batch.pk}/", {"action": "approve"}).status_code == 404
    assert client.post(f"/aid/batches/{batch.pk}/bank.csv").status_code == 404
    response = client.get("/aid/batches/")
    assert response.status_code == 200 and list(response.context["batches"]) == []
    assert batch.reference not in response.content.decode()
    assert client.post("/aid/batches/", {**PERIOD, "key": "k2"}).status_code == 403
    batch.refresh_from_db()
    assert (batch.status, PaymentBatch.objects.count()) == ("draft", 1)
    assert client.get("/aid/allocations/?year=2018").context["rows"] == []


def test_batch_from_form_to_reconciliation(approved: County, personas: Personas) -> None:
    client = login(personas.aid_officer)
    form = client.get("/aid/batches/?year=2018&semester=autumn")
    key = re.search(r'name="key" value="([0-9a-f]+)"', form.content.decode())
    assert key is not None
    # a double submit makes one batch
    data = {"year": "2018", "semester": "autumn", "key": key.group(1)}
    first, second = client.post("/aid/batches/", data), client.post("/aid/batches/", data)
    batch = PaymentBatch.objects.get()
    assert first["Location"] == second["Location"] == f"/aid/batches/{batch.pk}/"
    url = f"/aid/batches/{batch.pk}/"
    text = page(client, url)
    assert mask(BANK_A) in text and "420101-2018A-001" in text
    assert [
        (r["name"], r["count"], r["amount"]) for r in client.get(url).context["by_programme"]
    ] == [("Boarding living subsidy", 1, "500.00")]
    assert [(r["name"], r["amount"]) for r in client.get(url).context["by_township"]] == [
        ("甲镇", "500.00")
    ]
    # the bank file is a POST (it marks the batch sent), refused before approval
    assert client.get(f"{url}bank.xlsx").status_code == 405
    response = client.post(f"{url}bank.xlsx", follow=True)
    assert "Only an approved batch can be sent to the bank." in response.content.decode()
    assert client.post(url, {"action": "approve"}).status_code == 302
    response = client.post(f"{url}bank.csv")
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.csv"')
    assert f"{BANK_A},张小明,500.00," in response.content.decode("utf-8-sig")
    batch.refresh_from_db()
    assert batch.status == "sent"
    # the bank's return file reconciles it
    payment = Payment.objects.get()
    out = io.StringIO()
    csv.writer(out).writerows(
        [["参考号", "账号", "金额", "状态"], [payment.reference, BANK_A, "500.00", "成功"]]
    )
    upload = io.BytesIO(out.getvalue().encode())
    upload.name = "return.csv"
    response = client.post(url, {"action": "return", "file": upload})
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "reconciled" and BankReturn.objects.get().balanced
    assert "balanced" in page(client, url)


def test_batch_gap_names_the_student_and_reason(
    approved: County, personas: Personas, school_b: dict[str, Any]
) -> None:
    Enrolment.objects.filter(pk=approved.enrolment_b.pk).update(boarding=True)
    services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    notice = post_notice(
        approved, school_b["teacher"], school_b["principal"], approved.school_b, approved.class_b
    )
    services.notice_approve(
        actor=personas.aid_officer, notice_id=notice.pk, today=dt.date(2018, 9, 25)
    )
    batch = services.aid_batch_create(
        actor=personas.aid_officer, school_year=2018, semester="autumn", idempotency_key="k1"
    )
    response = login(personas.aid_officer).get(f"/aid/batches/{batch.pk}/")
    assert [
        (g["student"], g["school"], g["programme"], g["amount"], g["reason"])
        for g in response.context["gaps"]
    ] == [("李小红", "乙乡中学", "Boarding living subsidy", "625.00", "No bank card")]


def test_others_cannot_act_on_a_batch(approved: County, personas: Personas) -> None:
    batch = services.aid_batch_create(
        actor=personas.aid_officer, school_year=2018, semester="autumn", idempotency_key="k1"
    )
    for who in ("county_officer", "inspector", "bureau_leader"):
        client = login(getattr(personas, who))
        text = page(client, f"/aid/batches/{batch.pk}/")  # county users may look
        assert 'id="jz-approve-batch"' not in text
        assert client.post(f"/aid/batches/{batch.pk}/", {"action": "approve"}).status_code == 403
        assert client.post(f"/aid/batches/{batch.pk}/bank.xlsx").status_code == 403
    batch.refresh_from_db()
    assert batch.status == "draft"


def test_allocations_are_recorded_by_the_aid_centre(computed: County, personas: Personas) -> None:
    response = login(personas.aid_officer).post(
        "/aid/allocations/?year=2018",
        {
            "programme": "boarding_subsidy",
            "channel": "provincial",
            "amount": "12000.00",
            "note": "县财发〔2018〕12号",
        },
    )
    assert response.status_code == 302
    allocation = Allocation.objects.get()
    assert (allocation.programme, allocation.amount, allocation.school_year) == (
        "boarding_subsidy",
        Decimal("12000.00"),
        2018,
    )
    assert "12,000.00" in page(login(personas.aid_officer), "/aid/allocations/?year=2018")
    assert (
        login(personas.county_officer)
        .post("/aid/allocations/?year=2018", {"programme": "boarding_subsidy", "amount": "1"})
        .status_code
        == 403
    )
    assert Allocation.objects.count() == 1


def test_aid_centre_records_a_loan_within_the_rule_book_range(
    county: County, personas: Personas
) -> None:
    # given a university student of household A (identified below)
    computed = county
    university = School.objects.create(
        code="4142010001", name="省城大学", kind="university", location="in_province"
    )
    person = Person.objects.create(
        household=computed.household_a,
        name="张大明",
        sex="M",
        birth_date=dt.date(2000, 5, 5),
        relation="之子",
        **seal("420101200005050015", prefix="id", purpose="id"),
    )
    student = Student.objects.create(
        county_code="420101",
        name="张大明",
        sex="M",
        birth_date=dt.date(2000, 5, 5),
        id_status="valid",
        person=person,
        **seal("G420101200005050015", prefix="roll", purpose="roll"),
        **seal("420101200005050015", prefix="id", purpose="id"),
    )
    Enrolment.objects.create(
        student=student, school=university, school_year=2018, stage="university", grade=2
    )
    client = login(personas.aid_officer)
    assert f'value="{student.pk}"' not in page(client, "/aid/loans/?year=2018")  # not identified
    identify()
    assert f'<option value="{student.pk}">张大明</option>' in page(client, "/aid/loans/?year=2018")
    # an amount above the rule book's range is refused with the clause, and nothing is stored
    data = {"student": student.pk, "bank": "国家开发银行", "amount": "9000.00", "term_years": "15"}
    response = client.post("/aid/loans/?year=2018", data, follow=True)
    assert "1000.00 to 8000.00 yuan a year" in response.content.decode()
    assert Loan.objects.count() == 0
    # within it, the loan is recorded
    response = client.post("/aid/loans/?year=2018", {**data, "amount": "6000.00"})
    assert response.status_code == 302
    loan = Loan.objects.get()
    assert (loan.student, loan.amount, loan.degree, loan.rule_id) == (
        student,
        Decimal("6000.00"),
        "undergraduate",
        "origin_loan_undergraduate",
    )
    assert "国家开发银行" in page(client, "/aid/loans/?year=2018")
    assert "张大明" not in page(login(personas.township_b), "/aid/loans/?year=2018")


def test_loans_page(computed: County, personas: Personas) -> None:
    text = page(login(personas.aid_officer), "/aid/loans/?year=2018")
    assert "No identified university student in this school year." in text
    assert 'id="jz-loan"' not in page(login(personas.township_a), "/aid/loans/?year=2018")
    assert login(personas.township_a).post("/aid/loans/?year=2018", {}).status_code == 403


# --------------------------------------------------------------------------- adjustments, coverage


def test_adjustments_show_what_a_rerun_changed(computed: County, personas: Personas) -> None:
    Enrolment.objects.filter(pk=computed.enrolment_a.pk).update(boarding=False)
    services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    adjustment = Adjustment.objects.get()
    response = login(personas.township_a).get(f"/aid/adjustments/{Q}")
    assert [
        (
            r["a"].entitlement.student.name,
            r["programme"],
            r["old"],
            r["new"],
            r["a"].get_kind_display(),
        )
        for r in response.context["rows"]
    ] == [("张小明", "Boarding living subsidy", "500.00", "0.00", "No longer eligible")]
    assert f"#{adjustment.computation_id}" in response.content.decode()
    assert login(personas.township_b).get(f"/aid/adjustments/{Q}").context["rows"] == []


def test_coverage_page_and_workbook(approved: County, personas: Personas) -> None:
    client = login(personas.county_officer)
    response = client.get(f"/aid/coverage/{Q}")
    assert response.status_code == 200
    result = response.context["coverage"]
    assert (result.county.students, result.county.covered) == (2, 0)
    assert [
        (g["g"].student_name, g["programme"], g["g"].reason_label) for g in response.context["gaps"]
    ] == [
        (
            "李小红",
            "Compulsory education two exemptions (tuition and textbooks)",
            "Pending review or notice",
        ),
        ("张小明", "Boarding living subsidy", "Approved, not yet in a payment batch"),
    ]
    text = response.content.decode()
    assert 'data-share="county">0.0%' in text
    township = login(personas.township_a).get(f"/aid/coverage/{Q}")
    assert [g["g"].student_name for g in township.context["gaps"]] == ["张小明"]
    assert "李小红" not in township.content.decode()
    workbook = client.get(f"/aid/coverage.xlsx{Q}")
    assert workbook.status_code == 200 and workbook.content.startswith(b"PK")
    with zipfile.ZipFile(io.BytesIO(workbook.content)) as archive:
        names = archive.namelist()
        shared = archive.read("xl/sharedStrings.xml").decode()
    assert sum(1 for n in names if n.startswith("xl/worksheets/sheet")) == 5
    assert "Approved, not yet in a payment batch" in shared and ID_A not in shared


# --------------------------------------------------------------------------- languages, navigation


def test_pages_render_in_chinese(approved: County, personas: Personas) -> None:
    client = login(personas.aid_officer, "zh-hans")
    for url in (
        "/aid/",
        f"/aid/review/{Q}",
        f"/aid/coverage/{Q}",
        "/aid/notices/",
        "/aid/batches/",
    ):
        text = page(client, url)
        assert 'lang="zh-hans"' in text, url
    assert "寄宿生生活补助" in page(client, f"/aid/entitlements/{Q}")


def test_home_page_links_to_aid(computed: County, personas: Personas) -> None:
    text = page(login(personas.township_a), "/")
    assert 'href="/aid/"' in text and 'href="/aid/batches/"' not in text
    assert 'href="/aid/batches/"' in page(login(personas.aid_officer), "/")


def test_no_page_shows_a_whole_number(approved: County, personas: Personas) -> None:
    batch = services.aid_batch_create(
        actor=personas.aid_officer, school_year=2018, semester="autumn", idempotency_key="k1"
    )
    notice = AidNotice.objects.get()
    client = login(personas.aid_officer)
    for url in (
        f"/aid/{Q}",
        "/aid/rulebook/?year=2018",
        "/aid/rulebook/edit/?year=2018",
        f"/aid/entitlements/{Q}",
        f"/aid/students/{approved.student_a.pk}/",
        f"/aid/review/{Q}",
        "/aid/notices/",
        f"/aid/notices/{notice.pk}/",
        "/aid/batches/",
        f"/aid/batches/{batch.pk}/",
        "/aid/allocations/?year=2018",
        "/aid/loans/?year=2018",
        f"/aid/adjustments/{Q}",
        f"/aid/coverage/{Q}",
    ):
        page(client, url)
