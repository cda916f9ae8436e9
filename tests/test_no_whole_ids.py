"""Marker test: no whole ID number in any page, export, log line or the raw database."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from tests.conftest import Personas
from tests.imports.helpers import (
    REGISTRY_HEADER,
    ROLLS_HEADER,
    base_county,
    registry_rows,
    rolls_rows,
    run_import,
    write_csv,
)

from jingzhun.core.models import AuditEvent, ImportBatch, ImportChange
from jingzhun.registry.models import Person
from jingzhun.schools.models import Student

BANK = "6228480012345678901"


def _whole_numbers() -> set[str]:
    ids = {row[10] for row in registry_rows()} | {row[19] for row in registry_rows() if row[19]}
    ids |= {row[2] for row in rolls_rows() if row[2]}
    return ids | {BANK}


def _raw_database_text() -> bytes:
    """Return every byte of the database as stored (SQLite files, or every PostgreSQL row as text)."""
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        return b"".join(p.read_bytes() for p in (name, Path(f"{name}-wal")) if p.exists())
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        chunks = []
        for table in tables:
            cursor.execute(f'SELECT t::text FROM "{table}" t')
            chunks.extend(r[0].encode() for r in cursor.fetchall())
    return b"\n".join(chunks)


@pytest.mark.django_db(transaction=True)
def test_no_whole_id_anywhere(
    audit_flushable: Any,
    personas: Personas,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    whole = _whole_numbers()
    # given a county imported through the real path, including a rejected file
    base_county(tmp_path)
    assert (
        run_import(
            "registry", write_csv(tmp_path / "r.csv", REGISTRY_HEADER, registry_rows())
        ).status
        == "done"
    )
    assert (
        run_import("rolls", write_csv(tmp_path / "s.csv", ROLLS_HEADER, rolls_rows())).status
        == "done"
    )
    bad = registry_rows() + [registry_rows()[1]]
    rejected = run_import(
        "registry", write_csv(tmp_path / "bad.csv", REGISTRY_HEADER, bad), strict=True
    )
    assert rejected.status == "rejected"
    # and one that lands its good rows and sets the bad one aside (kept sealed)
    aside = run_import("registry", write_csv(tmp_path / "bad2.csv", REGISTRY_HEADER, bad))
    assert aside.status == "done" and aside.rows_set_aside == 1
    call_command("import", "registry", str(tmp_path / "r.csv"))
    # when every page and export a county officer can reach is read
    client = Client()
    client.force_login(personas.county_officer)
    bodies: list[bytes] = []
    urls = [reverse("home"), reverse("imports:list")]
    for model in (
        "registry/person",
        "registry/household",
        "schools/student",
        "schools/enrolment",
        "core/auditevent",
        "core/importbatch",
    ):
        urls.append(f"/admin/{model}/")
    urls += [f"/admin/registry/person/{p.pk}/change/" for p in Person.objects.all()]
    urls += [f"/admin/schools/student/{s.pk}/change/" for s in Student.objects.all()]
    urls += ["/api/persons", "/api/enrolments", "/api/households"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        bodies.append(response.content)
    for batch in ImportBatch.objects.exclude(report_path=""):
        ws = openpyxl.load_workbook(batch.report_path).active
        bodies.append(repr(list(ws.iter_rows(values_only=True))).encode())
    bodies.append(repr(list(ImportChange.objects.values_list("key", "changes"))).encode())
    bodies.append(repr(list(AuditEvent.objects.values_list("data", flat=True))).encode())
    bodies.append("\n".join(r.getMessage() for r in caplog.records).encode())
    out = capsys.readouterr()
    bodies.append((out.out + out.err).encode())
    connection.close()  # flush nothing pending; read the stored bytes
    bodies.append(_raw_database_text())
    # then no whole number appears in any of them
    for number in whole:
        for i, body in enumerate(bodies):
            assert number.encode() not in body, (number[:4], i)
