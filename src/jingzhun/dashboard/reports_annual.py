"""The annual report of the plan's implementation, per objective (I, II.1, II.2, II.3, III).

The year is a calendar year (the plan sets its targets per calendar year); figures are taken
at its end (or today, for the current year). A section where an app had no records that year
says so instead of showing zeros.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from jingzhun.aid import selectors as aid_selectors
from jingzhun.aid.selectors_ui import programme_labels_for
from jingzhun.dashboard.reports import (
    ZERO,
    AidLine,
    Report,
    Section,
    Unit,
    aid_lines,
    dropout_lines,
    narrowed,
)
from jingzhun.dashboard.reports_period import SEMESTER, Period, make
from jingzhun.funds import selectors as funds_selectors
from jingzhun.oversight import selectors as oversight_selectors
from jingzhun.projects import selectors as project_selectors
from jingzhun.teachers import selectors as teacher_selectors


def _pct(part: int, whole: int) -> str:
    if not whole:
        return "—"
    return f"{(Decimal(part) * 100 / Decimal(whole)).quantize(Decimal('0.1'))}"


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _coverages(user: Any, year: int, on: dt.date) -> Section:
    rows: list[list[Any]] = []
    semester = make(SEMESTER, year, 1) if on.month >= 9 else make(SEMESTER, year - 1, 2)
    aid = aid_selectors.coverage(
        user=user, school_year=semester.year, semester=semester.semester_kind
    )
    if aid.county.students:
        rows.append(
            [
                _("I.1 Aid"),
                aid.county.students,
                aid.county.covered,
                _pct(aid.county.covered, aid.county.students),
            ]
        )
    schools = project_selectors.standard_coverage(user, on=on)
    if schools.county is not None and schools.county.schools:
        c = schools.county
        rows.append([_("I.2 Schools"), c.schools, c.reached, _pct(c.reached, c.schools)])
    teachers = teacher_selectors.teacher_coverage(
        user=user, school_year=year if on.month >= 9 else year - 1, year=year, on=on
    )
    if teachers:
        covered = sum(r.covered for r in teachers)
        rows.append([_("I.3 Teachers"), len(teachers), covered, _pct(covered, len(teachers))])
    return Section(
        "coverage",
        _("I. The three full coverages at the year's end"),
        "一、三个全覆盖（年末）",
        [_("Objective"), _("Counted"), _("Covered"), _("Coverage (%)")],
        ["目标", "统计数", "已覆盖", "覆盖率（%）"],
        rows,
        note=_("I.1 counts poor students, I.2 and I.3 poor-village schools."),
        cn_note="I.1按建档立卡学生计，I.2、I.3按贫困村学校计。",
    )


def _aid(user: Any, year: int, today: dt.date) -> Section:
    totals: dict[str, AidLine] = {}
    for period in (make(SEMESTER, year - 1, 2), make(SEMESTER, year, 1)):
        if period.first > today:
            continue
        coverage = aid_selectors.coverage(
            user=user, school_year=period.year, semester=period.semester_kind
        )
        for key, line in aid_lines(user, period, coverage).get("programme", {}).items():
            total = totals.setdefault(key, AidLine(line.label))
            total.students |= {(period.param, s) for s in line.students}
            total.due += line.due
            total.waived += line.waived
            total.paid += line.paid
            total.returned += line.returned
            total.unpaid += line.unpaid
    rows = [r.cells() for r in sorted(totals.values(), key=lambda r: r.label)]
    return Section(
        "aid",
        _("II.1 Student aid in the year, per programme"),
        "二、（一）学生资助（分项目）",
        [
            _("Programme"),
            _("Student-semesters"),
            _("Amount due (yuan)"),
            _("Waived (yuan)"),
            _("Paid (yuan)"),
            _("Returned by the bank (yuan)"),
            _("Not yet paid (yuan)"),
        ],
        [
            "资助项目",
            "人次",
            "应助金额（元）",
            "免除金额（元）",
            "已发放金额（元）",
            "银行退回金额（元）",
            "未发放金额（元）",
        ],
        rows,
        note=_("The spring and autumn semesters that begin in the year."),
        cn_note="含本年春季学期和秋季学期。",
    )


def _projects(user: Any, year: int, on: dt.date) -> Section:
    rows: list[list[Any]] = []
    for t in project_selectors.task_book(user, on=on):
        if t.year not in (None, year):
            continue
        rows.append(
            [t.clause, t.measure, t.year or "", f"{t.target}", f"{t.done}", "✓" if t.met else "✗"]
        )
    accepted = (
        project_selectors.project_list(user=user)
        .filter(project_selectors.project_state_q("accepted", on))
        .filter(plan_year=year)
        .count()
    )
    planned = project_selectors.project_list(user=user).filter(plan_year=year).count()
    if planned:
        rows.insert(
            0,
            [
                "II.2",
                _("Projects of the year accepted"),
                year,
                planned,
                accepted,
                "✓" if accepted >= planned else "✗",
            ],
        )
    return Section(
        "projects",
        _("II.2 School conditions: projects against the task book"),
        "二、（二）办学条件改善（对照任务书）",
        [_("Clause"), _("Target"), _("Year"), _("Target figure"), _("Done"), _("Met")],
        ["条款", "目标", "年度", "目标数", "完成数", "是否完成"],
        rows if planned or any(r[4] not in ("0", "0.00") for r in rows) else [],
    )


def _teachers(user: Any, year: int, on: dt.date) -> Section:
    rows: list[list[Any]] = []
    school_year = year if on.month >= 9 else year - 1
    gaps = teacher_selectors.staffing_gaps(user=user, school_year=school_year, on=on)
    if any(r.required or r.gap for r in gaps):
        rows.append(
            [
                _("II.3.1 Staffing gap (teachers)"),
                sum(r.required for r in gaps),
                sum(r.gap for r in gaps),
            ]
        )
    training = teacher_selectors.training_summary(user=user, year=year, on=on)
    if training.person_times:
        rows.append(
            [_("II.3.2 Training (person-times)"), training.target or "—", training.person_times]
        )
    exchange = teacher_selectors.exchange_shares(user=user, on=on)
    exchanged = sum(r.exchanged_in for r in exchange)
    if exchanged:
        rows.append(
            [
                _("II.3.3 Teachers on exchange / schools meeting 10%"),
                len(exchange),
                f"{exchanged} / {sum(r.meeting_target for r in exchange)}",
            ]
        )
    paid = ZERO
    for month in range(1, 13):
        day = dt.date(year, month, 1)
        if day > on:
            break
        lines = teacher_selectors.allowance_lines(user=user, month=day).filter(review="approved")
        paid += sum((ln.amount for ln in lines), ZERO)
    if paid:
        rows.append([_("II.3.4 Rural living allowance approved (yuan)"), "—", _money(paid)])
    return Section(
        "teachers",
        _("II.3 Teachers in poor-village schools"),
        "二、（三）贫困村学校教师队伍",
        [_("Measure"), _("Required or target"), _("Figure")],
        ["项目", "应有数或目标", "实有数"],
        rows,
    )


def _dropout(user: Any, year: int, today: dt.date) -> Section:
    period = make("year", year, 0)
    lines = dropout_lines(user, period, "township", today)
    rows = [
        [r.label, r.opened, r.closed, r.returned, r.open_at_end, r.overdue_at_end]
        for r in lines
        if r.opened or r.closed or r.open_at_end
    ]
    return Section(
        "dropout",
        _("III.1 Dropout control"),
        "三、（一）控辍保学",
        [
            _("Township"),
            _("Cases opened"),
            _("Cases closed"),
            _("Returned to school"),
            _("Open at the end"),
            _("Overdue at the end"),
        ],
        ["乡镇", "本年新增", "本年销号", "其中劝返复学", "年末未销号", "年末逾期"],
        rows,
    )


def _funds(user: Any, year: int) -> Section:
    rows: list[list[Any]] = []
    note, cn_note = "", ""
    if funds_selectors.may_read(user):
        labels = programme_labels_for(funds_selectors.county_of(user), year)
        for b in funds_selectors.programme_balances(user, year):
            if b.allocated or b.paid or b.returned:
                rows.append(
                    [
                        labels.get(b.programme, b.programme),
                        _money(b.allocated),
                        _money(b.paid),
                        _money(b.returned),
                        _money(b.available),
                    ]
                )
        note = _("Balances of the school year that begins in the year, as the books stand today.")
        cn_note = "本年秋季开始学年的各项目资金，按当前账面统计。"
    else:
        note = _("The funds' books are kept by the county.")
        cn_note = "资金账目由县级统一管理。"
    return Section(
        "funds",
        _("III.2 Funds"),
        "三、（二）资金管理",
        [
            _("Programme"),
            _("Allocated (yuan)"),
            _("Paid (yuan)"),
            _("Returned (yuan)"),
            _("Available (yuan)"),
        ],
        ["项目", "已下达（元）", "已支付（元）", "退回（元）", "结余（元）"],
        rows,
        note=note,
        cn_note=cn_note,
    )


def _supervision(user: Any, year: int, on: dt.date) -> Section:
    rows: list[list[Any]] = []
    plans = oversight_selectors.plan_list(user=user).filter(year=year).count()
    findings = oversight_selectors.finding_list(user=user).filter(
        found_on__year=year, found_on__lte=on
    )
    found = findings.count()
    rectified = (
        oversight_selectors.rectification_list(user=user)
        .filter(finding__in=findings.values("pk"), status="closed", closed_on__lte=on)
        .count()
    )
    if plans or found:
        rows.append([plans, found, rectified, _pct(rectified, found)])
    return Section(
        "supervision",
        _("III.3 Supervision and evaluation"),
        "三、（三）督导评估",
        [_("Inspection plans"), _("Findings"), _("Rectified"), _("Rectified (%)")],
        ["督查计划", "发现问题", "已整改", "整改率（%）"],
        rows,
    )


def annual_report(user: Any, unit: Unit, period: Period, today: dt.date) -> Report:
    who = narrowed(user, unit)
    on = min(period.last, today)
    year = period.year
    sections = [
        _coverages(who, year, on),
        _aid(who, year, today),
        _projects(who, year, on),
        _teachers(who, year, on),
        _dropout(who, year, today),
        _funds(who, year),
        _supervision(who, year, on),
    ]
    return Report(
        "annual",
        _("Annual report of the plan's implementation"),
        "教育精准扶贫实施方案年度执行情况报告",
        period,
        unit,
        period.as_of(today),
        sections,
    )
