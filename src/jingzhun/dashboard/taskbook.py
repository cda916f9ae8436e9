"""The task book (任务书) of a township or a school for a plan year, its fingerprint and its
signatures.

A book holds what the unit undertakes for the year: its targets (its part of the task book's
II.2 targets: its projects of the year by kind, a care centre for a township with poor
villages, its poor-village schools at the basic standard, and dropout control), its tasks with
deadlines (project time nodes and rectifications due in the year) and its responsible persons
(the responsibility chain's holders for the township or school).

The fingerprint is the SHA-256 of the book's content written as canonical JSON (sorted keys,
no whitespace, language-neutral codes and figures): the same content always gives the same
fingerprint, whatever the language or the time the PDF was made. Progress (how much is done)
is shown beside the book but is not part of it, so doing the work never changes a signed
book; a changed target, task, deadline or responsible person does.

Who may record a signature: a county user who may edit schools (``P.EDIT_SCHOOLS``: the county
administrator, the aid centre) for a township or a school; a township officer
(``P.CASE_VERIFY`` at township level) for the schools of their township. Anyone who sees a
unit may read and print its book.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.utils.translation import gettext as _

from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.scoping import scope_of, scope_queryset
from jingzhun.dashboard import tasks as T
from jingzhun.dashboard.models import TaskBookSignature
from jingzhun.duty import selectors as duty_selectors
from jingzhun.duty.models import Assignment
from jingzhun.projects import selectors as project_selectors
from jingzhun.registry.models import Area
from jingzhun.schools import selectors as school_selectors
from jingzhun.schools.models import School

TOWNSHIP = TaskBookSignature.Unit.TOWNSHIP.value
SCHOOL = TaskBookSignature.Unit.SCHOOL.value


@dataclass(frozen=True)
class Unit:
    """A township or a school that signs a task book."""

    kind: str
    county_code: str
    township_code: str
    township_name: str
    school_id: int | None = None
    school_name: str = ""
    in_poor_village: bool = False

    @property
    def name(self) -> str:
        return self.school_name if self.kind == SCHOOL else self.township_name


@dataclass(frozen=True)
class TargetLine:
    """One target of a unit's book: a code, its words, the figure undertaken and progress."""

    code: str
    clause: str
    text: str
    target: Decimal
    done: Decimal | None = None

    @property
    def met(self) -> bool | None:
        return None if self.done is None else self.done >= self.target


@dataclass
class Book:
    unit: Unit
    year: int
    targets: list[TargetLine]
    tasks: list[T.Task]
    persons: list[tuple[str, str]]  # (name, post)
    fingerprint: str = ""
    signatures: list[TaskBookSignature] = field(default_factory=list)

    @property
    def state(self) -> str:
        """Return "signed", "older" (only an older version is signed) or "unsigned"."""
        if any(s.document_sha256 == self.fingerprint for s in self.signatures):
            return "signed"
        return "older" if self.signatures else "unsigned"


# --------------------------------------------------------------------------- who and what


def may_see_books(user: Any) -> bool:
    return P.user_can(user, P.VIEW) and scope_of(user).level in ("county", "township", "school")


def may_record(user: Any, unit: Unit) -> bool:
    """Return whether the user may record the signature of the unit's book."""
    scope = scope_of(user)
    if scope.level == "county":
        return P.user_can(user, P.EDIT_SCHOOLS) and unit.county_code == scope.county_code
    if scope.level == "township":
        return (
            unit.kind == SCHOOL
            and P.user_can(user, P.CASE_VERIFY)
            and unit.township_code.startswith(scope.area_code)
        )
    return False


def _county(code: str) -> str:
    return code[:6]


def townships(user: Any) -> list[Unit]:
    """Return the townships whose books the user sees (county: all; township: its own)."""
    scope = scope_of(user)
    if scope.level not in ("county", "township") or not may_see_books(user):
        return []
    rows = scope_queryset(Area.objects.filter(level=Area.Level.TOWNSHIP), user).order_by("code")
    return [Unit(TOWNSHIP, _county(a.code), a.code, a.name) for a in rows]


def schools(user: Any, township_code: str = "") -> list[Unit]:
    """Return the schools whose books the user sees (optionally of one township)."""
    if not may_see_books(user):
        return []
    rows = (
        school_selectors.school_list(user=user)
        .filter(township__isnull=False)
        .select_related("township")
    )
    if township_code:
        rows = rows.filter(township__code__startswith=township_code)
    return [_school_unit(s) for s in rows.order_by("township__code", "name", "pk").distinct()]


def _school_unit(s: School) -> Unit:
    township = s.township
    if township is None:  # the callers ask only for schools with a township
        raise Http404
    return Unit(
        SCHOOL,
        _county(township.code),
        township.code,
        township.name,
        s.pk,
        s.name,
        s.in_poor_village,
    )


def get_township_unit(user: Any, township_code: str) -> Unit:
    for unit in townships(user):
        if unit.township_code == township_code:
            return unit
    raise Http404


def get_school_unit(user: Any, school_id: int) -> Unit:
    if not may_see_books(user):
        raise Http404
    school = (
        school_selectors.school_list(user=user)
        .filter(pk=school_id, township__isnull=False)
        .select_related("township")
        .first()
    )
    if school is None:
        raise Http404
    return _school_unit(school)


# --------------------------------------------------------------------------- the book


def _project_targets(user: Any, unit: Unit, year: int, today: dt.date) -> list[TargetLine]:
    """Return the unit's projects of the plan year per kind the task book tracks."""
    projects = project_selectors.project_list(user=user).filter(plan_year=year)
    if unit.kind == SCHOOL:
        projects = projects.filter(school_id=unit.school_id or 0)
    else:
        projects = projects.filter(township_code__startswith=unit.township_code)
    kinds = {s.kind: s.clause for s in project_selectors.task_book_targets()}
    counts: dict[str, list[int]] = {}
    accepted_ids = set(
        projects.filter(project_selectors.project_state_q("accepted", today)).values_list(
            "pk", flat=True
        )
    )
    for pk, kind in projects.values_list("pk", "kind"):
        if kind in kinds:
            line = counts.setdefault(kind, [0, 0])
            line[0] += 1
            line[1] += int(pk in accepted_ids)
    out = []
    for kind, clause in kinds.items():
        if kind not in counts:
            continue
        planned, accepted = counts[kind]
        out.append(
            TargetLine(
                code=f"projects:{kind}",
                clause=clause,
                text=_("%(kind)s: projects of plan year %(year)s accepted (验收)")
                % {"kind": T.project_kind_label(kind), "year": year},
                target=Decimal(planned),
                done=Decimal(accepted),
            )
        )
    return out


def _care_centre(user: Any, unit: Unit, today: dt.date) -> list[TargetLine]:
    """A township with a poor village undertakes at least one care centre (II.2.6)."""
    if unit.kind != TOWNSHIP:
        return []
    poor = Area.objects.filter(
        level=Area.Level.VILLAGE, is_poor=True, code__startswith=unit.township_code
    ).exists()
    if not poor:
        return []
    accepted = (
        project_selectors.project_list(user=user)
        .filter(kind="care_centre", township_code__startswith=unit.township_code)
        .filter(project_selectors.project_state_q("accepted", today))
        .count()
    )
    return [
        TargetLine(
            code="care_centre",
            clause="II.2.6",
            text=_("A left-behind children care centre in the township"),
            target=Decimal(1),
            done=Decimal(min(accepted, 1)),
        )
    ]


def _standard(user: Any, unit: Unit, today: dt.date) -> list[TargetLine]:
    """The unit's poor-village schools reach the basic standard (I.2)."""
    rows = [
        r
        for r in project_selectors.school_standard(user, on=today)
        if r.in_poor_village
        and r.township_code.startswith(unit.township_code)
        and (unit.kind != SCHOOL or r.school_id == unit.school_id)
    ]
    if not rows:
        return []
    return [
        TargetLine(
            code="basic_standard",
            clause="I.2",
            text=_("Poor-village schools at the national basic standard"),
            target=Decimal(len(rows)),
            done=Decimal(sum(1 for r in rows if r.reached)),
        )
    ]


def _dropout_line() -> TargetLine:
    return TargetLine(
        code="dropout_control",
        clause="III.1",
        text=_(
            "No compulsory-age child of a poor family out of school: every dropout case "
            "followed and closed in time"
        ),
        target=Decimal(0),
    )


def _persons(user: Any, unit: Unit) -> list[tuple[str, str]]:
    rows = duty_selectors.assignment_list(user=user)
    if unit.kind == SCHOOL:
        rows = rows.filter(kind=Assignment.Kind.SCHOOL, school_id=unit.school_id or 0)
    else:
        rows = rows.filter(kind=Assignment.Kind.TOWNSHIP, township__code=unit.township_code)
    kind = Assignment.Kind.SCHOOL if unit.kind == SCHOOL else Assignment.Kind.TOWNSHIP
    label = str(kind.label)
    return sorted({(a.holder.name, label) for a in rows})


def _tasks(user: Any, unit: Unit, year: int, today: dt.date) -> list[T.Task]:
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    f = T.TaskFilters(
        township=unit.township_code, school_id=unit.school_id if unit.kind == SCHOOL else None
    )
    found = T.tasks_for(user, start=start, end=end, filters=f, today=today).tasks
    return [t for t in found if t.kind in (T.NODE, T.RECTIFICATION) and start <= t.due <= end]


def content_of(book: Book) -> dict[str, Any]:
    """Return the book's content as language-neutral data (what the fingerprint covers)."""
    return {
        "county": book.unit.county_code,
        "year": book.year,
        "unit": book.unit.kind,
        "township": book.unit.township_code,
        "school": book.unit.school_id,
        "name": book.unit.name,
        "targets": [[t.code, t.clause, str(t.target)] for t in book.targets],
        "tasks": [[t.key, t.due.isoformat(), t.owner] for t in book.tasks],
        "persons": [name for name, _post in book.persons],
    }


def fingerprint(book: Book) -> str:
    text = json.dumps(content_of(book), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def signatures_of(unit: Unit, year: int) -> list[TaskBookSignature]:
    rows = TaskBookSignature.objects.filter(
        county_code=unit.county_code, year=year, unit=unit.kind, township_code=unit.township_code
    )
    rows = (
        rows.filter(school_id=unit.school_id or 0)
        if unit.kind == SCHOOL
        else rows.filter(school__isnull=True)
    )
    return list(rows.order_by("-recorded_at", "-pk"))


def book_for(user: Any, unit: Unit, year: int, *, today: dt.date) -> Book:
    """Return the unit's book for the plan year as the user sees it, with its signatures."""
    targets = [
        *_project_targets(user, unit, year, today),
        *_care_centre(user, unit, today),
        *_standard(user, unit, today),
        _dropout_line(),
    ]
    book = Book(
        unit=unit,
        year=year,
        targets=targets,
        tasks=_tasks(user, unit, year, today),
        persons=_persons(user, unit),
    )
    book.fingerprint = fingerprint(book)
    book.signatures = signatures_of(unit, year)
    return book


@dataclass(frozen=True)
class BookState:
    unit: Unit
    state: str
    signature: TaskBookSignature | None


def signature_states(
    units: list[Unit], year: int, fingerprints: dict[Unit, str]
) -> dict[Unit, BookState]:
    """Return each unit's state (signed, older, unsigned) from one query of signatures."""
    if not units:
        return {}
    rows = TaskBookSignature.objects.filter(
        county_code__in={u.county_code for u in units},
        year=year,
        township_code__in={u.township_code for u in units},
    ).order_by("-recorded_at", "-pk")
    by: dict[tuple[str, str, int | None], list[TaskBookSignature]] = {}
    for s in rows:
        by.setdefault((s.unit, s.township_code, s.school_id), []).append(s)
    out = {}
    for u in units:
        sigs = by.get((u.kind, u.township_code, u.school_id if u.kind == SCHOOL else None), [])
        current = [s for s in sigs if s.document_sha256 == fingerprints.get(u)]
        if current:
            out[u] = BookState(u, "signed", current[0])
        elif sigs:
            out[u] = BookState(u, "older", sigs[0])
        else:
            out[u] = BookState(u, "unsigned", None)
    return out


# --------------------------------------------------------------------------- recording


def _lock_book(unit: Unit, year: int) -> None:
    """Serialize recordings of one book: PostgreSQL's advisory lock for the transaction
    (SQLite's IMMEDIATE transactions already hold the database's write lock)."""
    if connection.vendor != "postgresql":
        return
    key = zlib.crc32(f"taskbook:{unit.kind}:{unit.township_code}:{unit.school_id}:{year}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [748_392_015, key - 2**31])


@transaction.atomic
def task_book_sign(
    *,
    actor: Any,
    book: Book,
    seen_fingerprint: str,
    signer_name: str,
    signer_title: str,
    signed_on: dt.date,
    today: dt.date,
    request: Any = None,
) -> TaskBookSignature:
    """Record that the unit's book (as fingerprinted) was signed; refuse a second record."""
    unit = book.unit
    if not may_record(actor, unit):
        raise ValidationError(_("You may not record the signature of this task book."))
    if seen_fingerprint != book.fingerprint:
        raise ValidationError(
            _("The task book changed since you previewed it: print it again and have it signed.")
        )
    errors: dict[str, str] = {}
    if not signer_name.strip():
        errors["signer_name"] = _("Name the person who signed.")
    if signed_on > today:
        errors["signed_on"] = _("The date of signing cannot be in the future.")
    elif signed_on.year < book.year - 1:
        errors["signed_on"] = _("The date of signing is before the book's year.")
    if errors:
        raise ValidationError(errors)
    _lock_book(unit, book.year)
    already = _("This version of the task book is already recorded as signed.")
    if any(s.document_sha256 == book.fingerprint for s in signatures_of(unit, book.year)):
        raise ValidationError(already)
    row = TaskBookSignature(
        county_code=unit.county_code,
        year=book.year,
        unit=unit.kind,
        township_code=unit.township_code,
        school_id=unit.school_id if unit.kind == SCHOOL else None,
        unit_name=unit.name,
        document_sha256=book.fingerprint,
        signer_name=signer_name.strip(),
        signer_title=signer_title.strip(),
        signed_on=signed_on,
        recorded_by=actor,
    )
    row.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise ValidationError(already) from exc
    audit_record(
        actor=actor,
        action="dashboard.task_book_signed",
        target=row,
        data={
            "year": book.year,
            "unit": unit.kind,
            "township": unit.township_code,
            "fingerprint": book.fingerprint,
            "signed_on": signed_on.isoformat(),
        },
        request=request,
    )
    return row
