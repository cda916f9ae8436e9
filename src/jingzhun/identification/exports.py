"""Exports of identification: one row per registry child, and the dropout-control ledgers.

Rows come from :mod:`jingzhun.identification.selectors`, so an export holds exactly what
its user may see. ID numbers leave masked; whole ones only for a user who may export them
(VIEW_FULL_ID and EXPORT_SENSITIVE), and such an export is logged as ``export.sensitive``.
Every export is logged. Headers follow the active language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import xlsxwriter
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from jingzhun.core import csvsafe
from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.listing import ListParams
from jingzhun.core.periods import SchoolYear
from jingzhun.core.resident_id import birth_month
from jingzhun.core.sensitive import unseal
from jingzhun.identification import selectors
from jingzhun.identification.models import ChildStatus, IdentificationRun, Link, RunChange
from jingzhun.identification.wording import why_listed
from jingzhun.registry.models import Household, Person
from jingzhun.schools.models import Enrolment, School, Stage
from jingzhun.schools.naming import class_name

CHUNK = 2000
TOWNSHIP_CODE_LENGTH = selectors.TOWNSHIP_CODE_LENGTH


def may_export_whole_ids(user: Any) -> bool:
    """Return whether the user may export whole ID numbers (a list, not one number)."""
    return P.user_can(user, P.VIEW_FULL_ID) and P.user_can(user, P.EXPORT_SENSITIVE)


def _labels(choices: Iterable[tuple[str, Any]]) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


def write_table(
    path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str
) -> int:
    """Write rows to .xlsx (streamed, constant memory) or .csv (UTF-8 with BOM, for Excel;
    through :func:`jingzhun.core.csvsafe.writer`, so no text runs as a formula).

    Return the number of data rows written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            # The platform's CSV writer: dates ISO, formula-like texts neutralised.
            writer = csvsafe.writer(fh)
            writer.writerow(headers)
            for row in rows:
                writer.writerow(row)
                n += 1
        return n
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"Unsupported export format: {path.suffix}")
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    try:
        bold = wb.add_format({"bold": True, "bg_color": "#E2E8F0"})
        date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
        sheet_title = "".join(c for c in title if c not in "[]:*?/\\")[:31] or "Sheet1"
        ws = wb.add_worksheet(sheet_title)
        ws.freeze_panes(1, 0)
        for col, header in enumerate(headers):
            ws.set_column(col, col, max(10, min(30, len(header) * 2 + 2)))
            ws.write_string(0, col, header, bold)
        for n, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, dt.date):
                    ws.write_datetime(n, col, dt.datetime.combine(value, dt.time()), date_format)
                elif isinstance(value, bool):
                    ws.write_boolean(n, col, value)
                elif isinstance(value, int | float):
                    ws.write_number(n, col, value)
                else:
                    ws.write_string(n, col, str(value))
        ws.autofilter(0, 0, max(n, 1), len(headers) - 1)
    finally:
        wb.close()
    return n


# --------------------------------------------------------------------------- one row per child


def identification_headers(*, whole_ids: bool) -> list[str]:
    return [
        _("Name"),
        _("Resident ID") if whole_ids else _("Resident ID (masked)"),
        _("Sex"),
        _("Birth date") if whole_ids else _("Birth month"),
        _("Age"),
        _("Township"),
        _("Village"),
        _("Household status"),
        _("Identification status"),
        _("School"),
        _("Stage"),
        _("Grade"),
        _("Class"),
        _("Head teacher"),
        _("Found by"),
        _("Roll number (masked)"),
    ]


IDENTIFICATION_FIELDS = (
    "person__name",
    "person__id_masked",
    "person__sex",
    "person__birth_date",
    "age",
    "village_code",
    "household_status",
    "category",
    "school__name",
    "stage",
    "grade",
    "enrolment__school_class__name",
    "enrolment__school_class__head_teacher_name",
    "link_method",
    "student__roll_masked",
)


def _identification_rows(qs: Any, names: dict[str, str], *, whole_ids: bool) -> Iterator[list[Any]]:
    sex = _labels(Person.Sex.choices)
    household = _labels(Household.Status.choices)
    category = _labels(ChildStatus.Category.choices)
    stage = _labels(Stage.choices)
    method = _labels(Link.Method.choices)
    fields = IDENTIFICATION_FIELDS + (("person__id_cipher", "person__id_key") if whole_ids else ())
    for r in qs.values(*fields).iterator(chunk_size=CHUNK):
        shown = r["person__id_masked"]
        if whole_ids:
            holder = SimpleNamespace(id_cipher=r["person__id_cipher"], id_key=r["person__id_key"])
            shown = unseal(holder, prefix="id", purpose="id") or shown
        village = r["village_code"]
        township = village[:TOWNSHIP_CODE_LENGTH]
        yield [
            r["person__name"],
            shown,
            sex.get(r["person__sex"], r["person__sex"]),
            # the day only beside the whole ID it is part of (core.resident_id.birth_month)
            r["person__birth_date"] if whole_ids else birth_month(r["person__birth_date"]),
            r["age"],
            names.get(township, township),
            names.get(village, village),
            household.get(r["household_status"], r["household_status"]),
            category.get(r["category"], r["category"]),
            r["school__name"] or "",
            stage.get(r["stage"], r["stage"] or ""),
            r["grade"],
            class_name(r["stage"], r["grade"], r["enrolment__school_class__name"]),
            r["enrolment__school_class__head_teacher_name"] or "",
            method.get(r["link_method"], r["link_method"] or ""),
            r["student__roll_masked"] or "",
        ]


def _visible_run(user: Any, run: IdentificationRun) -> None:
    if not selectors.run_list(user=user).filter(pk=run.pk).exists():
        raise PermissionDenied


def _area_names(qs: Any) -> dict[str, str]:
    villages = set(qs.order_by().values_list("village_code", flat=True).distinct())
    return selectors.area_names(list(villages | {v[:TOWNSHIP_CODE_LENGTH] for v in villages}))


def export_identification(
    *, user: Any, run: IdentificationRun, path: Path, whole_ids: bool = False
) -> int:
    """Write one row per registry child of a run (xlsx or csv, by suffix); return the row count.

    Rows are those the user may see. ID numbers are masked unless `whole_ids` is asked
    for by a user who may export them whole (PermissionDenied otherwise).
    """
    _visible_run(user, run)
    if whole_ids and not may_export_whole_ids(user):
        audit_record(
            actor=user,
            action="access.denied",
            target=run,
            data={"what": "export.identification", "whole_ids": True},
        )
        raise PermissionDenied(_("You may not export whole ID numbers."))
    qs = selectors.status_list(user=user, run=run)
    names = _area_names(qs)
    rows = _identification_rows(
        qs.order_by("village_code", "person__name", "pk"), names, whole_ids=whole_ids
    )
    n = write_table(
        path,
        identification_headers(whole_ids=whole_ids),
        rows,
        title=_("Identification"),
    )
    audit_record(
        actor=user,
        action="export.sensitive" if whole_ids else "export.identification",
        target=run,
        data={"rows": n, "format": Path(path).suffix.lower().lstrip("."), "whole_ids": whole_ids},
    )
    return n


# --------------------------------------------------------------------------- ledgers


def ledger_headers() -> list[str]:
    return [
        _("Township"),
        _("Village"),
        _("Name"),
        _("Resident ID (masked)"),
        _("Sex"),
        _("Birth month"),
        _("Age"),
        _("School"),
        _("Stage"),
        _("Grade"),
        _("Class"),
        _("Head teacher"),
        _("Identification status"),
        _("Why listed"),
        _("What takes them off"),
    ]


LEDGER_FIELDS = (
    "village_code",
    "person__name",
    "person__id_masked",
    "person__sex",
    "person__birth_date",
    "age",
    "school__name",
    "stage",
    "grade",
    "enrolment__school_class__name",
    "enrolment__school_class__head_teacher_name",
    "category",
    "person__school_status",
    "person__education",
    "person__id_status",
)


def _ledger_rows(qs: Any, names: dict[str, str], school_year: int) -> Iterator[list[Any]]:
    sex = _labels(Person.Sex.choices)
    category = _labels(ChildStatus.Category.choices)
    stage = _labels(Stage.choices)
    for r in qs.values(*LEDGER_FIELDS).iterator(chunk_size=CHUNK):
        village = r["village_code"]
        township = village[:TOWNSHIP_CODE_LENGTH]
        yield [
            names.get(township, township),
            names.get(village, village),
            r["person__name"],
            r["person__id_masked"],
            sex.get(r["person__sex"], r["person__sex"]),
            birth_month(r["person__birth_date"]),
            r["age"],
            r["school__name"] or "",
            stage.get(r["stage"], r["stage"] or ""),
            r["grade"],
            class_name(r["stage"], r["grade"], r["enrolment__school_class__name"]),
            r["enrolment__school_class__head_teacher_name"] or "",
            category.get(r["category"], r["category"]),
            *why_listed(
                category=r["category"],
                birth_date=r["person__birth_date"],
                school_year=school_year,
                school_status=r["person__school_status"],
                education=r["person__education"],
                id_status=r["person__id_status"],
            ),
        ]


def export_ledger(
    *,
    user: Any,
    run: IdentificationRun,
    ledger: selectors.Ledger,
    path: Path,
    params: ListParams | None = None,
    group: str = "township",
) -> int:
    """Write one dropout-control ledger (xlsx or csv) as the user may see it, with exactly the
    rows of the page's filters; log the export."""
    _visible_run(user, run)
    params = params or ListParams()
    qs = selectors.ledger_rows(user=user, run=run, ledger=ledger, params=params, group=group)
    n = write_table(
        path,
        ledger_headers(),
        _ledger_rows(qs, _area_names(qs), run.school_year),
        title=str(ledger.title),
    )
    audit_record(
        actor=user,
        action="export.ledger",
        target=run,
        data={
            "ledger": ledger.slug,
            "rows": n,
            "filters": params.query(),
            "format": Path(path).suffix.lower().lstrip("."),
        },
    )
    return n


# --------------------------------------------------------------------------- other lists


def export_changes(*, user: Any, run: IdentificationRun, path: Path, params: ListParams) -> int:
    """Write a run's changes with the page's filters (what the list shows); log the export."""
    _visible_run(user, run)
    qs = selectors.filtered_changes(user=user, run=run, params=params)
    names = _area_names(qs)
    values = change_values(list(qs))
    rows = (
        [
            str(v["change"].get_kind_display()),
            names.get(v["change"].village_code[:TOWNSHIP_CODE_LENGTH], ""),
            names.get(v["change"].village_code, v["change"].village_code),
            v["change"].person.name,
            v["change"].person.id_masked,
            v["change"].school.name if v["change"].school else "",
            str(v["before"]),
            str(v["after"]),
        ]
        for v in values
    )
    headers = [
        _("Change"),
        _("Township"),
        _("Village"),
        _("Name"),
        _("Resident ID (masked)"),
        _("School"),
        _("Before"),
        _("After"),
    ]
    n = write_table(path, headers, rows, title=_("Changes"))
    audit_record(
        actor=user,
        action="export.identification_changes",
        target=run,
        data={"rows": n, "filters": params.query()},
    )
    return n


def export_candidates(*, user: Any, path: Path, params: ListParams) -> int:
    """Write the review candidates of the page's filters; log the export."""
    qs = selectors.filtered_candidates(user=user, params=params)
    rows = (
        [
            round(c.probability * 100, 1),
            c.person.name,
            c.person.id_masked,
            c.person.household.village.name,
            c.student.name,
            c.student.id_masked,
            c.school.name if c.school else "",
            str(c.get_decision_display()),
            _person(c.decided_by),
            c.decided_at.date() if c.decided_at else None,
        ]
        for c in qs.iterator(chunk_size=CHUNK)
    )
    headers = [
        _("Match probability (%)"),
        _("Registry child"),
        _("Resident ID (masked)"),
        _("Village"),
        _("Student on the roll"),
        _("Resident ID on the roll (masked)"),
        _("School"),
        _("Decision"),
        _("Decided by"),
        _("Decided on"),
    ]
    n = write_table(path, headers, rows, title=_("Review queue"))
    audit_record(
        actor=user,
        action="export.identification_candidates",
        data={"rows": n, "filters": params.query()},
    )
    return n


def export_runs(*, user: Any, path: Path, params: ListParams) -> int:
    """Write the runs of the page's filters (no personal data); log the export."""
    qs = selectors.filtered_runs(user=user, params=params)
    rows = (
        [
            r.pk,
            r.as_of,
            str(SchoolYear(r.school_year)),
            str(r.get_status_display()),
            _("Yes") if r.held else "",
            _person(r.started_by),
            r.started_at.date() if r.started_at else None,
            _person(r.confirmed_by),
            r.confirmed_at.date() if r.confirmed_at else None,
            int(r.counts.get("children", 0)),
        ]
        for r in qs.iterator(chunk_size=CHUNK)
    )
    headers = [
        _("Run"),
        _("As of"),
        _("School year"),
        _("Status"),
        _("Held"),
        _("Started by"),
        _("Started"),
        _("Confirmed by"),
        _("Confirmed"),
        _("Children aged 3-22"),
    ]
    n = write_table(path, headers, rows, title=_("Identification runs"))
    audit_record(
        actor=user, action="export.identification_runs", data={"rows": n, "filters": params.query()}
    )
    return n


def _person(user: Any) -> str:
    """A person by name, never by login name."""
    if user is None:
        return ""
    return str(user.get_full_name() or "").strip() or "—"


def change_values(changes: list[RunChange]) -> list[dict[str, Any]]:
    """Return changes with their before/after values as people read them."""
    category = dict(ChildStatus.Category.choices)
    household = dict(Household.Status.choices)
    roll = dict(Enrolment.Status.choices)
    school_ids = {
        int(v)
        for c in changes
        if c.kind == RunChange.Kind.TRANSFER
        for v in (c.before, c.after)
        if v and v.isdigit()
    }
    schools = dict(School.objects.filter(pk__in=school_ids).values_list("pk", "name"))

    def show(kind: str, value: str) -> Any:
        if not value:
            return "—"
        if kind == RunChange.Kind.TRANSFER:
            return schools.get(int(value), value) if value.isdigit() else value
        if kind == RunChange.Kind.LEFT_POVERTY:
            return household.get(value, value)
        if kind == RunChange.Kind.GRADUATED:
            return roll.get(value, value)
        return category.get(value, value)

    return [
        {"change": c, "before": show(c.kind, c.before), "after": show(c.kind, c.after)}
        for c in changes
    ]
