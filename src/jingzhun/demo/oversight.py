"""Semiannual inspections in the demo county (III.3): the plan of the current half-year with
a few school visits and one township office, each school's sample of poor students checked,
and findings whose rectifications are mostly closed in time, one late and one open past its
deadline.

Everything goes through the oversight services, as the county's inspector would record it;
progress is reported by the school's principal or the township's officer. Deterministic
from the seed; a second run adds nothing (the half-year already has its plan).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.oversight import services
from jingzhun.oversight.models import Finding, InspectionPlan, Visit
from jingzhun.registry.models import Area
from jingzhun.schools.models import School

SEED_OFFSET = 0x494E5350  # "INSP"
SCHOOLS = 4
FINDINGS = (
    ("serious", "aid_paid_noticed", "资助资金公示材料未存档"),
    ("minor", "attendance", "建档立卡学生考勤记录不连续"),
    ("critical", "dropout_cases", "一名辍学学生劝返记录缺失"),
    ("minor", "evidence_on_file", "项目佐证材料未归档"),
)


@dataclass
class OversightDemo:
    plans: int = 0
    visits: int = 0
    sampled: int = 0
    findings: int = 0
    closed_in_time: int = 0
    closed_late: int = 0
    open_overdue: int = 0


def _owner(school: School) -> Any:
    principal = User.objects.filter(role=Role.PRINCIPAL, school=school, is_active=True).first()
    if principal is not None:
        return principal
    return User.objects.filter(
        role=Role.TOWNSHIP_OFFICER, area=school.township, is_active=True
    ).first()


def build_oversight(*, actor: Any, county: Area, as_of: dt.date, seed: int) -> OversightDemo:
    """Make the current half-year's inspection plan in the demo county (once)."""
    result = OversightDemo()
    year, half = InspectionPlan.half_of(as_of)
    if InspectionPlan.objects.filter(county_code=county.code[:6], year=year, half=half).exists():
        return result
    first, last = InspectionPlan.half_bounds(year, half)
    rng = random.Random(seed + SEED_OFFSET)
    schools = list(
        School.objects.filter(township__code__startswith=county.code, township__isnull=False)
        .select_related("township")
        .order_by("code")
    )
    if not schools:
        return result
    chosen = sorted(rng.sample(schools, min(SCHOOLS, len(schools))), key=lambda s: s.code)
    township = chosen[0].township
    plan = services.plan_create(
        actor=actor,
        year=year,
        half=half,
        title=f"{year}年{'上' if half == 'H1' else '下'}半年教育精准扶贫督导检查",
        starts_on=first,
        ends_on=max(first, min(last, as_of + dt.timedelta(days=30))),
        schools=chosen,
        townships=[township] if township is not None else [],
    )
    result.plans = 1
    visited_on = min(as_of, first + dt.timedelta(days=14))
    visits = list(plan.visits.select_related("school", "township").order_by("pk"))
    # The visits made by the day of the demo; a later one stays planned.
    for n, visit in enumerate(visits):
        day = visited_on + dt.timedelta(days=n)
        if day > as_of:
            continue
        answers = {str(i["id"]): services.Answer("met") for i in plan.items_for(visit.kind)}
        services.visit_record(actor=actor, visit=visit, visited_on=day, answers=answers)
        result.visits += 1
    for visit in Visit.objects.filter(plan=plan, status="done", school__isnull=False):
        try:
            rows = services.sample_draw(actor=actor, visit=visit)
        except ValidationError:
            continue  # a school without poor students has no sample
        for row in rows:
            outcome = rng.choice(["full", "full", "full", "partly", "unreachable"])
            said = None
            if outcome == "full":
                said = row.amount_due
            elif outcome == "partly":
                said = (row.amount_due / 2).quantize(Decimal("0.01"))
            services.sample_check_record(
                actor=actor,
                check=row,
                outcome=outcome,
                amount_said=said,
                checked_on=visit.visited_on,
            )
            result.sampled += 1
    done = list(Visit.objects.filter(plan=plan, status="done", school__isnull=False).order_by("pk"))
    for n, visit in enumerate(done[: len(FINDINGS)]):
        severity, item, text = FINDINGS[n]
        assert visit.visited_on is not None and visit.school is not None
        owner = _owner(visit.school)
        deadline = visit.visited_on + dt.timedelta(days=20)
        finding = services.finding_record(
            actor=actor,
            visit=visit,
            severity=severity,
            text=text,
            deadline=deadline,
            found_on=visit.visited_on,
            owner=owner
            if owner is not None and services.owner_may_hold(owner, _f(visit))
            else None,
            item_id=item,
        )
        result.findings += 1
        # The first findings are closed (in time, then late); the last stays open past due.
        close_on = {0: deadline - dt.timedelta(days=5), 1: deadline + dt.timedelta(days=4)}.get(n)
        if owner is None or close_on is None or close_on > as_of:
            if deadline < as_of:
                result.open_overdue += 1
            continue
        services.rectification_note_add(
            actor=owner,
            rectification=finding.rectification,
            text="已按要求整改，材料已补齐",
            happened_on=close_on - dt.timedelta(days=2),
        )
        services.rectification_close(
            actor=actor,
            rectification=finding.rectification,
            closed_on=close_on,
            note="督导组复查核实，整改到位",
        )
        if close_on <= deadline:
            result.closed_in_time += 1
        else:
            result.closed_late += 1
    return result


def _f(visit: Visit) -> Any:
    """Return an unsaved finding of the visit, to ask whom it may be owned by."""
    return Finding(visit=visit, township=visit.township, school=visit.school)
