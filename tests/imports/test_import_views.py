"""Import pages: upload runs the job, progress is visible, reports download, scoping holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from tests.conftest import Personas
from tests.imports.helpers import ROLLS_HEADER, rolls_rows, write_csv

from jingzhun.core.models import AuditEvent, ImportBatch
from jingzhun.schools.models import Student

pytestmark = pytest.mark.django_db


def test_upload_runs_the_import_and_shows_counts(
    client: Client, personas: Personas, tmp_path: Path
) -> None:
    client.force_login(personas.aid_officer)
    path = write_csv(tmp_path / "rolls.csv", ROLLS_HEADER, rolls_rows()[1:])
    with open(path, "rb") as f:
        response = client.post(
            reverse("imports:list"), {"kind": "rolls", "source": "县教育局", "file": f}
        )
    batch = ImportBatch.objects.get(file_name="rolls.csv")
    assert response.status_code == 302 and response["Location"] == reverse(
        "imports:detail", args=[batch.pk]
    )
    assert batch.status == "done", batch.message
    assert batch.county_code == "420101"
    assert batch.created_by == personas.aid_officer
    assert Student.objects.filter(name="李小花").count() == 1
    page = client.get(reverse("imports:detail", args=[batch.pk]))
    assert page.status_code == 200
    progress = client.get(reverse("imports:progress", args=[batch.pk])).json()
    assert progress["status"] == "done" and progress["done"] == progress["total"] == 2


def test_rejected_upload_offers_the_report(
    client: Client, personas: Personas, tmp_path: Path
) -> None:
    client.force_login(personas.aid_officer)
    rows = rolls_rows()
    rows[0][5] = "0000000000"
    path = write_csv(tmp_path / "bad.csv", ROLLS_HEADER, rows)
    with open(path, "rb") as f:
        client.post(reverse("imports:list"), {"kind": "rolls", "file": f})
    batch = ImportBatch.objects.get(file_name="bad.csv")
    assert batch.status == "rejected"
    report = client.get(reverse("imports:report", args=[batch.pk]))
    assert report.status_code == 200
    assert report["Content-Disposition"].startswith("attachment")
    assert AuditEvent.objects.filter(action="import.rejected", object_id=str(batch.pk)).exists()


def test_template_download(client: Client, personas: Personas) -> None:
    client.force_login(personas.aid_officer)
    response = client.get(reverse("imports:template", args=["registry"]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"PK"


@pytest.mark.parametrize("who", ["township_a", "principal_a", "teacher_a", "inspector", "nobody"])
def test_only_county_importers_may_import(
    client: Client, personas: Personas, tmp_path: Path, who: str
) -> None:
    client.force_login(getattr(personas, who))
    path = write_csv(tmp_path / "rolls.csv", ROLLS_HEADER, rolls_rows())
    with open(path, "rb") as f:
        response = client.post(reverse("imports:list"), {"kind": "rolls", "file": f})
    assert response.status_code == 403
    assert ImportBatch.objects.count() == 0
    assert AuditEvent.objects.filter(action="access.denied", actor=getattr(personas, who)).exists()


def test_another_countys_import_is_not_found(
    client: Client, personas: Personas, tmp_path: Path
) -> None:
    other = ImportBatch.objects.create(
        kind="rolls",
        file_name="x.csv",
        stored_path="/nonexistent",
        sha256="0" * 64,
        county_code="999999",
    )
    client.force_login(personas.aid_officer)
    assert client.get(reverse("imports:detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("imports:report", args=[other.pk])).status_code == 404
