"""Writes on the basic standard, condition surveys and projects (II.2).

Each write checks that the actor may edit schools and that every school or village it names
lies in the actor's jurisdiction, validates, saves and records it in the audit log, all in
one transaction. Editing the basic standard is the county's: it needs a county jurisdiction,
and every edit makes a new version valid from a date (surveys keep the version they used).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.utils.translation import gettext as _

from jingzhun.core import permissions
from jingzhun.core.audit import audit_record
from jingzhun.core.money import to_yuan
from jingzhun.core.scoping import scope_of, scope_queryset
from jingzhun.projects.models import (
    BudgetLine,
    Project,
    ProjectNode,
    QualityHighSchool,
    StandardItem,
    StandardVersion,
    Survey,
    SurveyAnswer,
)
from jingzhun.projects.rulebook import (
    STANDARD_FILE,
    ItemSpec,
    RulesFileError,
    StandardSpec,
    item_data,
    load_standard,
    shipped_source,
    standard_from_data,
)
from jingzhun.registry.models import Area
from jingzhun.schools.models import School


def _check_may_edit(actor: Any, *records: models.Model) -> None:
    """Refuse an actor who may not edit schools, or a record outside their jurisdiction."""
    if not permissions.user_can(actor, permissions.EDIT_SCHOOLS):
        raise PermissionDenied(_("You may not edit school conditions or projects."))
    for record in records:
        model = type(record)
        if not scope_queryset(model._default_manager.filter(pk=record.pk), actor).exists():
            raise PermissionDenied(_("This record is outside your jurisdiction."))


def _check_may_edit_standard(actor: Any) -> None:
    if actor is None:  # the management command, run by the operator
        return
    if not permissions.user_can(actor, permissions.EDIT_SCHOOLS) or (
        scope_of(actor).level != "county"
    ):
        raise PermissionDenied(_("Only the county may edit the basic standard."))


def _check_may_edit_village(actor: Any, village: Area) -> None:
    if not permissions.user_can(actor, permissions.EDIT_SCHOOLS):
        raise PermissionDenied(_("You may not edit school conditions or projects."))
    scope = scope_of(actor)
    if scope.level not in ("county", "township") or not village.code.startswith(scope.area_code):
        raise PermissionDenied(_("This record is outside your jurisdiction."))


# --------------------------------------------------------------------------- the standard


def _digest(spec: StandardSpec) -> str:
    text = repr((spec.name, spec.valid_from, spec.items))
    return hashlib.sha256(text.encode()).hexdigest()


def _next_number() -> int:
    last = StandardVersion.objects.order_by("-number").values_list("number", flat=True).first()
    return (last or 0) + 1


def _write_version(
    *, actor: Any, spec: StandardSpec, source: str, note: str, action: str
) -> StandardVersion:
    version = StandardVersion(
        number=_next_number(),
        name=spec.name,
        valid_from=spec.valid_from,
        source=source,
        digest=_digest(spec),
        note=note,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    version.full_clean()
    version.save()
    rows = [
        StandardItem(
            version=version,
            code=item.code,
            position=n,
            clause=item.clause,
            basis=item.basis,
            text_zh=item.text_zh,
            text_en=item.text_en,
            kinds=list(item.kinds),
            boarding_only=item.boarding_only,
        )
        for n, item in enumerate(spec.items, start=1)
    ]
    for row in rows:
        row.full_clean(exclude=["version"])
    StandardItem.objects.bulk_create(rows)
    audit_record(
        actor=actor,
        action=action,
        target=version,
        data={
            "number": version.number,
            "valid_from": version.valid_from,
            "source": source,
            "items": [item.code for item in spec.items],
            "note": note,
        },
    )
    return version


@transaction.atomic
def standard_load(
    *, actor: Any, text: str, source: str = STANDARD_FILE
) -> tuple[StandardVersion, bool]:
    """Load a basic-standard file as a new version; return it and whether it was created.

    Loading the same file again changes nothing (it returns the version it made the first time).
    """
    _check_may_edit_standard(actor)
    spec = load_standard(text, source=source)
    same = StandardVersion.objects.filter(digest=_digest(spec), source=source).first()
    if same is not None:
        return same, False
    version = _write_version(
        actor=actor, spec=spec, source=source, note="", action="standard_version.load"
    )
    return version, True


def standard_load_shipped(*, actor: Any = None) -> tuple[StandardVersion, bool]:
    """Load the basic standard shipped with the platform (``rules/basic_standard_2018.yaml``)."""
    return standard_load(actor=actor, text=shipped_source(STANDARD_FILE))


def _spec_of(version: StandardVersion) -> list[ItemSpec]:
    return [
        ItemSpec(
            code=i.code,
            clause=i.clause,
            basis=i.basis,
            text_zh=i.text_zh,
            text_en=i.text_en,
            kinds=tuple(i.kinds),
            boarding_only=i.boarding_only,
        )
        for i in version.items.order_by("position", "code")
    ]


def _revise(
    *, actor: Any, valid_from: dt.date, note: str, items: list[ItemSpec], action: str
) -> StandardVersion:
    latest = StandardVersion.objects.order_by("-number").first()
    if latest is None:
        raise ValidationError(_("No basic standard is loaded yet."))
    if valid_from < latest.valid_from:
        raise ValidationError(
            {"valid_from": _("A new version cannot start before the version it revises.")}
        )
    spec = StandardSpec(name=latest.name, valid_from=valid_from, items=tuple(items))
    # The edited list goes through the same checks as a file.
    _check_items(spec)
    return _write_version(actor=actor, spec=spec, source="", note=note, action=action)


def _check_items(spec: StandardSpec) -> None:
    """Check an edited list of items as the loader checks a file (raises ValidationError)."""
    data = {
        "name": spec.name,
        "valid_from": spec.valid_from,
        "items": [item_data(item) for item in spec.items],
    }
    try:
        standard_from_data(data, source=_("the edited standard"))
    except RulesFileError as exc:
        raise ValidationError(exc.errors) from exc


@transaction.atomic
def standard_item_update(
    *,
    actor: Any,
    code: str,
    valid_from: dt.date,
    note: str,
    text_zh: str | None = None,
    text_en: str | None = None,
    kinds: Sequence[str] | None = None,
    boarding_only: bool | None = None,
    clause: str | None = None,
    basis: str | None = None,
) -> StandardVersion:
    """Change one item's wording or applicability in a new version valid from a date."""
    _check_may_edit_standard(actor)
    latest = StandardVersion.objects.order_by("-number").first()
    items = _spec_of(latest) if latest else []
    if code not in {i.code for i in items}:
        raise ValidationError({"code": _("No such item in the basic standard.")})
    changed = []
    for item in items:
        if item.code == code:
            item = ItemSpec(
                code=code,
                clause=item.clause if clause is None else clause,
                basis=item.basis if basis is None else basis,
                text_zh=item.text_zh if text_zh is None else text_zh,
                text_en=item.text_en if text_en is None else text_en,
                kinds=item.kinds if kinds is None else tuple(kinds),
                boarding_only=item.boarding_only if boarding_only is None else boarding_only,
            )
        changed.append(item)
    return _revise(
        actor=actor,
        valid_from=valid_from,
        note=note,
        items=changed,
        action="standard_item.update",
    )


@transaction.atomic
def standard_item_add(
    *, actor: Any, item: ItemSpec, valid_from: dt.date, note: str
) -> StandardVersion:
    """Add an item to the basic standard in a new version valid from a date."""
    _check_may_edit_standard(actor)
    latest = StandardVersion.objects.order_by("-number").first()
    items = _spec_of(latest) if latest else []
    if item.code in {i.code for i in items}:
        raise ValidationError({"code": _("The basic standard already has this item.")})
    return _revise(
        actor=actor,
        valid_from=valid_from,
        note=note,
        items=[*items, item],
        action="standard_item.add",
    )


@transaction.atomic
def standard_item_withdraw(
    *, actor: Any, code: str, valid_from: dt.date, note: str
) -> StandardVersion:
    """Take an item out of the basic standard in a new version valid from a date."""
    _check_may_edit_standard(actor)
    latest = StandardVersion.objects.order_by("-number").first()
    items = _spec_of(latest) if latest else []
    if code not in {i.code for i in items}:
        raise ValidationError({"code": _("No such item in the basic standard.")})
    return _revise(
        actor=actor,
        valid_from=valid_from,
        note=note,
        items=[i for i in items if i.code != code],
        action="standard_item.withdraw",
    )


# --------------------------------------------------------------------------- surveys


@dataclass(frozen=True)
class Answer:
    """One item's answer in a survey being recorded."""

    item_code: str
    status: str
    note: str = ""
    evidence_ref: str = ""


def _save_survey(
    *,
    actor: Any,
    school: School,
    surveyed_on: dt.date,
    answers: Iterable[Answer],
    note: str,
    project: Project | None,
) -> Survey:
    standard = StandardVersion.current(surveyed_on)
    if standard is None:
        raise ValidationError(_("No basic standard is valid on that date."))
    codes = set(standard.items.values_list("code", flat=True))
    answers = list(answers)
    unknown = sorted({a.item_code for a in answers} - codes)
    if unknown:
        raise ValidationError(
            {
                "answers": _("Not items of the basic standard: %(items)s")
                % {"items": ", ".join(unknown)}
            }
        )
    if len({a.item_code for a in answers}) != len(answers):
        raise ValidationError({"answers": _("An item is answered twice.")})
    unexplained = sorted(
        a.item_code
        for a in answers
        if a.status == SurveyAnswer.Status.NOT_APPLICABLE and not a.note.strip()
    )
    if unexplained:
        raise ValidationError(
            {
                "answers": _("Say why these items do not apply: %(items)s")
                % {"items": ", ".join(unexplained)}
            }
        )
    survey = Survey(
        school=school,
        surveyed_on=surveyed_on,
        standard=standard,
        note=note,
        project=project,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    survey.full_clean()
    survey.save()
    rows = [
        SurveyAnswer(
            survey=survey,
            item_code=a.item_code,
            status=a.status,
            note=a.note,
            evidence_ref=a.evidence_ref,
        )
        for a in answers
    ]
    for row in rows:
        row.full_clean(exclude=["survey"], validate_unique=False, validate_constraints=False)
    SurveyAnswer.objects.bulk_create(rows)
    return survey


@transaction.atomic
def survey_create(
    *,
    actor: Any,
    school: School,
    surveyed_on: dt.date,
    answers: Sequence[Answer],
    note: str = "",
) -> Survey:
    """Record a survey of a school's conditions: each item met, not met or not applicable."""
    _check_may_edit(actor, school)
    survey = _save_survey(
        actor=actor,
        school=school,
        surveyed_on=surveyed_on,
        answers=answers,
        note=note,
        project=None,
    )
    audit_record(
        actor=actor,
        action="survey.create",
        target=survey,
        data={
            "school": school.code,
            "surveyed_on": surveyed_on,
            "answers": {a.item_code: a.status for a in answers},
        },
    )
    return survey


# --------------------------------------------------------------------------- projects


@dataclass(frozen=True)
class Budget:
    """One line of a project's budget being set up."""

    source: str
    amount: Decimal
    note: str = ""


@transaction.atomic
def project_create(
    *,
    actor: Any,
    kind: str,
    name: str,
    plan_year: int,
    school: School | None = None,
    village: Area | None = None,
    items: Sequence[str] = (),
    budget: Sequence[Budget] = (),
    nodes: dict[str, dt.date],
    note: str = "",
) -> Project:
    """Set up a project at a school or in a village with its budget and time nodes.

    `nodes` gives each time node's due date (every node, 立项 to 验收); the dates may not go
    backwards.
    """
    if school is None and village is None:
        raise ValidationError(_("A project is at a school or in a village."))
    if school is not None:
        _check_may_edit(actor, school)
    if village is not None:
        _check_may_edit_village(actor, village)
        if village.level != Area.Level.VILLAGE:
            raise ValidationError({"village": _("Not a village.")})
    if school is not None and school.township is None:
        raise ValidationError({"school": _("The school is not in the county.")})
    township = school.township.code if school is not None and school.township else ""
    if village is not None:
        if township and not village.code.startswith(township):
            raise ValidationError({"village": _("The village is not in the school's township.")})
        township = village.code[:9]
    poor = (school is not None and school.in_poor_village) or (
        village is not None and village.is_poor
    )
    missing = [k for k in ProjectNode.ORDER if k not in nodes]
    if missing or set(nodes) - set(ProjectNode.ORDER):
        raise ValidationError({"nodes": _("Give a due date for every time node.")})
    dues = [nodes[k] for k in ProjectNode.ORDER]
    if any(b < a for a, b in zip(dues, dues[1:], strict=False)):
        raise ValidationError({"nodes": _("The due dates of the time nodes go backwards.")})
    standard = (
        StandardVersion.current(dues[-1]) or StandardVersion.objects.order_by("-number").first()
    )
    known = set(standard.items.values_list("code", flat=True)) if standard else set()
    unknown = sorted(set(items) - known)
    if unknown:
        raise ValidationError(
            {
                "items": _("Not items of the basic standard: %(items)s")
                % {"items": ", ".join(unknown)}
            }
        )
    if items and school is None:
        raise ValidationError(
            {"items": _("Only a project at a school brings its items up to standard.")}
        )
    project = Project(
        kind=kind,
        name=name,
        school=school,
        village=village,
        township_code=township,
        in_poor_village=poor,
        plan_year=plan_year,
        items=sorted(set(items)),
        note=note,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    project.full_clean()
    project.save()
    lines = [
        BudgetLine(project=project, source=b.source, amount=to_yuan(b.amount), note=b.note)
        for b in budget
    ]
    for line in lines:
        line.full_clean(exclude=["project"], validate_constraints=False)
        if line.amount < 0:
            raise ValidationError({"budget": _("A budget amount cannot be negative.")})
    BudgetLine.objects.bulk_create(lines)
    ProjectNode.objects.bulk_create(
        ProjectNode(project=project, kind=kind_, position=n, due_on=nodes[kind_])
        for n, kind_ in enumerate(ProjectNode.ORDER, start=1)
    )
    audit_record(
        actor=actor,
        action="project.create",
        target=project,
        data={
            "kind": kind,
            "name": name,
            "school": school.code if school else "",
            "village": village.code if village else "",
            "plan_year": plan_year,
            "items": project.items,
            "budget": [[b.source, to_yuan(b.amount)] for b in budget],
            "nodes": {k: nodes[k] for k in ProjectNode.ORDER},
        },
    )
    return project


@transaction.atomic
def project_node_close(
    *,
    actor: Any,
    node: ProjectNode,
    closed_on: dt.date,
    evidence_ref: str,
    note: str = "",
    evidence: UploadedFile | None = None,
) -> ProjectNode:
    """Close a project's time node on a date, with the evidence: a document's number, its
    photo or scan, or both; earlier nodes first.

    Closing the acceptance (验收) writes a new survey of the school: its latest answers with
    the project's items met.
    """
    project = node.project
    _check_may_edit(actor, project)
    if not evidence_ref.strip() and evidence is None:
        raise ValidationError(
            {"evidence_ref": _("Name the evidence of the node or attach its photo or scan.")}
        )
    earlier = project.nodes.filter(position__lt=node.position)
    if earlier.filter(closed_on__isnull=True).exists():
        raise ValidationError(_("Close the earlier time nodes first."))
    last_earlier = earlier.aggregate(m=models.Max("closed_on"))["m"]
    if last_earlier is not None and closed_on < last_earlier:
        raise ValidationError({"closed_on": _("A node cannot close before an earlier one.")})
    # The row changes only while it is open: two officers closing it at once close it once.
    changed = ProjectNode.objects.filter(pk=node.pk, closed_on__isnull=True).update(
        closed_on=closed_on,
        closed_by=actor if getattr(actor, "is_authenticated", False) else None,
        evidence_ref=evidence_ref.strip(),
        note=note,
    )
    if changed != 1:
        raise ValidationError(_("This time node is already closed."))
    node.refresh_from_db()
    if evidence is not None:
        node.evidence.save(evidence.name or "evidence", evidence, save=False)
        ProjectNode.objects.filter(pk=node.pk).update(evidence=node.evidence.name)
    if not evidence_ref.strip():
        evidence_ref = _("photo or scan of the %(node)s") % {"node": node.get_kind_display()}
    survey = None
    if node.kind == ProjectNode.Kind.ACCEPTANCE and project.school is not None and project.items:
        survey = _accept(actor=actor, project=project, on=closed_on, evidence_ref=evidence_ref)
    audit_record(
        actor=actor,
        action="project_node.close",
        target=node,
        data={
            "project": project.pk,
            "node": node.kind,
            "due_on": node.due_on,
            "closed_on": closed_on,
            "evidence": node.evidence_ref,
            "evidence_file": bool(node.evidence),
            "survey": survey.pk if survey else None,
        },
    )
    return node


def _accept(*, actor: Any, project: Project, on: dt.date, evidence_ref: str) -> Survey:
    """Write the survey an acceptance makes: the latest answers, the project's items met."""
    assert project.school is not None
    latest = (
        Survey.objects.filter(school=project.school, surveyed_on__lte=on)
        .order_by("-surveyed_on", "-id")
        .first()
    )
    standard = StandardVersion.current(on)
    codes = set(standard.items.values_list("code", flat=True)) if standard else set()
    answers: dict[str, Answer] = {}
    if latest is not None:
        for a in latest.answers.all():
            if a.item_code in codes:
                answers[a.item_code] = Answer(a.item_code, a.status, a.note, a.evidence_ref)
    reference = _("Accepted project %(id)d") % {"id": project.pk}
    for code in project.items:
        if code in codes:
            answers[code] = Answer(code, SurveyAnswer.Status.MET, reference, evidence_ref)
    survey = _save_survey(
        actor=actor,
        school=project.school,
        surveyed_on=on,
        answers=answers.values(),
        note=reference,
        project=project,
    )
    audit_record(
        actor=actor,
        action="survey.accept",
        target=survey,
        data={
            "school": project.school.code,
            "surveyed_on": on,
            "project": project.pk,
            "met": list(project.items),
        },
    )
    return survey


# --------------------------------------------------------------------------- quotas (II.2.5)

# The kinds of school that have high-school places.
HIGH_SCHOOL_KINDS = (School.Kind.GENERAL_HIGH, School.Kind.COMPLETE_SECONDARY)


@dataclass(frozen=True)
class QualityChange:
    """What a new list of quality high schools changes: the schools added and removed."""

    added: tuple[School, ...]
    removed: tuple[School, ...]

    @property
    def empty(self) -> bool:
        return not self.added and not self.removed


@transaction.atomic
def quality_high_schools_set(
    *,
    actor: Any,
    schools: Iterable[School],
    on: dt.date,
    note: str = "",
    dry_run: bool = False,
) -> QualityChange:
    """Make ``schools`` the county's quality high schools (优质高中) from ``on``; return what
    changes. Only the county's editors of schools may; ``dry_run`` changes nothing (the
    page's preview)."""
    if actor is not None and (
        not permissions.user_can(actor, permissions.EDIT_SCHOOLS)
        or scope_of(actor).level != "county"
    ):
        raise PermissionDenied(_("Only the county may name its quality high schools."))
    wanted = {s.pk: s for s in schools}
    wrong = [s for s in wanted.values() if s.kind not in HIGH_SCHOOL_KINDS]
    if wrong:
        raise ValidationError(
            {"schools": _("%(school)s has no high-school places.") % {"school": wrong[0].name}}
        )
    current = {q.school_id: q.school for q in QualityHighSchool.objects.select_related("school")}
    added = tuple(sorted((s for pk, s in wanted.items() if pk not in current), key=_code))
    removed = tuple(sorted((s for pk, s in current.items() if pk not in wanted), key=_code))
    change = QualityChange(added, removed)
    if dry_run or change.empty:
        return change
    by = actor if getattr(actor, "is_authenticated", False) else None
    QualityHighSchool.objects.filter(school_id__in=[s.pk for s in removed]).delete()
    QualityHighSchool.objects.bulk_create(
        [QualityHighSchool(school=s, designated_on=on, designated_by=by, note=note) for s in added]
    )
    audit_record(
        actor=actor,
        action="quality_high_schools.set",
        target=None,
        data={
            "on": on,
            "added": [s.code for s in added],
            "removed": [s.code for s in removed],
            "note": note,
        },
    )
    return change


def _code(school: School) -> str:
    return school.code
