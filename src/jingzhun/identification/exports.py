"""Exports of identification: one row per registry child, and the dropout-control ledgers.

Rows come from :mod:`jingzhun.identification.selectors`, so an export holds exactly what
its user may see. ID numbers leave masked; whole ones only for a user who may export them
(VIEW_FULL_ID and EXPORT_SENSITIVE), and such an export is logged as ``export.sensitive``.
Every export is logged. Headers follow the active language.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import xlsxwriter
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.sensitive import unseal
from jingzhun.identification import selectors
from jingzhun.identification.models import ChildStatus, IdentificationRun, Link
from jingzhun.identification.wording import why_listed
from jingzhun.registry.models import Household, Person
from jingzhun.schools.models import Stage

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
    """Write rows to .xlsx (streamed, constant memory) or .csv (UTF-8 with BOM, for Excel).

    Return the number of data rows written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(headers)
            for row in rows:
                writer.writerow(
                    [
                        "" if v is None else v.isoformat() if isinstance(v, dt.date) else v
                        for v in row
                    ]
                )
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
        _("Birth date"),
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
            r["person__birth_date"],
            r["age"],
            names.get(township, township),
            names.get(village, village),
            household.get(r["household_status"], r["household_status"]),
            category.get(r["category"], r["category"]),
            r["school__name"] or "",
            stage.get(r["stage"], r["stage"] or ""),
            r["grade"],
            r["enrolment__school_class__name"] or "",
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
        _("Birth date"),
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
            r["person__birth_date"],
            r["age"],
            r["school__name"] or "",
            stage.get(r["stage"], r["stage"] or ""),
            r["grade"],
            r["enrolment__school_class__name"] or "",
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
    township: str = "",
    school_id: int | None = None,
    group: str = "township",
) -> int:
    """Write one dropout-control ledger (xlsx or csv) as the user may see it; log the export."""
    _visible_run(user, run)
    qs = selectors.ledger_rows(
        user=user, run=run, ledger=ledger, township=township, school_id=school_id, group=group
    )
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
            "township": township,
            "school": school_id,
            "format": Path(path).suffix.lower().lstrip("."),
        },
    )
    return n
