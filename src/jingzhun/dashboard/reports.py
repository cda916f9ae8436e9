"""The command centre's reports (issue 15): what each one counts, for a unit and a period.

A report is a list of sections, each a table with its headings in the user's language (the
screen) and in Chinese (the official .xlsx and PDF). Every figure is read through the other
apps' selectors for a user narrowed to the unit asked for, so a report never holds a record
outside the user's jurisdiction. The annual report is in :mod:`reports_annual`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from jingzhun.aid import selectors as aid_selectors
from jingzhun.aid.selectors_ui import programme_labels_for
from jingzhun.core.scoping import Scope, scope_of
from jingzhun.dashboard.reports_period import Period
from jingzhun.duty import selectors as duty_selectors
from jingzhun.duty.chain import Chain
from jingzhun.identification import selectors as id_selectors
from jingzhun.identification.models import ChildStatus, IdentificationRun
from jingzhun.registry import selectors as registry_selectors
from jingzhun.schools import selectors as school_selectors
from jingzhun.schools.models import Stage

ZERO = Decimal("0.00")
REPORT_LEVELS = ("county", "township", "school")


# --------------------------------------------------------------------------- the shape


@dataclass
class Section:
    """One table of a report; ``rows`` empty means the unit had no records in the period."""

    key: str
    title: str
    cn_title: str
    headers: list[str]
    cn_headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""
    cn_note: str = ""
    # The total row, its first cell left out: "Total" on screen, 合计 on paper.
    total: list[Any] | None = None


@dataclass
class Report:
    kind: str
    title: str
    cn_title: str
    period: Period
    unit: Unit
    as_of: dt.date | None
    sections: list[Section]


# --------------------------------------------------------------------------- units


@dataclass(frozen=True)
class Unit:
    """Where a report is made for: the user's jurisdiction, one township or one school."""

    level: str  # county | township | school
    code: str  # "" (the whole jurisdiction), a township code or a school code
    name: str
    scope: Scope


class _Narrowed:
    """The acting user, seen through a narrower scope: every selector then reads the unit only.

    A unit is only ever inside the user's own jurisdiction (see :func:`unit_for`), so this can
    narrow what the user sees and never widen it.
    """

    def __init__(self, user: Any, scope: Scope) -> None:
        self._user = user
        self.scope = scope

    def __getattr__(self, name: str) -> Any:
        return getattr(self._user, name)


def may_report(user: Any) -> bool:
    return scope_of(user).level in REPORT_LEVELS


def units(user: Any) -> list[Unit]:
    """Return the units the user may ask a report for: their jurisdiction first."""
    scope = scope_of(user)
    if scope.level not in REPORT_LEVELS:
        return []
    own = Unit(scope.level, "", _jurisdiction_name(user, scope), scope)
    out = [own]
    if scope.level == "county":
        for code, name in sorted(registry_selectors.township_names(user=user).items()):
            if code.startswith(scope.area_code) and len(code) == 9:
                out.append(Unit("township", code, name, _township_scope(scope, code)))
    if scope.level in ("county", "township"):
        for school in school_selectors.school_list(user=user).filter(township__isnull=False):
            out.append(Unit("school", school.code, school.name, _school_scope(scope, school.pk)))
    return out


def _township_scope(scope: Scope, code: str) -> Scope:
    return Scope("township", county_code=scope.county_code, area_code=code)


def _school_scope(scope: Scope, school_id: int) -> Scope:
    return Scope("school", county_code=scope.county_code, school_id=school_id)


def _jurisdiction_name(user: Any, scope: Scope) -> str:
    if scope.level == "school":
        school = school_selectors.school_list(user=user).first()
        return school.name if school else ""
    names = registry_selectors.area_list(user=user).filter(code=scope.area_code)
    return names.values_list("name", flat=True).first() or scope.area_code


def unit_for(user: Any, code: str) -> Unit:
    """Return the unit ``code`` names (a township or school code) in the user's jurisdiction,
    the jurisdiction itself for ""; 404 for any other (missing and forbidden look the same)."""
    code = code.strip()
    for unit in units(user):
        if unit.code == code:
            return unit
    raise Http404


def narrowed(user: Any, unit: Unit) -> Any:
    return _Narrowed(user, unit.scope) if unit.code else user


# --------------------------------------------------------------------------- dropout control


DROPOUT_HEADERS = [
    (N_("Poor students enrolled"), "在校建档立卡学生"),
    (N_("Suspected dropouts"), "疑似辍学"),
    (N_("Confirmed dropouts"), "确认辍学"),
    (N_("Cases opened"), "本期新增"),
    (N_("Cases closed"), "本期销号"),
    (N_("of which in time"), "其中按期销号"),
    (N_("Returned to school"), "其中劝返复学"),
    (N_("Open at the end"), "期末未销号"),
    (N_("Overdue at the end"), "期末逾期"),
    (N_("With a responsible person"), "已落实责任人"),
    (N_("Responsible person coverage (%)"), "责任人覆盖率（%）"),
]


@dataclass
class DropoutLine:
    key: str
    label: str
    enrolled: int = 0
    suspected: int = 0
    confirmed: int = 0
    opened: int = 0
    closed: int = 0
    closed_in_time: int = 0
    returned: int = 0
    open_at_end: int = 0
    overdue_at_end: int = 0
    covered: int = 0

    @property
    def share(self) -> Decimal | None:
        if not self.enrolled:
            return None
        return (Decimal(self.covered) * 100 / Decimal(self.enrolled)).quantize(Decimal("0.1"))

    def add(self, other: DropoutLine) -> None:
        for name in (
            "enrolled",
            "suspected",
            "confirmed",
            "opened",
            "closed",
            "closed_in_time",
            "returned",
            "open_at_end",
            "overdue_at_end",
            "covered",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def cells(self) -> list[Any]:
        return [
            self.label,
            self.enrolled,
            self.suspected,
            self.confirmed,
            self.opened,
            self.closed,
            self.closed_in_time,
            self.returned,
            self.open_at_end,
            self.overdue_at_end,
            self.covered,
            "—" if self.share is None else f"{self.share}",
        ]


def run_as_of(user: Any, day: dt.date) -> IdentificationRun | None:
    """Return the latest confirmed identification run as of a day (the poor students then)."""
    return (
        id_selectors.run_list(user=user)
        .filter(status=IdentificationRun.Status.DONE, as_of__lte=day)
        .order_by("-as_of", "-id")
        .first()
    )


def _responsible_on(user: Any, day: dt.date) -> tuple[set[int], set[int], set[str]]:
    """Return who had a responsible person on a day: persons named, classes, villages.

    Named persons and village contacts come from the chain's dated assignments; a class is
    covered by its head teacher in the staff directory, which keeps no history (the current
    one stands for the past).
    """
    held = duty_selectors.assignment_list(user=user, current_only=False).filter(starts_on__lte=day)
    held = held.exclude(ends_on__isnull=False, ends_on__lte=day)
    persons = set(
        held.filter(kind="student", person__isnull=False).values_list("person_id", flat=True)
    )
    villages = set(
        held.filter(kind="village", village__isnull=False).values_list("village__code", flat=True)
    )
    classes = set(Chain.read().teachers)
    return persons, classes, villages


def dropout_lines(user: Any, period: Period, by: str, today: dt.date) -> list[DropoutLine]:
    """Return the dropout-control figures of a period per school (``by="school"``) or
    township (``by="township"``); the case figures are duty's own report's."""
    at = min(period.last, today)
    tallies = duty_selectors.period_report(
        user=user, first=period.first, last=period.last, by=by, today=today
    )
    lines: dict[str, DropoutLine] = {}
    township_names = registry_selectors.township_names(user=user)

    def line(key: str, label: str) -> DropoutLine:
        return lines.setdefault(key, DropoutLine(key, label))

    for t in tallies:
        row = line(t.key, t.label)
        row.opened, row.closed, row.closed_in_time = t.opened, t.closed, t.closed_in_time
        row.open_at_end, row.overdue_at_end = t.open_at_end, t.overdue_at_end
    returned = duty_selectors.case_list(user=user).filter(
        outcome="returned", closed_on__gte=period.first, closed_on__lte=period.last
    )
    for case in returned:
        if by == "school":
            line(str(case.school_id or ""), case.school.name if case.school else "—").returned += 1
        else:
            code = case.village_code[:9]
            line(code, township_names.get(code, code)).returned += 1
    run = run_as_of(user, at)
    if run is not None:
        persons, classes, villages = _responsible_on(user, at)
        statuses = id_selectors.status_list(user=user, run=run).select_related(
            "school", "enrolment"
        )
        for s in statuses:
            if by == "school":
                row = line(str(s.school_id or ""), s.school.name if s.school else "—")
            else:
                code = s.village_code[:9]
                row = line(code, township_names.get(code, code))
            if s.category in duty_selectors.ENROLLED:
                row.enrolled += 1
                class_id = s.enrolment.school_class_id if s.enrolment else None
                row.covered += int(
                    s.person_id in persons
                    or (class_id is not None and class_id in classes)
                    or s.village_code in villages
                )
            elif s.category == ChildStatus.Category.SUSPECTED_DROPOUT:
                row.suspected += 1
            elif s.category == ChildStatus.Category.DROPPED_OUT:
                row.confirmed += 1
    return sorted(
        (r for r in lines.values() if any(r.cells()[1:-1])), key=lambda r: (r.label == "—", r.label)
    )


def dropout_report(user: Any, unit: Unit, period: Period, today: dt.date, *, kind: str) -> Report:
    monthly = kind == "dropout-monthly"
    by = "school" if monthly else "township"
    lines = dropout_lines(narrowed(user, unit), period, by, today)
    total = DropoutLine("total", "")
    for row in lines:
        total.add(row)
    head = (_("School"), "学校") if monthly else (_("Township"), "乡镇")
    rows = [r.cells() for r in lines]
    section = Section(
        "dropout",
        _("Per school") if monthly else _("Per township and county total"),
        "分学校情况" if monthly else "分乡镇情况及全县合计",
        [head[0], *[_(h) for h, _cn in DROPOUT_HEADERS]],
        [head[1], *[cn for _h, cn in DROPOUT_HEADERS]],
        rows,
        total=total.cells()[1:] if rows else None,
        note=_(
            "Students and dropouts are those of the identification run confirmed by the "
            "period's end; cases as in duty's report."
        ),
        cn_note="在校学生及辍学人数取截至期末最近一次确认的比对结果；案件数与控辍保学台账一致。",
    )
    title = (
        _("Monthly school report of dropout control")
        if monthly
        else _("Quarterly county report of dropout control")
    )
    cn_title = "控辍保学学校月报" if monthly else "控辍保学全县季报"
    return Report(kind, title, cn_title, period, unit, period.as_of(today), [section])


# --------------------------------------------------------------------------- semester aid


AID_HEADERS = [
    (N_("Students due"), "应助人数"),
    (N_("Amount due (yuan)"), "应助金额（元）"),
    (N_("Waived (yuan)"), "免除金额（元）"),
    (N_("Paid (yuan)"), "已发放金额（元）"),
    (N_("Returned by the bank (yuan)"), "银行退回金额（元）"),
    (N_("Not yet paid (yuan)"), "未发放金额（元）"),
]
COVERAGE_HEADERS = [
    (N_("Poor students"), "建档立卡学生数"),
    (N_("Covered"), "已覆盖"),
    (N_("Coverage (%)"), "覆盖率（%）"),
]


@dataclass
class AidLine:
    label: str
    students: set[Any] = field(default_factory=set)
    due: Decimal = ZERO
    waived: Decimal = ZERO
    paid: Decimal = ZERO
    returned: Decimal = ZERO
    unpaid: Decimal = ZERO

    def cells(self) -> list[Any]:
        return [
            self.label,
            len(self.students),
            f"{self.due:.2f}",
            f"{self.waived:.2f}",
            f"{self.paid:.2f}",
            f"{self.returned:.2f}",
            f"{self.unpaid:.2f}",
        ]


def aid_lines(
    user: Any, period: Period, coverage: aid_selectors.Coverage
) -> dict[str, dict[str, AidLine]]:
    """Return the semester's aid per programme, per township, per school and per stage.

    Due: every entitlement of the semester not withdrawn nor excluded by the school. Where each
    one stands is aid's coverage reading: a line that reached the student is waived (a waiver)
    or paid (cash the bank confirmed); a line the bank failed is returned; any other line
    (pending review, not in a batch, at the bank, or the student not attending) is not yet paid.
    """
    entitlements = aid_selectors.entitlement_list(
        user=user, school_year=period.year, semester=period.semester_kind
    ).exclude(review__in=["withdrawn", "excluded"])
    labels = programme_labels_for(scope_of(user).county_code, period.year)
    township_names = registry_selectors.township_names(user=user)
    stages = dict(Stage.choices)
    gaps = {(g.student_id, g.programme): g.reason for g in coverage.gaps}
    absent = {g.student_id for g in coverage.gaps if g.reason == "not_enrolled"}
    out: dict[str, dict[str, AidLine]] = defaultdict(dict)
    for e in entitlements.select_related("school__township"):
        township = e.school.township.code if e.school and e.school.township else ""
        township = township or e.village_code[:9]
        keys = (
            ("programme", e.programme, labels.get(e.programme, e.programme)),
            ("township", township, township_names.get(township, township)),
            ("school", str(e.school_id or ""), e.school.name if e.school else "—"),
            ("stage", e.stage, str(stages.get(e.stage, e.stage))),
            ("total", "total", ""),
        )
        amount = e.amount or ZERO
        gap = gaps.get((e.student_id, e.programme)) or (
            "not_enrolled" if e.student_id in absent else None
        )
        for group, key, label in keys:
            row = out[group].setdefault(key, AidLine(label))
            row.students.add(e.student_id)
            row.due += amount
            if gap is None and e.kind == "waiver":
                row.waived += amount
            elif gap is None:
                row.paid += amount
            elif gap == "payment_failed":
                row.returned += amount
            else:
                row.unpaid += amount
    return out


def aid_report(user: Any, unit: Unit, period: Period, today: dt.date) -> Report:
    who = narrowed(user, unit)
    coverage = aid_selectors.coverage(
        user=who, school_year=period.year, semester=period.semester_kind
    )
    groups = aid_lines(who, period, coverage)
    heads = [_(h) for h, _cn in AID_HEADERS]
    cn_heads = [cn for _h, cn in AID_HEADERS]
    total = groups.get("total", {}).get("total")

    def table(group: str, key: str, title: str, cn_title: str, head: tuple[str, str]) -> Section:
        rows = sorted(groups.get(group, {}).values(), key=lambda r: r.label)
        cells = [r.cells() for r in rows]
        return Section(
            key,
            title,
            cn_title,
            [head[0], *heads],
            [head[1], *cn_heads],
            cells,
            total=total.cells()[1:] if cells and total is not None else None,
        )

    sections = [
        table(
            "programme",
            "programmes",
            _("Per programme"),
            "分项目情况",
            (_("Programme"), "资助项目"),
        ),
        table("stage", "stages", _("Per stage"), "分学段情况", (_("Stage"), "学段")),
    ]
    if unit.level == "school":
        sections.append(table("school", "schools", _("School"), "学校情况", (_("School"), "学校")))
    else:
        sections.append(
            table("township", "townships", _("Per township"), "分乡镇情况", (_("Township"), "乡镇"))
        )
        if unit.level == "township":
            sections.append(
                table("school", "schools", _("Per school"), "分学校情况", (_("School"), "学校"))
            )
    cov_rows: list[list[Any]] = []
    lines = coverage.by_school if unit.level == "school" else coverage.by_township
    for row in [*lines, *coverage.by_stage]:
        cov_rows.append(
            [row.label, row.students, row.covered, "—" if row.share is None else f"{row.share}"]
        )
    c = coverage.county
    cov_total = [c.students, c.covered, "—" if c.share is None else f"{c.share}"]
    sections.append(
        Section(
            "coverage",
            _("Coverage of aid (I.1)"),
            "资助全覆盖情况（I.1）",
            [_("Unit or stage"), *[_(h) for h, _cn in COVERAGE_HEADERS]],
            ["单位或学段", *[cn for _h, cn in COVERAGE_HEADERS]],
            cov_rows,
            total=cov_total if c.students else None,
            note=_("A student is covered when every programme due reached them."),
            cn_note="学生应享受的各项资助均已落实的，计为已覆盖。",
        )
    )
    return Report(
        "aid-semester",
        _("Semester aid report"),
        "学生资助学期报告",
        period,
        unit,
        period.as_of(today),
        sections,
    )
