"""Writes of identification: runs, review decisions, home teaching and out-of-county proofs."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core import crypto
from jingzhun.core import permissions as P
from jingzhun.core.audit import audit_record
from jingzhun.core.bulk import fetch_arrow, fetch_columns, insert_rows, select_in
from jingzhun.core.importing import duck
from jingzhun.core.models import DataQualityTask
from jingzhun.core.partitions import follow_student_county
from jingzhun.core.periods import SchoolYear
from jingzhun.core.quality import Finding, tasks_sync
from jingzhun.core.scoping import get_object_for_user
from jingzhun.identification import fuzzy as splink_stage
from jingzhun.identification import selectors
from jingzhun.identification.engine import (
    Inputs,
    Result,
    current_enrolment_sql,
    run_engine,
)
from jingzhun.identification.models import (
    ChildStatus,
    Discrepancy,
    HomeTeaching,
    IdentificationRun,
    Link,
    OutOfCountyProof,
    ReviewCandidate,
    RollDuplicate,
    RunChange,
)
from jingzhun.identification.province import county_inputs
from jingzhun.registry.models import Person
from jingzhun.schools.models import Enrolment, Student

RULES_VERSION = 4
# Default of the IDENTIFICATION_RUN_HOLD_SHARE setting (env JINGZHUN_RUN_HOLD_SHARE).
DEFAULT_HOLD_SHARE = 0.05


def identification_settings() -> dict[str, Any]:
    """Return the thresholds and switches a run uses (settings, so a county can tune them)."""
    return {
        "auto_threshold": settings.IDENTIFICATION_AUTO_THRESHOLD,
        "review_threshold": settings.IDENTIFICATION_REVIEW_THRESHOLD,
        "fuzzy": settings.IDENTIFICATION_FUZZY,
        # The rules' version: a run under new rules is a new run even on unchanged inputs.
        "rules": RULES_VERSION,
    }


MIN_RESIDUE_TO_TRAIN = 200


def _decrypt_ids(table: str, ids: list[int]) -> dict[int, str]:
    """Decrypt the ID numbers of a few rows (the residue), in memory only."""
    found: dict[int, str] = {}
    sql = f"SELECT id, id_cipher, id_key FROM {table} WHERE id_cipher IS NOT NULL AND id IN ({{marks}})"
    for text, params in select_in(sql, ids):
        for pk, cipher, key in fetch_columns(text, params):
            found[pk] = crypto.decrypt(bytes(cipher), version=key, purpose="id")
    return found


def fuzzy_residue(
    con: Any, inputs: Inputs, base: pa.Table, school_year: int
) -> tuple[pa.Table, pa.Table]:
    """Return the persons and current students the exact stage left, in the fuzzy stage's shape."""
    con.register("base_links", base)
    persons = con.sql("""
        SELECT person_id, name, birth_date, sex, village_code, substr(village_code, 1, 9) AS township_code
        FROM p WHERE person_id NOT IN (SELECT person_id FROM base_links)
        ORDER BY person_id""").to_arrow_table()
    students = con.sql(f"""
        SELECT s.student_id, s.name, s.birth_date, nullif(s.sex, '') AS sex,
               nullif(c.school_village, '') AS village_code,
               nullif(c.school_township, '') AS township_code
        FROM s JOIN ({current_enrolment_sql(school_year)}) c USING (student_id)
        WHERE s.student_id NOT IN (SELECT student_id FROM base_links)
        ORDER BY s.student_id""").to_arrow_table()
    pids = _decrypt_ids("registry_person", persons.column("person_id").to_pylist())
    sids = _decrypt_ids("schools_student", students.column("student_id").to_pylist())
    persons = persons.append_column(
        "id_number",
        pa.array([pids.get(i) for i in persons.column("person_id").to_pylist()], pa.string()),
    )
    students = students.append_column(
        "id_number",
        pa.array([sids.get(i) for i in students.column("student_id").to_pylist()], pa.string()),
    )
    return persons, students


def fuzzy_stage_factory(
    *, retrain: bool = False, model: dict[str, Any] | None = None
) -> Callable[..., Any]:
    """Return the hook that gives a run its fuzzy stage (Splink over the exact stage's residue).

    The model of the previous run is reused unless `retrain` is set or a `model` is given;
    a residue too small to train on, with no model to reuse, skips the stage (and says so).
    """

    def for_run(run: IdentificationRun, last: IdentificationRun | None) -> Callable[..., Any]:
        config = splink_stage.FuzzySettings(
            auto_threshold=settings.IDENTIFICATION_AUTO_THRESHOLD,
            review_threshold=settings.IDENTIFICATION_REVIEW_THRESHOLD,
            backend=getattr(settings, "IDENTIFICATION_LINKAGE_BACKEND", "duckdb"),
            spark_master=getattr(settings, "SPARK_MASTER", "local[*]"),
            spark_driver_memory=getattr(settings, "SPARK_DRIVER_MEMORY", "4g"),
        )

        def stage(
            con: Any, inputs: Inputs, base: pa.Table
        ) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
            persons, students = fuzzy_residue(con, inputs, base, run.school_year)
            reusable = last is not None and bool(last.model) and "skipped" not in last.model
            chosen = model or (last.model if reusable and not retrain and last else None)
            if chosen is None:
                if min(persons.num_rows, students.num_rows) < MIN_RESIDUE_TO_TRAIN:
                    return _no_links(), _no_candidates(), {"skipped": "residue too small to train"}
                try:
                    chosen = splink_stage.train(persons, students, config)
                except (ValueError, ArithmeticError) as exc:
                    # E.g. no pair of the residue agrees on name and birth date: Splink's
                    # prior is 0 and its log fails. The county goes on without the stage.
                    return _no_links(), _no_candidates(), {"skipped": f"training failed: {exc}"}
            found = splink_stage.link(
                persons,
                students,
                chosen,
                config,
                accepted=inputs.accepted,
                rejected=inputs.rejected,
            )
            con.register("found", found)
            links = con.sql("""SELECT person_id, student_id, 'fuzzy' AS method,
                                      match_probability AS probability
                               FROM found WHERE decision = 'auto'""").to_arrow_table()
            candidates = con.sql(f"""
                SELECT f.person_id, f.student_id, f.match_probability AS probability,
                       to_json({{'name': f.name_agrees, 'birth_date': f.birth_date_agrees,
                                 'sex': f.sex_agrees, 'village': f.village_agrees,
                                 'township': f.township_agrees,
                                 'id_distance': f.id_distance}})::VARCHAR AS evidence,
                       c.school_id
                FROM found f LEFT JOIN (
                    {current_enrolment_sql(run.school_year, columns="student_id, school_id")}
                ) c USING (student_id)
                WHERE f.decision = 'review'
                ORDER BY f.person_id, f.student_id""").to_arrow_table()
            return links, candidates, chosen

        return stage

    return for_run


def default_fuzzy_stage(
    run: IdentificationRun, last: IdentificationRun | None
) -> Callable[..., Any]:
    """The fuzzy stage a run started from the UI uses (reusing the last model)."""
    return fuzzy_stage_factory()(run, last)


def _no_links() -> pa.Table:
    return pa.table(
        {
            "person_id": pa.array([], pa.int64()),
            "student_id": pa.array([], pa.int64()),
            "method": pa.array([], pa.string()),
            "probability": pa.array([], pa.float64()),
        }
    )


def _no_candidates() -> pa.Table:
    return pa.table(
        {
            "person_id": pa.array([], pa.int64()),
            "student_id": pa.array([], pa.int64()),
            "probability": pa.array([], pa.float64()),
            "evidence": pa.array([], pa.string()),
            "school_id": pa.array([], pa.int64()),
        }
    )


def _inputs(county_code: str, as_of: dt.date) -> dict[str, Any]:
    """Describe what a run reads: the imports, decisions and records it depends on.

    Only imports that changed something count: re-importing an unchanged file is no new input.
    """
    imports = dict(
        fetch_columns(
            "SELECT kind, max(id) FROM core_importbatch WHERE status = 'done' "
            "AND rows_created + rows_updated > 0 "
            "AND (county_code LIKE %s OR county_code = '') GROUP BY kind",
            [f"{county_code}%"],
        )
    )
    decided = fetch_columns(
        "SELECT count(*), max(decided_at) FROM identification_reviewcandidate "
        "WHERE decision <> 'pending'"
    )[0]
    home = fetch_columns("SELECT count(*), max(id) FROM identification_hometeaching")[0]
    proofs = fetch_columns("SELECT count(*), max(id) FROM identification_outofcountyproof")[0]
    # A county reads the province's other counties by ID (province.py): their imports count.
    province = fetch_columns(
        "SELECT max(id) FROM core_importbatch WHERE status = 'done' "
        "AND rows_created + rows_updated > 0 AND county_code LIKE %s AND county_code NOT LIKE %s",
        [f"{county_code[:2]}%", f"{county_code}%"],
    )[0][0]
    return {
        "as_of": as_of.isoformat(),
        "imports": {k: imports[k] for k in sorted(imports)},
        "province_imports": province,
        "decisions": [decided[0], str(decided[1])],
        "home_teaching": list(home),
        "proofs": list(proofs),
    }


def _hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


ENROLLED = ("in_county", "out_of_county")
# Categories that take an enrolled child out of school (finishing one's studies does not).
OUT_OF_SCHOOL = (
    "suspected_dropout",
    "dropped_out",
    "to_verify_outside",
    "not_continuing",
    "preschool_not_enrolled",
)


class RunRefused(ValidationError):
    """A run that may not start, or a preview that may not be confirmed (the message says why)."""


def hold_share() -> float:
    """Return the share of enrolled children a preview may move out of school before it is held."""
    return float(getattr(settings, "IDENTIFICATION_RUN_HOLD_SHARE", DEFAULT_HOLD_SHARE))


def school_year_of(day: dt.date) -> int:
    """Return the first calendar year of the school year a date falls in."""
    return SchoolYear.of(day).start


def rolls_check(*, county_code: str, as_of: dt.date) -> int:
    """Return the number of enrolments of the as-of school year; refuse when there are none.

    A run over a school year with no rolls would find every child out of school.
    """
    year = school_year_of(as_of)
    n = selectors.roll_count(county_code=county_code, school_year=year)
    if not n:
        raise RunRefused(
            _(
                "There are no student rolls for the school year %(year)s in this county. "
                "Import the rolls (学籍) of %(year)s first, or choose an as-of date in a "
                "school year whose rolls are imported."
            )
            % {"year": SchoolYear(year)},
            code="no_rolls",
        )
    return n


def current_run(county_code: str) -> IdentificationRun | None:
    """Return the county's current run: the latest confirmed one (previews do not count)."""
    return (
        IdentificationRun.objects.filter(
            county_code=county_code, status=IdentificationRun.Status.DONE
        )
        .order_by("-id")
        .first()
    )


def identification_run(
    *,
    actor: Any,
    county_code: str,
    as_of: dt.date | None = None,
    fuzzy: Callable[..., Any] | None = None,
    progress: Callable[..., None] | None = None,
    confirm: bool = True,
) -> IdentificationRun:
    """Match, classify and compare with the current run; with unchanged inputs, change nothing.

    With ``confirm=False`` (the UI and the CLI without ``--yes``) the run stays a PREVIEW
    that nothing reads as the current run until :func:`identification_run_confirm`; a
    preview that moves too many enrolled children out of school is marked held. With
    ``confirm=True`` (programs that build a county: the demo, tests) the run is confirmed at
    once, held or not. Refused (:class:`RunRefused`) when the as-of school year has no rolls.
    """
    as_of = as_of or timezone.localdate()
    rolls_check(county_code=county_code, as_of=as_of)
    config = identification_settings()
    inputs_desc = _inputs(county_code, as_of)
    digest = _hash(county_code, inputs_desc, config)
    inputs_desc["batches"] = selectors.input_batches(county_code=county_code)
    last = current_run(county_code)
    if last is not None and last.inputs_hash == digest:
        return last
    waiting = (
        IdentificationRun.objects.filter(
            county_code=county_code,
            status=IdentificationRun.Status.PREVIEW,
            inputs_hash=digest,
            previous=last,
        )
        .order_by("-id")
        .first()
    )
    if waiting is not None:
        run = waiting
    else:
        run = _preview(
            actor=actor,
            county_code=county_code,
            as_of=as_of,
            config=config,
            inputs_desc=inputs_desc,
            digest=digest,
            last=last,
            fuzzy=fuzzy,
            progress=progress,
        )
    if confirm:
        return identification_run_confirm(actor=actor, run_id=run.pk, checked_held=True)
    return run


def _preview(
    *,
    actor: Any,
    county_code: str,
    as_of: dt.date,
    config: dict[str, Any],
    inputs_desc: dict[str, Any],
    digest: str,
    last: IdentificationRun | None,
    fuzzy: Callable[..., Any] | None,
    progress: Callable[..., None] | None,
) -> IdentificationRun:
    run = IdentificationRun.objects.create(
        county_code=county_code,
        as_of=as_of,
        school_year=school_year_of(as_of),
        inputs=inputs_desc,
        inputs_hash=digest,
        settings=config,
        previous=last,
        started_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    try:
        # A county reads its children and students across its border too (province.py).
        inputs = county_inputs(county_code=county_code, as_of=as_of)
        stage = fuzzy(run, last) if fuzzy is not None and config["fuzzy"] else None
        result = run_engine(inputs, as_of=as_of, fuzzy=stage, progress=progress)
        with transaction.atomic():
            diff = _store(run, result, inputs)
            run.status = IdentificationRun.Status.PREVIEW
            run.counts = result.counts
            run.model = result.model
            run.diff = diff
            run.held = bool(diff.get("held"))
            run.pending = _pending(result, inputs)
            run.finished_at = timezone.now()
            run.save()
            audit_record(
                actor=actor,
                action="identification.preview",
                target=run,
                actor_name="" if actor else "cli",
                data={"as_of": as_of.isoformat(), "counts": result.counts, "held": run.held},
            )
    except Exception as exc:
        run.status = IdentificationRun.Status.FAILED
        run.message = str(exc)[:2000]
        run.finished_at = timezone.now()
        run.save()
        raise
    return run


def _pending(result: Result, inputs: Inputs) -> dict[str, Any]:
    """Return the county-wide state a preview writes only when confirmed, as plain lists."""
    village = dict(
        zip(
            inputs.persons.column("person_id").to_pylist(),
            inputs.persons.column("village_code").to_pylist(),
            strict=True,
        )
    )
    dups = result.duplicates
    cand = result.candidates
    return {
        "links": [
            list(row)
            for row in zip(
                result.links.column("person_id").to_pylist(),
                result.links.column("student_id").to_pylist(),
                result.links.column("method").to_pylist(),
                result.links.column("probability").to_pylist(),
                strict=True,
            )
        ],
        "duplicates": [
            list(row)
            for row in zip(
                dups.column("person_id").to_pylist(),
                dups.column("student_id").to_pylist(),
                dups.column("primary_id").to_pylist(),
                strict=True,
            )
        ]
        if dups is not None
        else [],
        "candidates": [
            [p, s, pr, ev, village.get(p, "")]
            for p, s, pr, ev in zip(
                cand.column("person_id").to_pylist(),
                cand.column("student_id").to_pylist(),
                cand.column("probability").to_pylist(),
                cand.column("evidence").to_pylist(),
                strict=True,
            )
        ],
    }


@transaction.atomic
def identification_run_confirm(
    *, actor: Any, run_id: int, checked_held: bool = False
) -> IdentificationRun:
    """Make a preview the county's current run: write its links, duplicates and candidates.

    Refused (:class:`RunRefused`) when the run is already confirmed ("already done"), was
    discarded or failed, is held and `checked_held` is not given, or when another run was
    confirmed since the preview was computed (its differences no longer hold).
    """
    _may_run(actor)
    runs = IdentificationRun.objects.select_for_update()
    if getattr(actor, "is_authenticated", False):
        run = get_object_for_user(runs, actor, pk=run_id)
    else:
        run = runs.get(pk=run_id)
    if run.status == IdentificationRun.Status.DONE:
        raise RunRefused(_("This run is already confirmed."), code="already_done")
    if run.status != IdentificationRun.Status.PREVIEW:
        raise RunRefused(
            _("Only a preview can be confirmed; this run is %(status)s.")
            % {"status": run.get_status_display()},
            code="not_preview",
        )
    if run.held and not checked_held:
        raise RunRefused(
            _(
                "This run is held: it would move %(n)s of %(of)s enrolled children out of "
                "school. Tick that you have checked the imports to confirm it."
            )
            % {"n": run.diff.get("moved_out", 0), "of": run.diff.get("enrolled_before", 0)},
            code="held",
        )
    if run.previous_id is not None:
        # Serialise confirmations of the county (PostgreSQL; SQLite writes one at a time).
        list(IdentificationRun.objects.select_for_update().filter(pk=run.previous_id))
    current = current_run(run.county_code)
    if (current.pk if current is not None else None) != run.previous_id:
        raise RunRefused(
            _(
                "Another run was confirmed after this preview was computed; its differences "
                "no longer hold. Discard it and start a new run."
            ),
            code="stale",
        )
    user = actor if getattr(actor, "is_authenticated", False) else None
    updated = IdentificationRun.objects.filter(
        pk=run.pk, status=IdentificationRun.Status.PREVIEW
    ).update(
        status=IdentificationRun.Status.DONE,
        confirmed_at=timezone.now(),
        confirmed_by=user,
        pending={},
    )
    if updated != 1:
        raise RunRefused(_("This run is already confirmed."), code="already_done")
    _apply(run, run.pending or {})
    run.refresh_from_db()
    audit_record(
        actor=actor,
        action="identification.confirm",
        target=run,
        actor_name="" if actor else "cli",
        data={
            "as_of": run.as_of.isoformat(),
            "held": run.held,
            "checked_held": bool(checked_held and run.held),
            "moved_out": run.diff.get("moved_out", 0),
            "counts": run.counts,
        },
    )
    return run


@transaction.atomic
def identification_run_discard(*, actor: Any, run_id: int) -> IdentificationRun:
    """Discard a preview: its rows are deleted, the run is kept (discarded) with its counts."""
    _may_run(actor)
    runs = IdentificationRun.objects.select_for_update()
    if getattr(actor, "is_authenticated", False):
        run = get_object_for_user(runs, actor, pk=run_id)
    else:
        run = runs.get(pk=run_id)
    updated = IdentificationRun.objects.filter(
        pk=run.pk, status=IdentificationRun.Status.PREVIEW
    ).update(status=IdentificationRun.Status.DISCARDED, pending={})
    if updated != 1:
        raise RunRefused(_("Only a preview can be discarded."), code="not_preview")
    ChildStatus.objects.filter(run=run).delete()
    RunChange.objects.filter(run=run).delete()
    Discrepancy.objects.filter(run=run).delete()
    run.refresh_from_db()
    audit_record(
        actor=actor,
        action="identification.discard",
        target=run,
        actor_name="" if actor else "cli",
        data={"as_of": run.as_of.isoformat()},
    )
    return run


def _may_run(actor: Any) -> None:
    """A person must hold the import capability; no actor is the command line (trusted)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return
    if not P.user_can(actor, P.IMPORT_DATA):
        raise PermissionDenied


def _apply(run: IdentificationRun, pending: dict[str, Any]) -> None:
    """Write a confirmed run's county-wide state: links, duplicate records, tasks, candidates."""
    _store_links(run, pending.get("links", []))
    duplicates = [tuple(r) for r in pending.get("duplicates", [])]
    _store_duplicates(run, duplicates)
    _quality_tasks(run, duplicates)
    candidates = pending.get("candidates", [])
    if candidates:
        existing = {
            (p, s)
            for p, s in fetch_columns(
                "SELECT person_id, student_id FROM identification_reviewcandidate"
            )
        }
        insert_rows(
            "identification_reviewcandidate",
            [
                "person_id",
                "student_id",
                "probability",
                "evidence",
                "village_code",
                "decision",
                "reason",
                "run_id",
            ],
            [
                (p, s, pr, ev, village, "pending", "", run.pk)
                for p, s, pr, ev, village in candidates
                if (p, s) not in existing
            ],
        )


def _store_links(run: IdentificationRun, links: list[list[Any]]) -> None:
    """Links are the current state: keep those still found, drop the rest, add the new."""
    wanted = {(p, s): (m, pr) for p, s, m, pr in links}
    have = _links_now(run.county_code)
    stale = [pk for key, (pk, m) in have.items() if key not in wanted or wanted[key][0] != m]
    for start in range(0, len(stale), 900):
        Link.objects.filter(pk__in=stale[start : start + 900]).delete()
    keep = {key for key, (_pk, m) in have.items() if key in wanted and wanted[key][0] == m}
    insert_rows(
        "identification_link",
        ["person_id", "student_id", "method", "probability", "run_id", "county_code"],
        [
            (p, s, m, pr, run.pk, "")
            for (p, s), (m, pr) in sorted(wanted.items())
            if (p, s) not in keep
        ],
    )
    # A link takes its student's county code (set-wise; run.county_code may be a province's).
    follow_student_county(("identification_link",), blank_only=True)


def _links_now(county_code: str) -> dict[tuple[int, int], tuple[int, str]]:
    """Return the county's links: those of its children (wherever the student studies); a
    child of another county at one of its schools is that county's (province.py)."""
    return {
        (p, s): (pk, m)
        for pk, p, s, m in fetch_columns(
            "SELECT l.id, l.person_id, l.student_id, l.method FROM identification_link l "
            "JOIN registry_person p ON p.id = l.person_id "
            "JOIN registry_household h ON h.id = p.household_id "
            "JOIN registry_area a ON a.id = h.village_id WHERE a.code LIKE %s",
            [f"{county_code}%"],
        )
    }


def _store_duplicates(run: IdentificationRun, rows: list[tuple[int, int, int]]) -> None:
    """Rewrite the duplicate roll records (current state, a few hundred rows at most)."""
    RollDuplicate.objects.filter(run__county_code=run.county_code).delete()
    insert_rows(
        "identification_rollduplicate",
        ["run_id", "person_id", "student_id", "primary_id"],
        [(run.pk, p, s, pr) for p, s, pr in rows],
    )


def _quality_tasks(run: IdentificationRun, rows: list[tuple[int, int, int]]) -> None:
    """Open a task per child to verify outside the county and per duplicate roll record;
    resolve those this run no longer finds. The rows concerned are few: they are fetched by
    key, never through a join over the county's tables."""
    statuses = fetch_columns(
        "SELECT person_id, category, village_code FROM identification_childstatus "
        "WHERE run_id = %s",
        [run.pk],
    )
    to_verify = [
        (pid, village) for pid, category, village in statuses if category == "to_verify_outside"
    ]
    labels = {
        pk: f"{name} {masked or number or ''}"
        for pk, name, masked, number in Person.objects.filter(
            pk__in=[pid for pid, _v in to_verify]
        ).values_list("id", "name", "id_masked", "person_no")
    }
    tasks_sync(
        kind=DataQualityTask.Kind.VERIFY_OUTSIDE,
        entity="person",
        county_code=run.county_code,
        findings=[
            Finding(pid, labels.get(pid, str(pid)), "", village) for pid, village in to_verify
        ],
        checked=[row[0] for row in statuses],
    )
    students = {
        pk: f"{name} {masked}"
        for pk, name, masked in Student.objects.filter(pk__in=[r[1] for r in rows]).values_list(
            "id", "name", "roll_masked"
        )
    }
    villages = dict(
        Person.objects.filter(pk__in=[r[0] for r in rows]).values_list(
            "id", "household__village__code"
        )
    )
    schools = dict(
        selectors.current_enrolments(
            Enrolment.objects.filter(student_id__in=[r[2] for r in rows]),
            school_year=run.school_year,
        ).values_list("student_id", "school__name")
    )
    found = [
        Finding(
            student_id,
            students.get(student_id, str(student_id)),
            _("The same child as the linked roll record at %(school)s: merge the records.")
            % {"school": schools.get(primary_id) or "—"},
            villages.get(person_id) or "",
        )
        for person_id, student_id, primary_id in rows
    ]
    checked = [
        pk
        for (pk,) in fetch_columns(
            "SELECT id FROM schools_student WHERE county_code LIKE %s", [f"{run.county_code}%"]
        )
    ]
    tasks_sync(
        kind=DataQualityTask.Kind.DUPLICATE_ROLL,
        entity="student",
        county_code=run.county_code,
        findings=found,
        checked=checked,
    )


def _store(run: IdentificationRun, result: Result, inputs: Inputs) -> dict[str, Any]:
    """Write a run's own rows (statuses, changes, discrepancies); return its differences.

    Nothing county-wide is written here: links, duplicates and candidates wait in the run
    until it is confirmed.
    """
    st = result.statuses
    con = duck()
    con.register("st", st)
    columns = [
        "person_id",
        "category",
        "age",
        "household_status",
        "village_code",
        "student_id",
        "enrolment_id",
        "school_id",
        "stage",
        "grade",
        "boarding",
        "enrolment_status",
        "returned",
        "link_method",
        "known",
    ]
    rows = con.sql(f"""SELECT {run.pk} AS run_id, person_id, category, age, household_status,
        village_code, student_id, enrolment_id, school_id, coalesce(stage, '') AS stage, grade,
        boarding, enrolment_status, returned, coalesce(link_method, '') AS link_method, known
        FROM st""").fetchall()
    insert_rows("identification_childstatus", ["run_id", *columns], rows)

    prev = fetch_arrow(
        "SELECT person_id, category, household_status, school_id, enrolment_status "
        "FROM identification_childstatus WHERE run_id = %s",
        [run.previous_id or 0],
        pa.schema(
            [
                ("person_id", pa.int64()),
                ("category", pa.string()),
                ("household_status", pa.string()),
                ("school_id", pa.int64()),
                ("enrolment_status", pa.string()),
            ]
        ),
    )
    con.register("prev", prev)
    if run.previous_id is not None:
        changes = con.sql(f"""
            WITH j AS (SELECT n.*, p.category AS p_category, p.household_status AS p_household,
                              p.school_id AS p_school, p.enrolment_status AS p_status
                       FROM st n LEFT JOIN prev p USING (person_id))
            SELECT {run.pk}, 'new_poor_student', person_id, village_code, school_id,
                   coalesce(p_category, ''), category FROM j
            WHERE category IN ('in_county', 'out_of_county')
              AND coalesce(p_category, '') NOT IN ('in_county', 'out_of_county')
              AND coalesce(p_category, '') NOT IN ('dropped_out', 'suspected_dropout')
            UNION ALL
            SELECT {run.pk}, 'left_poverty', person_id, village_code, school_id,
                   coalesce(p_household, ''), household_status FROM j
            WHERE household_status = 'left_poverty' AND p_household = 'registered'
            UNION ALL
            SELECT {run.pk}, 'transfer', person_id, village_code, school_id,
                   CAST(p_school AS VARCHAR), CAST(school_id AS VARCHAR) FROM j
            WHERE category IN ('in_county', 'out_of_county')
              AND p_category IN ('in_county', 'out_of_county') AND p_school <> school_id
            UNION ALL
            SELECT {run.pk}, 'new_dropout', person_id, village_code, school_id,
                   coalesce(p_category, ''), category FROM j
            WHERE category IN ('dropped_out', 'suspected_dropout')
              AND coalesce(p_category, '') NOT IN ('dropped_out', 'suspected_dropout')
            UNION ALL
            SELECT {run.pk}, 'returned', person_id, village_code, school_id, p_category, category
            FROM j WHERE category IN ('in_county', 'out_of_county')
              AND p_category IN ('dropped_out', 'suspected_dropout')
            UNION ALL
            SELECT {run.pk}, 'graduated', person_id, village_code, school_id,
                   coalesce(p_status, ''), enrolment_status FROM j
            WHERE enrolment_status = 'graduated' AND coalesce(p_status, '') <> 'graduated'
            ORDER BY 2, 3""").fetchall()
        insert_rows(
            "identification_runchange",
            ["run_id", "kind", "person_id", "village_code", "school_id", "before", "after"],
            changes,
        )
        for change in changes:
            key = f"change_{change[1]}"
            result.counts[key] = result.counts.get(key, 0) + 1
    found = result.discrepancies
    con.register("d", found)
    insert_rows(
        "identification_discrepancy",
        ["run_id", "kind", "student_id", "person_id", "school_id", "village_code"],
        con.sql(f"""SELECT {run.pk}, kind, student_id, person_id, school_id, village_code
                    FROM d""").fetchall(),
    )
    diff = _differences(con, run, result)
    con.close()
    return diff


def _differences(con: Any, run: IdentificationRun, result: Result) -> dict[str, Any]:
    """Count what confirming the run would change against the current run (tables st, prev)."""
    enrolled, out = _sql_list(ENROLLED), _sql_list(OUT_OF_SCHOOL)
    (before, after, moved_out, moved_in, new_suspected, new_dropped, transfers) = con.sql(f"""
        WITH j AS (SELECT n.category, p.category AS p_category, n.school_id,
                          p.school_id AS p_school
                   FROM st n FULL JOIN prev p USING (person_id))
        SELECT count(*) FILTER (WHERE p_category IN {enrolled}),
               count(*) FILTER (WHERE category IN {enrolled}),
               count(*) FILTER (WHERE p_category IN {enrolled} AND category IN {out}),
               count(*) FILTER (WHERE category IN {enrolled}
                                AND coalesce(p_category, '') NOT IN {enrolled}),
               count(*) FILTER (WHERE category = 'suspected_dropout'
                                AND coalesce(p_category, '') <> 'suspected_dropout'),
               count(*) FILTER (WHERE category = 'dropped_out'
                                AND coalesce(p_category, '') <> 'dropped_out'),
               count(*) FILTER (WHERE category IN {enrolled} AND p_category IN {enrolled}
                                AND p_school <> school_id)
        FROM j""").fetchall()[0]
    categories_before = dict(con.sql("SELECT category, count(*) FROM prev GROUP BY 1").fetchall())
    categories_after = dict(con.sql("SELECT category, count(*) FROM st GROUP BY 1").fetchall())
    have = set(_links_now(run.county_code))
    wanted = set(
        zip(
            result.links.column("person_id").to_pylist(),
            result.links.column("student_id").to_pylist(),
            strict=True,
        )
    )
    share = hold_share()
    moved_share = moved_out / before if before else 0.0
    return {
        "previous": run.previous_id,
        "enrolled_before": int(before),
        "enrolled_after": int(after),
        "moved_out": int(moved_out),
        "moved_in": int(moved_in),
        "moved_out_share": round(moved_share, 4),
        "hold_share": share,
        "held": run.previous_id is not None and moved_share > share,
        "new_suspected": int(new_suspected),
        "new_dropped": int(new_dropped),
        "transfers": int(transfers),
        "links_before": len(have),
        "links_after": len(wanted),
        "links_new": len(wanted - have),
        "links_lost": len(have - wanted),
        "categories": {
            code: [int(categories_before.get(code, 0)), int(categories_after.get(code, 0))]
            for code, _label in ChildStatus.Category.choices
        },
    }


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


@transaction.atomic
def review_decide(
    *, actor: Any, candidate_id: int, accept: bool, reason: str = ""
) -> ReviewCandidate:
    """Accept or reject a probable link; only someone whose jurisdiction holds it may."""
    if not actor.can(P.VIEW) or getattr(actor, "role", "") == "inspector":
        raise PermissionDenied
    candidate = get_object_for_user(ReviewCandidate.objects.all(), actor, pk=candidate_id)
    updated = ReviewCandidate.objects.filter(pk=candidate.pk, decision="pending").update(
        decision="accepted" if accept else "rejected",
        decided_by=actor,
        decided_at=timezone.now(),
        reason=reason[:200],
    )
    if updated != 1:
        raise ValidationError(_("This candidate was already decided."))
    candidate.refresh_from_db()
    audit_record(
        actor=actor,
        action="identification.review",
        target=candidate,
        data={"accept": accept, "reason": reason[:200]},
    )
    return candidate


@transaction.atomic
def home_teaching_record(
    *, actor: Any, person: Any, teacher_name: str, since: dt.date, schedule: str = ""
) -> HomeTeaching:
    """Record that a severely disabled child is taught at home (so not a dropout)."""
    record = HomeTeaching(
        person=person,
        teacher_name=teacher_name,
        since=since,
        schedule=schedule,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record.full_clean()
    record.save()
    audit_record(
        actor=actor,
        action="identification.home_teaching",
        target=record,
        data={"person": person.pk},
    )
    return record


@transaction.atomic
def out_of_county_proof_record(
    *, actor: Any, person: Any, school_year: int, school_name: str, place: str, proof: str
) -> OutOfCountyProof:
    """Record proof that a child studies outside the county this school year."""
    record = OutOfCountyProof(
        person=person,
        school_year=school_year,
        school_name=school_name,
        place=place,
        proof=proof,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record.full_clean()
    record.save()
    audit_record(
        actor=actor,
        action="identification.out_of_county_proof",
        target=record,
        data={"person": person.pk, "school_year": school_year},
    )
    return record
