"""Writes on teachers, their service history, training and exchanges (the roster by import).

Each write checks that the actor may edit schools and that the teacher (and every school it
names) lies in the actor's jurisdiction, validates the row, saves it and records it in the
audit log, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core import normalize, permissions
from jingzhun.core.audit import audit_record
from jingzhun.core.bulk import insert_rows
from jingzhun.core.db import serialise
from jingzhun.core.scoping import scope_queryset
from jingzhun.core.sensitive import seal
from jingzhun.funds import services as funds
from jingzhun.funds.models import Payment, PaymentBatch
from jingzhun.schools.models import School
from jingzhun.teachers import allowance
from jingzhun.teachers.models import (
    AllowanceLine,
    AllowanceRuleBook,
    Exchange,
    ServicePeriod,
    Teacher,
    Training,
)


def _check_may_edit(actor: Any, *records: models.Model) -> None:
    """Refuse an actor who may not edit schools, or a record outside their jurisdiction."""
    if not permissions.user_can(actor, permissions.EDIT_SCHOOLS):
        raise PermissionDenied(_("You may not edit teachers."))
    for record in records:
        model = type(record)
        if not scope_queryset(model._default_manager.filter(pk=record.pk), actor).exists():
            raise PermissionDenied(_("This record is outside your jurisdiction."))


@transaction.atomic
def teacher_create(
    *,
    actor: Any,
    name: str,
    id_number: str,
    school: School,
    post: str = Teacher.Post.TEACHER,
    subject: str = "",
    title: str = Teacher.Title.NONE,
    staffing: str = "",
    started_on: dt.date | None = None,
    backbone: bool = False,
) -> Teacher:
    """Add one teacher to a school's roster; the ID is checked, sealed and keyed."""
    _check_may_edit(actor, school)
    try:
        plain = normalize.check_id_number(id_number)
    except ValueError as exc:
        raise ValidationError({"id_number": _("Not a valid resident ID number.")}) from exc
    sealed = seal(plain, prefix="id", purpose="id")
    if Teacher.objects.filter(id_index=sealed["id_index"]).exists():
        raise ValidationError({"id_number": _("A teacher with this ID number is on the roster.")})
    (birth,) = normalize.id_birth_dates([plain]).to_pylist()
    (sex,) = normalize.id_sex([plain]).to_pylist()
    county = school.township.code[:6] if school.township is not None else ""
    teacher = Teacher(
        name=name,
        school=school,
        post=post,
        subject=subject,
        title=title,
        staffing=staffing,
        started_on=started_on,
        backbone=backbone,
        birth_date=birth,
        sex=sex or "",
        county_code=county,
        **sealed,
    )
    teacher.full_clean()
    teacher.save()
    audit_record(
        actor=actor,
        action="teacher.create",
        target=teacher,
        data={"school": school.code, "post": post, "title": title},
    )
    return teacher


@transaction.atomic
def teacher_leave(*, actor: Any, teacher: Teacher, left_on: dt.date) -> Teacher:
    """Record that a teacher left the school (retired, moved away, resigned) on a date."""
    _check_may_edit(actor, teacher)
    if teacher.started_on is not None and left_on < teacher.started_on:
        raise ValidationError({"left_on": _("A teacher cannot leave before they started.")})
    before = teacher.left_on
    teacher.left_on = left_on
    teacher.full_clean()
    teacher.save(update_fields=["left_on"])
    audit_record(
        actor=actor,
        action="teacher.leave",
        target=teacher,
        data={"left_on": [before, left_on]},
    )
    return teacher


@transaction.atomic
def service_period_create(
    *,
    actor: Any,
    teacher: Teacher,
    kind: str,
    started_on: dt.date,
    ended_on: dt.date | None = None,
    school: School | None = None,
    place: str = "",
) -> ServicePeriod:
    """Record a stretch of a teacher's service at a school (or a place named in words)."""
    _check_may_edit(actor, teacher)
    period = ServicePeriod(
        teacher=teacher,
        kind=kind,
        started_on=started_on,
        ended_on=ended_on,
        school=school,
        place=place,
    )
    period.full_clean()
    if ended_on is not None and ended_on < started_on:
        raise ValidationError({"ended_on": _("The end is before the start.")})
    overlapping = teacher.service_periods.filter(
        models.Q(ended_on__isnull=True) | models.Q(ended_on__gt=started_on)
    )
    if ended_on is not None:
        overlapping = overlapping.filter(started_on__lt=ended_on)
    if overlapping.exists():
        raise ValidationError(_("This period overlaps one already recorded for the teacher."))
    period.save()
    audit_record(
        actor=actor,
        action="service_period.create",
        target=period,
        data={
            "teacher": teacher.pk,
            "kind": kind,
            "school": school.code if school else "",
            "place": place,
            "from": started_on,
            "until": ended_on,
        },
    )
    return period


@transaction.atomic
def training_create(
    *,
    actor: Any,
    teacher: Teacher,
    programme: str,
    level: str,
    started_on: dt.date,
    ended_on: dt.date,
    hours: int = 0,
) -> Training:
    """Record one teacher's attendance of a training programme (one person-time)."""
    _check_may_edit(actor, teacher)
    if ended_on < started_on:
        raise ValidationError({"ended_on": _("The end is before the start.")})
    training = Training(
        teacher=teacher,
        programme=programme,
        level=level,
        started_on=started_on,
        ended_on=ended_on,
        hours=hours,
    )
    training.full_clean()
    training.save()
    audit_record(
        actor=actor,
        action="training.create",
        target=training,
        data={"teacher": teacher.pk, "programme": programme, "level": level, "from": started_on},
    )
    return training


@transaction.atomic
def exchange_create(
    *,
    actor: Any,
    teacher: Teacher,
    to_school: School,
    started_on: dt.date,
    ended_on: dt.date | None = None,
    from_school: School | None = None,
) -> Exchange:
    """Send a teacher from their school (or `from_school`) to teach at a poor-village school."""
    source = from_school or teacher.school
    _check_may_edit(actor, teacher, to_school)
    if not to_school.in_poor_village:
        raise ValidationError({"to_school": _("Exchanges go to schools in poor villages.")})
    if source.pk == to_school.pk:
        raise ValidationError({"to_school": _("A teacher is exchanged to another school.")})
    if ended_on is not None and ended_on < started_on:
        raise ValidationError({"ended_on": _("The end is before the start.")})
    running = teacher.exchanges.filter(
        models.Q(ended_on__isnull=True) | models.Q(ended_on__gte=started_on)
    )
    if ended_on is not None:
        running = running.filter(started_on__lte=ended_on)
    if running.exists():
        raise ValidationError(_("The teacher is on another exchange at that time."))
    exchange = Exchange(
        teacher=teacher,
        from_school=source,
        to_school=to_school,
        started_on=started_on,
        ended_on=ended_on,
    )
    exchange.full_clean()
    exchange.save()
    audit_record(
        actor=actor,
        action="exchange.create",
        target=exchange,
        data={
            "teacher": teacher.pk,
            "from": source.code,
            "to": to_school.code,
            "started_on": started_on,
            "ended_on": ended_on,
        },
    )
    return exchange


@transaction.atomic
def exchange_end(*, actor: Any, exchange: Exchange, ended_on: dt.date) -> Exchange:
    """End a running exchange on a date (the teacher returns to their school)."""
    _check_may_edit(actor, exchange)
    if ended_on < exchange.started_on:
        raise ValidationError({"ended_on": _("The end is before the start.")})
    before = exchange.ended_on
    exchange.ended_on = ended_on
    exchange.full_clean()
    exchange.save(update_fields=["ended_on"])
    audit_record(
        actor=actor,
        action="exchange.end",
        target=exchange,
        data={"ended_on": [before, ended_on]},
    )
    return exchange


# --------------------------------------------------------------------------- allowance (II.3.4)

ALLOWANCE_PROGRAMME = "rural_teacher_allowance"
ALLOWANCE_SOURCE = "teachers.allowance:"  # a payment's source: one per allowance line


def _require_capability(actor: Any, capability: str, *, level: str | None = None) -> None:
    if not permissions.user_can(actor, capability):
        raise PermissionDenied(_("You may not do this."))
    if level is not None and actor.scope.level != level:
        raise PermissionDenied(_("This is done by the county."))


@transaction.atomic
def allowance_book_install(*, actor: Any | None, path: Path | None = None) -> AllowanceRuleBook:
    """Install a rule book file as a new version (the shipped one by default); installing the
    same version again returns it unchanged, another file under a used version is refused."""
    if actor is not None:
        _require_capability(actor, permissions.AID_MANAGE, level="county")
    book, data = allowance.load_book(path or allowance.BOOK)
    existing = AllowanceRuleBook.objects.filter(version=book.version).first()
    if existing is not None:
        if existing.data != data:
            raise ValidationError(
                _("Version %(v)d is installed with other rules: give the new rules a new version.")
                % {"v": book.version}
            )
        return existing
    installed = AllowanceRuleBook.objects.create(
        version=book.version, source=(path or allowance.BOOK).name, data=data
    )
    audit_record(
        actor=actor,
        actor_name="" if actor is not None else "system",
        action="teachers.allowance_book_install",
        target=installed,
        data={"version": book.version},
    )
    return installed


def allowance_book_current() -> tuple[AllowanceRuleBook, allowance.Book] | None:
    """Return the newest installed rule book, parsed (None before one is installed)."""
    row = AllowanceRuleBook.objects.order_by("-version").first()
    if row is None:
        return None
    return row, allowance.parse_book(row.data)


def _place(kind: str, village_id: int | None) -> str:
    if kind == School.Kind.TEACHING_POINT:
        return "teaching_point"
    if kind == School.Kind.PRIMARY and village_id is not None:
        return "village_primary"
    return "other"


def allowance_stays(county_code: str, month: dt.date) -> dict[int, list[allowance.Stay]]:
    """Return each teaching-post teacher's stays over the month, from the roster as of it.

    A teacher's service periods at named schools (a transfer is one period ending and the
    next beginning, ``ended_on`` being the last day there) give the places; a teacher with
    none in the month is at the roster's school from their start date. Nobody is anywhere on
    or after the day they left.
    """
    first, last = allowance.month_bounds(month)
    teachers = list(
        Teacher.objects.filter(county_code=county_code, post__in=Teacher.TEACHING_POSTS)
        .filter(models.Q(started_on__isnull=True) | models.Q(started_on__lte=last))
        .filter(models.Q(left_on__isnull=True) | models.Q(left_on__gt=first))
        .values_list("id", "school_id", "started_on", "left_on")
    )
    schools = {
        pk: (kind, village, name)
        for pk, kind, village, name in School.objects.values_list(
            "id", "kind", "village_id", "name"
        )
    }
    periods: dict[int, list[tuple[int, dt.date, dt.date | None]]] = {}
    for teacher_id, school_id, start, end in (
        ServicePeriod.objects.filter(
            teacher__county_code=county_code, school__isnull=False, started_on__lte=last
        )
        .filter(models.Q(ended_on__isnull=True) | models.Q(ended_on__gte=first))
        .order_by("teacher_id", "started_on", "id")
        .values_list("teacher_id", "school_id", "started_on", "ended_on")
    ):
        periods.setdefault(teacher_id, []).append((school_id, start, end))
    out: dict[int, list[allowance.Stay]] = {}
    for teacher_id, school_id, started_on, left_on in teachers:
        stop = (left_on - dt.timedelta(days=1)) if left_on else dt.date.max
        spans = periods.get(teacher_id) or [(school_id, started_on or first, None)]
        stays = []
        for where, start, end in spans:
            kind, village, name = schools[where]
            stays.append(
                allowance.Stay(
                    place=_place(kind, village),
                    first=start,
                    last=min(end or dt.date.max, stop),
                    school_id=where,
                    school=name,
                )
            )
        out[teacher_id] = stays
    return out


@dataclass
class AllowanceRun:
    month: dt.date
    created: int = 0
    updated: int = 0
    withdrawn: int = 0
    unchanged: int = 0
    frozen: int = 0  # approved lines the rules would now change: left as paid, listed
    amount: Decimal = Decimal("0.00")
    frozen_ids: list[int] = field(default_factory=list)


@transaction.atomic
def allowance_compute(*, actor: Any, month: dt.date, dry_run: bool = False) -> AllowanceRun:
    """Compute the county's allowance lines of a month from the roster as of it.

    With ``dry_run`` nothing is kept: the counts are what a real run would do (the preview
    an officer confirms).

    New lines are written to review; lines not yet approved follow the roster (changed,
    or withdrawn when nothing is due any more) and go back to review; approved lines are
    never changed here: those the rules would now change are counted and listed.
    """
    _require_capability(actor, permissions.AID_MANAGE, level="county")
    county = actor.scope.county_code
    serialise("teachers.allowance", county)
    first, _last = allowance.month_bounds(month)
    current = allowance_book_current()
    if current is None:
        allowance_book_install(actor=None)
        current = allowance_book_current()
    assert current is not None
    book_row, book = current
    run = AllowanceRun(month=first)
    last = allowance.month_bounds(first)[1]
    due: dict[int, tuple[dict[str, Any], str]] = {}
    # Teachers whose month looks the same (the same places, days and schools: most of a
    # school's staff) have the same lines: each such month is explained once.
    explained: dict[tuple[Any, ...], tuple[dict[str, Any], str]] = {}
    for teacher_id, stays in allowance_stays(county, first).items():
        key = tuple(
            (s.place, max(s.first, first), min(s.last, last), s.school_id, s.school)
            for s in stays
            if s.first <= last and s.last >= first
        )
        hit = explained.get(key)
        if hit is None:
            result = allowance.explain(book, stays, first)
            hit = explained[key] = (result, json.dumps(result["lines"], ensure_ascii=False))
        if Decimal(hit[0]["amount"]) > 0:
            due[teacher_id] = hit
    existing = {
        line.teacher_id: line
        for line in AllowanceLine.objects.filter(county_code=county, month=first)
    }
    new: list[tuple[Any, ...]] = []
    changed = []
    for teacher_id, (result, text) in due.items():
        amount = Decimal(result["amount"])
        # The school paid for: where most of the paid days were.
        school_id = max(result["lines"], key=lambda line: line["days"])["school_id"]
        line = existing.get(teacher_id)
        if line is None:
            new.append(
                (
                    teacher_id,
                    first,
                    county,
                    school_id,
                    amount,
                    result["days"],
                    book_row.pk,
                    text,
                    AllowanceLine.Review.PENDING,
                )
            )
            run.amount += amount
            continue
        same = line.amount == amount and line.explanation == result["lines"]
        if line.review == AllowanceLine.Review.APPROVED:
            if not same:
                run.frozen += 1
                run.frozen_ids.append(line.pk)
            else:
                run.unchanged += 1
            continue
        if same and line.review != AllowanceLine.Review.WITHDRAWN:
            run.unchanged += 1
            continue
        line.amount, line.days, line.school_id = amount, result["days"], school_id
        line.explanation, line.rule_book = result["lines"], book_row
        line.review, line.reviewed_by, line.reviewed_at = AllowanceLine.Review.PENDING, None, None
        changed.append(line)
        run.amount += amount
    gone = [
        line
        for teacher_id, line in existing.items()
        if teacher_id not in due
        and line.review in (AllowanceLine.Review.PENDING, AllowanceLine.Review.REVIEWED)
    ]
    for line in gone:
        line.review = AllowanceLine.Review.WITHDRAWN
    frozen_gone = [
        line
        for teacher_id, line in existing.items()
        if teacher_id not in due and line.review == AllowanceLine.Review.APPROVED
    ]
    run.frozen += len(frozen_gone)
    run.frozen_ids += [line.pk for line in frozen_gone]
    insert_rows(
        AllowanceLine._meta.db_table,
        [
            "teacher_id",
            "month",
            "county_code",
            "school_id",
            "amount",
            "days",
            "rule_book_id",
            "explanation",
            "review",
        ],
        new,
    )
    AllowanceLine.objects.bulk_update(
        changed,
        [
            "amount",
            "days",
            "school",
            "explanation",
            "rule_book",
            "review",
            "reviewed_by",
            "reviewed_at",
        ],
        batch_size=2000,
    )
    AllowanceLine.objects.bulk_update(gone, ["review"], batch_size=2000)
    run.created, run.updated, run.withdrawn = len(new), len(changed), len(gone)
    if dry_run:
        transaction.set_rollback(True)
        return run
    audit_record(
        actor=actor,
        action="teachers.allowance_compute",
        target=book_row,
        data={
            "month": first.isoformat(),
            "created": run.created,
            "updated": run.updated,
            "withdrawn": run.withdrawn,
            "unchanged": run.unchanged,
            "frozen": run.frozen,
            "amount": str(run.amount),
        },
    )
    return run


@transaction.atomic
def allowance_review(*, actor: Any, month: dt.date, school_id: int) -> int:
    """The school confirms its lines of a month (those to review); return how many."""
    _require_capability(actor, permissions.AID_SCHOOL_REVIEW)
    school = scope_queryset(School.objects.filter(pk=school_id), actor).first()
    if school is None:
        raise PermissionDenied(_("This record is outside your jurisdiction."))
    first, _last = allowance.month_bounds(month)
    done = AllowanceLine.objects.filter(
        school_id=school_id, month=first, review=AllowanceLine.Review.PENDING
    ).update(review=AllowanceLine.Review.REVIEWED, reviewed_by=actor, reviewed_at=timezone.now())
    if not done:
        raise ValidationError(
            _("Already done: no line of this school and month is waiting for review."),
            code="already_done",
        )
    audit_record(
        actor=actor,
        action="teachers.allowance_review",
        target=school,
        data={"month": first.isoformat(), "lines": done},
    )
    return done


def allowance_approve(*, actor: Any, month: dt.date, idempotency_key: str = "") -> Any:
    """The county approves the month's reviewed lines and makes their payment batch.

    One batch per county and month (its idempotency key): approvals at the same moment end
    with that one batch and one payment per line, the others told it is already done.
    Lines whose teacher has no salary card are approved and listed in the batch's gaps.
    """
    _require_capability(actor, permissions.AID_MANAGE, level="county")
    _require_capability(actor, permissions.PAY, level="county")
    first, _last = allowance.month_bounds(month)
    county = actor.scope.county_code
    key = idempotency_key or f"teachers-allowance:{county}:{first:%Y-%m}"
    with transaction.atomic():
        funds.serialise_batches(county)
        existing = PaymentBatch.objects.filter(idempotency_key=key).first()
        if existing is not None:
            if existing.county_code != county:
                raise PermissionDenied
            raise ValidationError(
                _("Already done: batch %(ref)s pays this month's allowance.")
                % {"ref": existing.reference},
                code="already_done",
            )
        if AllowanceLine.objects.filter(
            county_code=county, month=first, review=AllowanceLine.Review.PENDING
        ).exists():
            raise ValidationError(
                _("Some schools have not reviewed their lines of this month yet."),
                code="not_reviewed",
            )
        now = timezone.now()
        AllowanceLine.objects.filter(
            county_code=county, month=first, review=AllowanceLine.Review.REVIEWED
        ).update(review=AllowanceLine.Review.APPROVED, approved_by=actor, approved_at=now)
        paid = Payment.objects.filter(
            county_code=county, source__startswith=ALLOWANCE_SOURCE
        ).exclude(status=Payment.Status.FAILED)
        lines = (
            AllowanceLine.objects.filter(
                county_code=county, month=first, review=AllowanceLine.Review.APPROVED
            )
            .select_related("teacher", "school")
            .order_by("school_id", "teacher_id")
        )
        live = set(paid.values_list("source", flat=True))
        pay, gaps = [], []
        for line in lines:
            source = f"{ALLOWANCE_SOURCE}{line.pk}"
            if source in live:
                continue
            teacher = line.teacher
            if teacher.bank_cipher is None:
                gaps.append(
                    {
                        "allowance_line": line.pk,
                        "school": line.school_id,
                        "programme": ALLOWANCE_PROGRAMME,
                        "amount": str(line.amount),
                        "reason": "no_bank_card",
                    }
                )
                continue
            pay.append(
                funds.PaymentLine(
                    source=source,
                    programme=ALLOWANCE_PROGRAMME,
                    amount=line.amount,
                    payee_name=teacher.name,
                    beneficiary=teacher.name,
                    bank_name=teacher.bank_name,
                    account_cipher=bytes(teacher.bank_cipher),
                    account_key=teacher.bank_key or 0,
                    account_index=teacher.bank_index or "",
                    account_masked=teacher.bank_masked,
                    school_id=line.school_id,
                    village_code="",
                )
            )
        school_year = first.year if first.month >= 9 else first.year - 1
        semester = "autumn" if first.month >= 9 or first.month == 1 else "spring"
        made = funds.payment_batch_make(
            actor=actor,
            purpose="teachers",
            school_year=school_year,
            semester=semester,
            idempotency_key=key,
            lines=pay,
            gaps=gaps,
        )
        audit_record(
            actor=actor,
            action="teachers.allowance_approve",
            target=made.batch,
            data={"month": first.isoformat(), "payments": len(pay), "gaps": len(gaps)},
        )
        return made.batch
