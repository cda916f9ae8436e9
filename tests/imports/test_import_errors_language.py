"""A file that cannot be read is refused in the user's words: no server path, no library text."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from tests.conftest import Personas
from tests.imports.helpers import ROLLS_HEADER, rolls_rows

from jingzhun.core.models import ImportBatch
from jingzhun.schools.models import Student

pytestmark = pytest.mark.django_db

LEAKS = ("calamine", "fastexcel", "zipfile", "Traceback", "Error:", "pyarrow", "/tmp/", "/work/")


def _workbook_bytes() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(ROLLS_HEADER)
    for row in rolls_rows()[1:]:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    return out.getvalue()


BAD_FILES = {
    "text-renamed.xlsx": b"name,id\nsomething,else\n",
    "truncated.xlsx": _workbook_bytes()[:700],
    "archive.xlsx": _zip_bytes(),
}


def _upload(client: Client, name: str, content: bytes) -> ImportBatch:
    upload = io.BytesIO(content)
    upload.name = name
    response = client.post(reverse("imports:list"), {"kind": "rolls", "file": upload})
    assert response.status_code == 302
    return ImportBatch.objects.get(file_name=name)


def _assert_clean(text: str) -> None:
    for leak in (*LEAKS, str(settings.VAR_DIR), str(settings.MEDIA_ROOT)):
        assert leak not in text, leak


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_unreadable_excel_is_refused_in_plain_words(
    client: Client, personas: Personas, name: str
) -> None:
    client.force_login(personas.aid_officer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    batch = _upload(client, name, BAD_FILES[name])
    assert batch.status == ImportBatch.Status.REJECTED
    assert Student.objects.count() == 2  # the county's own two, nothing more
    assert batch.message == "The file is not an Excel or CSV file (reading failed)."
    page = client.get(reverse("imports:detail", args=[batch.pk]))
    text = page.content.decode()
    assert "The file is not an Excel or CSV file (reading failed)." in text
    _assert_clean(text)


def test_csv_in_an_unknown_encoding_is_refused_in_plain_words(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.aid_officer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    content = ",".join(ROLLS_HEADER).encode("utf-8") + b"\n" + b"\xff\xfe\xff\x80\x81\xff,1\n" * 3
    batch = _upload(client, "odd.csv", content)
    assert batch.status == ImportBatch.Status.REJECTED
    assert "not text in UTF-8 or GB18030" in batch.message
    _assert_clean(batch.message)
    _assert_clean(client.get(reverse("imports:detail", args=[batch.pk])).content.decode())


def test_a_text_file_is_refused_at_upload(client: Client, personas: Personas) -> None:
    client.force_login(personas.aid_officer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    upload = io.BytesIO(b"hello")
    upload.name = "notes.txt"
    response = client.post(reverse("imports:list"), {"kind": "rolls", "file": upload})
    assert response.status_code == 200
    assert "Only .xlsx, .xls and .csv files can be imported." in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_an_empty_file_is_refused_at_upload(client: Client, personas: Personas) -> None:
    client.force_login(personas.aid_officer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    upload = io.BytesIO(b"")
    upload.name = "empty.xlsx"
    response = client.post(reverse("imports:list"), {"kind": "rolls", "file": upload})
    assert response.status_code == 200
    assert "The submitted file is empty." in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_the_detail_goes_to_the_log(
    client: Client, personas: Personas, caplog: pytest.LogCaptureFixture
) -> None:
    client.force_login(personas.aid_officer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with caplog.at_level("WARNING", logger="jingzhun.core.tabular"):
        _upload(client, "text-renamed.xlsx", BAD_FILES["text-renamed.xlsx"])
    assert any("cannot read import file" in r.getMessage() for r in caplog.records)
