"""Writes of the semiannual inspections (III.3): plans, visits, samples, findings and their
rectifications.

Each write checks who may make it, validates, saves and records it in the audit log, all in
one transaction. The inspection team's writes (a plan, a visit, a sample, a finding, a
close-out) need the capability to inspect at the county; a rectification's progress is
written by the township or school it belongs to. Nothing is silently rewritten: a second plan
for a half-year, a second record of a visit or of a sample check, a second sample and a second
close-out are refused; state changes are ``UPDATE ... WHERE status=...`` with a row-count
check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core.audit import audit_record
from jingzhun.core.evidence import check_evidence
from jingzhun.core.money import to_yuan
from jingzhun.core.scoping import scope_of, scope_queryset
from jingzhun.oversight import selectors
from jingzhun.oversight.models import (
    Finding,
    InspectionPlan,
    Rectification,
    RectificationEntry,
    SampleCheck,
    Visit,
    VisitAnswer,
)
from jingzhun.registry.models import Area
from jingzhun.schools.models import School, Student

RULES_DIR = Path(__file__).resolve().parent / "rules"
CHECKLIST_NAME = re.compile(r"inspection-checklist-(\d{4})\.yaml")
ITEM_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
KINDS = ("school", "township")
MAX_SAMPLE = 50


# --------------------------------------------------------------------------- the checklist


@dataclass(frozen=True)
class Checklist:
    source: str
    digest: str
    items: tuple[dict[str, Any], ...]


def checklist_from_text(text: str, *, source: str) -> Checklist:
    """Parse and check a checklist file; raise ValidationError naming each problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"{source}: not valid YAML: {exc}") from exc
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise ValidationError(f"{source}: items must be a non-empty list")
    out: list[dict[str, Any]] = []
    errors: list[str] = []
    seen: set[str] = set()
    for n, item in enumerate(items):
        where = f"{source}: items[{n}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: must be a mapping")
            continue
        ident = str(item.get("id", ""))
        if not ITEM_ID.fullmatch(ident) or ident in seen:
            errors.append(f"{where}.id: missing, malformed or repeated")
        seen.add(ident)
        zh, en = str(item.get("zh") or "").strip(), str(item.get("en") or "").strip()
        if not zh or not en:
            errors.append(f"{where}: needs both zh and en wording")
        applies = item.get("applies_to", list(KINDS))
        if not isinstance(applies, list) or not applies or not set(applies) <= set(KINDS):
            errors.append(f"{where}.applies_to: a list of school and/or township")
            applies = list(KINDS)
        out.append({"id": ident, "zh": zh, "en": en, "applies_to": [str(a) for a in applies]})
    if errors:
        raise ValidationError(errors)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Checklist(source, digest, tuple(out))


def checklist_file(year: int, *, directory: Path = RULES_DIR) -> Path | None:
    """Return the checklist that holds in a year: its own year's file, else the latest earlier."""
    years = sorted(
        int(m.group(1))
        for p in directory.glob("inspection-checklist-*.yaml")
        if (m := CHECKLIST_NAME.fullmatch(p.name))
    )
    earlier = [y for y in years if y <= year]
    return directory / f"inspection-checklist-{earlier[-1]}.yaml" if earlier else None


def load_checklist(year: int, *, directory: Path = RULES_DIR) -> Checklist:
    """Return the checklist for a plan of a year (ValidationError when there is none)."""
    path = checklist_file(year, directory=directory)
    if path is None:
        raise ValidationError(_("No inspection checklist holds for %(year)s.") % {"year": year})
    return checklist_from_text(path.read_text(encoding="utf-8"), source=path.name)


# --------------------------------------------------------------------------- who may write


def _check_inspector(actor: Any) -> None:
    """Refuse an actor who may not inspect, or who does not work for the county."""
    if not selectors.may_inspect(actor):
        raise PermissionDenied(_("Only the county's inspectors may do this."))


def _check_visible(actor: Any, *records: Any) -> None:
    for record in records:
        model = type(record)
        if not scope_queryset(model._default_manager.filter(pk=record.pk), actor).exists():
            raise PermissionDenied(_("This record is outside your jurisdiction."))


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _today() -> dt.date:
    return timezone.localdate()


# --------------------------------------------------------------------------- plans


@transaction.atomic
def plan_create(
    *,
    actor: Any,
    year: int,
    half: str,
    title: str,
    starts_on: dt.date,
    ends_on: dt.date,
    schools: Sequence[School] = (),
    townships: Sequence[Area] = (),
    sample_size: int | None = None,
    note: str = "",
) -> InspectionPlan:
    """Make the plan of a half-year with a visit to each school and township office named.

    The checklist is the file's that holds in the year, copied into the plan. A second plan
    for the same half-year is refused (nothing rewrites the first).
    """
    _check_inspector(actor)
    _check_visible(actor, *schools, *townships)
    county_code = scope_of(actor).county_code
    if half not in InspectionPlan.Half.values:
        raise ValidationError({"half": _("Choose the first or the second half-year.")})
    first, last = InspectionPlan.half_bounds(year, half)
    errors: dict[str, str] = {}
    if not first <= starts_on <= last:
        errors["starts_on"] = _("The visits must begin within the half-year.")
    if not first <= ends_on <= last:
        errors["ends_on"] = _("The visits must end within the half-year.")
    elif ends_on < starts_on:
        errors["ends_on"] = _("The last day comes before the first.")
    if not schools and not townships:
        errors["schools"] = _("Name at least one school or township to visit.")
    if any(t.level != "township" for t in townships):
        errors["townships"] = _("Only townships may be named here.")
    size = (
        sample_size
        if sample_size is not None
        else InspectionPlan._meta.get_field("sample_size").default
    )
    if not 1 <= int(size) <= MAX_SAMPLE:
        errors["sample_size"] = _("Sample between 1 and %(n)s students per school.") % {
            "n": MAX_SAMPLE
        }
    if InspectionPlan.objects.filter(county_code=county_code, year=year, half=half).exists():
        errors["half"] = _("There is already a plan for this half-year.")
    if errors:
        raise ValidationError(errors)
    checklist = load_checklist(year)
    plan = InspectionPlan(
        county_code=county_code,
        year=year,
        half=half,
        title=title.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        checklist=list(checklist.items),
        checklist_source=checklist.source,
        checklist_digest=checklist.digest,
        sample_size=int(size),
        note=note,
        created_by=_user(actor),
    )
    plan.full_clean()
    plan.save()
    visits = []
    for school in {s.pk: s for s in schools}.values():
        if school.township is None:
            raise ValidationError(
                {"schools": _("%(school)s has no township.") % {"school": school.name}}
            )
        visits.append(
            Visit(plan=plan, school=school, township=school.township, planned_on=starts_on)
        )
    for township in {t.pk: t for t in townships}.values():
        visits.append(Visit(plan=plan, township=township, planned_on=starts_on))
    for visit in visits:
        visit.full_clean(exclude=["plan"], validate_constraints=False)
    Visit.objects.bulk_create(visits)
    audit_record(
        actor=actor,
        action="inspection_plan.create",
        target=plan,
        data={
            "year": year,
            "half": half,
            "title": plan.title,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "schools": sorted(s.pk for s in schools),
            "townships": sorted(t.code for t in townships),
            "checklist": checklist.source,
            "checklist_digest": checklist.digest,
            "sample_size": plan.sample_size,
        },
    )
    return plan


# --------------------------------------------------------------------------- visits


@dataclass(frozen=True)
class Answer:
    status: str
    note: str = ""


@transaction.atomic
def visit_record(
    *,
    actor: Any,
    visit: Visit,
    visited_on: dt.date,
    answers: Mapping[str, Answer],
    note: str = "",
) -> Visit:
    """Record a visit: the day and every checklist item that applies, once."""
    _check_inspector(actor)
    _check_visible(actor, visit)
    plan = visit.plan
    expected = [str(i["id"]) for i in plan.items_for(visit.kind)]
    errors: dict[str, Any] = {}
    if visited_on > _today():
        errors["visited_on"] = _("A visit cannot be recorded before it happens.")
    elif visited_on < plan.starts_on:
        errors["visited_on"] = _("The visit falls before the plan's first day.")
    unknown = sorted(set(answers) - set(expected))
    missing = [i for i in expected if i not in answers]
    if unknown:
        errors["__all__"] = _("Unknown checklist items: %(items)s") % {"items": ", ".join(unknown)}
    elif missing:
        errors["__all__"] = _("Answer every checklist item (missing: %(items)s).") % {
            "items": ", ".join(missing)
        }
    bad = [i for i, a in answers.items() if a.status not in VisitAnswer.Status.values]
    if bad:
        errors["__all__"] = _("Unknown answer for %(items)s.") % {"items": ", ".join(bad)}
    if errors:
        raise ValidationError(errors)
    changed = Visit.objects.filter(pk=visit.pk, status=Visit.Status.PLANNED).update(
        status=Visit.Status.DONE,
        visited_on=visited_on,
        note=note.strip(),
        recorded_by=_user(actor),
        recorded_at=timezone.now(),
    )
    if changed != 1:
        raise ValidationError(_("This visit is already recorded."))
    rows = [
        VisitAnswer(visit=visit, item_id=i, status=answers[i].status, note=answers[i].note.strip())
        for i in expected
    ]
    for row in rows:
        row.full_clean(exclude=["visit"], validate_constraints=False)
    VisitAnswer.objects.bulk_create(rows)
    visit.refresh_from_db()
    audit_record(
        actor=actor,
        action="inspection_visit.record",
        target=visit,
        data={
            "plan": plan.pk,
            "visited_on": visited_on,
            "answers": {r.item_id: r.status for r in rows},
        },
    )
    return visit


# --------------------------------------------------------------------------- the sample


def sample_order(plan_id: int, school_id: int, student_ids: Iterable[int]) -> list[int]:
    """Return the student ids in the sample's order: by a hash seeded with the plan and the
    school, so that anyone can draw the same sample again (and nobody can pick it)."""

    def key(student_id: int) -> tuple[str, int]:
        text = f"jingzhun-inspection:{plan_id}:{school_id}:{student_id}"
        return hashlib.sha256(text.encode()).hexdigest(), student_id

    return sorted(set(student_ids), key=key)


@transaction.atomic
def sample_draw(*, actor: Any, visit: Visit, size: int | None = None) -> list[SampleCheck]:
    """Draw the visit's sample of the school's poor students (reproducible), once."""
    _check_inspector(actor)
    _check_visible(actor, visit)
    if visit.school is None:
        raise ValidationError(_("Only a school visit has a sample of students."))
    n = visit.plan.sample_size if size is None else int(size)
    if not 1 <= n <= MAX_SAMPLE:
        raise ValidationError(
            {"size": _("Sample between 1 and %(n)s students per school.") % {"n": MAX_SAMPLE}}
        )
    if SampleCheck.objects.filter(visit=visit).exists():
        raise ValidationError(_("This visit's sample is already drawn."))
    ids = selectors.poor_student_ids(user=actor, school=visit.school)
    if not ids:
        raise ValidationError(_("The school has no poor student to sample."))
    chosen = sample_order(visit.plan_id, visit.school.pk, ids)[:n]
    school_year, semester = visit.plan.semester
    due = selectors.aid_approved(
        user=actor, student_ids=chosen, school_year=school_year, semester=semester
    )
    rows = [
        SampleCheck(
            visit=visit,
            student_id=student_id,
            position=position,
            amount_due=due.get(student_id, Decimal("0.00")),
        )
        for position, student_id in enumerate(chosen, start=1)
    ]
    SampleCheck.objects.bulk_create(rows)
    audit_record(
        actor=actor,
        action="inspection_sample.draw",
        target=visit,
        data={
            "plan": visit.plan_id,
            "school": visit.school.pk,
            "size": n,
            "candidates": len(ids),
            "students": chosen,
        },
    )
    return list(SampleCheck.objects.filter(visit=visit).order_by("position"))


@transaction.atomic
def sample_check_record(
    *,
    actor: Any,
    check: SampleCheck,
    outcome: str,
    amount_said: Decimal | None = None,
    note: str = "",
    checked_on: dt.date | None = None,
) -> SampleCheck:
    """Record what a sampled student's family says of the aid, once."""
    _check_inspector(actor)
    _check_visible(actor, check)
    day = checked_on or _today()
    errors: dict[str, str] = {}
    if outcome not in SampleCheck.Outcome.values or outcome == SampleCheck.Outcome.PENDING:
        errors["outcome"] = _("Choose what the family says.")
    if amount_said is not None:
        amount_said = to_yuan(amount_said)
        if amount_said < 0:
            errors["amount_said"] = _("An amount cannot be negative.")
    if outcome == SampleCheck.Outcome.PARTLY and amount_said is None:
        errors["amount_said"] = _("Say how much the family received.")
    if outcome in (SampleCheck.Outcome.NONE, SampleCheck.Outcome.UNREACHABLE) and amount_said:
        errors["amount_said"] = _("No amount goes with this answer.")
    if day > _today():
        errors["checked_on"] = _("A check cannot be recorded before it happens.")
    if errors:
        raise ValidationError(errors)
    changed = SampleCheck.objects.filter(pk=check.pk, outcome=SampleCheck.Outcome.PENDING).update(
        outcome=outcome,
        amount_said=amount_said,
        note=note.strip()[:300],
        checked_on=day,
        checked_by=_user(actor),
    )
    if changed != 1:
        raise ValidationError(_("This student's check is already recorded."))
    check.refresh_from_db()
    audit_record(
        actor=actor,
        action="inspection_sample.check",
        target=check,
        data={
            "visit": check.visit_id,
            "student": check.student_id,
            "outcome": outcome,
            "amount_due": check.amount_due,
            "amount_said": amount_said,
            "checked_on": day,
        },
    )
    return check


# --------------------------------------------------------------------------- findings


def owner_may_hold(owner: Any, finding: Finding) -> bool:
    """Return whether a user may own a finding's rectification: the township officer of its
    township or the principal of its school (one who may write its progress)."""
    if owner is None or not getattr(owner, "is_active", False):
        return False
    if not selectors.may_report_progress(owner):
        return False
    scope = scope_of(owner)
    if scope.level == "township":
        return finding.township.code.startswith(scope.area_code)
    return scope.level == "school" and finding.school_id == scope.school_id


@transaction.atomic
def finding_record(
    *,
    actor: Any,
    visit: Visit,
    severity: str,
    text: str,
    deadline: dt.date,
    found_on: dt.date | None = None,
    owner: Any = None,
    student: Student | None = None,
    item_id: str = "",
    evidence: UploadedFile | None = None,
) -> Finding:
    """Record a visit's finding and open its rectification (owner, deadline)."""
    _check_inspector(actor)
    _check_visible(actor, visit)
    day = found_on or visit.visited_on or _today()
    errors: dict[str, str] = {}
    if visit.status != Visit.Status.DONE:
        errors["__all__"] = _("Record the visit before its findings.")
    if severity not in Finding.Severity.values:
        errors["severity"] = _("Choose a severity.")
    if not text.strip():
        errors["text"] = _("Say what was found.")
    if day > _today():
        errors["found_on"] = _("A finding cannot be recorded before it is made.")
    if deadline <= day:
        errors["deadline"] = _("The deadline must come after the day of the finding.")
    if item_id and item_id not in visit.plan.item_ids():
        errors["item_id"] = _("Not an item of the plan's checklist.")
    if student is not None and not visit.samples.filter(student=student).exists():
        errors["student"] = _("Only a student of the visit's sample may be named.")
    try:
        check_evidence(evidence)
    except ValidationError as exc:
        errors["evidence"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    finding = Finding(
        plan=visit.plan,
        visit=visit,
        township=visit.township,
        school=visit.school,
        student=student,
        item_id=item_id,
        severity=severity,
        text=text.strip(),
        found_on=day,
        recorded_by=_user(actor),
    )
    if owner is not None and not owner_may_hold(owner, finding):
        raise ValidationError(
            {"owner": _("The owner must be the principal or a township officer of the place.")}
        )
    finding.full_clean(exclude=["evidence"])
    finding.save()
    if evidence is not None:
        finding.evidence.save(evidence.name or "evidence", evidence, save=False)
        Finding.objects.filter(pk=finding.pk).update(evidence=finding.evidence.name)
    rectification = Rectification(finding=finding, owner=owner, deadline=deadline)
    rectification.full_clean()
    rectification.save()
    RectificationEntry.objects.create(
        rectification=rectification,
        kind=RectificationEntry.Kind.OPENED,
        happened_on=day,
        text=finding.text,
        written_by=_user(actor),
    )
    audit_record(
        actor=actor,
        action="inspection_finding.record",
        target=finding,
        data={
            "plan": visit.plan_id,
            "visit": visit.pk,
            "severity": severity,
            "item": item_id,
            "student": student.pk if student else None,
            "deadline": deadline,
            "owner": owner.pk if owner is not None else None,
            "rectification": rectification.pk,
            "evidence_file": bool(finding.evidence),
        },
    )
    return finding


# --------------------------------------------------------------------------- rectifications


@transaction.atomic
def rectification_note_add(
    *,
    actor: Any,
    rectification: Rectification,
    text: str,
    happened_on: dt.date | None = None,
    evidence: UploadedFile | None = None,
) -> RectificationEntry:
    """Add a progress note to an open rectification, by its township or school."""
    if not selectors.may_report_progress(actor):
        raise PermissionDenied(
            _("Only the school or township the finding names may report progress.")
        )
    _check_visible(actor, rectification)
    day = happened_on or _today()
    errors: dict[str, str] = {}
    if not text.strip():
        errors["text"] = _("Say what was done.")
    if day > _today():
        errors["happened_on"] = _("Progress cannot be reported before it happens.")
    elif day < rectification.finding.found_on:
        errors["happened_on"] = _("Progress cannot come before the finding.")
    try:
        check_evidence(evidence)
    except ValidationError as exc:
        errors["evidence"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    # Lock the row's state: a note never lands on a rectification closed meanwhile.
    if not Rectification.objects.filter(
        pk=rectification.pk, status=Rectification.Status.OPEN
    ).exists():
        raise ValidationError(_("This rectification is closed."))
    entry = RectificationEntry(
        rectification=rectification,
        kind=RectificationEntry.Kind.PROGRESS,
        happened_on=day,
        text=text.strip(),
        written_by=_user(actor),
    )
    entry.full_clean(exclude=["evidence"])
    entry.save()
    if evidence is not None:
        entry.evidence.save(evidence.name or "evidence", evidence, save=False)
        RectificationEntry.objects.filter(pk=entry.pk).update(evidence=entry.evidence.name)
    audit_record(
        actor=actor,
        action="rectification.progress",
        target=rectification,
        data={"entry": entry.pk, "on": day, "evidence_file": bool(entry.evidence)},
    )
    return entry


@transaction.atomic
def rectification_close(
    *, actor: Any, rectification: Rectification, closed_on: dt.date, note: str
) -> Rectification:
    """Close a rectification after an inspector verified it, once its owner reported progress."""
    _check_inspector(actor)
    _check_visible(actor, rectification)
    errors: dict[str, str] = {}
    if not note.strip():
        errors["note"] = _("Say what was verified.")
    if closed_on > _today():
        errors["closed_on"] = _("A rectification cannot be closed before it is verified.")
    elif closed_on < rectification.finding.found_on:
        errors["closed_on"] = _("A rectification cannot close before its finding.")
    if not rectification.entries.filter(kind=RectificationEntry.Kind.PROGRESS).exists():
        errors["__all__"] = _("The owner has reported no progress to verify.")
    if errors:
        raise ValidationError(errors)
    changed = Rectification.objects.filter(
        pk=rectification.pk, status=Rectification.Status.OPEN
    ).update(status=Rectification.Status.CLOSED, closed_on=closed_on, closed_by=_user(actor))
    if changed != 1:
        raise ValidationError(_("This rectification is already closed."))
    rectification.refresh_from_db()
    RectificationEntry.objects.create(
        rectification=rectification,
        kind=RectificationEntry.Kind.CLOSED,
        happened_on=closed_on,
        text=note.strip(),
        written_by=_user(actor),
    )
    audit_record(
        actor=actor,
        action="rectification.close",
        target=rectification,
        data={
            "finding": rectification.finding_id,
            "deadline": rectification.deadline,
            "closed_on": closed_on,
            "flag": rectification.flag(closed_on),
        },
    )
    return rectification
