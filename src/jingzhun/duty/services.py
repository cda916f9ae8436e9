"""Writes of duty: assignments along the chain, and dropout cases from opening to close-out.

Every write checks the actor's capability and jurisdiction (another jurisdiction's case is a
404, like a missing one), changes state with a guarded update, and writes an audit event in
the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.accounts.models import StaffMember
from jingzhun.accounts.roles import Role
from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.scoping import get_object_for_user, scope_queryset
from jingzhun.core.workdays import add_working_days
from jingzhun.duty.chain import Chain
from jingzhun.duty.chain import ChainResult as ChainResult  # re-exported: duty.services API
from jingzhun.duty.chain import chain_derive as chain_derive
from jingzhun.duty.models import Assignment, CaseStep, DropoutCase, StudentContact
from jingzhun.identification.models import ChildStatus, IdentificationRun, Link
from jingzhun.identification.services import home_teaching_record
from jingzhun.registry.models import Area, Person
from jingzhun.schools.models import Enrolment, School, SchoolClass, Student

COMPULSORY_AGES = (6, 15)
SETTLED_OUTCOMES = (
    DropoutCase.Outcome.EXEMPT,
    DropoutCase.Outcome.MOVED,
    DropoutCase.Outcome.HOME_TEACHING,
)
CASE_CATEGORIES = (ChildStatus.Category.SUSPECTED_DROPOUT, ChildStatus.Category.DROPPED_OUT)


def _require(actor: Any, capability: str) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.can(capability):
        raise PermissionDenied


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


# --- the responsibility chain ---------------------------------------------------------------

TARGETS: dict[str, tuple[type, str]] = {
    Assignment.Kind.TOWNSHIP: (Area, "township"),
    Assignment.Kind.SCHOOL: (School, "school"),
    Assignment.Kind.CLASS: (SchoolClass, "school_class"),
    # A poor student is named by their roll record (schools see rolls, not the registry).
    Assignment.Kind.STUDENT: (Student, "person"),
    Assignment.Kind.VILLAGE: (Area, "village"),
}
# Who may assign each link: the county assigns leaders and heads, a township or school the rest.
ASSIGNERS: dict[str, tuple[str, ...]] = {
    Assignment.Kind.TOWNSHIP: ("county",),
    Assignment.Kind.SCHOOL: ("county", "township"),
    Assignment.Kind.CLASS: ("county", "township", "school"),
    Assignment.Kind.STUDENT: ("county", "township", "school"),
    Assignment.Kind.VILLAGE: ("county", "township", "school"),
}


def _area_code(kind: str, target: Any) -> str:
    if kind in (Assignment.Kind.TOWNSHIP, Assignment.Kind.VILLAGE):
        return str(target.code)
    if kind == Assignment.Kind.SCHOOL:
        return target.township.code if target.township_id else ""
    if kind == Assignment.Kind.CLASS:
        school = target.school
        return school.township.code if school.township_id else ""
    return str(target.household.village.code)


def _person_of(student: Student) -> Person:
    link = Link.objects.filter(student=student).select_related("person__household__village").first()
    if link is None:
        raise ValidationError(_("This student is not identified as a child of a poor family."))
    return link.person


def _target(actor: Any, kind: str, target_id: int) -> Any:
    if kind == Assignment.Kind.VILLAGE and actor.scope.level == "school":
        # Schools see no registry areas; a school names contacts for its own township's villages.
        school = School.objects.select_related("township").get(pk=actor.scope.school_id)
        township_code = school.township.code if school.township is not None else "-"
        village = Area.objects.filter(
            pk=target_id, level="village", code__startswith=township_code
        ).first()
        if village is None:
            raise Http404
        if not village.is_poor:
            raise ValidationError(_("A contact person answers for a poor village."))
        return village
    model, _field = TARGETS[kind]
    target = get_object_for_user(model._default_manager.all(), actor, pk=target_id)  # type: ignore[attr-defined]
    if kind == Assignment.Kind.TOWNSHIP and target.level != "township":
        raise ValidationError(_("A bureau leader answers for a township."))
    if kind == Assignment.Kind.VILLAGE and (target.level != "village" or not target.is_poor):
        raise ValidationError(_("A contact person answers for a poor village."))
    if kind == Assignment.Kind.STUDENT:
        return _person_of(target)
    return target


def _holder(actor: Any, holder_id: int) -> StaffMember:
    """Return the responsible person: an active person of the staff directory within the
    assigner's jurisdiction (with or without a login)."""
    visible = scope_queryset(StaffMember.objects.filter(active=True), actor)
    holder = visible.filter(pk=holder_id).first()
    if holder is None:
        raise ValidationError(
            _(
                "The responsible person must be an active person of the staff directory within "
                "your jurisdiction."
            )
        )
    return holder


@transaction.atomic
def assignment_create(
    *,
    actor: Any,
    kind: str,
    target_id: int,
    holder_id: int,
    starts_on: dt.date | None = None,
    school_id: int | None = None,
    note: str = "",
    audit: bool = True,
) -> Assignment:
    """Name who answers for a township, school, class, poor student or poor village.

    `target_id` is an area, school, class, or a poor student's roll record (Student). A
    village contact person belongs to a school (`school_id`); a student's assignment records
    the school they study in. A target that already has a
    current holder is refused: reassign it instead, so that the history is kept.
    """
    _require(actor, P.DUTY_ASSIGN)
    if kind not in TARGETS:
        raise ValidationError(_("Unknown kind of assignment."))
    if actor.scope.level not in ASSIGNERS[kind]:
        raise PermissionDenied
    target = _target(actor, kind, target_id)
    holder = _holder(actor, holder_id)
    _model, field = TARGETS[kind]
    if Assignment.objects.filter(kind=kind, ends_on__isnull=True, **{field: target}).exists():
        raise ValidationError(_("Someone already answers for this; reassign instead."))
    school = None
    if kind == Assignment.Kind.SCHOOL:
        school = target
    elif kind == Assignment.Kind.CLASS:
        school = target.school
    elif school_id is not None:
        school = get_object_for_user(School.objects.all(), actor, pk=school_id)
    elif kind == Assignment.Kind.STUDENT:
        # The school they study in, or last studied in (a dropout stays with that school).
        enrolment = (
            Enrolment.objects.filter(student_id=target_id)
            .order_by("-school_year", "-enrolled_on", "-id")
            .first()
        )
        school = enrolment.school if enrolment else None
    assignment = Assignment(
        kind=kind,
        holder=holder,
        area_code=_area_code(kind, target),
        starts_on=_today(starts_on),
        assigned_by=actor,
        note=note[:200],
    )
    setattr(assignment, field, target)
    assignment.school = school
    assignment.full_clean()
    assignment.save()
    if audit:
        audit_record(
            actor=actor,
            action="duty.assign",
            target=assignment,
            data={"kind": kind, "target": target_id, "holder": holder.pk},
        )
    return assignment


@transaction.atomic
def assignment_reassign(
    *, actor: Any, assignment_id: int, holder_id: int, on: dt.date | None = None, note: str = ""
) -> Assignment:
    """End an assignment and give its target to someone else, who inherits the open cases."""
    _require(actor, P.DUTY_ASSIGN)
    old = get_object_for_user(Assignment.objects.all(), actor, pk=assignment_id)
    if actor.scope.level not in ASSIGNERS[old.kind]:
        raise PermissionDenied
    holder = _holder(actor, holder_id)
    on = _today(on)
    if Assignment.objects.filter(pk=old.pk, ends_on__isnull=True).update(ends_on=on) != 1:
        raise ValidationError(_("This assignment has already ended."))
    new = Assignment.objects.create(
        kind=old.kind,
        holder=holder,
        township=old.township,
        village=old.village,
        school=old.school,
        school_class=old.school_class,
        person=old.person,
        area_code=old.area_code,
        starts_on=on,
        assigned_by=actor,
        note=note[:200],
    )
    moved = _move_open_cases(old, holder)
    audit_record(
        actor=actor,
        action="duty.reassign",
        target=new,
        data={"from": old.holder_id, "to": holder.pk, "ended": old.pk, "cases_moved": moved},
    )
    return new


def _move_open_cases(old: Assignment, holder: Any) -> int:
    cases = DropoutCase.objects.exclude(status=DropoutCase.Status.CLOSED).filter(
        assignee_id=old.holder_id
    )
    if old.kind == Assignment.Kind.STUDENT:
        cases = cases.filter(person=old.person)
    elif old.kind == Assignment.Kind.VILLAGE:
        cases = cases.filter(
            village_code=old.village.code if old.village else "", school__isnull=True
        )
    elif old.kind == Assignment.Kind.CLASS:
        cases = cases.filter(school_class=old.school_class)
    else:
        return 0  # leaders and heads supervise; cases stay with their responsible persons
    return cases.update(assignee=holder)


@dataclass
class BulkResult:
    created: int = 0
    reassigned: int = 0
    unchanged: int = 0
    cases_moved: int = 0


@transaction.atomic
def assignments_bulk(
    *,
    actor: Any,
    rows: list[tuple[str, int, int]],
    on: dt.date | None = None,
    note: str = "",
    source: str = "list",
) -> BulkResult:
    """Name responsible persons for many targets at once: `rows` are (kind, target id,
    staff member id), the target id as `assignment_create` takes it.

    A target with no current holder gets one; one held by someone else is handed over (the
    old link ends, open cases follow); one already held by that person is left alone. All
    rows land or none (a row the actor may not assign is refused with the whole batch).
    Audited once, with every change listed.
    """
    _require(actor, P.DUTY_ASSIGN)
    on = _today(on)
    result = BulkResult()
    changes: list[dict[str, Any]] = []
    for kind, target_id, holder_id in rows:
        if kind not in TARGETS:
            raise ValidationError(_("Unknown kind of assignment."))
        if actor.scope.level not in ASSIGNERS[kind]:
            raise PermissionDenied
        target = _target(actor, kind, target_id)
        holder = _holder(actor, holder_id)
        _model, field = TARGETS[kind]
        old = Assignment.objects.filter(kind=kind, ends_on__isnull=True, **{field: target}).first()
        if old is not None and old.holder_id == holder.pk:
            result.unchanged += 1
            continue
        if old is None:
            created = assignment_create(
                actor=actor,
                kind=kind,
                target_id=target_id,
                holder_id=holder.pk,
                starts_on=on,
                note=note,
                audit=False,
            )
            result.created += 1
            changes.append(
                {"kind": kind, "target": target_id, "holder": holder.pk, "id": created.pk}
            )
            continue
        if Assignment.objects.filter(pk=old.pk, ends_on__isnull=True).update(ends_on=on) != 1:
            raise ValidationError(_("This assignment has already ended."))
        new = Assignment.objects.create(
            kind=old.kind,
            holder=holder,
            township=old.township,
            village=old.village,
            school=old.school,
            school_class=old.school_class,
            person=old.person,
            area_code=old.area_code,
            starts_on=on,
            assigned_by=actor,
            note=note[:200],
        )
        result.cases_moved += _move_open_cases(old, holder)
        result.reassigned += 1
        changes.append(
            {"kind": kind, "target": target_id, "holder": holder.pk, "id": new.pk, "ended": old.pk}
        )
    audit_record(
        actor=actor,
        action="duty.assign_bulk",
        object_type="duty.chain",
        object_id=actor.scope.area_code or str(actor.scope.school_id or ""),
        data={
            "source": source,
            "created": result.created,
            "reassigned": result.reassigned,
            "unchanged": result.unchanged,
            "cases_moved": result.cases_moved,
            "changes": changes,
        },
    )
    return result


@transaction.atomic
def assignment_sign(
    *, actor: Any, assignment_id: int, signed_on: dt.date | None = None
) -> Assignment:
    """Record that the letter of responsibility for an assignment was signed."""
    _require(actor, P.DUTY_ASSIGN)
    assignment = get_object_for_user(Assignment.objects.all(), actor, pk=assignment_id)
    if actor.scope.level not in ASSIGNERS[assignment.kind]:
        raise PermissionDenied
    signed_on = _today(signed_on)
    if (
        Assignment.objects.filter(pk=assignment.pk, ends_on__isnull=True).update(
            signed_on=signed_on
        )
        != 1
    ):
        raise ValidationError(_("This assignment has ended; its letter can no longer be signed."))
    assignment.refresh_from_db()
    audit_record(actor=actor, action="duty.sign", target=assignment, data={"signed_on": signed_on})
    return assignment


@transaction.atomic
def teacher_transfer(*, actor: Any, teacher_id: int, school_class_id: int) -> int:
    """Move a class teacher's account to another class; their open cases go to the new teacher.

    Returns how many open cases changed hands. The class they leave passes to whoever holds
    it next (the cases wait with the principal of that school until then).
    """
    _require(actor, P.DUTY_ASSIGN)
    teacher = get_object_for_user(get_user_model().objects.all(), actor, pk=teacher_id)
    if teacher.role != Role.CLASS_TEACHER:
        raise ValidationError(_("Only a class teacher's account moves between classes."))
    new_class = get_object_for_user(SchoolClass.objects.all(), actor, pk=school_class_id)
    old_class_id = teacher.school_class_id
    get_user_model().objects.filter(pk=teacher.pk).update(school_class=new_class)
    person = StaffMember.objects.filter(user=teacher).first()
    if person is not None:
        StaffMember.objects.filter(pk=person.pk).update(
            school_class=new_class, school=new_class.school
        )
    staff = StaffMember.objects.filter(active=True)
    successor = (
        staff.filter(post=StaffMember.Post.CLASS_TEACHER, school_class_id=old_class_id)
        .exclude(pk=person.pk if person else 0)
        .order_by("id")
        .first()
    )
    if successor is None and old_class_id is not None:
        successor = (
            staff.filter(post=StaffMember.Post.PRINCIPAL, school__classes__pk=old_class_id)
            .order_by("id")
            .first()
        )
    moved = 0
    if successor is not None and person is not None:
        moved = (
            DropoutCase.objects.exclude(status=DropoutCase.Status.CLOSED)
            .filter(assignee=person, school_class_id=old_class_id)
            .update(assignee=successor)
        )
    audit_record(
        actor=actor,
        action="duty.teacher_transfer",
        target=teacher,
        data={"from_class": old_class_id, "to_class": new_class.pk, "cases_moved": moved},
    )
    return moved


# --- dropout cases --------------------------------------------------------------------------


@dataclass
class OpenResult:
    opened: int
    reopened: int
    already_open: int


def _open_case(
    *,
    chain: Chain,
    previous: DropoutCase | None,
    person: Person,
    student_id: int | None,
    school_id: int | None,
    school_class_id: int | None,
    village_code: str,
    source: str,
    reason: str,
    opened_on: dt.date,
    opened_by: Any,
    run_id: int | None = None,
    absence_days: int | None = None,
) -> DropoutCase:
    case = DropoutCase.objects.create(
        person=person,
        student_id=student_id,
        episode=(previous.episode + 1) if previous else 1,
        previous=previous,
        source=source,
        identification_run_id=run_id,
        reason=reason[:200],
        absence_days=absence_days,
        opened_on=opened_on,
        opened_by=opened_by if getattr(opened_by, "is_authenticated", False) else None,
        village_code=village_code,
        school_id=school_id,
        school_class_id=school_class_id,
        assignee=chain.case_holder(person.pk, school_class_id, village_code),
        supervisor=chain.supervisor(village_code),
        last_step_on=opened_on,
    )
    audit_record(
        actor=opened_by,
        action="duty.case_open",
        target=case,
        actor_name="" if getattr(opened_by, "is_authenticated", False) else "system",
        data={"source": source, "episode": case.episode, "reason": reason[:200]},
    )
    return case


# What a run does to a child: a first case, a new episode, or nothing (a case is open).
NEW, NEW_EPISODE, ALREADY_OPEN = "new", "new_episode", "already_open"


@dataclass
class OpenPlanItem:
    status: ChildStatus
    last: DropoutCase | None
    action: str  # NEW | NEW_EPISODE | ALREADY_OPEN


@dataclass
class OpenPreviewRow:
    township_code: str
    new: int = 0
    new_episode: int = 0
    already_open: int = 0


@dataclass
class OpenPreview:
    """What opening cases from the latest run would do, per township (nothing written)."""

    run_id: int | None
    as_of: dt.date | None
    finished_at: dt.datetime | None
    rows: list[OpenPreviewRow]

    @property
    def new(self) -> int:
        return sum(r.new for r in self.rows)

    @property
    def new_episode(self) -> int:
        return sum(r.new_episode for r in self.rows)

    @property
    def already_open(self) -> int:
        return sum(r.already_open for r in self.rows)


def _check_opener(actor: Any, county_code: str) -> None:
    if actor is not None:
        _require(actor, P.DUTY_ASSIGN)
        if actor.scope.level != "county" or actor.scope.county_code != county_code:
            raise PermissionDenied


def _latest_run(county_code: str) -> IdentificationRun | None:
    return (
        IdentificationRun.objects.filter(county_code=county_code, status="done")
        .order_by("-id")
        .first()
    )


def _open_plan(run: IdentificationRun) -> list[OpenPlanItem]:
    """Return what opening cases from *run* does to each out-of-school child it found."""
    statuses = (
        ChildStatus.objects.filter(
            run=run,
            category__in=CASE_CATEGORIES,
            age__gte=COMPULSORY_AGES[0],
            age__lte=COMPULSORY_AGES[1],
        )
        .select_related("person", "enrolment")
        .order_by("person_id")
    )
    last_cases = {
        c.person_id: c
        for c in DropoutCase.objects.filter(person_id__in=statuses.values("person_id")).order_by(
            "person_id", "episode"
        )
    }
    plan: list[OpenPlanItem] = []
    for status in statuses:
        last = last_cases.get(status.person_id)
        if last is not None and last.status != DropoutCase.Status.CLOSED:
            plan.append(OpenPlanItem(status, last, ALREADY_OPEN))
            continue
        if last is not None and last.closed_on is not None and last.closed_on >= run.as_of:
            continue  # closed after this run looked: the run does not know of the return
        if last is not None and last.outcome in SETTLED_OUTCOMES:
            # An exemption or a move away settles the child's case: the rolls will keep showing
            # no enrolment, and that is no new dropout. Home teaching is recorded for
            # identification too, so the next run classifies the child as taught at home.
            continue
        plan.append(OpenPlanItem(status, last, NEW if last is None else NEW_EPISODE))
    return plan


def cases_open_preview(*, actor: Any, county_code: str) -> OpenPreview:
    """Return how many cases opening from the latest run would open, per township, with the
    run it reads (its as-of date); nothing is written. The same checks as the opening."""
    _check_opener(actor, county_code)
    run = _latest_run(county_code)
    if run is None:
        return OpenPreview(None, None, None, [])
    rows: dict[str, OpenPreviewRow] = {}
    for item in _open_plan(run):
        code = item.status.village_code[:9]
        row = rows.setdefault(code, OpenPreviewRow(code))
        if item.action == NEW:
            row.new += 1
        elif item.action == NEW_EPISODE:
            row.new_episode += 1
        else:
            row.already_open += 1
    return OpenPreview(run.pk, run.as_of, run.finished_at, [rows[k] for k in sorted(rows)])


@transaction.atomic
def cases_open_from_identification(
    *, actor: Any, county_code: str, run_id: int | None = None
) -> OpenResult:
    """Open a case for every compulsory-age poor child the latest run finds out of school.

    Idempotent: a child with a case not yet closed gets nothing new; a child whose last case
    closed before the run's date and who is out of school again gets a new episode linked to
    the old one. A case closed after the run's date is not reopened by that run.

    With `run_id` (the run an officer previewed), a newer run is refused: the officer
    confirms what they saw, not what another run would do.
    """
    _check_opener(actor, county_code)
    run = _latest_run(county_code)
    if run_id is not None and (run is None or run.pk != run_id):
        raise ValidationError(
            _("A newer identification run finished since the preview; look at it again.")
        )
    if run is None:
        return OpenResult(0, 0, 0)
    chain = Chain.read()
    result = OpenResult(0, 0, 0)
    for item in _open_plan(run):
        status, last = item.status, item.last
        if item.action == ALREADY_OPEN:
            result.already_open += 1
            continue
        reason = (
            _("Dropped out (roll status)")
            if status.category == ChildStatus.Category.DROPPED_OUT
            else _("Compulsory age, not enrolled")
        )
        _open_case(
            chain=chain,
            previous=last,
            person=status.person,
            student_id=status.student_id,
            school_id=status.school_id,
            school_class_id=status.enrolment.school_class_id if status.enrolment else None,
            village_code=status.village_code,
            source=DropoutCase.Source.IDENTIFICATION,
            reason=str(reason),
            opened_on=run.as_of,
            opened_by=actor,
            run_id=run.pk,
        )
        if item.action == NEW:
            result.opened += 1
        else:
            result.reopened += 1
    return result


@transaction.atomic
def case_report_absence(
    *, actor: Any, student_id: int, days: int, note: str = "", on: dt.date | None = None
) -> DropoutCase:
    """A teacher reports a poor student absent for `days` days: more than the threshold opens a
    case (or adds the report to the open one)."""
    _require(actor, P.CASEWORK)
    student = get_object_for_user(Student.objects.all(), actor, pk=student_id)
    link = Link.objects.filter(student=student).select_related("person__household__village").first()
    if link is None:
        raise ValidationError(_("This student is not identified as a child of a poor family."))
    threshold = settings.DUTY_ABSENCE_DAYS
    on = _today(on)
    open_case = (
        DropoutCase.objects.filter(person=link.person)
        .exclude(status=DropoutCase.Status.CLOSED)
        .first()
    )
    text = _("Absent for %(days)d days. %(note)s") % {"days": days, "note": note.strip()}
    if open_case is not None:
        _add_step(open_case, actor, CaseStep.Kind.ABSENCE, on, text.strip())
        return open_case
    if days <= threshold:
        raise ValidationError(
            _("A case opens after more than %(n)d days of absence.") % {"n": threshold}
        )
    enrolment = (
        Enrolment.objects.filter(student=student, status__in=Enrolment.ACTIVE)
        .order_by("-school_year")
        .first()
    )
    case = _open_case(
        chain=Chain.read(),
        previous=DropoutCase.objects.filter(person=link.person).order_by("-episode").first(),
        person=link.person,
        student_id=student.pk,
        school_id=enrolment.school_id if enrolment else None,
        school_class_id=enrolment.school_class_id if enrolment else None,
        village_code=link.person.household.village.code,
        source=DropoutCase.Source.ABSENCE,
        reason=str(_("Absent for %(days)d days") % {"days": days}),
        opened_on=on,
        opened_by=actor,
        absence_days=days,
    )
    _add_step(case, actor, CaseStep.Kind.ABSENCE, on, text.strip())
    return case


def _add_step(
    case: DropoutCase,
    actor: Any,
    kind: str,
    happened_on: dt.date,
    text: str,
    evidence: UploadedFile | None = None,
) -> CaseStep:
    step = CaseStep(
        case=case,
        kind=kind,
        happened_on=happened_on,
        text=text,
        recorded_by=actor,
        village_code=case.village_code,
        school_id=case.school_id,
        school_class_id=case.school_class_id,
    )
    if evidence is not None:
        step.evidence = evidence  # type: ignore[assignment]
    step.full_clean()
    step.save()
    DropoutCase.objects.filter(pk=case.pk, last_step_on__lt=happened_on).update(
        last_step_on=happened_on
    )
    audit_record(
        actor=actor,
        action="duty.case_step",
        target=case,
        data={"step": step.pk, "kind": kind, "on": happened_on, "evidence": bool(evidence)},
    )
    return step


@transaction.atomic
def case_step_record(
    *,
    actor: Any,
    case_id: int,
    kind: str,
    text: str,
    happened_on: dt.date | None = None,
    evidence: UploadedFile | None = None,
    return_deadline: dt.date | None = None,
) -> CaseStep:
    """Record a step on an open case; a deadline notice sets the date the child must return."""
    _require(actor, P.CASEWORK)
    case = get_object_for_user(DropoutCase.objects.all(), actor, pk=case_id)
    if case.status == DropoutCase.Status.CLOSED:
        raise ValidationError(_("The case is closed."))
    if kind not in CaseStep.Kind.values:
        raise ValidationError(_("Unknown step."))
    happened_on = _today(happened_on)
    if happened_on > timezone.localdate() or happened_on < case.opened_on:
        raise ValidationError(_("The date must be between the case's opening and today."))
    if not text.strip():
        raise ValidationError(_("Say what happened."))
    if kind == CaseStep.Kind.DEADLINE_NOTICE:
        if return_deadline is None or return_deadline <= happened_on:
            raise ValidationError(_("A deadline notice needs a return date after the notice."))
        DropoutCase.objects.filter(pk=case.pk).update(return_deadline=return_deadline)
    return _add_step(case, actor, kind, happened_on, text.strip(), evidence)


def outcome_problems(case: DropoutCase) -> list[str]:
    """Return what the recorded outcome still lacks to close the case (empty when complete)."""
    problems: list[str] = []
    kinds = set(case.steps.values_list("kind", flat=True))
    if not case.outcome:
        return [str(_("No outcome is recorded."))]
    if case.outcome == DropoutCase.Outcome.RETURNED:
        enrolment = case.outcome_enrolment
        if enrolment is None or enrolment.status not in Enrolment.ACTIVE:
            problems.append(str(_("An active enrolment must prove the return.")))
        if CaseStep.Kind.RETURNED not in kinds:
            problems.append(str(_("The return itself is not recorded as a step.")))
        if CaseStep.Kind.FOLLOWUP_WEEK not in kinds:
            problems.append(str(_("The follow-up after one week is missing.")))
    elif case.outcome == DropoutCase.Outcome.HOME_TEACHING:
        if not case.home_teacher.strip() or not case.home_schedule.strip():
            problems.append(str(_("Home teaching needs the teacher and the schedule.")))
    elif case.outcome == DropoutCase.Outcome.EXEMPT:
        if not case.exemption_reason.strip():
            problems.append(str(_("An exemption needs its reason.")))
        if not case.steps.exclude(evidence="").exists():
            problems.append(str(_("An exemption needs a document (photo or scan) on a step.")))
    elif case.outcome == DropoutCase.Outcome.MOVED and not case.moved_to.strip():
        problems.append(str(_("Say where the family moved.")))
    return problems


@transaction.atomic
def case_resolve(
    *,
    actor: Any,
    case_id: int,
    outcome: str,
    enrolment_id: int | None = None,
    home_teacher: str = "",
    home_schedule: str = "",
    exemption_reason: str = "",
    moved_to: str = "",
    on: dt.date | None = None,
) -> DropoutCase:
    """Record the outcome of an open case; it then waits for the township's verification."""
    _require(actor, P.CASEWORK)
    case = get_object_for_user(DropoutCase.objects.all(), actor, pk=case_id)
    if outcome not in DropoutCase.Outcome.values:
        raise ValidationError(_("Unknown outcome."))
    enrolment = None
    if enrolment_id is not None:
        enrolment = Enrolment.objects.filter(
            pk=enrolment_id, student_id=case.student_id or 0
        ).first()
        if enrolment is None:
            raise ValidationError(_("That enrolment is not the child's."))
    updated = DropoutCase.objects.filter(pk=case.pk, status=DropoutCase.Status.OPEN).update(
        status=DropoutCase.Status.RESOLVED,
        outcome=outcome,
        outcome_enrolment=enrolment,
        home_teacher=home_teacher.strip()[:50],
        home_schedule=home_schedule.strip()[:100],
        exemption_reason=exemption_reason.strip()[:300],
        moved_to=moved_to.strip()[:200],
        resolved_on=_today(on),
    )
    if updated != 1:
        raise ValidationError(_("Only an open case can be resolved."))
    case.refresh_from_db()
    problems = outcome_problems(case)
    if problems:
        raise ValidationError(problems)  # rolls the whole change back
    audit_record(actor=actor, action="duty.case_resolve", target=case, data={"outcome": outcome})
    return case


def due_after(last_step_on: dt.date) -> dt.date:
    """Return the last day before a case whose last step was on *last_step_on* is overdue."""
    return add_working_days(last_step_on + dt.timedelta(days=1), settings.DUTY_STALE_WORKING_DAYS)


def due_on(case: DropoutCase) -> dt.date:
    """Return the last day before a case with no new step becomes overdue."""
    return due_after(case.last_step_on)


def overdue_at(case: DropoutCase, at: dt.date, last_step_on: dt.date) -> bool:
    """Return whether a case not closed on day *at* was overdue that day, given its last step
    on or before *at*: its next step was due before *at*, or its return deadline had passed
    with no return recorded by then."""
    if at > due_after(last_step_on):
        return True
    returned = (
        case.outcome == DropoutCase.Outcome.RETURNED
        and case.resolved_on is not None
        and case.resolved_on <= at
    )
    return bool(case.return_deadline and at > case.return_deadline and not returned)


def is_overdue(case: DropoutCase, today: dt.date | None = None) -> bool:
    """Return whether an unclosed case is overdue: nothing recorded in time, or past its
    return deadline without a return."""
    today = _today(today)
    if case.status == DropoutCase.Status.CLOSED:
        return case.closed_late
    if today > due_on(case):
        return True
    return bool(
        case.return_deadline
        and today > case.return_deadline
        and case.outcome != DropoutCase.Outcome.RETURNED
    )


@transaction.atomic
def case_verify(*, actor: Any, case_id: int, today: dt.date | None = None) -> DropoutCase:
    """The township verifies a resolved case and strikes it off the ledger (销号)."""
    _require(actor, P.CASE_VERIFY)
    case = get_object_for_user(DropoutCase.objects.all(), actor, pk=case_id)
    if case.status != DropoutCase.Status.RESOLVED:
        raise ValidationError(_("Only a case with a recorded outcome can be verified."))
    problems = outcome_problems(case)
    if problems:
        raise ValidationError(problems)
    today = _today(today)
    late = is_overdue(case, case.resolved_on or today)
    updated = DropoutCase.objects.filter(pk=case.pk, status=DropoutCase.Status.RESOLVED).update(
        status=DropoutCase.Status.CLOSED, verified_by=actor, closed_on=today, closed_late=late
    )
    if updated != 1:
        raise ValidationError(_("This case was already closed."))
    case.refresh_from_db()
    if case.outcome == DropoutCase.Outcome.HOME_TEACHING:
        # Identification learns of it, so the child is no longer counted as out of school.
        home_teaching_record(
            actor=actor,
            person=case.person,
            teacher_name=case.home_teacher,
            since=case.resolved_on or today,
            schedule=case.home_schedule,
        )
    audit_record(actor=actor, action="duty.case_verify", target=case, data={"late": late})
    return case


@transaction.atomic
def case_reopen(*, actor: Any, case_id: int, reason: str) -> DropoutCase:
    """Send a resolved case back to work (verification refused), with the reason as a step."""
    _require(actor, P.CASE_VERIFY)
    case = get_object_for_user(DropoutCase.objects.all(), actor, pk=case_id)
    if not reason.strip():
        raise ValidationError(_("Say why the case goes back."))
    if (
        DropoutCase.objects.filter(pk=case.pk, status=DropoutCase.Status.RESOLVED).update(
            status=DropoutCase.Status.OPEN, outcome="", resolved_on=None
        )
        != 1
    ):
        raise ValidationError(_("Only a resolved case can be sent back."))
    case.refresh_from_db()
    _add_step(case, actor, CaseStep.Kind.NOTE, timezone.localdate(), reason.strip())
    return case


# --- contacts with poor students' families, case or not ----------------------------------


@transaction.atomic
def contact_record(
    *, actor: Any, student_id: int, kind: str, on: dt.date | None = None, note: str
) -> StudentContact:
    """Record a home visit, a talk or a phone call for a poor student the actor may see (in
    their jurisdiction, or named as the student's responsible person).

    A student with no dropout case is visited too; what is done on an open case is recorded
    as a step of the case instead (:func:`case_step_record`).
    """
    _require(actor, P.CASEWORK)
    student = Student.objects.filter(pk=student_id).first()
    link = (
        Link.objects.filter(student=student).select_related("person__household__village").first()
        if student is not None
        else None
    )
    visible = scope_queryset(Student.objects.filter(pk=student_id), actor).exists()
    named = link is not None and (
        Assignment.objects.filter(
            kind=Assignment.Kind.STUDENT,
            person=link.person,
            holder__user=actor,
            ends_on__isnull=True,
        ).exists()
    )
    if student is None or not (visible or named):
        raise Http404  # a student the actor may not see looks like a missing one
    if link is None:
        raise ValidationError(_("This student is not identified as a child of a poor family."))
    if kind not in StudentContact.Kind.values:
        raise ValidationError(_("Unknown kind of contact."))
    on = _today(on)
    if on > timezone.localdate():
        raise ValidationError(_("The date cannot be in the future."))
    if not note.strip():
        raise ValidationError(_("Say what happened."))
    enrolment = (
        Enrolment.objects.filter(student=student, status__in=Enrolment.ACTIVE)
        .order_by("-school_year", "-id")
        .first()
    )
    contact = StudentContact(
        student=student,
        person=link.person,
        kind=kind,
        happened_on=on,
        note=note.strip()[:2000],
        recorded_by=actor,
        village_code=link.person.household.village.code,
        school_id=enrolment.school_id if enrolment else None,
        school_class_id=enrolment.school_class_id if enrolment else None,
    )
    contact.full_clean()
    contact.save()
    audit_record(
        actor=actor,
        action="duty.contact",
        target=contact,
        data={"student": student.pk, "kind": kind, "on": on},
    )
    return contact
