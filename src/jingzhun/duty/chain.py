"""The responsibility chain: who currently answers for whom, read once for many children at a
time, and derived set-wise from what the data says (class head teachers, principals,
central-school heads, township officers, village cadres).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jingzhun.accounts.models import StaffMember
from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.working_year import working_year
from jingzhun.duty.models import Assignment, DropoutCase
from jingzhun.identification.models import ChildStatus, IdentificationRun
from jingzhun.registry.models import Area
from jingzhun.schools.models import School, SchoolClass

Post = StaffMember.Post
Kind = Assignment.Kind
ENROLLED = (ChildStatus.Category.ENROLLED_IN_COUNTY,)


def _first_by(rows: Any, key: str) -> dict[Any, StaffMember]:
    """Return key value -> the staff member with the lowest id holding it."""
    found: dict[Any, StaffMember] = {}
    for s in rows.order_by("id"):
        value = getattr(s, key)
        if value is not None and value != "" and value not in found:
            found[value] = s
    return found


@dataclass
class Chain:
    """The current holders: named persons by child, class head teachers by class, contact
    persons by village code, township officers by township code (the lowest id where several)."""

    named: dict[int, Any]
    teachers: dict[int, Any]
    contacts: dict[str, Any]
    officers: dict[str, Any]
    heads: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls) -> Chain:
        """Read the current chain in a few queries."""
        chain = cls({}, {}, {}, {})
        current = Assignment.objects.filter(ends_on__isnull=True).select_related(
            "holder", "village", "township"
        )
        leaders: dict[str, Any] = {}
        for a in current.filter(kind__in=[Kind.STUDENT, Kind.VILLAGE, Kind.TOWNSHIP]):
            if a.kind == Kind.STUDENT and a.person_id is not None:
                chain.named[a.person_id] = a.holder
            elif a.kind == Kind.VILLAGE and a.village is not None:
                chain.contacts[a.village.code] = a.holder
            elif a.kind == Kind.TOWNSHIP and a.township is not None:
                leaders[a.township.code] = a.holder
        staff = StaffMember.objects.filter(active=True)
        chain.teachers = _first_by(
            staff.filter(post=Post.CLASS_TEACHER, school_class__isnull=False), "school_class_id"
        )
        officers = staff.filter(post=Post.TOWNSHIP_OFFICER, township__isnull=False)
        chain.officers = {
            s.township.code: s
            for s in reversed(list(officers.select_related("township").order_by("id")))
            if s.township is not None
        }
        for code, holder in leaders.items():
            chain.officers.setdefault(code, holder)
        heads = staff.filter(post=Post.CENTRAL_SCHOOL_HEAD, township__isnull=False)
        chain.heads = {
            s.township.code: s
            for s in reversed(list(heads.select_related("township").order_by("id")))
            if s.township is not None
        }
        return chain

    def responsible(self, person_id: int, school_class_id: int | None, village_code: str) -> Any:
        """Return the child's responsible person: the named one, else the class head teacher,
        else the contact person of their village (for a child with no school), else None."""
        if person_id in self.named:
            return self.named[person_id]
        if school_class_id is not None and school_class_id in self.teachers:
            return self.teachers[school_class_id]
        return self.contacts.get(village_code)

    def case_holder(self, person_id: int, school_class_id: int | None, village_code: str) -> Any:
        """Return who answers for a dropout case: the child's responsible person, else (a child
        of a village with no contact person and no class) the township's central-school head,
        who answers for schooling in the township, so that no case is left without anyone."""
        holder = self.responsible(person_id, school_class_id, village_code)
        return holder if holder is not None else self.heads.get(village_code[:9])

    def supervisor(self, village_code: str) -> Any:
        """Return the township officer of the child's township."""
        return self.officers.get(village_code[:9])


# --- derivation -----------------------------------------------------------------------------


@dataclass
class ChainResult:
    """What a derivation did (or would do, for a preview), by kind of link."""

    created: Counter[str] = field(default_factory=Counter)
    replaced: Counter[str] = field(default_factory=Counter)  # derived links whose person changed
    unchanged: Counter[str] = field(default_factory=Counter)
    manual: Counter[str] = field(default_factory=Counter)  # kept: a person made them
    gaps: Counter[str] = field(default_factory=Counter)  # targets with no one to name
    roster_people: int = 0  # head teachers taken from the rolls into the directory
    cases_assigned: int = 0
    preview: bool = False

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    @property
    def total_replaced(self) -> int:
        return sum(self.replaced.values())

    @property
    def total_gaps(self) -> int:
        return sum(self.gaps.values())

    @property
    def changes(self) -> int:
        return self.total_created + self.total_replaced + self.roster_people + self.cases_assigned

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": dict(self.created),
            "replaced": dict(self.replaced),
            "unchanged": dict(self.unchanged),
            "manual": dict(self.manual),
            "gaps": dict(self.gaps),
            "roster_people": self.roster_people,
            "cases_assigned": self.cases_assigned,
        }


@dataclass
class _Link:
    kind: str
    field: str  # the target's field on Assignment
    target_id: int
    holder: StaffMember | None
    area_code: str
    school_id: int | None = None


def staff_sync_roster(*, county_code: str, school_year: int, write: bool = True) -> int:
    """Give every class of the year whose rolls name a head teacher (SchoolClass.
    head_teacher_name) and which has no head teacher in the directory an entry for that
    teacher (no phone): an existing class-less teacher of the same school and name takes the
    class, else a new entry is made. A roster-made head teacher whose class the rolls now give
    to someone else gives it up first. Return how many classes got their teacher."""
    classes = list(
        SchoolClass.objects.filter(
            school_year=school_year, school__township__code__startswith=county_code
        )
        .exclude(head_teacher_name="")
        .select_related("school__township")
    )
    heads = StaffMember.objects.filter(
        post=Post.CLASS_TEACHER, active=True, school_class_id__in=[c.pk for c in classes]
    )
    # The rolls changed a class's head teacher: an entry the roster made for the old one gives
    # the class up (it stays in the directory as a teacher of the school, with its history);
    # an entry the county made by hand or by its staff import is the county's word and stays.
    named = {c.pk: c.head_teacher_name.strip()[:50] for c in classes}
    stale = [
        pk
        for pk, class_id, name in heads.filter(source=StaffMember.Source.ROSTER).values_list(
            "pk", "school_class_id", "name"
        )
        if name != named[class_id]
    ]
    headed = set(heads.exclude(pk__in=stale).values_list("school_class_id", flat=True))
    todo = [c for c in classes if c.pk not in headed]
    if not todo or not write:
        return len(todo)
    StaffMember.objects.filter(pk__in=stale).update(school_class=None)
    free = {
        (s.school_id, s.name): s
        for s in StaffMember.objects.filter(
            post=Post.CLASS_TEACHER,
            active=True,
            school_class__isnull=True,
            school_id__in={c.school_id for c in todo},
        ).order_by("-id")
    }
    new: list[StaffMember] = []
    for c in todo:
        name = c.head_teacher_name.strip()[:50]
        found = free.pop((c.school_id, name), None)
        if found is not None:
            StaffMember.objects.filter(pk=found.pk).update(school_class=c)
            continue
        township = c.school.township
        new.append(
            StaffMember(
                name=name,
                post=Post.CLASS_TEACHER,
                school_id=c.school_id,
                school_class=c,
                township=township,
                area_code=township.code if township else "",
                source=StaffMember.Source.ROSTER,
            )
        )
    StaffMember.objects.bulk_create(new, batch_size=500)
    return len(todo)


def _plan(county_code: str, year: int) -> list[_Link]:
    """Return every link the data names (holder None where it names no one)."""
    links: list[_Link] = []
    staff = StaffMember.objects.filter(active=True, area_code__startswith=county_code)
    teachers = _first_by(
        staff.filter(post=Post.CLASS_TEACHER, school_class__isnull=False), "school_class_id"
    )
    principals = _first_by(staff.filter(post=Post.PRINCIPAL, school__isnull=False), "school_id")
    heads = _first_by(
        staff.filter(post=Post.CENTRAL_SCHOOL_HEAD, township__isnull=False), "township_id"
    )
    officers = _first_by(
        staff.filter(post=Post.TOWNSHIP_OFFICER, township__isnull=False), "township_id"
    )
    cadres = _first_by(staff.filter(post=Post.VILLAGE_CADRE, village__isnull=False), "village_id")
    townships = list(
        Area.objects.filter(level=Area.Level.TOWNSHIP, code__startswith=county_code).values_list(
            "pk", "code"
        )
    )
    for pk, code in townships:
        links.append(_Link(Kind.TOWNSHIP, "township", pk, officers.get(pk), code))
    schools = list(
        School.objects.filter(township__code__startswith=county_code).values_list(
            "pk", "township_id", "township__code"
        )
    )
    for pk, township_id, code in schools:
        links.append(_Link(Kind.SCHOOL, "school", pk, heads.get(township_id), code, pk))
    classes = SchoolClass.objects.filter(
        school_year=year, school__township__code__startswith=county_code
    ).values_list("pk", "school_id", "school__township__code")
    for pk, school_id, code in classes:
        links.append(
            _Link(Kind.CLASS, "school_class", pk, principals.get(school_id), code, school_id)
        )
    villages = Area.objects.filter(
        level=Area.Level.VILLAGE, is_poor=True, code__startswith=county_code
    ).values_list("pk", "code")
    for pk, code in villages:
        links.append(_Link(Kind.VILLAGE, "village", pk, cadres.get(pk), code))
    run = (
        IdentificationRun.objects.filter(county_code=county_code, status="done")
        .order_by("-id")
        .first()
    )
    if run is not None:
        statuses = (
            ChildStatus.objects.filter(
                run=run, category__in=ENROLLED, enrolment__school_class__school_year=year
            )
            .order_by("person_id")
            .values_list("person_id", "enrolment__school_class_id", "village_code", "school_id")
        )
        seen: set[int] = set()
        for person_id, class_id, village_code, school_id in statuses:
            if person_id in seen:
                continue
            seen.add(person_id)
            links.append(
                _Link(
                    Kind.STUDENT,
                    "person",
                    person_id,
                    teachers.get(class_id),
                    village_code,
                    school_id,
                )
            )
    return links


def _require_county(actor: Any, county_code: str) -> None:
    if actor is None:
        return
    if not getattr(actor, "is_authenticated", False) or not actor.can(P.DUTY_ASSIGN):
        raise PermissionDenied
    if actor.scope.level != "county" or actor.scope.county_code != county_code:
        raise PermissionDenied


@transaction.atomic
def chain_derive(
    *,
    actor: Any,
    county_code: str,
    school_year: int | None = None,
    today: dt.date | None = None,
    preview: bool = False,
) -> ChainResult:
    """Fill the chain from what the data says, set-wise and idempotently.

    A class's head teacher answers for its poor students, a school's principal for each
    class, the township's central-school head for each school, the township education
    officer for the township, a village cadre for their poor village. A link a person made
    (through the pages or Excel) is never replaced; a derived link whose person changed is
    ended and a new one starts, so the history stays. Open cases without a responsible person
    get the chain's. `preview` counts what would happen and writes nothing. Audited once.
    """
    _require_county(actor, county_code)
    year = school_year or working_year(county_code, today=today)
    today = today or timezone.localdate()
    if not preview:
        result = _derive(actor, county_code, year, today)
        audit_record(
            actor=actor,
            action="duty.chain_derive",
            object_type="duty.chain",
            object_id=county_code,
            actor_name="" if actor else "cli",
            data={"county": county_code, "school_year": year, **result.as_dict()},
        )
        return result
    # A preview runs the same derivation and rolls it back, so its counts are exact.
    point = transaction.savepoint()
    try:
        result = _derive(actor, county_code, year, today)
    finally:
        transaction.savepoint_rollback(point)
    result.preview = True
    return result


TARGET_FIELDS: dict[str, str] = {
    Kind.TOWNSHIP: "township",
    Kind.SCHOOL: "school",
    Kind.CLASS: "school_class",
    Kind.STUDENT: "person",
    Kind.VILLAGE: "village",
}


def _derive(actor: Any, county_code: str, year: int, today: dt.date) -> ChainResult:
    result = ChainResult()
    result.roster_people = staff_sync_roster(county_code=county_code, school_year=year)
    links = _plan(county_code, year)
    current: dict[tuple[str, int], Assignment] = {}
    for a in Assignment.objects.filter(ends_on__isnull=True, area_code__startswith=county_code):
        target_id = getattr(a, f"{TARGET_FIELDS[a.kind]}_id")
        if target_id is not None:
            current[(a.kind, target_id)] = a
    to_end: list[int] = []
    to_create: list[Assignment] = []
    for link in links:
        now = current.get((link.kind, link.target_id))
        if now is not None and not now.derived:
            result.manual[link.kind] += 1
            continue
        if link.holder is None:
            if now is None:
                result.gaps[link.kind] += 1
            else:
                result.unchanged[link.kind] += 1  # a derived link stays until someone is named
            continue
        if now is not None and now.holder_id == link.holder.pk:
            result.unchanged[link.kind] += 1
            continue
        if now is not None:
            to_end.append(now.pk)
            result.replaced[link.kind] += 1
        else:
            result.created[link.kind] += 1
        new = Assignment(
            kind=link.kind,
            holder=link.holder,
            area_code=link.area_code,
            starts_on=today,
            assigned_by=actor if getattr(actor, "is_authenticated", False) else None,
            derived=True,
            school_id=link.school_id,
        )
        setattr(new, f"{link.field}_id", link.target_id)
        to_create.append(new)
    for start in range(0, len(to_end), 500):
        Assignment.objects.filter(pk__in=to_end[start : start + 500]).update(ends_on=today)
    Assignment.objects.bulk_create(to_create, batch_size=500)
    result.cases_assigned = _assign_open_cases(county_code)
    return result


def _assign_open_cases(county_code: str) -> int:
    """Give open cases without a responsible person (or supervisor) the chain's; return how
    many got a responsible person."""
    chain = Chain.read()
    cases = DropoutCase.objects.exclude(status=DropoutCase.Status.CLOSED).filter(
        Q(assignee__isnull=True) | Q(supervisor__isnull=True),
        village_code__startswith=county_code,
    )
    assigned = 0
    for case in cases:
        changes: dict[str, Any] = {}
        if case.assignee_id is None:
            holder = chain.case_holder(case.person_id, case.school_class_id, case.village_code)
            if holder is not None:
                changes["assignee"] = holder
        if case.supervisor_id is None:
            supervisor = chain.supervisor(case.village_code)
            if supervisor is not None:
                changes["supervisor"] = supervisor
        if changes:
            DropoutCase.objects.filter(pk=case.pk).update(**changes)
            assigned += int("assignee" in changes)
    return assigned
