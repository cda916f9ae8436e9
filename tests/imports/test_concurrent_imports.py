"""Imports run at once: one import of a file lands it, the others find it already done.

Issue 11, item 6: eight imports of the same file at once on PostgreSQL gave two failures
(a raw UniqueViolation from COPY) and the same changes recorded three times.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from tests.imports.helpers import ROLLS_HEADER, rolls_rows, run_import, write_csv
from tests.threads import at_once, english_client

from jingzhun.core.importing import (
    ImportAlreadyStarted,
    import_create,
    import_run,
    importer_for,
)
from jingzhun.core.models import AuditEvent, ImportBatch, ImportChange
from jingzhun.core.tasks import import_file
from jingzhun.schools.models import Enrolment, Student

ALREADY = "Already done: this file was imported as import #"


def first_and_second(tmp: Path) -> tuple[Path, Path]:
    """Return a rolls file with one student, and its next version: a change and a new row."""
    first = rolls_rows()[1:2]  # 李小花, day pupil
    second = rolls_rows()[1:]  # ... now boarding, and 王五 is new
    second[0][11] = "是"
    return (
        write_csv(tmp / "rolls-1.csv", ROLLS_HEADER, first),
        write_csv(tmp / "rolls-2.csv", ROLLS_HEADER, second),
    )


def assert_each_change_once() -> None:
    changes = list(ImportChange.objects.values_list("batch_id", "entity", "key"))
    assert changes, "the second version changes a record"
    assert len({batch for batch, _entity, _key in changes}) == 1, changes
    assert len(set(changes)) == len(changes), changes


def assert_landed_once() -> None:
    assert Student.objects.filter(name="李小花").count() == 1
    assert Student.objects.filter(name="王五").count() == 1
    assert Enrolment.objects.get(student__name="李小花", school_year=2018).boarding is True


def test_eight_runs_of_one_import_at_once_run_it_once(
    personas: Any, tmp_path: Path, audit_flushable: Any
) -> None:
    _first, second = first_and_second(tmp_path)
    batch = import_create(
        actor=personas.aid_officer, kind="rolls", path=second, file_name=second.name
    )
    results = at_once(
        8,
        lambda i, mine: import_run(batch=mine),
        prepare=lambda i: ImportBatch.objects.get(pk=batch.pk),
    )
    ran = [r for r in results if isinstance(r, ImportBatch)]
    already = [r for r in results if isinstance(r, ImportAlreadyStarted)]
    assert (len(ran), len(already)) == (1, 7), results
    assert all(str(r).startswith(f"Already done: import #{batch.pk} was started") for r in already)
    batch.refresh_from_db()
    assert (batch.status, batch.rows_created) == ("done", ran[0].rows_created), batch.message
    assert batch.rows_created > 0
    assert AuditEvent.objects.filter(action="import.done", object_id=str(batch.pk)).count() == 1
    assert_landed_once()
    # the worker's job enqueued again runs nothing and reports the import's state
    assert import_file.call(batch.pk) == "done"
    assert AuditEvent.objects.filter(action="import.done", object_id=str(batch.pk)).count() == 1


def test_eight_imports_of_one_file_at_once_record_each_change_once(
    personas: Any, tmp_path: Path, audit_flushable: Any
) -> None:
    first, second = first_and_second(tmp_path)
    assert run_import("rolls", first, actor=personas.aid_officer).status == "done"

    def start(i: int) -> ImportBatch:
        return import_create(
            actor=personas.aid_officer, kind="rolls", path=second, file_name=second.name
        )

    results = at_once(8, lambda i, batch: import_run(batch=batch), prepare=start)
    assert all(isinstance(r, ImportBatch) and r.status == "done" for r in results), [
        getattr(r, "message", r) for r in results
    ]
    landed = [r for r in results if r.rows_created or r.rows_updated]
    assert len(landed) == 1, [(r.rows_created, r.rows_updated) for r in results]
    others = [r for r in results if r not in landed]
    assert all(r.message.startswith(ALREADY) for r in others), [r.message for r in others]
    assert all(r.rows_unchanged == 2 for r in others)
    assert_each_change_once()
    assert_landed_once()
    done = AuditEvent.objects.filter(action="import.done")
    assert done.count() == 9 and len({e.object_id for e in done}) == 9  # one per import


def test_eight_uploads_of_one_file_at_once_on_the_page(
    personas: Any, tmp_path: Path, audit_flushable: Any
) -> None:
    first, second = first_and_second(tmp_path)
    assert run_import("rolls", first, actor=personas.aid_officer).status == "done"

    def upload(i: int, client: Client) -> tuple[int, str]:
        with open(second, "rb") as f:
            response = client.post(reverse("imports:list"), {"kind": "rolls", "file": f})
        if response.status_code != 302:
            return response.status_code, ""
        page = client.get(response["Location"])
        return page.status_code, page.content.decode()

    results = at_once(8, upload, prepare=lambda i: english_client(personas.aid_officer))
    assert all(isinstance(r, tuple) and r[0] == 200 for r in results), results
    batches = ImportBatch.objects.filter(file_name=second.name)
    assert [b.status for b in batches] == ["done"] * 8, [b.message for b in batches]
    assert sum(ALREADY in page for _status, page in results) == 7
    assert sum(b.message.startswith(ALREADY) for b in batches) == 7
    assert_each_change_once()
    assert_landed_once()


def test_a_constraint_met_while_writing_ends_as_a_failed_import_not_a_crash(
    personas: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """Rows shared beyond one county, written by another county's import at the same moment."""
    _first, second = first_and_second(tmp_path)
    batch = import_create(
        actor=personas.aid_officer, kind="rolls", path=second, file_name=second.name
    )

    def clash(*args: Any, **kwargs: Any) -> Any:
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(importer_for("rolls"), "apply", clash)
    batch = import_run(batch=batch)
    assert batch.status == "failed"
    assert batch.message.startswith("Another import was writing the same records")
    assert not Student.objects.filter(name="王五").exists()
