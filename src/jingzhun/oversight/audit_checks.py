"""The year-end audit's checks (:mod:`jingzhun.oversight.audit`), each set-wise.

Each check counts what it found in the database (an aggregate or a filtered count) and
fetches the rows it lists in one query; only their wording is done in Python. The shared
parts (the joins of payments to their sources, the words, the links) are in
:mod:`jingzhun.oversight.audit_context`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import CharField, Count, Exists, F, Max, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.aid.models import Adjustment, Entitlement, RuleBookVersion
from jingzhun.aid.rulebook import RuleBook, RuleBookError, load_rulebook
from jingzhun.funds.models import Overpayment, Payment
from jingzhun.funds.selectors_projects import over_budget
from jingzhun.identification.models import Link as IdentificationLink
from jingzhun.oversight.audit import (
    AGE_LIMITS,
    KINDS,
    MAX_LISTED,
    TEACHER_RETIREMENT_AGE,
    Anomaly,
    AuditReport,
    KindCount,
    Link,
    State,
    sections,
)
from jingzhun.oversight.audit_context import (
    AID_SOURCE,
    REVIEWS_ZH,
    STAGES_ZH,
    AuditContext,
    Found,
    age_on,
    aid_anomaly,
    aid_facts,
    batch_link,
    entitlement_rows,
    money,
    say,
    teacher_anomalies,
    years_before,
)
from jingzhun.registry.models import Area, Household, HouseholdStatusChange, Person
from jingzhun.schools.models import Enrolment, Stage
from jingzhun.teachers.models import AllowanceLine

# --- 1. paid twice --------------------------------------------------------------------------


def check_duplicate(ctx: AuditContext, severity: str) -> Found:
    """One registry person paid for one programme and semester through two roll records."""
    groups = (
        ctx.paid_entitlements()
        .values("person_id", "programme", "semester")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("person_id", "programme", "semester")
    )
    count = groups.count()
    if not count:
        return 0, []
    keys = {(g["person_id"], g["programme"], g["semester"]) for g in groups[:MAX_LISTED]}
    rows = entitlement_rows(
        ctx.paid_entitlements().filter(person_id__in=groups.values("person_id"))
    )
    payments = ctx.payments_of(
        AID_SOURCE, ctx.paid_entitlements().filter(pk__in=[e.pk for e in rows])
    )
    grouped: dict[tuple[int, str, str], list[Entitlement]] = defaultdict(list)
    for e in rows:
        if (e.person_id, e.programme, e.semester) in keys:
            grouped[(e.person_id, e.programme, e.semester)].append(e)
    found = []
    for (_person, programme, semester), group in grouped.items():
        first = group[0]
        paid = [payments.get(f"{AID_SOURCE}{e.pk}") for e in group]
        refs = [p.reference for p in paid if p is not None]
        facts = aid_facts(ctx, first, paid[0])
        facts.update(
            count=len(group),
            refs="、".join(refs),
            total=money(sum((p.amount for p in paid if p), Decimal("0"))),
        )
        words = say(
            _(
                "%(name)s (ID %(id)s) was paid %(programme)s for %(period)s %(count)s times "
                "(%(total)s yuan in all), once for each of %(count)s roll records: %(refs)s."
            ),
            "%(name)s（身份证号%(id)s）%(period)s的%(programme)s被支付%(count)s次"
            "（合计%(total)s元），%(count)s条学籍记录各一次：%(refs)s。",
            facts,
            programme=ctx.programme(programme),
            period=ctx.period(semester),
        )
        links: list[Link] = []
        for e, p in zip(group, paid, strict=True):
            links += [link for link in batch_link(p) if link not in links]
            links.append(
                Link(
                    f"{_('Aid of the student')} #{e.student_id}",
                    reverse("aid:student", args=[e.student_id]),
                )
            )
        links.insert(0, Link(_("Child's page"), reverse("dashboard:child", args=[first.person_id])))
        found.append(
            Anomaly(
                kind="duplicate",
                severity=severity,
                text=words[0],
                text_zh=words[1],
                amount=sum((p.amount for p in paid if p), Decimal("0")),
                school=first.school.name,
                references=tuple(refs),
                links=tuple(links),
            )
        )
    return count, found


# --- 2. not registered poor, not enrolled ---------------------------------------------------


def check_not_poor(ctx: AuditContext, severity: str) -> Found:
    """The household was removed before the semester, past its transition, or registered later.

    A household removed from the registry counts as poor for a semester when its removal was
    recorded after the semester began; with no dated removal, it is reported (date unknown).
    """
    removed = Household.Status.REMOVED

    def removed_after(day: dt.date) -> Exists:
        return Exists(
            HouseholdStatusChange.objects.filter(
                household_id=OuterRef("person__household_id"), status=removed, recorded_on__gt=day
            )
        )

    q = Q(person__household__status=removed) & (
        (Q(semester="autumn") & ~removed_after(ctx.semester("autumn").first_day))
        | (Q(semester="spring") & ~removed_after(ctx.semester("spring").first_day))
    )
    q |= Q(person__household__registration_year__gt=ctx.year)
    transition = ctx.book.transition_years if ctx.book else None
    if transition is not None:
        q |= Q(
            person__household__status=Household.Status.LEFT_POVERTY,
            person__household__exit_year__lte=ctx.year - transition,
        )
    flagged = ctx.paid_entitlements().filter(q)
    count = flagged.count()
    if not count:
        return 0, []
    rows = entitlement_rows(flagged)
    payments = ctx.payments_of(AID_SOURCE, flagged)
    removals = dict(
        HouseholdStatusChange.objects.filter(
            household_id__in=flagged.values("person__household_id"), status=removed
        )
        .values("household_id")
        .annotate(on=Max("recorded_on"))
        .values_list("household_id", "on")
    )
    found = []
    for e in rows:
        household = e.person.household
        payment = payments.get(f"{AID_SOURCE}{e.pk}")
        facts = {**aid_facts(ctx, e, payment), "household": household.household_no}
        if household.registration_year and household.registration_year > ctx.year:
            why = (
                _("was registered poor only in %(y)s") % {"y": household.registration_year},
                f"{household.registration_year}年才建档立卡",
            )
        elif household.status == removed:
            on = removals.get(household.pk)
            why = (
                (
                    _("had been removed from the registry on %(d)s") % {"d": on.isoformat()},
                    f"已于{on.isoformat()}退出建档立卡",
                )
                if on
                else (
                    _("has been removed from the registry (no date recorded)"),
                    "已退出建档立卡（未记录日期）",
                )
            )
        else:
            why = (
                _("left poverty in %(y)s; its transition of %(n)s school years was over")
                % {"y": household.exit_year, "n": transition},
                f"已于{household.exit_year}年脱贫，{transition}个学年的过渡期已满",
            )
        words = say(
            _(
                "%(name)s (ID %(id)s) was paid %(amount)s yuan of %(programme)s for %(period)s, "
                "but the household %(household)s %(why)s."
            ),
            "%(name)s（身份证号%(id)s）获%(period)s%(programme)s%(amount)s元，"
            "但其家庭（户编号%(household)s）%(why)s。",
            facts,
            programme=ctx.programme(e.programme),
            period=ctx.period(e.semester),
            why=why,
        )
        found.append(aid_anomaly("not_poor", severity, e, payment, words))
    return count, found


def check_not_enrolled(ctx: AuditContext, severity: str) -> Found:
    """No enrolment of the year on the roll at the time; a teacher who had left the school."""

    def on_roll(kind: str) -> Exists:
        semester = ctx.semester(kind)
        return Exists(
            Enrolment.objects.filter(student_id=OuterRef("student_id"), school_year=ctx.year)
            .filter(Q(status__in=Enrolment.ACTIVE) | Q(status_date__gte=semester.first_day))
            .filter(Q(enrolled_on__isnull=True) | Q(enrolled_on__lte=semester.last_day))
        )

    flagged = ctx.paid_entitlements().filter(
        (Q(semester="autumn") & ~on_roll("autumn")) | (Q(semester="spring") & ~on_roll("spring"))
    )
    lines = ctx.paid_lines().filter(teacher__left_on__isnull=False, teacher__left_on__lt=F("month"))
    count = flagged.count() + lines.count()
    if not count:
        return 0, []
    found = []
    payments = ctx.payments_of(AID_SOURCE, flagged)
    for e in entitlement_rows(flagged):
        payment = payments.get(f"{AID_SOURCE}{e.pk}")
        words = say(
            _(
                "%(name)s (ID %(id)s) was paid %(amount)s yuan of %(programme)s for %(period)s, "
                "but was not enrolled in any school then (the %(year)s roll)."
            ),
            "%(name)s（身份证号%(id)s）获%(period)s%(programme)s%(amount)s元，"
            "但当时不在籍（%(year)s学年学籍）。",
            {**aid_facts(ctx, e, payment), "year": f"{ctx.year}-{ctx.year + 1}"},
            programme=ctx.programme(e.programme),
            period=ctx.period(e.semester),
        )
        found.append(aid_anomaly("not_enrolled", severity, e, payment, words))
    found += teacher_anomalies(
        ctx,
        "not_enrolled",
        severity,
        lines,
        lambda line: (
            _(
                "%(name)s (ID %(id)s) was paid %(amount)s yuan of %(programme)s for %(month)s, but "
                "had left %(school)s on %(left)s."
            ),
            "%(name)s（身份证号%(id)s）获%(month)s%(programme)s%(amount)s元，"
            "但已于%(left)s离开%(school)s。",
            {"left": line.teacher.left_on.isoformat() if line.teacher.left_on else ""},
            {},
        ),
    )
    return count, found


# --- 3. above the age limit -----------------------------------------------------------------


def check_over_age(ctx: AuditContext, severity: str) -> Found:
    """Older than the stage admits on the semester's first day (the registry's birth date);
    a teacher paid at or after the retirement age (the roster's birth date)."""
    q = Q(pk__in=[])
    for stage, limit in AGE_LIMITS.items():
        for kind in ("autumn", "spring"):
            cutoff = years_before(ctx.semester(kind).first_day, limit + 1)
            q |= Q(stage=stage, semester=kind, person__birth_date__lte=cutoff)
    flagged = ctx.paid_entitlements().filter(q)
    months = [dt.date(ctx.year + (m < 9), m, 1) for m in (*range(9, 13), *range(1, 9))]
    t = Q(pk__in=[])
    for month in months:
        t |= Q(month=month, teacher__birth_date__lte=years_before(month, TEACHER_RETIREMENT_AGE))
    lines = ctx.paid_lines().filter(t)
    count = flagged.count() + lines.count()
    if not count:
        return 0, []
    found = []
    payments = ctx.payments_of(AID_SOURCE, flagged)
    for e in entitlement_rows(flagged):
        payment = payments.get(f"{AID_SOURCE}{e.pk}")
        first = ctx.semester(e.semester).first_day
        stage_words = (
            Stage(e.stage).label if e.stage in Stage.values else e.stage,
            STAGES_ZH.get(e.stage, e.stage),
        )
        words = say(
            _(
                "%(name)s (ID %(id)s) was paid %(amount)s yuan of %(programme)s for %(period)s "
                "at the %(stage)s stage, aged %(age)s when the semester began: above the "
                "stage's limit of %(limit)s."
            ),
            "%(name)s（身份证号%(id)s）以%(stage)s阶段获%(period)s%(programme)s%(amount)s元，"
            "学期初已%(age)s岁，超过该学段%(limit)s岁的上限。",
            {
                **aid_facts(ctx, e, payment),
                "age": age_on(e.person.birth_date, first),
                "limit": AGE_LIMITS[e.stage],
            },
            programme=ctx.programme(e.programme),
            period=ctx.period(e.semester),
            stage=(str(stage_words[0]), stage_words[1]),
        )
        found.append(aid_anomaly("over_age", severity, e, payment, words))
    found += teacher_anomalies(
        ctx,
        "over_age",
        severity,
        lines,
        lambda line: (
            _(
                "%(name)s (ID %(id)s) was paid %(amount)s yuan of %(programme)s for %(month)s, "
                "aged %(age)s: at or past the retirement age of %(limit)s."
            ),
            "%(name)s（身份证号%(id)s）获%(month)s%(programme)s%(amount)s元，"
            "时年%(age)s岁，已达%(limit)s岁退休年龄。",
            {
                "age": age_on(line.teacher.birth_date, line.month)
                if line.teacher.birth_date
                else "",
                "limit": TEACHER_RETIREMENT_AGE,
            },
            {},
        ),
    )
    return count, found


# --- 4. one account, several households -----------------------------------------------------


def _shared_accounts_sql(ctx: AuditContext) -> tuple[str, list[Any]]:
    """Return SQL giving (account index, households, students, payments) per account that
    received the year's aid for students of more than one household.

    A student's household is the registry person identification linked the student to
    (student.link.person.household), else the entitlement's own person's.
    """
    payment = Payment._meta.db_table
    entitlement = Entitlement._meta.db_table
    person = Person._meta.db_table
    link = IdentificationLink._meta.db_table
    household = "COALESCE(lp.household_id, ep.household_id)"
    sql = f"""
        SELECT p.account_index, COUNT(DISTINCT {household}), COUNT(DISTINCT e.student_id),
               COUNT(*)
        FROM {payment} p
        JOIN {entitlement} e
          ON e.county_code = p.county_code
         AND p.source = %s || CAST(e.id AS VARCHAR(20))
        JOIN {person} ep ON ep.id = e.person_id
        LEFT JOIN {link} l ON l.student_id = e.student_id
        LEFT JOIN {person} lp ON lp.id = l.person_id
        WHERE p.county_code = %s AND p.status <> %s AND p.source LIKE %s
          AND p.account_index <> '' AND e.school_year = %s
        GROUP BY p.account_index
        HAVING COUNT(DISTINCT {household}) > 1
        ORDER BY p.account_index
    """  # noqa: S608 - table names from the models, values as parameters
    return sql, [AID_SOURCE, ctx.county, Payment.Status.FAILED, f"{AID_SOURCE}%", ctx.year]


def check_shared_account(ctx: AuditContext, severity: str) -> Found:
    """One bank account receiving for students of several households."""
    sql, params = _shared_accounts_sql(ctx)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        accounts = {row[0]: (row[1], row[2], row[3]) for row in cursor.fetchall()}
    if not accounts:
        return 0, []
    listed = list(accounts)[:MAX_LISTED]
    payments = list(
        ctx.live()
        .filter(account_index__in=listed, source__startswith=AID_SOURCE)
        .select_related("batch")
        .order_by("account_index", "id")
    )
    ids = [int(p.source.removeprefix(AID_SOURCE)) for p in payments]
    entitlements = {
        e.pk: e
        for e in Entitlement.objects.filter(
            county_code=ctx.county, school_year=ctx.year, pk__in=ids
        ).select_related("student", "person__household", "school")
    }
    by_account: dict[str, list[tuple[Payment, Entitlement]]] = defaultdict(list)
    for p in payments:
        e = entitlements.get(int(p.source.removeprefix(AID_SOURCE)))
        if e is not None:
            by_account[p.account_index].append((p, e))
    found = []
    for index in listed:
        pairs = by_account.get(index, [])
        if not pairs:
            continue
        n_households, n_students, n_payments = accounts[index]
        names: dict[int, str] = {}
        for _p, e in pairs:
            names.setdefault(e.student_id, e.student.name)
        households_no = sorted({e.person.household.household_no for _p, e in pairs})
        first = pairs[0][0]
        words = say(
            _(
                "Account %(account)s (%(bank)s) received %(payments)s payments, %(total)s yuan, "
                "for %(students)s students of %(households)s different households: %(names)s "
                "(households %(nos)s)."
            ),
            "账户%(account)s（%(bank)s）收到%(payments)s笔共%(total)s元，分属%(households)s户的"
            "%(students)s名学生：%(names)s（户编号%(nos)s）。",
            {
                "account": first.account_masked,
                "bank": first.bank_name or "—",
                "payments": n_payments,
                "total": money(sum((p.amount for p, _e in pairs), Decimal("0"))),
                "students": n_students,
                "households": n_households,
                "names": "、".join(names.values()),
                "nos": "、".join(households_no),
            },
        )
        links: list[Link] = []
        for p, e in pairs:
            links += [link for link in batch_link(p) if link not in links]
            child = Link(e.student.name, reverse("dashboard:child", args=[e.person_id]))
            if child not in links:
                links.append(child)
        found.append(
            Anomaly(
                kind="shared_account",
                severity=severity,
                text=words[0],
                text_zh=words[1],
                amount=sum((p.amount for p, _e in pairs), Decimal("0")),
                school="、".join(sorted({e.school.name for _p, e in pairs})),
                references=tuple(p.reference for p, _e in pairs),
                links=tuple(links),
            )
        )
    return len(accounts), found


# --- 5. paid without its evidence -----------------------------------------------------------


def check_no_evidence(ctx: AuditContext, severity: str) -> Found:
    """Paid without a review, a public notice, the county's approval after the notice ran its
    course, as a waiver, or at another amount than approved; a teacher's line paid without the
    school's review or the county's approval."""
    R = Entitlement.Review
    other_amount = Exists(
        ctx.live()
        .filter(source=Concat(Value(AID_SOURCE), Cast(OuterRef("pk"), CharField())))
        .exclude(amount=OuterRef("amount"))
    )
    q = (
        ~Q(review__in=[R.APPROVED, R.WITHDRAWN])  # withdrawn after payment: an adjustment
        | Q(reviewed_by__isnull=True)
        | Q(notice__isnull=True)
        | ~Q(notice__status="approved")
        | Q(notice__approved_by__isnull=True)
        | Q(notice__approved_at__date__lte=F("notice__ends_on"))
        | ~Q(kind="cash")
        | other_amount
    )
    flagged = ctx.paid_entitlements().filter(q)
    lines = ctx.paid_lines().filter(
        ~Q(review=AllowanceLine.Review.APPROVED)
        | Q(reviewed_by__isnull=True)
        | Q(approved_by__isnull=True)
    )
    count = flagged.count() + lines.count()
    if not count:
        return 0, []
    found = []
    payments = ctx.payments_of(AID_SOURCE, flagged)
    for e in entitlement_rows(flagged):
        payment = payments.get(f"{AID_SOURCE}{e.pk}")
        missing = _missing(e, payment)
        words = say(
            _(
                "%(name)s (ID %(id)s) was paid %(amount)s yuan of %(programme)s for %(period)s "
                "without %(missing)s."
            ),
            "%(name)s（身份证号%(id)s）获%(period)s%(programme)s%(amount)s元，但缺少%(missing)s。",
            aid_facts(ctx, e, payment),
            programme=ctx.programme(e.programme),
            period=ctx.period(e.semester),
            missing=("; ".join(m[0] for m in missing), "；".join(m[1] for m in missing)),
        )
        extra = (
            [Link(_("Public notice"), reverse("aid:notice", args=[e.notice_id]))]
            if e.notice_id
            else []
        )
        found.append(aid_anomaly("no_evidence", severity, e, payment, words, extra))
    found += teacher_anomalies(
        ctx,
        "no_evidence",
        severity,
        lines,
        lambda line: (
            _(
                "%(name)s (ID %(id)s) was paid %(amount)s yuan of %(programme)s for %(month)s "
                "without %(missing)s."
            ),
            "%(name)s（身份证号%(id)s）获%(month)s%(programme)s%(amount)s元，但缺少%(missing)s。",
            {},
            {"missing": _line_missing(line)},
        ),
    )
    return count, found


def _missing(e: Entitlement, payment: Payment | None) -> list[tuple[str, str]]:
    """Return what a paid entitlement lacks, in the user's language and in Chinese."""
    R = Entitlement.Review
    notice = e.notice
    out: list[tuple[str, str]] = []
    if e.reviewed_by_id is None:
        out.append((_("a recorded review"), "审核记录"))
    if notice is None:
        out.append((_("a public notice"), "公示"))
    elif notice.status != "approved" or notice.approved_by_id is None:
        out.append((_("the county's approval of the notice"), "县级审批"))
    elif notice.approved_at and timezone.localdate(notice.approved_at) <= notice.ends_on:
        out.append(
            (
                _("a full notice period (approved on %(on)s, before it ended on %(end)s)")
                % {"on": timezone.localdate(notice.approved_at), "end": notice.ends_on},
                f"完整公示期（{timezone.localdate(notice.approved_at)}审批，"
                f"公示至{notice.ends_on}）",
            )
        )
    if e.review not in (R.APPROVED, R.WITHDRAWN):
        out.append(
            (
                _("an approved entitlement (it is: %(state)s)") % {"state": e.get_review_display()},
                f"已审批的资助资格（现为：{REVIEWS_ZH.get(e.review, e.review)}）",
            )
        )
    if e.kind != "cash":
        out.append(
            (
                _("a cash programme (this one is not paid in cash)"),
                "现金资助项目（该项目不发放现金）",
            )
        )
    if payment is not None and payment.amount != e.amount:
        out.append(
            (
                _("the amount approved (%(approved)s yuan)") % {"approved": money(e.amount)},
                f"与核定金额一致（核定{money(e.amount)}元）",
            )
        )
    return out


def _line_missing(line: AllowanceLine) -> tuple[str, str]:
    parts: list[tuple[str, str]] = []
    if line.reviewed_by_id is None:
        parts.append((_("the school's review"), "学校审核"))
    if line.approved_by_id is None or line.review != AllowanceLine.Review.APPROVED:
        parts.append((_("the county's approval"), "县级审批"))
    return "; ".join(p[0] for p in parts), "；".join(p[1] for p in parts)


# --- 6. the fund ledger: projects beyond budget, adjustments not settled ---------------------


def check_over_budget(ctx: AuditContext, severity: str) -> Found:
    """Fund projects whose disbursements (rows, or entries net of reversals) exceed the budget."""
    rows = list(over_budget(ctx.county).filter(school_year=ctx.year)[:MAX_LISTED])
    found = []
    for fp in rows:
        paid = max(
            getattr(fp, "paid", None) or Decimal("0"),
            getattr(fp, "paid_in_ledger", None) or Decimal("0"),
        )
        text, zh = say(
            _("Project %(name)s paid %(paid)s yuan against a budget of %(budget)s yuan."),
            "项目%(name)s支付%(paid)s元，预算为%(budget)s元。",
            {"name": fp.name, "paid": money(paid), "budget": money(fp.budget)},
        )
        found.append(
            Anomaly(
                "over_budget",
                severity,
                text,
                zh,
                paid - fp.budget,
                links=(Link(fp.name, reverse("funds:project-money-detail", args=[fp.pk])),),
            )
        )
    return len(rows), found


def check_unsettled_adjustment(ctx: AuditContext, severity: str) -> Found:
    """Overpayments still open, and entitlements lowered after they were paid with no
    overpayment recorded at all (set-wise: one query each)."""
    found: list[Anomaly] = []
    open_rows = Overpayment.objects.filter(
        county_code=ctx.county,
        status=Overpayment.Status.OPEN,
        payment__batch__school_year=ctx.year,
    ).select_related("payment__batch")
    for o in open_rows[:MAX_LISTED]:
        text, zh = say(
            _("%(amount)s yuan overpaid on payment %(ref)s (%(rule)s) is not settled."),
            "支付%(ref)s多付%(amount)s元（%(rule)s）尚未结清。",
            {"amount": money(o.amount), "ref": o.payment.reference},
            rule=(str(o.get_rule_display()), "追回" if o.rule == "recover" else "抵扣"),
        )
        found.append(
            Anomaly(
                "unsettled_adjustment",
                severity,
                text,
                zh,
                o.amount,
                references=(o.payment.reference,),
                links=(Link(_("Overpayments"), reverse("funds:overpayments")),),
            )
        )
    source = Concat(Value(AID_SOURCE), Cast(OuterRef("entitlement_id"), CharField()))
    cause = Concat(Value("aid.adjustment:"), Cast(OuterRef("pk"), CharField()))
    unrecorded = (
        Adjustment.objects.filter(
            entitlement__county_code=ctx.county,
            computation__school_year=ctx.year,
            new_amount__lt=F("old_amount"),
        )
        .filter(Exists(ctx.live().filter(source=source, status=Payment.Status.PAID)))
        .exclude(Exists(Overpayment.objects.filter(county_code=ctx.county, cause=cause)))
        .select_related("entitlement__student")
    )
    count = open_rows.count() + unrecorded.count()
    for a in unrecorded[:MAX_LISTED]:
        text, zh = say(
            _(
                "%(name)s's entitlement was lowered from %(old)s to %(new)s yuan after it was "
                "paid; no overpayment is recorded."
            ),
            "%(name)s的资助在支付后由%(old)s元调为%(new)s元，未登记多付款项。",
            {
                "name": a.entitlement.student.name,
                "old": money(a.old_amount),
                "new": money(a.new_amount),
            },
        )
        found.append(
            Anomaly(
                "unsettled_adjustment",
                severity,
                text,
                zh,
                a.old_amount - a.new_amount,
                links=(Link(_("Adjustments"), reverse("aid:adjustments")),),
            )
        )
    return count, found


# --- the report -----------------------------------------------------------------------------

CHECKS: dict[str, Callable[[AuditContext, str], Found]] = {
    "duplicate": check_duplicate,
    "not_poor": check_not_poor,
    "not_enrolled": check_not_enrolled,
    "over_age": check_over_age,
    "shared_account": check_shared_account,
    "no_evidence": check_no_evidence,
    "over_budget": check_over_budget,
    "unsettled_adjustment": check_unsettled_adjustment,
}


def _book(county_code: str, school_year: int) -> RuleBook | None:
    """Return the newest rule book of the county's year (for its labels and transition)."""
    version = (
        RuleBookVersion.objects.filter(county_code=county_code, school_year=school_year)
        .order_by("-version")
        .first()
    )
    if version is None:
        return None
    try:
        return load_rulebook(version.source, source=f"{school_year} v{version.version}")
    except RuleBookError:
        return None


def audit_report(*, county_code: str, school_year: int) -> AuditReport:
    """Run every check for a county and school year and return the report.

    The caller has checked that the acting user may read the county's audit.
    """
    ctx = AuditContext(county_code, school_year, _book(county_code, school_year))
    counts: list[KindCount] = []
    anomalies: list[Anomaly] = []
    for kind in KINDS:
        check = CHECKS.get(kind.key)
        if kind.state != State.CHECKED or check is None:
            counts.append(KindCount(kind, None))
            continue
        count, found = check(ctx, kind.severity)
        counts.append(KindCount(kind, count, len(found)))
        anomalies += found
    name = Area.objects.filter(code=county_code).values_list("name", flat=True).first()
    return AuditReport(
        county_code=county_code,
        county_name=name or county_code,
        school_year=school_year,
        counts=counts,
        anomalies=anomalies,
        sections=sections(county_code, school_year),
        made_at=timezone.now(),
    )
