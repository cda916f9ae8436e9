"""Responsible persons in bulk by Excel: a template of targets to fill, and the filled file
read back into a plan that is shown before anything is written.

The template lists one target per row (对象类型, 对象, 对象编号) with empty 责任人姓名 and
手机号码. Read back, each filled row is matched to a person of the staff directory the user
may see: by phone, else by name at the target's school, else by a name that is unique in the
user's jurisdiction. A row that matches no one, or several, is an error with its line and
reason; nothing is written until the user confirms the plan.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from jingzhun.accounts.models import StaffMember
from jingzhun.core.scoping import scope_queryset
from jingzhun.core.tabular import TabularError, read_table
from jingzhun.duty.importers import normalize_phone
from jingzhun.duty.models import Assignment
from jingzhun.schools.models import SchoolClass, Student

# The template's words (an official county sheet: Chinese constants, not translated).
KIND_ZH: dict[str, str] = {
    Assignment.Kind.TOWNSHIP: "乡镇",
    Assignment.Kind.SCHOOL: "学校",
    Assignment.Kind.CLASS: "班级",
    Assignment.Kind.STUDENT: "贫困学生",
    Assignment.Kind.VILLAGE: "贫困村",
}
ZH_KIND: dict[str, str] = {v: k for k, v in KIND_ZH.items()}
HEADERS = ("对象类型", "对象", "对象编号", "责任人姓名", "手机号码")
TEMPLATE_TITLE = "责任人批量指定"


@dataclass
class PlanRow:
    line: int
    kind: str
    target_id: int
    target: str
    holder_id: int
    holder: str


@dataclass
class PlanError:
    line: int
    column: str
    value: str
    reason: str


@dataclass
class Plan:
    rows: list[PlanRow] = field(default_factory=list)
    errors: list[PlanError] = field(default_factory=list)
    skipped: int = 0  # rows left without a name

    def as_triples(self) -> list[tuple[str, int, int]]:
        return [(r.kind, r.target_id, r.holder_id) for r in self.rows]


def template_rows(targets: list[tuple[str, int, str]]) -> list[list[str | int | None]]:
    """Return the template's rows for (kind, target id, label) triples."""
    return [
        [KIND_ZH.get(kind, kind), label, target_id, "", ""] for kind, target_id, label in targets
    ]


def _target_schools(rows: list[tuple[str, int]]) -> dict[tuple[str, int], int | None]:
    """Return the school of each (kind, target id) that has one, to match names there."""
    out: dict[tuple[str, int], int | None] = {}
    student_ids = [t for k, t in rows if k == Assignment.Kind.STUDENT]
    latest: dict[int, int] = {}
    for sid, school_id in (
        Student.objects.filter(pk__in=student_ids)
        .order_by("enrolments__school_year")
        .values_list("pk", "enrolments__school_id")
    ):
        if school_id is not None:
            latest[sid] = school_id
    class_school = dict(
        SchoolClass.objects.filter(
            pk__in=[t for k, t in rows if k == Assignment.Kind.CLASS]
        ).values_list("pk", "school_id")
    )
    for kind, target_id in rows:
        if kind == Assignment.Kind.STUDENT:
            out[(kind, target_id)] = latest.get(target_id)
        elif kind == Assignment.Kind.CLASS:
            out[(kind, target_id)] = class_school.get(target_id)
        elif kind == Assignment.Kind.SCHOOL:
            out[(kind, target_id)] = target_id
        else:
            out[(kind, target_id)] = None
    return out


def read_plan(*, user: Any, path: Path) -> Plan:
    """Read a filled template and match its rows to people; write nothing."""
    plan = Plan()
    try:
        raw = read_table(path, header_aliases=set(HEADERS))
    except TabularError as exc:
        plan.errors.append(PlanError(0, "", "", str(exc)))
        return plan
    headers = [str(h or "").strip() for h in raw.headers]
    missing = [h for h in HEADERS if h not in headers and h != "对象"]
    if missing:
        plan.errors.append(
            PlanError(
                0,
                "",
                "",
                _("These columns are missing: %(cols)s") % {"cols": ", ".join(missing)},
            )
        )
        return plan
    cols = {h: raw.table.column(headers.index(h)).to_pylist() for h in HEADERS if h in headers}
    lines = raw.line_numbers.to_pylist()
    staff = list(
        scope_queryset(StaffMember.objects.filter(active=True), user).select_related("school")
    )
    by_phone: dict[str, list[StaffMember]] = defaultdict(list)
    by_name: dict[str, list[StaffMember]] = defaultdict(list)
    for s in staff:
        if s.phone:
            by_phone[normalize_phone(s.phone)].append(s)
        by_name[s.name].append(s)
    pending: list[tuple[int, str, int, str, str, str]] = []
    for i, line in enumerate(lines):
        name = str(cols["责任人姓名"][i] or "").strip()
        phone = normalize_phone(str(cols["手机号码"][i] or ""))
        if not name and not phone:
            plan.skipped += 1
            continue
        kind = ZH_KIND.get(str(cols["对象类型"][i] or "").strip())
        if kind is None:
            plan.errors.append(
                PlanError(line, "对象类型", str(cols["对象类型"][i] or ""), _("Unknown kind."))
            )
            continue
        raw_id = str(cols["对象编号"][i] or "").strip().removesuffix(".0")
        if not raw_id.isdigit():
            plan.errors.append(
                PlanError(line, "对象编号", raw_id, _("The target's number is missing."))
            )
            continue
        label = str(cols.get("对象", [""] * len(lines))[i] or "")
        pending.append((line, kind, int(raw_id), label, name, phone))
    schools = _target_schools([(k, t) for _l, k, t, _x, _n, _p in pending])
    for line, kind, target_id, label, name, phone in pending:
        found: list[StaffMember] = []
        if phone:
            found = by_phone.get(phone, [])
            if name:
                found = [s for s in found if s.name == name]
        if not found and name:
            found = by_name.get(name, [])
            school_id = schools.get((kind, target_id))
            if len(found) > 1 and school_id is not None:
                found = [s for s in found if s.school_id == school_id] or found
        if not found:
            plan.errors.append(
                PlanError(
                    line,
                    "责任人姓名",
                    name,
                    _("No one of this name (and phone) is in the staff directory you see."),
                )
            )
            continue
        if len(found) > 1:
            plan.errors.append(
                PlanError(
                    line,
                    "责任人姓名",
                    name,
                    _("Several people have this name; add their phone number."),
                )
            )
            continue
        person = found[0]
        plan.rows.append(PlanRow(line, kind, target_id, label, person.pk, person.name))
    return plan
