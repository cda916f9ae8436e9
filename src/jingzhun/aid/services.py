"""Writes of student aid: rule books, computing entitlements, review, notice, approval, payment.

Every state change is a guarded update (`UPDATE ... WHERE review = ...`) made by a
service that checks the actor's capability and jurisdiction and writes an audit
event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import CharField, Exists, Max, OuterRef, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.aid import compute
from jingzhun.aid.evaluate import Profile
from jingzhun.aid.models import (
    Adjustment,
    AidComputation,
    AidNotice,
    Entitlement,
    Loan,
    NoticeObjection,
    RuleBookVersion,
)
from jingzhun.aid.rulebook import RuleBook, RuleBookError, load_rulebook, shipped_source
from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.db import serialise
from jingzhun.core.money import to_yuan
from jingzhun.core.scoping import get_object_for_user, scope_queryset
from jingzhun.core.workdays import add_working_days
from jingzhun.funds import services as funds
from jingzhun.funds.models import Payment, PaymentBatch
from jingzhun.identification.models import IdentificationRun, Link
from jingzhun.registry.models import Household, Person
from jingzhun.schools.models import School, SchoolClass, Student

SOURCE = "aid.entitlement:"


def _require(actor: Any, capability: str, *, level: str | None = None) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.can(capability):
        raise PermissionDenied
    if level is not None and actor.scope.level != level:
        raise PermissionDenied


def _check_semester(semester: str) -> None:
    if semester not in ("autumn", "spring"):
        raise ValidationError(_("The semester is autumn or spring."))


def _serialise_aid(county_code: str) -> None:
    """Make the county's aid writes (computations, rule book versions) run one at a time.

    Called first in the transaction: of two at once, the second waits, then reads what the
    first wrote (its rule book version, its entitlements) and has nothing left to do.
    """
    serialise("aid", county_code)


# --- rule books -----------------------------------------------------------------------------


def rulebook_latest(county_code: str, school_year: int) -> RuleBookVersion | None:
    """Return the newest version of a county's rule book for a school year."""
    return (
        RuleBookVersion.objects.filter(county_code=county_code, school_year=school_year)
        .order_by("-version")
        .first()
    )


def book_of(version: RuleBookVersion) -> RuleBook:
    """Return the checked rule book of a stored version."""
    book = load_rulebook(version.source, source=f"{version.school_year} v{version.version}")
    book.version = version.version
    return book


def _save_version(
    *,
    actor: Any,
    county_code: str,
    school_year: int,
    source: str,
    reason: str,
    confirmed: bool | None = None,
) -> RuleBookVersion:
    """Store a checked rule book as the year's next version.

    ``confirmed`` None keeps the state of the year's book: an edit of a book still "to
    confirm" is itself to confirm.
    """
    book = load_rulebook(source, source=f"{school_year}")  # RuleBookError names the lines
    if book.school_year != school_year:
        raise RuleBookError(
            [(str(school_year), 1, _("the rule book is for %(y)s") % {"y": book.school_year})]
        )
    last = rulebook_latest(county_code, school_year)
    if last is not None and last.source == source:
        raise ValidationError(_("The rule book is unchanged; no new version was made."))
    number = (
        RuleBookVersion.objects.filter(county_code=county_code, school_year=school_year).aggregate(
            m=Max("version")
        )["m"]
        or 0
    ) + 1
    if confirmed is None:
        confirmed = last is None or last.confirmed
    version = RuleBookVersion(
        county_code=county_code,
        school_year=school_year,
        version=number,
        source=source,
        reason=reason[:300],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        confirmed=confirmed,
    )
    version.full_clean()
    version.save()
    audit_record(
        actor=actor,
        action="aid.rulebook_version",
        target=version,
        actor_name="" if getattr(actor, "is_authenticated", False) else "cli",
        data={
            "school_year": school_year,
            "version": number,
            "reason": reason[:300],
            "confirmed": confirmed,
        },
    )
    return version


@transaction.atomic
def rulebook_save(*, actor: Any, school_year: int, source: str, reason: str) -> RuleBookVersion:
    """Store an edited rule book as a new version, with who and why; it is checked first."""
    _require(actor, P.AID_MANAGE, level="county")
    if not reason.strip():
        raise ValidationError(_("Say why the rule book changes."))
    _serialise_aid(actor.scope.county_code)
    return _save_version(
        actor=actor,
        county_code=actor.scope.county_code,
        school_year=school_year,
        source=source,
        reason=reason,
    )


_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_SPAN = re.compile(r"\b(\d{4})([-–])(\d{4})\b")
_BARE_YEAR = re.compile(r"(?<![\d.\-–])(20\d{2})(?![\d\-–]|\.\d)")


def _shift_date(match: re.Match[str], years: int) -> str:
    year, month, day = int(match.group(1)) + years, int(match.group(2)), int(match.group(3))
    if (month, day) == (2, 29) and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        day = 28  # a leap day moved to a common year
    return f"{year:04d}-{month:02d}-{day:02d}"


def _shift_year(source: str, from_year: int, to_year: int | None = None) -> str:
    """Return a rule book's text moved from one school year to another.

    Every date (validity intervals), the ``school_year`` key, school-year spans such as
    2018-2019 and the years named in comments move by the same number of years; amounts and
    every other number stay as they were.
    """
    years = (from_year + 1 if to_year is None else to_year) - from_year

    def span(match: re.Match[str]) -> str:
        a, b = int(match.group(1)), int(match.group(3))
        if b != a + 1:
            return match.group(0)
        return f"{a + years}{match.group(2)}{b + years}"

    def comment(text: str) -> str:
        return _BARE_YEAR.sub(lambda m: str(int(m.group(1)) + years), text)

    lines = []
    for line in source.splitlines(keepends=True):
        line = _DATE.sub(lambda m: _shift_date(m, years), line)
        line = _SPAN.sub(span, line)
        code, hash_, rest = line.partition("#")
        if hash_:
            line = code + hash_ + comment(rest)
        lines.append(line)
    return re.sub(
        rf"^school_year:\s*{from_year}\b",
        f"school_year: {from_year + years}",
        "".join(lines),
        flags=re.M,
    )


@dataclass(frozen=True)
class CarrySource:
    """What a carried-forward rule book would be copied from."""

    school_year: int  # the year copied from
    label: str  # "2018 v2" (an installed version) or "2018" (the packaged book)
    source: str  # the text, already moved to the new year


def _shipped_years() -> list[int]:
    folder = resources.files("jingzhun.aid") / "rules"
    return sorted(
        int(p.name[:4])
        for p in folder.iterdir()
        if p.name.endswith(".yaml") and p.name[:4].isdigit()
    )


def rulebook_carry_source(county_code: str, school_year: int) -> CarrySource | None:
    """Return what a carry-forward to *school_year* copies: the latest earlier year's book.

    An installed version (the newest of the latest earlier year) is preferred to a packaged
    book of a later or the same year; None when there is nothing earlier.
    """
    installed = (
        RuleBookVersion.objects.filter(county_code=county_code, school_year__lt=school_year)
        .order_by("-school_year", "-version")
        .first()
    )
    shipped = [y for y in _shipped_years() if y < school_year]
    if installed is not None and (not shipped or installed.school_year >= shipped[-1]):
        return CarrySource(
            installed.school_year,
            f"{installed.school_year} v{installed.version}",
            _shift_year(installed.source, installed.school_year, school_year),
        )
    if not shipped:
        return None
    year = shipped[-1]
    return CarrySource(year, str(year), _shift_year(shipped_source(year), year, school_year))


def rulebook_is_confirmed(county_code: str, school_year: int) -> bool | None:
    """Return whether the year's rule book is confirmed (None when there is none installed)."""
    latest = rulebook_latest(county_code, school_year)
    return None if latest is None else latest.confirmed


def _carry(
    *, actor: Any, county_code: str, school_year: int, carried: CarrySource
) -> RuleBookVersion:
    version = _save_version(
        actor=actor,
        county_code=county_code,
        school_year=school_year,
        source=carried.source,
        reason=_("copied from %(book)s, to confirm") % {"book": carried.label},
        confirmed=False,
    )
    audit_record(
        actor=actor,
        action="aid.rulebook_carry_forward",
        target=version,
        actor_name="" if getattr(actor, "is_authenticated", False) else "cli",
        data={"school_year": school_year, "from": carried.label},
    )
    return version


@transaction.atomic
def rulebook_carry_forward(*, actor: Any, school_year: int) -> RuleBookVersion:
    """Start a year's rule book as a copy of the latest earlier year's, marked "to confirm".

    Dates and years in the copy move by the years between the two books; amounts stay. A year
    that has a book already returns its newest version unchanged (a second call changes
    nothing). Without any earlier book this is a ValidationError.
    """
    _require(actor, P.AID_MANAGE, level="county")
    county = actor.scope.county_code
    _serialise_aid(county)
    existing = rulebook_latest(county, school_year)
    if existing is not None:
        return existing
    carried = rulebook_carry_source(county, school_year)
    if carried is None:
        raise ValidationError(
            _("There is no earlier rule book to start %(y)s from.") % {"y": school_year}
        )
    return _carry(actor=actor, county_code=county, school_year=school_year, carried=carried)


@dataclass(frozen=True)
class ConfirmResult:
    version: RuleBookVersion
    already: bool  # it was confirmed before this call; nothing changed


@transaction.atomic
def rulebook_confirm(*, actor: Any, school_year: int) -> ConfirmResult:
    """Confirm the year's newest rule book version: from now on its year may be paid.

    Confirming a book confirmed already changes nothing and says so (``already``).
    """
    _require(actor, P.AID_MANAGE, level="county")
    county = actor.scope.county_code
    latest = rulebook_latest(county, school_year)
    if latest is None:
        raise ValidationError(_("There is no rule book for %(y)s to confirm.") % {"y": school_year})
    if latest.confirmed:
        return ConfirmResult(latest, already=True)
    now = timezone.now()
    updated = RuleBookVersion.objects.filter(pk=latest.pk, confirmed=False).update(
        confirmed=True, confirmed_by=actor, confirmed_at=now
    )
    latest.refresh_from_db()
    if updated != 1:
        return ConfirmResult(latest, already=True)
    audit_record(
        actor=actor,
        action="aid.rulebook_confirm",
        target=latest,
        data={"school_year": school_year, "version": latest.version},
    )
    return ConfirmResult(latest, already=False)


@transaction.atomic
def rulebook_install(*, actor: Any, county_code: str, school_year: int) -> RuleBookVersion:
    """Return the county's rule book for a year, creating version 1 if there is none.

    Version 1 is the book shipped for that year (confirmed), else a copy of the previous
    year's latest version moved one year on (amounts unchanged), marked "to confirm".
    """
    if actor is not None:
        _require(actor, P.AID_MANAGE, level="county")
    _serialise_aid(county_code)
    existing = rulebook_latest(county_code, school_year)
    if existing is not None:
        return existing
    try:
        source = shipped_source(school_year)
    except KeyError:
        carried = rulebook_carry_source(county_code, school_year)
        if carried is None or carried.school_year != school_year - 1:
            raise ValidationError(
                _("There is no rule book for %(y)s or the year before.") % {"y": school_year}
            ) from None
        return _carry(
            actor=actor, county_code=county_code, school_year=school_year, carried=carried
        )
    return _save_version(
        actor=actor,
        county_code=county_code,
        school_year=school_year,
        source=source,
        reason=_("as shipped for this school year"),
    )


# --- computing ------------------------------------------------------------------------------


@dataclass
class ComputeResult:
    computation: AidComputation | None
    counts: dict[str, int]
    adjustments: list[Adjustment] = field(default_factory=list)

    @property
    def already_done(self) -> bool:
        """Whether the entitlements were already up to date: nothing was written."""
        return self.computation is None


def aid_compute(
    *,
    actor: Any,
    county_code: str,
    school_year: int,
    semester: str,
    progress: Callable[..., None] | None = None,
) -> ComputeResult:
    """Compute every entitlement of a semester and store the differences.

    A rerun with nothing changed writes nothing (and keeps no computation record); after a
    data or rule change only the differences are written, each with an Adjustment.
    Computations of one county run one at a time: of two started at once, the second waits
    for the first, finds the entitlements up to date and returns no computation (already
    done; ``ComputeResult.already_done``).
    """
    if actor is not None:
        _require(actor, P.AID_MANAGE, level="county")
        if actor.scope.county_code != county_code:
            raise PermissionDenied
    _check_semester(semester)
    with transaction.atomic():
        _serialise_aid(county_code)
        version = rulebook_install(actor=None, county_code=county_code, school_year=school_year)
        book = book_of(version)
        changes = compute.compute_changes(
            book, county_code=county_code, semester=semester, progress=progress
        )
        if changes.empty:
            audit_record(
                actor=actor,
                action="aid.compute",
                object_type="aid.aidcomputation",
                actor_name="" if actor else "cli",
                data={"school_year": school_year, "semester": semester, "counts": changes.counts},
            )
            return ComputeResult(None, changes.counts)
        run = (
            IdentificationRun.objects.filter(county_code=county_code, status="done")
            .order_by("-id")
            .values_list("pk", flat=True)
            .first()
        )
        computation = AidComputation.objects.create(
            county_code=county_code,
            school_year=school_year,
            semester=semester,
            rule_book=version,
            identification_run_id=run,
            started_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        compute.write_changes(
            changes,
            school_year=school_year,
            semester=semester,
            rule_book_id=version.pk,
            computation_id=computation.pk,
            progress=progress,
        )
        computation.status = AidComputation.Status.DONE
        computation.counts = changes.counts
        computation.finished_at = timezone.now()
        computation.save(update_fields=["status", "counts", "finished_at"])
        audit_record(
            actor=actor,
            action="aid.compute",
            target=computation,
            actor_name="" if actor else "cli",
            data={"school_year": school_year, "semester": semester, "counts": changes.counts},
        )
    adjustments = list(
        Adjustment.objects.filter(computation=computation).select_related("entitlement")[:1000]
    )
    return ComputeResult(computation, changes.counts, adjustments)


# --- review ---------------------------------------------------------------------------------


def _move(queryset: QuerySet[Entitlement], *, frm: Iterable[str], to: str, **fields: Any) -> int:
    return queryset.filter(review__in=list(frm)).update(review=to, **fields)


@transaction.atomic
def entitlement_class_check(
    *, actor: Any, school_class_id: int, school_year: int, semester: str
) -> int:
    """Mark a class's pending entitlements as checked by the class; return how many."""
    _require(actor, P.AID_CLASS_REVIEW)
    _check_semester(semester)
    school_class = get_object_for_user(SchoolClass.objects.all(), actor, pk=school_class_id)
    rows = scope_queryset(Entitlement.objects.all(), actor).filter(
        school_class=school_class, school_year=school_year, semester=semester
    )
    count = _move(
        rows,
        frm=[Entitlement.Review.PENDING],
        to=Entitlement.Review.CLASS_CHECKED,
        reviewed_by=actor,
    )
    audit_record(
        actor=actor,
        action="aid.class_check",
        target=school_class,
        data={"school_year": school_year, "semester": semester, "count": count},
    )
    return count


@transaction.atomic
def entitlement_school_review(
    *,
    actor: Any,
    school_id: int,
    school_year: int,
    semester: str,
    exclude: dict[int, str] | None = None,
) -> dict[str, int]:
    """Confirm the school's class-checked entitlements, excluding some students with a reason.

    `exclude` maps student id to the reason; every entitlement of an excluded student in the
    semester is excluded. A missing reason is refused and nothing changes.
    """
    _require(actor, P.AID_SCHOOL_REVIEW)
    _check_semester(semester)
    school = get_object_for_user(School.objects.all(), actor, pk=school_id)
    exclude = exclude or {}
    blank = [sid for sid, reason in exclude.items() if not reason.strip()]
    if blank:
        raise ValidationError(_("Give a reason for every excluded student."))
    rows = scope_queryset(Entitlement.objects.all(), actor).filter(
        school=school, school_year=school_year, semester=semester
    )
    before = (
        Entitlement.Review.PENDING,
        Entitlement.Review.CLASS_CHECKED,
        Entitlement.Review.CONFIRMED,
    )
    excluded = 0
    for student_id, reason in exclude.items():
        excluded += _move(
            rows.filter(student_id=student_id),
            frm=before,
            to=Entitlement.Review.EXCLUDED,
            review_reason=reason.strip()[:200],
            reviewed_by=actor,
        )
    confirmed = _move(
        rows.exclude(student_id__in=list(exclude)),
        frm=[Entitlement.Review.CLASS_CHECKED],
        to=Entitlement.Review.CONFIRMED,
        reviewed_by=actor,
    )
    waiting = rows.filter(review=Entitlement.Review.PENDING).count()
    counts = {"confirmed": confirmed, "excluded": excluded, "awaiting_class": waiting}
    audit_record(
        actor=actor,
        action="aid.school_review",
        target=school,
        data={
            "school_year": school_year,
            "semester": semester,
            **counts,
            "excluded_students": {str(k): v for k, v in exclude.items()},
        },
    )
    return counts


@transaction.atomic
def notice_post(
    *, actor: Any, school_id: int, school_year: int, semester: str, starts_on: dt.date | None = None
) -> AidNotice:
    """Put the school's confirmed entitlements on public notice for the required working days."""
    _require(actor, P.AID_SCHOOL_REVIEW)
    _check_semester(semester)
    school = get_object_for_user(School.objects.all(), actor, pk=school_id)
    starts_on = starts_on or timezone.localdate()
    rows = scope_queryset(Entitlement.objects.all(), actor).filter(
        school=school,
        school_year=school_year,
        semester=semester,
        review=Entitlement.Review.CONFIRMED,
    )
    if not rows.exists():
        raise ValidationError(_("Nothing to put on notice: no confirmed entitlement."))
    notice = AidNotice.objects.create(
        school=school,
        school_year=school_year,
        semester=semester,
        starts_on=starts_on,
        ends_on=add_working_days(starts_on, settings.AID_NOTICE_WORKING_DAYS),
        posted_by=actor,
    )
    count = _move(
        rows, frm=[Entitlement.Review.CONFIRMED], to=Entitlement.Review.NOTICED, notice=notice
    )
    audit_record(
        actor=actor,
        action="aid.notice_post",
        target=notice,
        data={"count": count, "starts_on": starts_on, "ends_on": notice.ends_on},
    )
    return notice


@transaction.atomic
def objection_record(
    *, actor: Any, notice_id: int, text: str, student_id: int | None = None
) -> NoticeObjection:
    """Record an objection raised during a notice (by the school or the aid centre)."""
    if not (actor.can(P.AID_SCHOOL_REVIEW) or actor.can(P.AID_MANAGE)):
        raise PermissionDenied
    notice = get_object_for_user(AidNotice.objects.all(), actor, pk=notice_id)
    if notice.status != AidNotice.Status.POSTED:
        raise ValidationError(_("The notice is closed; objections can no longer be recorded."))
    student = None
    if student_id is not None:
        if not notice.entitlements.filter(student_id=student_id).exists():
            raise ValidationError(_("That student is not on this notice."))
        student = Student.objects.get(pk=student_id)
    objection = NoticeObjection(
        notice=notice, student=student, text=text.strip(), recorded_by=actor, school=notice.school
    )
    objection.full_clean()
    objection.save()
    audit_record(
        actor=actor,
        action="aid.objection",
        target=objection,
        data={"notice": notice.pk, "student": student_id},
    )
    return objection


@transaction.atomic
def objection_resolve(*, actor: Any, objection_id: int, upheld: bool, note: str) -> NoticeObjection:
    """Resolve an objection; when upheld, the student's entitlements on the notice are excluded."""
    _require(actor, P.AID_MANAGE, level="county")
    objection = get_object_for_user(NoticeObjection.objects.all(), actor, pk=objection_id)
    if not note.strip():
        raise ValidationError(_("Say how the objection was resolved."))
    updated = NoticeObjection.objects.filter(
        pk=objection.pk, resolution=NoticeObjection.Resolution.OPEN
    ).update(
        resolution=NoticeObjection.Resolution.UPHELD
        if upheld
        else NoticeObjection.Resolution.DISMISSED,
        resolution_note=note.strip()[:300],
        resolved_by=actor,
        resolved_at=timezone.now(),
    )
    if updated != 1:
        raise ValidationError(_("This objection was already resolved."))
    if upheld and objection.student_id is not None:
        _move(
            Entitlement.objects.filter(notice=objection.notice, student_id=objection.student_id),
            frm=[Entitlement.Review.NOTICED],
            to=Entitlement.Review.EXCLUDED,
            review_reason=(_("objection upheld: %(note)s") % {"note": note.strip()})[:200],
            reviewed_by=actor,
        )
    objection.refresh_from_db()
    audit_record(
        actor=actor,
        action="aid.objection_resolve",
        target=objection,
        data={"upheld": upheld, "note": note[:300]},
    )
    return objection


@transaction.atomic
def notice_approve(*, actor: Any, notice_id: int, today: dt.date | None = None) -> AidNotice:
    """County approval of a notice once its period is over and no objection is open."""
    _require(actor, P.AID_MANAGE, level="county")
    notice = get_object_for_user(AidNotice.objects.all(), actor, pk=notice_id)
    today = today or timezone.localdate()
    if today <= notice.ends_on:
        raise ValidationError(
            _("The notice runs until %(date)s; it can be approved from the next day.")
            % {"date": notice.ends_on.isoformat()}
        )
    if notice.objections.filter(resolution=NoticeObjection.Resolution.OPEN).exists():
        raise ValidationError(_("Resolve the open objections first."))
    updated = AidNotice.objects.filter(pk=notice.pk, status=AidNotice.Status.POSTED).update(
        status=AidNotice.Status.APPROVED, approved_by=actor, approved_at=timezone.now()
    )
    if updated != 1:
        raise ValidationError(_("This notice was already approved."))
    count = _move(
        Entitlement.objects.filter(notice=notice),
        frm=[Entitlement.Review.NOTICED],
        to=Entitlement.Review.APPROVED,
    )
    notice.refresh_from_db()
    audit_record(actor=actor, action="aid.notice_approve", target=notice, data={"count": count})
    return notice


# --- loans ----------------------------------------------------------------------------------


@transaction.atomic
def loan_record(
    *,
    actor: Any,
    student_id: int,
    school_year: int,
    bank: str,
    amount: Decimal,
    term_years: int,
) -> Loan:
    """Record a student-origin loan; the amount must lie in the rule book's range for the degree."""
    _require(actor, P.AID_MANAGE, level="county")
    entitlement_student = get_object_for_user(Student.objects.all(), actor, pk=student_id)
    enrolment = (
        entitlement_student.enrolments.filter(school_year=school_year, stage="university")
        .select_related("school")
        .first()
    )
    person_id = (
        Link.objects.filter(student=entitlement_student).values_list("person_id", flat=True).first()
    )
    if enrolment is None or person_id is None:
        raise ValidationError(
            _("The student is not an identified university student in that year.")
        )
    version = rulebook_install(
        actor=None, county_code=actor.scope.county_code, school_year=school_year
    )
    book = book_of(version)
    degree = Profile(
        stage=enrolment.stage, grade=enrolment.grade, degree=enrolment.degree
    ).rule_degree
    rule = next(
        (r for r in book.rules if r.kind == "loan" and r.when.degree and degree in r.when.degree),
        None,
    )
    if rule is None:
        raise ValidationError(_("The rule book has no loan rule for this degree."))
    amount = to_yuan(amount)
    low = rule.minimum or Decimal("0.00")
    if not low <= amount <= rule.amount:
        raise ValidationError(
            {
                "amount": _(
                    "A %(degree)s loan is %(low)s to %(high)s yuan a year (rule %(rule)s, clause %(clause)s)."
                )
                % {
                    "degree": degree,
                    "low": low,
                    "high": rule.amount,
                    "rule": rule.id,
                    "clause": rule.clause,
                }
            }
        )
    household = Household.objects.select_related("village").get(members=person_id)
    loan = Loan(
        student=entitlement_student,
        person_id=person_id,
        school_year=school_year,
        degree=degree,
        bank=bank.strip(),
        amount=amount,
        term_years=term_years,
        rule_book=version,
        rule_id=rule.id,
        recorded_by=actor,
        school=enrolment.school,
        village_code=household.village.code,
    )
    loan.full_clean()
    loan.save()
    audit_record(
        actor=actor, action="aid.loan", target=loan, data={"amount": str(amount), "bank": loan.bank}
    )
    return loan


# --- payment --------------------------------------------------------------------------------


def payable(county_code: str, school_year: int, semester: str) -> QuerySet[Entitlement]:
    """Return approved cash entitlements of a semester that have no live payment."""
    # A correlated subquery on the payment's source, so no list of ids travels through Python.
    live = Payment.objects.filter(
        source=Concat(Value(SOURCE), Cast(OuterRef("pk"), CharField()))
    ).exclude(status=Payment.Status.FAILED)
    return (
        Entitlement.objects.filter(
            school_year=school_year,
            semester=semester,
            village_code__startswith=county_code,
            review=Entitlement.Review.APPROVED,
            kind="cash",
        )
        .exclude(Exists(live))
        .select_related("person__household", "student")
        .order_by("school_id", "student_id", "programme")
    )


def aid_batch_create(
    *, actor: Any, school_year: int, semester: str, idempotency_key: str
) -> PaymentBatch:
    """Make a payment batch of every approved, unpaid cash entitlement of the semester.

    A student whose household has no benefits card is listed in the batch's gaps, not dropped.
    """
    return aid_batch_make(
        actor=actor, school_year=school_year, semester=semester, idempotency_key=idempotency_key
    ).batch


@transaction.atomic
def aid_batch_make(
    *, actor: Any, school_year: int, semester: str, idempotency_key: str
) -> funds.BatchMade:
    """Make the semester's payment batch; say whether this call made it or found it made.

    The county's creations run one at a time, from before the unpaid entitlements are read:
    of two at once, the second gets the first's batch (same key) or a ValidationError with
    code "already_done" (another key: nothing is left to pay).
    """
    _require(actor, P.PAY, level="county")
    county = actor.scope.county_code
    funds.serialise_batches(county)
    existing = PaymentBatch.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.county_code != county:
            raise PermissionDenied
        return funds.BatchMade(existing, created=False)
    if rulebook_is_confirmed(county, school_year) is False:
        raise ValidationError(
            _(
                "The rule book for %(year)s is still to confirm: it was copied from an earlier "
                "year. Check it and confirm it on the rule book page before paying."
            )
            % {"year": f"{school_year}–{school_year + 1}"}
        )
    lines: list[funds.PaymentLine] = []
    gaps: list[dict[str, Any]] = []
    due = list(payable(county, school_year, semester))
    # The benefits card is in the household head's name.
    heads = dict(
        Person.objects.filter(
            household_id__in={e.person.household_id for e in due}, relation__in=["户主", "本人"]
        )
        .order_by("household_id", "id")
        .values_list("household_id", "name")
    )
    for e in due:
        household = e.person.household
        if household.bank_cipher is None:
            gaps.append(
                {
                    "entitlement": e.pk,
                    "student": e.student_id,
                    "school": e.school_id,
                    "programme": e.programme,
                    "amount": str(e.amount),
                    "reason": "no_bank_card",
                }
            )
            continue
        head = heads.get(household.pk)
        lines.append(
            funds.PaymentLine(
                source=f"{SOURCE}{e.pk}",
                programme=e.programme,
                amount=e.amount,
                payee_name=head or e.person.guardian_name or e.person.name,
                beneficiary=e.student.name,
                bank_name=household.bank_name,
                account_cipher=bytes(household.bank_cipher),
                account_key=household.bank_key or 0,
                account_index=household.bank_index or "",
                account_masked=household.bank_masked,
                school_id=e.school_id,
                village_code=e.village_code,
            )
        )
    return funds.payment_batch_make(
        actor=actor,
        purpose="aid",
        school_year=school_year,
        semester=semester,
        idempotency_key=idempotency_key,
        lines=lines,
        gaps=gaps,
    )
