"""The records behind an assessment figure (the drill-down), read as the acting user.

A figure links here with ``?school=<id>`` or ``?township=<code>``; a unit outside the user's
jurisdiction is a 404, like a missing one, and every list comes from the owning app's
selectors called with the acting user, then narrowed to the unit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from jingzhun.accounts.readers import CountyReader
from jingzhun.aid import selectors as aid_selectors
from jingzhun.aid.services import SOURCE as AID_SOURCE
from jingzhun.core.periods import SemesterKind
from jingzhun.core.scoping import scope_of
from jingzhun.duty import selectors as duty_selectors
from jingzhun.identification import selectors as ident_selectors
from jingzhun.oversight.assessment import (
    INDICATOR_BY_ID,
    NOT_APPROVED,
    TOWNSHIP_CODE_LENGTH,
    Indicator,
    Period,
    aid_payments,
    aid_semesters,
    may_see_assessment,
    paid_in_time,
    year_cases,
    year_nodes,
    year_rectifications,
    year_run,
)
from jingzhun.projects.models import ProjectNode
from jingzhun.registry.models import Area
from jingzhun.schools import selectors as school_selectors
from jingzhun.teachers import selectors as teacher_selectors
from jingzhun.teachers.models import Teacher


@dataclass(frozen=True)
class Unit:
    """The school or township a drill-down is about."""

    level: str  # "school" | "township"
    key: Any
    name: str

    def holds(self, school_id: int | None, township: str) -> bool:
        if self.level == "school":
            return school_id == self.key
        return township == self.key


@dataclass
class Records:
    indicator: Indicator
    unit: Unit
    columns: list[Promise]
    rows: list[tuple[list[str], str]] = field(default_factory=list)  # (cells, link)
    available: bool = True


def get_unit(*, user: Any, school: str = "", township: str = "") -> Unit:
    """Return the unit asked for if the user may see its row, else 404."""
    scope = scope_of(user)
    if not may_see_assessment(user):
        raise Http404
    if school and school.isdigit() and len(school) < 12:
        found = (
            school_selectors.school_list(user=user)
            .filter(pk=int(school), township__isnull=False)
            .values_list("pk", "name")
            .first()
        )
        if found is not None:
            return Unit("school", found[0], found[1])
    elif township and township.isdigit() and len(township) == TOWNSHIP_CODE_LENGTH:
        if scope.level == "county" or (scope.level == "township" and scope.area_code == township):
            area = Area.objects.filter(
                level="township", code=township, code__startswith=scope.county_code
            ).first()
            if area is not None:
                return Unit("township", area.code, area.name)
    raise Http404


def _day(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def _identification(user: Any, unit: Unit, period: Period, out: Records) -> None:
    run = year_run(user, period.year)
    if run is None:
        return
    rows = (
        ident_selectors.status_list(user=user, run=run)
        .filter(
            age__gte=ident_selectors.SCHOOL_AGE[0],
            age__lte=ident_selectors.SCHOOL_AGE[1],
            known=False,
        )
        .select_related("person")
        .order_by("village_code", "person__name", "pk")
    )
    if unit.level == "township":
        rows = rows.filter(village_code__startswith=unit.key)
    else:
        rows = rows.filter(school_id=unit.key)
    names = ident_selectors.area_names([r.village_code for r in rows])
    for r in rows:
        out.rows.append(
            (
                [
                    r.person.name,
                    str(r.age),
                    names.get(r.village_code, r.village_code),
                    r.get_category_display(),
                ],
                "",
            )
        )


def _aid_coverage(user: Any, unit: Unit, period: Period, out: Records) -> None:
    labels = dict(SemesterKind.choices)
    for semester in aid_semesters(user, period):
        coverage = aid_selectors.coverage(user=user, school_year=period.year, semester=semester)
        for gap in coverage.gaps:
            if gap.reason in NOT_APPROVED and unit.holds(gap.school_id, gap.township):
                programme = gap.programme
                out.rows.append(
                    (
                        [
                            str(labels[semester]),
                            gap.student_name,
                            gap.school_name,
                            programme,
                            gap.reason_label,
                        ],
                        "",
                    )
                )


def _aid_timeliness(user: Any, unit: Unit, period: Period, out: Records) -> None:
    # Payments are the county's records; a user sees those of the entitlements they see.
    visible: set[str] = set()
    for kind in SemesterKind.values:
        ids = aid_selectors.entitlement_list(
            user=user, school_year=period.year, semester=kind
        ).values_list("pk", flat=True)
        visible.update(f"{AID_SOURCE}{pk}" for pk in ids)
    labels = dict(SemesterKind.choices)
    county = CountyReader(scope_of(user).county_code)
    for p in aid_payments(county, period):
        if p.source not in visible or paid_in_time(p):
            continue
        township = (
            p.school.township.code
            if p.school is not None and p.school.township is not None
            else p.village_code[:TOWNSHIP_CODE_LENGTH]
        )
        if unit.holds(p.school_id, township):
            settled = timezone.localdate(p.settled_at) if p.settled_at else None
            out.rows.append(
                (
                    [
                        p.beneficiary or p.payee_name,
                        p.programme,
                        p.school.name if p.school else "",
                        str(labels[p.batch.semester]),
                        str(p.amount),
                        _day(settled),
                    ],
                    "",
                )
            )


def _dropout_cases(user: Any, unit: Unit, period: Period, out: Records) -> None:
    for case, in_time in year_cases(user, period):
        if in_time or not unit.holds(case.school_id, case.village_code[:TOWNSHIP_CODE_LENGTH]):
            continue
        out.rows.append(
            (
                [
                    case.person.name,
                    case.school.name if case.school else "",
                    _day(case.opened_on),
                    case.get_status_display(),
                    _day(case.closed_on),
                ],
                reverse("duty:case", args=[case.pk]),
            )
        )


def _responsibility(user: Any, unit: Unit, period: Period, out: Records) -> None:
    coverage = duty_selectors.coverage(user=user)
    names = ident_selectors.area_names([s.village_code for s in coverage.student_gaps])
    for s in coverage.student_gaps:
        township = s.village_code[:TOWNSHIP_CODE_LENGTH]
        if unit.holds(s.school_id, township):
            out.rows.append(
                (
                    [
                        s.person.name,
                        s.school.name if s.school else "",
                        names.get(s.village_code, s.village_code),
                    ],
                    "",
                )
            )


def _project_nodes(user: Any, unit: Unit, period: Period, out: Records) -> None:
    kinds = dict(ProjectNode.Kind.choices)
    for node, school_id, in_time in year_nodes(user, period):
        if in_time or not unit.holds(school_id, node.township_code):
            continue
        out.rows.append(
            (
                [
                    node.project_name,
                    str(kinds.get(node.kind, node.kind)),
                    _day(node.due_on),
                    _day(node.closed_on),
                ],
                reverse("projects:detail", args=[node.project_id]),
            )
        )


def _rectification(user: Any, unit: Unit, period: Period, out: Records) -> None:
    for r, in_time in year_rectifications(user, period):
        if in_time or not unit.holds(r.finding.school_id, r.finding.township.code):
            continue
        out.rows.append(
            (
                [r.finding.text[:80], _day(r.deadline)],
                reverse("oversight:rectification", args=[r.pk]),
            )
        )


def _training(user: Any, unit: Unit, period: Period, out: Records) -> None:
    rows = (
        teacher_selectors.teacher_list(user=user)
        .filter(Teacher.in_post_q(period.training_on), school__in_poor_village=True)
        .exclude(trainings__started_on__year=period.year)
        .select_related("school")
        .order_by("school__name", "name", "pk")
    )
    if unit.level == "school":
        rows = rows.filter(school_id=unit.key)
    else:
        rows = rows.filter(school__township__code=unit.key)
    for t in rows.distinct():
        out.rows.append(([t.name, t.school.name], ""))


COLUMNS: dict[str, list[Promise]] = {
    "identification": [
        gettext_lazy("Child"),
        gettext_lazy("Age"),
        gettext_lazy("Village"),
        gettext_lazy("Status"),
    ],
    "aid_coverage": [
        gettext_lazy("Semester"),
        gettext_lazy("Student"),
        gettext_lazy("School"),
        gettext_lazy("Programme"),
        gettext_lazy("Reason"),
    ],
    "aid_timeliness": [
        gettext_lazy("Paid for"),
        gettext_lazy("Programme"),
        gettext_lazy("School"),
        gettext_lazy("Semester"),
        gettext_lazy("Amount (yuan)"),
        gettext_lazy("Paid on"),
    ],
    "dropout_cases": [
        gettext_lazy("Child"),
        gettext_lazy("School"),
        gettext_lazy("Opened on"),
        gettext_lazy("Status"),
        gettext_lazy("Closed on"),
    ],
    "responsibility": [gettext_lazy("Child"), gettext_lazy("School"), gettext_lazy("Village")],
    "project_nodes": [
        gettext_lazy("Project"),
        gettext_lazy("Time node"),
        gettext_lazy("Due on"),
        gettext_lazy("Closed on"),
    ],
    "rectification": [gettext_lazy("Finding"), gettext_lazy("Deadline")],
    "training": [pgettext_lazy("teaching staff", "Teacher"), gettext_lazy("School")],
}
READERS = {
    "identification": _identification,
    "aid_coverage": _aid_coverage,
    "aid_timeliness": _aid_timeliness,
    "dropout_cases": _dropout_cases,
    "responsibility": _responsibility,
    "project_nodes": _project_nodes,
    "rectification": _rectification,
    "training": _training,
}


def records(
    *, user: Any, indicator_id: str, year: int, unit: Unit, today: dt.date | None = None
) -> Records:
    """Return the records behind one unit's figure that fall short (404 for no indicator)."""
    indicator = INDICATOR_BY_ID.get(indicator_id)
    if indicator is None:
        raise Http404(_("No such indicator."))
    out = Records(indicator, unit, COLUMNS[indicator_id])
    READERS[indicator_id](user, unit, Period(year, today or timezone.localdate()), out)
    return out
