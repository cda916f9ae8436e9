"""What the teacher page tests share: clients, page text, workbook and PDF reading."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
from django.test import Client
from tests.teachers.helpers import teacher_id

PDFTOTEXT = shutil.which("pdftotext")
WHOLE_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")


def client_for(user: Any, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def get(user: Any, url: str, **params: Any) -> Any:
    """GET a page and check it shows no whole ID number of the test teachers."""
    response: Any = client_for(user).get(url, params)
    body = response.content.decode("utf-8", "replace")
    for seq in range(1, 40):
        assert teacher_id(seq) not in body, url
    return response


def text(response: Any) -> str:
    """Return the visible text of an HTML response, tags dropped and spaces collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def row_text(response: Any, marker: str) -> str:
    """Return the text of the table row carrying `marker` (an attribute such as data-school="1")."""
    html = response.content.decode()
    match = re.search(rf"<tr[^>]*{re.escape(marker)}[^>]*>(.*?)</tr>", html, flags=re.S)
    assert match, f"no row with {marker}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def sheets(content: bytes) -> list[list[tuple[Any, ...]]]:
    """Return every sheet of a workbook as its rows of values."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [[tuple(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets]


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(content)
    assert PDFTOTEXT is not None
    out = subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, check=True)
    return re.sub(r"\s+", "", out.stdout.decode("utf-8"))
