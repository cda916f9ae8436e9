"""Projects' money (III.2): set-up → approval by a second officer → disbursements against time
nodes → performance evaluation; never beyond the budget or the allocation; the ledger balances;
the pages per persona; the evaluation report; the year-end audit's over-budget check."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from tests.conftest import County, make_user
from tests.threads import at_once, english_client

from jingzhun.accounts.roles import Role
from jingzhun.core.models import AuditEvent
from jingzhun.funds import ledger
from jingzhun.funds import services as funds
from jingzhun.funds import services_projects as fp_services
from jingzhun.funds.models import (
    Account,
    Disbursement,
    Evaluation,
    FundProject,
    Indicator,
    JournalEntry,
)
from jingzhun.funds.selectors_projects import over_budget
from jingzhun.funds.services_projects import IndicatorRow

pytestmark = pytest.mark.django_db

C = "420101"
Y = Decimal
K = Account.Kind
PAID_ON = dt.date(2018, 10, 8)


@pytest.fixture
def second_officer(county: County) -> Any:
    """A second aid-centre officer: the one who approves what the first set up."""
    return make_user("aid2", Role.AID_OFFICER, area=county.county)


@pytest.fixture
def projects_flushable(audit_flushable: Any) -> Any:
    """Remove the rows that point at journal entries before audit_flushable empties the
    journal (torn down first, as it is set up last)."""
    yield
    Indicator.objects.all().delete()
    Evaluation.objects.all().delete()
    Disbursement.objects.all().delete()
    FundProject.objects.all().delete()


def _set_up(personas: Any, budget: str = "100000.00", **kw: Any) -> FundProject:
    return fp_services.fund_project_set_up(
        actor=personas.aid_officer,
        name=kw.pop("name", "甲镇中心小学校舍改造"),
        school_year=2018,
        budget=Y(budget),
        source=kw.pop("source", "projects.project:7"),
        document="县教育局立项〔2018〕3号",
        set_up_on=dt.date(2018, 9, 3),
        **kw,
    )


def _approve(fp: FundProject, officer: Any) -> FundProject:
    return fp_services.fund_project_approve(
        actor=officer,
        fund_project_id=fp.pk,
        document="县财政局批复〔2018〕12号",
        approved_on=dt.date(2018, 9, 10),
    )


def _allocate(personas: Any, fp: FundProject, amount: str) -> Any:
    return fp_services.fund_project_allocate(
        actor=personas.aid_officer,
        fund_project_id=fp.pk,
        amount=Y(amount),
        note="中央改薄资金",
        channel="central",
        received_on=dt.date(2018, 9, 20),
    )


def _disburse(personas: Any, fp: FundProject, amount: str, node: str = "开工") -> Disbursement:
    return fp_services.disbursement_record(
        actor=personas.aid_officer,
        fund_project_id=fp.pk,
        amount=Y(amount),
        paid_on=PAID_ON,
        node_label=node,
        node="projects.node:41",
        payee="县建筑工程公司",
        document="合同 JZ-2018-07 进度款",
    )


INDICATORS = [
    IndicatorRow("output", "改造校舍面积", Y("1200"), Y("1200"), Y("30"), "平方米"),
    IndicatorRow("output", "按期完工率", Y("100"), Y("90"), Y("20"), "%"),
    IndicatorRow("effect", "受益学生人数", Y("500"), Y("450"), Y("30"), "人"),
    IndicatorRow("satisfaction", "师生满意度", Y("90"), Y("95"), Y("20"), "%"),
]


def _ready(personas: Any, second: Any, budget: str = "100000.00") -> FundProject:
    fp = _set_up(personas, budget)
    _approve(fp, second)
    return fp


def _nothing_paid(fp: FundProject) -> None:
    fp.refresh_from_db()
    assert fp.disbursed == 0
    assert not Disbursement.objects.exists()
    assert not JournalEntry.objects.filter(kind="disbursement").exists()


# --- The lifecycle -------------------------------------------------------------------------


def test_a_project_is_set_up_approved_paid_against_its_nodes_and_evaluated(
    personas: Any, second_officer: Any
) -> None:
    # given a project set up by one officer and approved by another, with 100,000 allocated
    fp = _set_up(personas)
    assert (fp.status, fp.programme) == ("set_up", f"project:{fp.pk}")
    fp = _approve(fp, second_officer)
    assert (fp.status, fp.approved_by, fp.approved_on) == (
        "approved",
        second_officer,
        dt.date(2018, 9, 10),
    )
    _allocate(personas, fp, "100000.00")
    # when 30,000 is paid at the start of works and 50,000 at completion
    first = _disburse(personas, fp, "30000.00", "开工")
    second = _disburse(personas, fp, "50000.00", "竣工")
    # then the project is being implemented, its money adds up, and the ledger holds
    fp.refresh_from_db()
    assert (fp.status, fp.disbursed, fp.remaining) == ("implementing", Y("80000.00"), Y("20000.00"))
    assert ledger.available(C, fp.programme, 2018) == Y("20000.00")
    paid = Account.objects.get(county_code=C, code=f"paid:2018:{fp.programme}")
    assert paid.balance == Y("80000.00")
    (row,) = [r for r in ledger.programme_balances(C, 2018) if r.programme == fp.programme]
    assert (row.allocated, row.disbursed, row.available) == (
        Y("100000.00"),
        Y("80000.00"),
        Y("20000.00"),
    )
    assert ledger.check_balances(C) == []
    entry = JournalEntry.objects.get(key=f"disbursement:{first.pk}")
    assert (entry.kind, entry.source, entry.posted_on) == (
        "disbursement",
        f"funds.disbursement:{first.pk}",
        PAID_ON,
    )
    assert sorted((line.account.code, line.debit, line.credit) for line in entry.lines.all()) == [
        (f"paid:2018:{fp.programme}", Y("30000.00"), Y("0.00")),
        (f"programme:2018:{fp.programme}", Y("0.00"), Y("30000.00")),
    ]
    second.refresh_from_db()
    assert second.entry is not None and second.entry.key == f"disbursement:{second.pk}"
    assert (second.node, second.node_label) == ("projects.node:41", "竣工")
    # when it is evaluated
    evaluation = fp_services.evaluation_record(
        actor=personas.aid_officer,
        fund_project_id=fp.pk,
        indicators=INDICATORS,
        conclusion="按期完成改造。",
        evaluated_on=dt.date(2019, 6, 30),
    )
    fp.refresh_from_db()
    assert fp.status == "evaluated"
    assert (evaluation.score, evaluation.grade) == (Y("95.00"), "excellent")
    assert [i.name for i in evaluation.indicators.all()] == [r.name for r in INDICATORS]
    # then nothing more is paid, and each step is in the audit log
    with pytest.raises(ValidationError) as refused:
        _disburse(personas, fp, "100.00")
    assert refused.value.code == "status"
    assert fp_services.fund_project_for("projects.project:7") == fp
    assert fp_services.fund_project_for("projects.project:7", county_code="420102") is None
    assert fp_services.fund_project_for("projects.project:8") is None
    assert list(
        AuditEvent.objects.filter(action__startswith="funds.project_")
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "funds.project_set_up",
        "funds.project_approve",
        "funds.project_disburse",
        "funds.project_disburse",
        "funds.project_evaluate",
    ]


def test_approval_is_by_another_officer_once_and_by_the_aid_centre_only(
    personas: Any, second_officer: Any, county: County
) -> None:
    fp = _set_up(personas)
    # the officer who set it up may not approve it
    with pytest.raises(ValidationError) as same:
        _approve(fp, personas.aid_officer)
    assert same.value.code == "same_person"
    # nor may readers or users below the county
    for who in ("county_officer", "bureau_leader", "inspector", "township_a", "nobody"):
        with pytest.raises((PermissionDenied, Http404)):
            _approve(fp, getattr(personas, who))
    fp.refresh_from_db()
    assert (fp.status, fp.approved_by) == ("set_up", None)
    # nothing is paid before approval
    funds.allocation_record(
        actor=personas.aid_officer,
        school_year=2018,
        programme=fp.programme,
        amount=Y("1000.00"),
        channel="county",
    )
    with pytest.raises(ValidationError) as early:
        _disburse(personas, fp, "500.00")
    assert early.value.code == "status"
    _nothing_paid(fp)
    # the second officer approves, once
    _approve(fp, second_officer)
    with pytest.raises(ValidationError) as twice:
        _approve(fp, make_user("aid3", Role.AID_OFFICER, area=county.county))
    assert twice.value.code == "status"
    assert AuditEvent.objects.filter(action="funds.project_approve").count() == 1


def test_a_school_project_has_one_fund_project(personas: Any) -> None:
    _set_up(personas)
    with pytest.raises(ValidationError) as again:
        _set_up(personas, name="重复")
    assert again.value.code == "already_done"
    with pytest.raises(ValidationError):
        _set_up(personas, source="not a reference")
    with pytest.raises(ValidationError):
        _set_up(personas, budget="0", source="projects.project:9")
    assert FundProject.objects.count() == 1


# --- Never beyond the budget, never beyond the allocation -----------------------------------


def test_a_disbursement_beyond_the_budget_is_refused_in_words(
    personas: Any, second_officer: Any
) -> None:
    # given a 100,000 project whose programme was given 150,000 (allocated outside the project)
    fp = _ready(personas, second_officer)
    funds.allocation_record(
        actor=personas.aid_officer,
        school_year=2018,
        programme=fp.programme,
        amount=Y("150000.00"),
        channel="provincial",
    )
    # when 120,000 is asked at once, then 100,000.01 in two steps
    with pytest.raises(ValidationError) as over:
        _disburse(personas, fp, "120000.00")
    # then it is refused in words, and nothing is paid
    assert over.value.code == "over_budget"
    assert over.value.messages == [
        "Beyond the budget: 100,000.00 yuan budgeted, 0.00 disbursed, 100,000.00 remaining; "
        "120,000.00 asked. Nothing was paid."
    ]
    _nothing_paid(fp)
    _disburse(personas, fp, "99999.99")
    with pytest.raises(ValidationError) as cent:
        _disburse(personas, fp, "0.02")
    assert cent.value.code == "over_budget"
    _disburse(personas, fp, "0.01")
    fp.refresh_from_db()
    assert (fp.disbursed, fp.remaining) == (Y("100000.00"), Y("0.00"))
    assert ledger.available(C, fp.programme, 2018) == Y("50000.00")
    assert ledger.check_balances(C) == []
    assert not over_budget(C).exists()


def test_allocating_beyond_the_budget_through_the_project_is_refused(
    personas: Any, second_officer: Any
) -> None:
    fp = _ready(personas, second_officer, budget="50000.00")
    _allocate(personas, fp, "40000.00")
    with pytest.raises(ValidationError) as over:
        _allocate(personas, fp, "10000.01")
    assert over.value.code == "over_budget"
    _allocate(personas, fp, "10000.00")
    assert ledger.available(C, fp.programme, 2018) == Y("50000.00")


def test_a_disbursement_beyond_the_allocation_is_refused_by_the_ledger(
    personas: Any, second_officer: Any
) -> None:
    # given a 100,000 project with 10,000 allocated
    fp = _ready(personas, second_officer)
    _allocate(personas, fp, "10000.00")
    # when 20,000 is asked
    with pytest.raises(ValidationError) as over:
        _disburse(personas, fp, "20000.00")
    # then the ledger refuses it and nothing stays: not the disbursement, not the project's total
    assert over.value.code == "overdraft"
    assert "the project's programme holds 10,000.00 yuan; 20,000.00 asked" in over.value.messages[0]
    _nothing_paid(fp)
    fp.refresh_from_db()
    assert fp.status == "approved"
    assert ledger.available(C, fp.programme, 2018) == Y("10000.00")
    assert ledger.check_balances(C) == []


def test_two_officers_paying_at_once_cannot_exceed_the_budget(
    personas: Any, second_officer: Any, projects_flushable: Any
) -> None:
    # given a 100,000 project whose programme holds 200,000
    fp = _ready(personas, second_officer)
    funds.allocation_record(
        actor=personas.aid_officer,
        school_year=2018,
        programme=fp.programme,
        amount=Y("200000.00"),
        channel="central",
    )
    # when two officers pay 60,000 each at the same moment
    results = at_once(2, lambda i, _s: _disburse(personas, fp, "60000.00"))
    # then one is paid and the other refused: never beyond the budget
    ok = [r for r in results if isinstance(r, Disbursement)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert (len(ok), len(refused)) == (1, 1), results
    assert refused[0].code == "over_budget"
    fp.refresh_from_db()
    assert fp.disbursed == Y("60000.00")
    assert ledger.available(C, fp.programme, 2018) == Y("140000.00")
    assert ledger.check_balances(C) == []


# --- The evaluation ------------------------------------------------------------------------


def test_the_score_is_the_sum_of_weight_times_the_share_of_target_reached() -> None:
    # by hand: 30 x 1 + 20 x 0.9 + 30 x 0.9 + 20 x min(95/90, 1) = 30 + 18 + 27 + 20 = 95
    assert [r.points for r in INDICATORS] == [Y("30.00"), Y("18.00"), Y("27.00"), Y("20.00")]
    assert fp_services.evaluation_score(INDICATORS) == Y("95.00")
    # 25 x 2/3 = 16.666.. -> 16.67; 75 x 0.5 = 37.50; total 54.17, below 60: poor
    rows = [
        IndicatorRow("output", "新增设备", Y("3"), Y("2"), Y("25"), "套"),
        IndicatorRow("effect", "使用率", Y("80"), Y("40"), Y("75"), "%"),
    ]
    assert [r.points for r in rows] == [Y("16.67"), Y("37.50")]
    assert fp_services.evaluation_score(rows) == Y("54.17")
    assert Evaluation(score=Y("54.17")).grade == "poor"
    assert [Evaluation(score=Y(s)).grade for s in ("90", "89.99", "80", "60", "59.99")] == [
        "excellent",
        "good",
        "good",
        "fair",
        "poor",
    ]


def test_an_evaluation_needs_weights_totalling_100_and_money_disbursed(
    personas: Any, second_officer: Any
) -> None:
    fp = _ready(personas, second_officer)
    evaluate = fp_services.evaluation_record
    with pytest.raises(ValidationError) as early:
        evaluate(actor=personas.aid_officer, fund_project_id=fp.pk, indicators=INDICATORS)
    assert early.value.code == "status"
    _allocate(personas, fp, "1000.00")
    _disburse(personas, fp, "1000.00")
    with pytest.raises(ValidationError) as weights:
        evaluate(actor=personas.aid_officer, fund_project_id=fp.pk, indicators=INDICATORS[:3])
    assert weights.value.messages == ["The weights total 80.00; they must total 100."]
    with pytest.raises(PermissionDenied):
        evaluate(actor=personas.bureau_leader, fund_project_id=fp.pk, indicators=INDICATORS)
    assert not Evaluation.objects.exists()
    evaluate(actor=personas.aid_officer, fund_project_id=fp.pk, indicators=INDICATORS)
    with pytest.raises(ValidationError):
        evaluate(actor=personas.aid_officer, fund_project_id=fp.pk, indicators=INDICATORS)
    assert Evaluation.objects.count() == 1


def _evaluated(personas: Any, second: Any) -> FundProject:
    fp = _ready(personas, second)
    _allocate(personas, fp, "100000.00")
    _disburse(personas, fp, "80000.00")
    fp_services.evaluation_record(
        actor=personas.aid_officer,
        fund_project_id=fp.pk,
        indicators=INDICATORS,
        conclusion="按期完成改造，资金使用规范。",
        evaluated_on=dt.date(2019, 6, 30),
    )
    return fp


def test_the_evaluation_report_is_a_pdf_in_chinese(personas: Any, second_officer: Any) -> None:
    fp = _evaluated(personas, second_officer)
    response = english_client(personas.inspector).get(
        f"/funds/project-money/{fp.pk}/evaluation.pdf"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="funds.project_evaluation_pdf").count() == 1
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"],
        input=response.content,
        capture_output=True,
        check=True,
    ).stdout.decode()
    flat = "".join(text.split())
    for expected in (
        "项目资金绩效评价报告",
        "甲镇中心小学校舍改造",
        "100,000.00",
        "80,000.00",
        "改造校舍面积",
        "师生满意度",
        "95.00",
        "评价等级：优",
        "按期完成改造",
    ):
        assert expected in flat, expected


# --- The pages -----------------------------------------------------------------------------


def test_the_county_reads_project_money_and_nobody_below_it(
    personas: Any, second_officer: Any
) -> None:
    fp = _evaluated(personas, second_officer)
    pages = (
        "/funds/project-money/",
        f"/funds/project-money/{fp.pk}/",
        "/funds/project-money.xlsx",
        f"/funds/project-money/{fp.pk}/evaluation.pdf",
    )
    for who in ("aid_officer", "county_officer", "bureau_leader", "inspector"):
        client = english_client(getattr(personas, who))
        for url in pages:
            assert client.get(url).status_code == 200, (who, url)
    for who in ("township_a", "township_b", "principal_a", "teacher_a", "nobody"):
        client = english_client(getattr(personas, who))
        for url in (*pages, "/funds/project-money/new/", f"/funds/project-money/{fp.pk}/evaluate/"):
            assert client.get(url).status_code == 403, (who, url)
    # writers only: the readers get 403 on the forms
    for who in ("county_officer", "bureau_leader", "inspector"):
        client = english_client(getattr(personas, who))
        assert client.get("/funds/project-money/new/").status_code == 403
        assert client.get(f"/funds/project-money/{fp.pk}/evaluate/").status_code == 403
        posted = client.post(
            f"/funds/project-money/{fp.pk}/",
            {"action": "disburse", "amount": "1", "confirm": "1"},
        )
        assert posted.status_code == 403
    # another county's project is not found
    other = FundProject.objects.create(
        county_code="420102",
        name="外县项目",
        programme="project:x",
        school_year=2018,
        budget=Y("10.00"),
        set_up_by=personas.aid_officer,
        set_up_on=dt.date(2018, 9, 1),
    )
    client = english_client(personas.aid_officer)
    assert client.get(f"/funds/project-money/{other.pk}/").status_code == 404
    assert client.get(f"/funds/project-money/{other.pk}/evaluation.pdf").status_code == 404
    listed = client.get("/funds/project-money/").content.decode()
    assert "甲镇中心小学校舍改造" in listed and "外县项目" not in listed
    with pytest.raises(Http404):
        _approve(other, second_officer)


def test_the_pages_set_up_approve_allocate_and_disburse_with_a_preview(
    personas: Any, second_officer: Any
) -> None:
    aid = english_client(personas.aid_officer)
    # set up
    done = aid.post(
        "/funds/project-money/new/",
        {
            "name": "乙村幼儿园",
            "school_year": "2018",
            "budget": "300000.00",
            "source": "projects.project:12",
            "purpose": "新建村级幼儿园",
            "document": "立项〔2018〕5号",
            "set_up_on": "2018-09-03",
        },
    )
    assert done.status_code == 302
    fp = FundProject.objects.get()
    url = f"/funds/project-money/{fp.pk}/"
    assert done["Location"] == url
    page = aid.get(url).content.decode()
    assert "Another officer of the aid centre approves this project" in page
    assert (
        aid.post(
            url, {"action": "approve", "document": "批复", "approved_on": "2018-09-10"}
        ).status_code
        == 400
    )
    # approve as the second officer
    second = english_client(second_officer)
    assert 'id="jz-approve"' in second.get(url).content.decode()
    assert (
        second.post(
            url, {"action": "approve", "document": "批复〔2018〕1号", "approved_on": "2018-09-10"}
        ).status_code
        == 302
    )
    fp.refresh_from_db()
    assert fp.status == "approved"
    # allocate: preview, then confirm
    allocate = {
        "action": "allocate",
        "amount": "200000.00",
        "channel": "central",
        "note": "中央资金",
        "received_on": "2018-09-20",
    }
    preview = aid.post(url, allocate)
    assert preview.status_code == 200
    assert (
        "200,000.00 yuan from Central budget will be allocated to this project"
        in preview.content.decode()
    )
    assert ledger.available(C, fp.programme, 2018) == 0
    assert aid.post(url, {**allocate, "confirm": "1"}).status_code == 302
    assert ledger.available(C, fp.programme, 2018) == Y("200000.00")
    # disburse: a preview that warns, a refusal in words, then a payment
    disburse = {
        "action": "disburse",
        "amount": "250000.00",
        "paid_on": "2018-10-08",
        "node_label": "开工",
        "node": "projects.node:50",
        "payee": "县建筑公司",
        "document": "合同 2018-12",
    }
    warned = aid.post(url, disburse).content.decode()
    assert "250,000.00 yuan will be paid to 县建筑公司 against the time node 开工" in warned
    assert "more than was allocated and not yet paid; it will be refused" in warned
    refused = aid.post(url, {**disburse, "confirm": "1"})
    assert refused.status_code == 400
    assert "Beyond what was allocated" in refused.content.decode()
    assert not Disbursement.objects.exists()
    assert aid.post(url, {**disburse, "amount": "120000.00", "confirm": "1"}).status_code == 302
    page = aid.get(url).content.decode()
    assert "120,000.00" in page and "180,000.00" in page and "projects.node:50" in page
    # evaluate: preview the score, then confirm
    ev_url = f"{url}evaluate/"
    form: dict[str, str] = {
        "ind-TOTAL_FORMS": "8",
        "ind-INITIAL_FORMS": "0",
        "ind-MIN_NUM_FORMS": "0",
        "ind-MAX_NUM_FORMS": "20",
        "evaluated_on": "2019-06-30",
        "conclusion": "良好",
    }
    for n, row in enumerate(INDICATORS):
        form.update(
            {
                f"ind-{n}-category": row.category,
                f"ind-{n}-name": row.name,
                f"ind-{n}-target": str(row.target),
                f"ind-{n}-actual": str(row.actual),
                f"ind-{n}-unit": row.unit,
                f"ind-{n}-weight": str(row.weight),
            }
        )
    previewed = aid.post(ev_url, form)
    assert previewed.status_code == 200
    assert (
        "These indicators score 95.00 of 100: Excellent (90 and above)."
        in previewed.content.decode()
    )
    assert not Evaluation.objects.exists()
    assert aid.post(ev_url, {**form, "ind-3-weight": "10"}).status_code == 400
    assert aid.post(ev_url, {**form, "confirm": "1"}).status_code == 302
    page = aid.get(url).content.decode()
    assert "Score 95.00 of 100: Excellent (90 and above)." in page
    assert Evaluation.objects.get().score == Y("95.00")


def test_the_list_is_paged_filtered_and_exported(personas: Any, second_officer: Any) -> None:
    for n in range(3):
        fp = _set_up(
            personas, budget=f"{n + 1}0000.00", name=f"项目{n}", source=f"projects.project:{n}"
        )
        if n:
            _approve(fp, second_officer)
    client = english_client(personas.inspector)
    page = client.get("/funds/project-money/?status=approved").content.decode()
    assert "2 projects" in page and "项目1" in page and "项目0" not in page
    response = client.get("/funds/project-money.xlsx?status=approved")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert sorted((r[2], r[5], r[6]) for r in rows) == [
        ("项目1", "已审批", 20000),
        ("项目2", "已审批", 30000),
    ]
    assert AuditEvent.objects.filter(action="funds.export_project_money").count() == 1


# --- The year-end audit's check ------------------------------------------------------------


def test_over_budget_finds_projects_paid_beyond_their_budget(
    personas: Any, second_officer: Any
) -> None:
    # given two projects of 10,000: one paid within it through the service, and rows written
    # past the service (as a faulty import or a hand edit would) taking the other beyond it
    within = _ready(personas, second_officer, budget="10000.00")
    _allocate(personas, within, "10000.00")
    _disburse(personas, within, "10000.00")
    beyond = _set_up(personas, budget="10000.00", name="超支项目", source="projects.project:8")
    for amount in ("6000.00", "4000.01"):
        Disbursement.objects.create(
            county_code=C,
            fund_project=beyond,
            amount=Y(amount),
            paid_on=PAID_ON,
            node_label="竣工",
            payee="某公司",
            document="补录",
            recorded_by=personas.aid_officer,
        )
    # and a third whose ledger shows a disbursement entry beyond its budget
    in_ledger = _set_up(personas, budget="500.00", name="账外支出", source="projects.project:9")
    funds.allocation_record(
        actor=personas.aid_officer,
        school_year=2018,
        programme=in_ledger.programme,
        amount=Y("800.00"),
        channel="county",
    )
    ledger.post(
        county_code=C,
        kind=JournalEntry.Kind.DISBURSEMENT,
        key="manual:1",
        legs=[
            ledger.debit(
                ledger.account(C, K.PAID, programme=in_ledger.programme, school_year=2018),
                Y("800.00"),
            ),
            ledger.credit(
                ledger.account(C, K.PROGRAMME, programme=in_ledger.programme, school_year=2018),
                Y("800.00"),
            ),
        ],
    )
    # then the audit lists exactly those two, with what was paid
    found: list[Any] = list(over_budget(C))
    assert [(p.name, p.paid, p.paid_in_ledger) for p in found] == [
        ("超支项目", Y("10000.01"), Y("0.00")),
        ("账外支出", Y("0.00"), Y("800.00")),
    ]
    assert list(over_budget("420102")) == []


def test_the_school_project_page_shows_its_money(county: County, personas: Any) -> None:
    from tests.projects.helpers import project

    from jingzhun.projects.models import Project

    work: Project = project(personas.county_officer, "renovation", school=county.school_a)
    fp = _set_up(personas, budget="350000.00", source=f"projects.project:{work.pk}")
    page = english_client(personas.aid_officer).get(f"/projects/{work.pk}/").content.decode()
    assert "On the fund ledger:" in page and fp.name in page
    assert "0.00 of 350,000.00 yuan disbursed" in page
    # a principal sees the project, not the county's books
    principal = english_client(personas.principal_a).get(f"/projects/{work.pk}/").content.decode()
    assert "On the fund ledger:" not in principal
