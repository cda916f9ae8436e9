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
from jingzhun.core.bulk import fetch_arrow, fetch_columns, insert_rows
from jingzhun.core.importing import duck
from jingzhun.core.models import DataQualityTask
from jingzhun.core.quality import Finding, tasks_sync
from jingzhun.core.scoping import get_object_for_user
from jingzhun.identification import fuzzy as splink_stage
from jingzhun.identification.engine import Inputs, Result, load_inputs, run_engine
from jingzhun.identification.models import (
    HomeTeaching,
    IdentificationRun,
    Link,
    OutOfCountyProof,
    ReviewCandidate,
    RollDuplicate,
)
from jingzhun.registry.models import Person
from jingzhun.schools.models import Enrolment, Student

RULES_VERSION = 4


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
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        marks = ", ".join(["%s"] * len(chunk))
        for pk, cipher, key in fetch_columns(
            f"SELECT id, id_cipher, id_key FROM {table} WHERE id IN ({marks}) "
            "AND id_cipher IS NOT NULL",
            chunk,
        ):
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
        FROM s JOIN (SELECT * FROM e WHERE school_year = {school_year}
                     QUALIFY row_number() OVER (PARTITION BY student_id ORDER BY enrolment_id DESC) = 1) c
             USING (student_id)
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
                chosen = splink_stage.train(persons, students, config)
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
                    SELECT student_id, school_id FROM e WHERE school_year = {run.school_year}
                    QUALIFY row_number() OVER (PARTITION BY student_id ORDER BY enrolment_id DESC) = 1
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
    return {
        "as_of": as_of.isoformat(),
        "imports": {k: imports[k] for k in sorted(imports)},
        "decisions": [decided[0], str(decided[1])],
        "home_teaching": list(home),
        "proofs": list(proofs),
    }


def _hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def identification_run(
    *,
    actor: Any,
    county_code: str,
    as_of: dt.date | None = None,
    fuzzy: Callable[..., Any] | None = None,
    progress: Callable[..., None] | None = None,
) -> IdentificationRun:
    """Match, classify and record changes; with unchanged inputs, return the last run as is."""
    as_of = as_of or timezone.localdate()
    config = identification_settings()
    inputs_desc = _inputs(county_code, as_of)
    digest = _hash(county_code, inputs_desc, config)
    last = (
        IdentificationRun.objects.filter(county_code=county_code, status="done")
        .order_by("-id")
        .first()
    )
    if last is not None and last.inputs_hash == digest:
        return last
    school_year = as_of.year if as_of.month >= 9 else as_of.year - 1
    run = IdentificationRun.objects.create(
        county_code=county_code,
        as_of=as_of,
        school_year=school_year,
        inputs=inputs_desc,
        inputs_hash=digest,
        settings=config,
        previous=last,
        started_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    try:
        inputs = load_inputs(county_code=county_code, as_of=as_of)
        stage = fuzzy(run, last) if fuzzy is not None and config["fuzzy"] else None
        result = run_engine(inputs, as_of=as_of, fuzzy=stage, progress=progress)
        with transaction.atomic():
            _store(run, result, inputs)
            _quality_tasks(run, result)
            run.status = IdentificationRun.Status.DONE
            run.counts = result.counts
            run.model = result.model
            run.finished_at = timezone.now()
            run.save()
            audit_record(
                actor=actor,
                action="identification.run",
                target=run,
                actor_name="" if actor else "cli",
                data={"as_of": as_of.isoformat(), "counts": result.counts},
            )
    except Exception as exc:
        run.status = IdentificationRun.Status.FAILED
        run.message = str(exc)[:2000]
        run.finished_at = timezone.now()
        run.save()
        raise
    return run


def _store_duplicates(run: IdentificationRun, result: Result) -> None:
    """Rewrite the duplicate roll records (current state, a few hundred rows at most)."""
    RollDuplicate.objects.filter(run__county_code=run.county_code).delete()
    if result.duplicates is None:
        return
    insert_rows(
        "identification_rollduplicate",
        ["run_id", "person_id", "student_id", "primary_id"],
        [
            (run.pk, p, s, pr)
            for p, s, pr in zip(
                result.duplicates.column("person_id").to_pylist(),
                result.duplicates.column("student_id").to_pylist(),
                result.duplicates.column("primary_id").to_pylist(),
                strict=True,
            )
        ],
    )


def _quality_tasks(run: IdentificationRun, result: Result) -> None:
    """Open a task per child to verify outside the county and per duplicate roll record;
    resolve those this run no longer finds. The rows concerned are few: they are fetched by
    key, never through a join over the county's tables."""
    st = result.statuses
    to_verify = [
        (pid, village)
        for pid, category, village in zip(
            st.column("person_id").to_pylist(),
            st.column("category").to_pylist(),
            st.column("village_code").to_pylist(),
            strict=True,
        )
        if category == "to_verify_outside"
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
        checked=st.column("person_id").to_pylist(),
    )
    dups = result.duplicates
    rows = (
        list(
            zip(
                dups.column("person_id").to_pylist(),
                dups.column("student_id").to_pylist(),
                dups.column("primary_id").to_pylist(),
                strict=True,
            )
        )
        if dups is not None
        else []
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
        Enrolment.objects.filter(student_id__in=[r[2] for r in rows])
        .order_by("school_year")
        .values_list("student_id", "school__name")
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


def _store(run: IdentificationRun, result: Result, inputs: Inputs) -> None:
    """Write links, statuses, changes, discrepancies and new review candidates of a run."""
    _store_duplicates(run, result)
    # Links are the current state: keep those still found, drop the rest, add the new.
    wanted = {
        (p, s): (m, pr)
        for p, s, m, pr in zip(
            result.links.column("person_id").to_pylist(),
            result.links.column("student_id").to_pylist(),
            result.links.column("method").to_pylist(),
            result.links.column("probability").to_pylist(),
            strict=True,
        )
    }
    have = {
        (p, s): (pk, m)
        for pk, p, s, m in fetch_columns(
            "SELECT l.id, l.person_id, l.student_id, l.method FROM identification_link l "
            "JOIN schools_student st ON st.id = l.student_id WHERE st.county_code LIKE %s",
            [f"{run.county_code}%"],
        )
    }
    stale = [pk for key, (pk, m) in have.items() if key not in wanted or wanted[key][0] != m]
    for start in range(0, len(stale), 900):
        Link.objects.filter(pk__in=stale[start : start + 900]).delete()
    keep = {key for key, (_pk, m) in have.items() if key in wanted and wanted[key][0] == m}
    insert_rows(
        "identification_link",
        ["person_id", "student_id", "method", "probability", "run_id"],
        [(p, s, m, pr, run.pk) for (p, s), (m, pr) in sorted(wanted.items()) if (p, s) not in keep],
    )

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

    if run.previous_id is not None:
        prev = fetch_arrow(
            "SELECT person_id, category, household_status, school_id, enrolment_status "
            "FROM identification_childstatus WHERE run_id = %s",
            [run.previous_id],
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
    cand = result.candidates
    if cand.num_rows:
        existing = {
            (p, s)
            for p, s in fetch_columns(
                "SELECT person_id, student_id FROM identification_reviewcandidate"
            )
        }
        village = dict(
            zip(
                inputs.persons.column("person_id").to_pylist(),
                inputs.persons.column("village_code").to_pylist(),
                strict=True,
            )
        )
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
                (p, s, pr, ev, village.get(p, ""), "pending", "", run.pk)
                for p, s, pr, ev in zip(
                    cand.column("person_id").to_pylist(),
                    cand.column("student_id").to_pylist(),
                    cand.column("probability").to_pylist(),
                    cand.column("evidence").to_pylist(),
                    strict=True,
                )
                if (p, s) not in existing
            ],
        )
    con.close()


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
