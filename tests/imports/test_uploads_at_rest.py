"""Uploads: a size limit, and files kept encrypted at rest (issue 11, item 3)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver, reverse
from tests.conftest import ID_A, Personas
from tests.duty.test_views import case, media  # noqa: F401  (fixtures)
from tests.imports.helpers import (
    REGISTRY_HEADER,
    ROLLS_HEADER,
    registry_rows,
    rolls_rows,
    run_import,
    write_csv,
)

from jingzhun.core import sealed
from jingzhun.core.models import ImportBatch, SetAsideRow
from jingzhun.core.uploads import LimitedUploadHandler, OversizeUpload, UploadField
from jingzhun.duty.models import CaseStep, DropoutCase
from jingzhun.registry.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(settings: Any, tmp_path: Path) -> Path:
    """A media folder of this test's own, holding the import store and the reports."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    settings.IMPORT_DIR = root / "imports"
    settings.REPORT_DIR = root / "reports"
    return root


def whole_numbers() -> set[str]:
    """The ID and bank numbers of the registry file, whole."""
    rows = registry_rows()
    return {v for row in rows for v in (row[8], row[10], row[19]) if v}


def readable_bytes(root: Path) -> dict[str, bytes]:
    """Every file under *root* as stored, and the parts of any zip (xlsx) unpacked."""
    found: dict[str, bytes] = {}
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        found[str(path)] = data
        if data.startswith(b"PK"):
            with zipfile.ZipFile(io.BytesIO(data)) as book:
                for name in book.namelist():
                    found[f"{path}!{name}"] = book.read(name)
    return found


def assert_no_whole_number(root: Path, extra: set[str] | None = None) -> None:
    for where, data in readable_bytes(root).items():
        for number in whole_numbers() | {ID_A} | (extra or set()):
            for encoding in ("utf-8", "utf-16-le"):
                assert number.encode(encoding) not in data, (number, where)


def registry_xlsx(path: Path, extra: list[list[str]] | None = None) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("建档立卡")
    for r, row in enumerate([REGISTRY_HEADER, *registry_rows(), *(extra or [])]):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return path


def test_an_uploaded_registry_is_imported_and_kept_sealed(
    client: Client, personas: Personas, store: Path, tmp_path: Path
) -> None:
    # a bad bank account sets one row aside, so a report and a set-aside row are written too
    bad = [*registry_rows()[1]]
    bad[8], bad[9], bad[10] = "62284800", "张小兵", ID_A
    path = registry_xlsx(tmp_path / "建档立卡.xlsx", extra=[bad])
    client.force_login(personas.aid_officer)
    with open(path, "rb") as fh:
        response = client.post(reverse("imports:list"), {"kind": "registry", "file": fh})
    batch = ImportBatch.objects.get(file_name="建档立卡.xlsx")
    assert response.status_code == 302
    assert batch.status == "done", batch.message
    assert Person.objects.filter(name="张小明").exists()
    assert SetAsideRow.objects.filter(batch=batch).count() == 1 and batch.report_path
    # then the file is sealed at rest, and no whole number is readable under media
    stored = Path(batch.stored_path)
    assert stored.parent == store / "imports" and sealed.is_sealed(stored)
    assert_no_whole_number(store)


def test_the_mapping_page_reads_the_sealed_file_again(
    client: Client, personas: Personas, store: Path, tmp_path: Path
) -> None:
    header = [("学生全国学籍编号XYZ" if h == "学籍号" else h) for h in ROLLS_HEADER]
    path = write_csv(tmp_path / "学籍.csv", header, rolls_rows())
    client.force_login(personas.aid_officer)
    with open(path, "rb") as fh:
        client.post(reverse("imports:list"), {"kind": "rolls", "file": fh})
    first = ImportBatch.objects.get()
    assert first.status == "needs_mapping" and sealed.is_sealed(Path(first.stored_path))
    url = reverse("imports:mapping", args=[first.pk])
    form = client.get(url).context["form"]
    mapping = {name: field.initial for name, field in form.fields.items() if field.initial}
    assert mapping["roll_number"] == "学生全国学籍编号XYZ"
    assert client.post(url, mapping).status_code == 302
    again = ImportBatch.objects.exclude(pk=first.pk).get()
    assert (again.sha256, again.stored_path) == (first.sha256, first.stored_path)
    assert again.status == "done", again.message
    assert again.rows_total == len(rolls_rows()) and again.rows_created > 0
    assert_no_whole_number(store, extra={row[2] for row in rolls_rows() if row[2]})


def test_an_over_size_upload_is_refused_and_nothing_is_kept(
    client: Client, personas: Personas, store: Path, tmp_path: Path, settings: Any
) -> None:
    settings.UPLOAD_MAX_BYTES = 2048
    path = write_csv(tmp_path / "rolls.csv", ROLLS_HEADER, rolls_rows() * 20)
    assert path.stat().st_size > 4096
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(personas.aid_officer)
    with open(path, "rb") as fh:
        response = client.post(reverse("imports:list"), {"kind": "rolls", "file": fh})
    assert response.status_code == 200
    size = f"{round(path.stat().st_size / 1024)} KB"
    assert (
        f"rolls.csv is {size}; files of at most 2 KB can be uploaded." in response.content.decode()
    )
    assert ImportBatch.objects.count() == 0
    assert not (store / "imports").exists() or not any((store / "imports").iterdir())
    # a file within the limit goes through
    small = write_csv(tmp_path / "one.csv", ROLLS_HEADER, rolls_rows()[:1])
    with open(small, "rb") as fh:
        client.post(reverse("imports:list"), {"kind": "rolls", "file": fh})
    assert ImportBatch.objects.get().file_name == "one.csv"


def test_past_the_limit_the_handler_keeps_nothing_more(settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 100
    handler = LimitedUploadHandler()
    handler.new_file("file", "big.csv", "text/csv", None)
    assert handler.receive_data_chunk(b"x" * 60, 0) == b"x" * 60
    assert handler.receive_data_chunk(b"x" * 60, 60) is None
    assert handler.receive_data_chunk(b"x" * 60, 120) is None
    upload = handler.file_complete(180)
    assert isinstance(upload, OversizeUpload)
    assert (upload.name, upload.size, upload.read()) == ("big.csv", 180, b"")


def _all_forms() -> list[type[forms.Form]]:
    get_resolver().url_patterns  # noqa: B018  (imports every view module and its forms)
    found: list[type[forms.Form]] = []
    todo: list[type[Any]] = [forms.BaseForm]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("jingzhun."):
            found.append(cls)
    return found


def test_every_upload_field_of_the_platform_has_the_limit() -> None:
    uploads = {
        f"{form.__module__}.{form.__name__}.{name}": type(field)
        for form in _all_forms()
        for name, field in getattr(form, "base_fields", {}).items()
        if isinstance(field, forms.FileField)
    }
    assert len(uploads) >= 5  # imports, bank return, staff template, evidence, visit photo
    assert {k: v for k, v in uploads.items() if not issubclass(v, UploadField)} == {}


def test_an_imported_file_in_the_cli_way_is_sealed_too(store: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "registry.csv", REGISTRY_HEADER, registry_rows())
    batch = run_import("registry", path)
    assert batch.status in ("done", "rejected"), batch.message
    assert sealed.is_sealed(Path(batch.stored_path))
    assert_no_whole_number(store)


EVIDENCE = b"%PDF-1.4\n% scan of the household register\n" + ID_A.encode() + b"\n%%EOF\n"


def test_case_evidence_is_sealed_and_served_decrypted_only_in_scope(
    case: DropoutCase,  # noqa: F811
    personas: Personas,
    media: Path,  # noqa: F811
) -> None:
    client = Client()
    client.force_login(personas.teacher_a)
    response = client.post(
        f"/duty/cases/{case.pk}/",
        {
            "action": "step",
            "kind": "home_visit",
            "happened_on": dt.date(2018, 10, 9).isoformat(),
            "text": "The household register.",
            "evidence": SimpleUploadedFile("hukou.pdf", EVIDENCE, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    step = CaseStep.objects.get()
    on_disk = media / step.evidence.name
    assert on_disk.exists() and sealed.is_sealed(on_disk)
    for where, data in readable_bytes(media).items():
        assert ID_A.encode() not in data, where
    served = client.get(f"/duty/steps/{step.pk}/evidence/")
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == EVIDENCE  # type: ignore[attr-defined]
    outsider = Client()
    outsider.force_login(personas.township_b)
    assert outsider.get(f"/duty/steps/{step.pk}/evidence/").status_code == 404
