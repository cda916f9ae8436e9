"""A province's identification: one task per county on the task queue, and one summary.

``province_run_start`` records a :class:`ProvinceRun` with one :class:`ProvinceCountyRun` per
county of the province and enqueues one task per county (``tasks.identify_province_county``)
on the configured backend: the database backend with ``jingzhun db_worker`` processes
(embedded default), or RQ on Redis with RQ workers (``JINGZHUN_TASKS_BACKEND=rq``). Each task
runs that county's own run, exactly as ``jingzhun identify --county CODE --yes`` would, and
confirms it as the county's current run; a held run stays held (an officer confirms it on its
page) and is reported. ``province_summary`` sums the counties up.

What a county's run reads (:func:`county_inputs`): its own children, students and enrolments,
and across the county's border, by ID (the exact stage's three ID indexes, verified by name or
birth date exactly as the exact stage verifies):

* students of other counties of the province who are this county's children: a child of
  county A at a school of county B is found enrolled, outside the county (as the
  province-wide run finds them enrolled), and linked by county A's run;
* its own students who are children of another county of the province: they belong to that
  county's run, so this county neither links them by the fuzzy stage nor reports them as
  poor students missing from the registry.

So the county runs of a province link the same pairs by ID as one province-wide run, in
parallel, each county's result its own. What only a province-wide run finds: fuzzy links
(no usable ID) between a child and a student of two different counties; those children are
left to verify outside the county, as in a county alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from jingzhun.core.bulk import fetch_arrow, fetch_columns, select_in
from jingzhun.core.importing import duck
from jingzhun.identification.engine import (
    ENROLMENT_SCHEMA,
    PERSON_SCHEMA,
    STUDENT_SCHEMA,
    Inputs,
    exact_links,
    load_inputs,
)
from jingzhun.identification.models import ProvinceCountyRun, ProvinceRun
from jingzhun.registry.models import Area


def county_inputs(*, county_code: str, as_of: dt.date) -> Inputs:
    """Read a county's inputs for its own run, with its children and students across the
    border of the county within the province (see the module's docstring)."""
    inputs = load_inputs(county_code=county_code, as_of=as_of)
    if len(county_code) != 6 or connection.vendor != "postgresql":
        return _across_border(inputs, county_code, as_of)
    # The lookups by ID probe every county's partition: PostgreSQL's JIT would spend seconds
    # compiling each of them (measured 5.8 s of 5.8 s per lookup at province scale).
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        return _across_border(inputs, county_code, as_of)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")


def _across_border(inputs: Inputs, county_code: str, as_of: dt.date) -> Inputs:
    # Decisions of people are kept per county: a pair decided in another county is not ours.
    ours = set(inputs.persons.column("person_id").to_pylist())
    inputs.accepted = {pair for pair in inputs.accepted if pair[0] in ours}
    inputs.rejected = {pair for pair in inputs.rejected if pair[0] in ours}
    if len(county_code) != 6:
        return inputs
    province = county_code[:2]
    oldest = dt.date(as_of.year - 23, as_of.month, min(as_of.day, 28))

    # 1. Students of the province's other counties who carry one of our children's IDs.
    by_column = {
        "id_index": _values(inputs.persons, "id_index"),
        "roll_id_index": _values(inputs.persons, "id_index"),
        "id15_index": _values(inputs.persons, "id15_index"),
    }
    ids: set[int] = set()
    for column, values in by_column.items():
        ids |= _ids(
            "SELECT id FROM schools_student WHERE county_code LIKE %s AND county_code <> %s "
            f"AND {column} IN ({{marks}})",
            [f"{province}%", county_code],
            values,
        )
    if ids:
        students = _students(sorted(ids))
        con = duck()
        con.register("p", inputs.persons)
        con.register("s", students)
        verified = exact_links(con, inputs.persons, students).column("student_id")
        con.close()
        students = students.filter(pc.is_in(students.column("student_id"), verified))
        if students.num_rows:
            inputs.students = pa.concat_tables([inputs.students, students])
            inputs.enrolments = pa.concat_tables(
                [inputs.enrolments, _enrolments(students.column("student_id").to_pylist())]
            )

    # 2. Our students who are children of another county of the province: theirs, not ours.
    own = inputs.students
    keys = _values(own, "id_index") | _values(own, "roll_id_index")
    person_sql = (
        "SELECT p.id FROM registry_person p JOIN registry_household h ON h.id = p.household_id "
        "JOIN registry_area a ON a.id = h.village_id WHERE a.code LIKE %s AND a.code NOT LIKE %s "
        "AND h.status <> 'removed' AND p.birth_date > %s AND p.{column} IN ({marks})"
    )
    pids = _ids(
        person_sql.replace("{column}", "id_index"),
        [f"{province}%", f"{county_code}%", oldest],
        keys,
    ) | _ids(
        person_sql.replace("{column}", "id15_index"),
        [f"{province}%", f"{county_code}%", oldest],
        _values(own, "id15_index"),
    )
    if pids:
        others = _persons(sorted(pids))
        con = duck()
        con.register("p", others)
        con.register("s", own)
        theirs = exact_links(con, others, own).column("student_id")
        con.close()
        if len(theirs):
            keep = pc.invert(pc.is_in(own.column("student_id"), theirs))
            inputs.students = own.filter(keep)
            inputs.enrolments = inputs.enrolments.filter(
                pc.invert(pc.is_in(inputs.enrolments.column("student_id"), theirs))
            )
    return inputs


def _values(table: pa.Table, column: str) -> set[str]:
    return {v for v in table.column(column).to_pylist() if v}


def _ids(sql: str, params: list[Any], values: set[str]) -> set[int]:
    """Run `sql` (with `IN ({marks})`) over `values`; return the ids (core.bulk.select_in:
    one array on PostgreSQL, where IN lists of 900 took 125 s a county at province scale)."""
    found: set[int] = set()
    for text, args in select_in(sql, sorted(values), params):
        found |= {int(pk) for (pk,) in fetch_columns(text, args)}
    return found


def _in_chunks(sql: str, ids: list[int], schema: pa.Schema) -> pa.Table:
    parts = [fetch_arrow(text, args, schema) for text, args in select_in(sql, ids)]
    return pa.concat_tables(parts) if parts else schema.empty_table()


def _students(ids: list[int]) -> pa.Table:
    return _in_chunks(
        "SELECT id, name, CASE WHEN id_status = 'valid' THEN id_index END, birth_date, sex, "
        "poor_flag, roll_id_index, id15_index FROM schools_student WHERE id IN ({marks})",
        ids,
        STUDENT_SCHEMA,
    )


def _enrolments(ids: list[int]) -> pa.Table:
    # A school of another county is, for this county, outside it (in the province).
    return _in_chunks(
        "SELECT e.id, e.student_id, e.school_id, e.school_year, e.stage, e.grade, e.boarding, "
        "e.status, e.status_date, "
        "CASE WHEN s.location = 'in_county' THEN 'in_province' ELSE s.location END, "
        "coalesce(v.code, ''), coalesce(t.code, '') "
        "FROM schools_enrolment e JOIN schools_school s ON s.id = e.school_id "
        "LEFT JOIN registry_area v ON v.id = s.village_id "
        "LEFT JOIN registry_area t ON t.id = s.township_id WHERE e.student_id IN ({marks})",
        ids,
        ENROLMENT_SCHEMA,
    )


def _persons(ids: list[int]) -> pa.Table:
    return _in_chunks(
        "SELECT p.id, p.name, p.id_index, p.birth_date, p.sex, h.status, a.code, "
        "p.id15_index, p.education, p.school_status "
        "FROM registry_person p JOIN registry_household h ON h.id = p.household_id "
        "JOIN registry_area a ON a.id = h.village_id WHERE p.id IN ({marks})",
        ids,
        PERSON_SCHEMA,
    )


# --------------------------------------------------------------------------------------------
# The province run
# --------------------------------------------------------------------------------------------


def province_counties(province: str) -> list[str]:
    """Return the codes of the province's counties known to the platform (areas)."""
    return list(
        Area.objects.filter(level="county", code__startswith=province)
        .order_by("code")
        .values_list("code", flat=True)
    )


def province_run_start(
    *, actor: Any, province: str, as_of: dt.date, counties: list[str] | None = None
) -> ProvinceRun:
    """Record a province run and enqueue one identification task per county.

    Raises ValueError when the province has no county.
    """
    from jingzhun.identification import tasks

    codes = counties if counties is not None else province_counties(province)
    if not codes:
        raise ValueError(province)
    with transaction.atomic():
        run = ProvinceRun.objects.create(
            province=province,
            as_of=as_of,
            started_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        parts = ProvinceCountyRun.objects.bulk_create(
            [ProvinceCountyRun(province_run=run, county_code=code) for code in codes]
        )
    # Enqueued after the records are committed, so a worker always finds its part.
    for part in parts:
        result = tasks.identify_province_county.enqueue(part.pk)
        ProvinceCountyRun.objects.filter(pk=part.pk, task_id="").update(task_id=str(result.id)[:64])
    return run


def province_county_run(part_id: int) -> ProvinceCountyRun:
    """Run one county of a province run (the task's body): compute, confirm unless held."""
    from jingzhun.core.progress import Progress
    from jingzhun.identification import services
    from jingzhun.identification.models import IdentificationRun

    part = ProvinceCountyRun.objects.select_related("province_run").get(pk=part_id)
    ProvinceCountyRun.objects.filter(pk=part.pk).update(
        state=ProvinceCountyRun.State.RUNNING, started_at=timezone.now()
    )
    state = ProvinceCountyRun.State.FAILED
    run = None
    error = ""
    try:
        run = services.identification_run(
            actor=part.province_run.started_by,
            county_code=part.county_code,
            as_of=part.province_run.as_of,
            fuzzy=services.fuzzy_stage_factory(),
            progress=Progress(f"identify-{part.county_code}"),
            confirm=False,
        )
        if run.status == IdentificationRun.Status.DONE:
            state = ProvinceCountyRun.State.UNCHANGED
        elif run.held:
            state = ProvinceCountyRun.State.HELD
        else:
            run = services.identification_run_confirm(
                actor=part.province_run.started_by, run_id=run.pk
            )
            state = ProvinceCountyRun.State.CONFIRMED
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the county's part
        error = " ".join(getattr(exc, "messages", None) or [str(exc)])[:2000]
    ProvinceCountyRun.objects.filter(pk=part.pk).update(
        state=state,
        run=run,
        counts=run.counts if run is not None else {},
        error=error,
        finished_at=timezone.now(),
    )
    _finish_if_done(part.province_run_id)
    part.refresh_from_db()
    return part


FINISHED = (
    ProvinceCountyRun.State.CONFIRMED,
    ProvinceCountyRun.State.UNCHANGED,
    ProvinceCountyRun.State.HELD,
    ProvinceCountyRun.State.FAILED,
)


def _finish_if_done(run_id: int) -> None:
    open_parts = ProvinceCountyRun.objects.filter(province_run_id=run_id).exclude(
        state__in=FINISHED
    )
    if not open_parts.exists():
        ProvinceRun.objects.filter(pk=run_id, finished_at__isnull=True).update(
            finished_at=timezone.now()
        )


def province_summary(run: ProvinceRun) -> dict[str, Any]:
    """Return the province run's summary: counties by state, summed counts, held and failed."""
    run.refresh_from_db()
    parts = list(run.counties.select_related("run").order_by("county_code"))
    states = dict(
        run.counties.values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )
    totals: dict[str, int] = {}
    for part in parts:
        for key, value in (part.counts or {}).items():
            if isinstance(value, int):
                totals[key] = totals.get(key, 0) + value
    finished = [p.finished_at for p in parts if p.finished_at is not None]
    return {
        "id": run.pk,
        "province": run.province,
        "as_of": run.as_of.isoformat(),
        "counties": len(parts),
        "states": {
            code: int(states.get(code, 0)) for code, _label in ProvinceCountyRun.State.choices
        },
        "done": run.finished_at is not None,
        "seconds": round(
            (
                (run.finished_at or max(finished, default=timezone.now())) - run.started_at
            ).total_seconds(),
            1,
        ),
        "totals": dict(sorted(totals.items())),
        "held": [
            {
                "county": p.county_code,
                "run": p.run_id,
                "moved_out": (p.run.diff or {}).get("moved_out", 0) if p.run else 0,
            }
            for p in parts
            if p.state == ProvinceCountyRun.State.HELD
        ],
        "failed": [
            {"county": p.county_code, "error": p.error}
            for p in parts
            if p.state == ProvinceCountyRun.State.FAILED
        ],
    }
