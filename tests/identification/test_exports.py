"""Exports: one row per registry child, and the ledgers; scoped, masked, logged."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import translation
from tests.identification.helpers import CHILDREN, HONG, LATE, MIGRANT, MING, TODDLER, TWIN1, TWIN2
from tests.identification.world import World, make_world

from jingzhun.core.models import AuditEvent
from jingzhun.identification.exports import export_identification, export_ledger
from jingzhun.identification.selectors import LEDGERS

pytestmark = pytest.mark.django_db

WHOLE_IDS = {child[1] for child in CHILDREN}


@pytest.fixture
def w(tmp_path: Path) -> World:
    return make_world(tmp_path, ming_without_id=False)


def read_xlsx(data: bytes | Path) -> list[list[Any]]:
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    sheet = openpyxl.load_workbook(source, read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def text_of(rows: list[list[Any]]) -> str:
    return "\n".join("\t".join("" if v is None else str(v) for v in row) for row in rows)


def assert_no_whole_id(rows: list[list[Any]]) -> None:
    text = text_of(rows)
    assert not [i for i in WHOLE_IDS if i in text or i[:-1] in text]


def by_name(rows: list[list[Any]], column: int = 0) -> dict[str, list[Any]]:
    return {row[column]: row for row in rows[1:]}


def test_identification_export_has_one_masked_row_per_child(w: World, tmp_path: Path) -> None:
    # when
    n = export_identification(user=w.county_officer, run=w.run, path=tmp_path / "all.xlsx")
    # then
    rows = read_xlsx(tmp_path / "all.xlsx")
    assert n == 7 == len(rows) - 1
    assert rows[0][:3] == ["Name", "Resident ID (masked)", "Sex"]
    assert_no_whole_id(rows)
    children = by_name(rows)
    assert sorted(children) == sorted(c[0] for c in CHILDREN)
    ming = children[MING[0]]
    assert ming[1] == MING[1][:6] + "*" * 12
    assert ming[2:5] == ["Male", ming[3], 8]
    assert ming[5:9] == ["甲镇", "甲村", "Registered", "Enrolled in the county"]
    assert ming[9:16] == [
        "甲镇中心小学",
        "Primary",
        3,
        "Grade 3, 1班",
        "王老师",
        "ID number, verified",
        "G" + MING[1][:6] + "*" * 12,
    ]
    assert children[HONG[0]][8] == "Compulsory age, not enrolled (suspected dropout)"
    assert children[TODDLER[0]][9] is None  # no school: an empty cell
    event = AuditEvent.objects.get(action="export.identification")
    assert event.data == {"rows": 7, "format": "xlsx", "whole_ids": False}
    assert event.actor == w.county_officer


def test_identification_export_holds_only_the_users_jurisdiction(w: World, tmp_path: Path) -> None:
    export_identification(user=w.township_a, run=w.run, path=tmp_path / "a.csv")
    with (tmp_path / "a.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert sorted(r[0] for r in rows[1:]) == sorted([MING[0], HONG[0], LATE[0]])
    assert_no_whole_id(rows)
    n = export_identification(user=w.principal_a, run=w.run, path=tmp_path / "p.xlsx")
    assert n == 2  # MING and LATE study at school A
    with pytest.raises(PermissionDenied):
        export_identification(user=w.nobody, run=w.run, path=tmp_path / "n.xlsx")


def test_whole_ids_only_for_those_who_may_export_them(w: World, tmp_path: Path) -> None:
    # a township officer may reveal one number, not export a list of them
    with pytest.raises(PermissionDenied):
        export_identification(
            user=w.township_a, run=w.run, path=tmp_path / "a.xlsx", whole_ids=True
        )
    assert not (tmp_path / "a.xlsx").exists()
    assert AuditEvent.objects.filter(action="access.denied", actor=w.township_a).count() == 1
    # the aid centre may, and it is logged as a sensitive export
    n = export_identification(
        user=w.aid_officer, run=w.run, path=tmp_path / "whole.xlsx", whole_ids=True
    )
    rows = read_xlsx(tmp_path / "whole.xlsx")
    assert rows[0][1] == "Resident ID"
    assert {row[1] for row in rows[1:]} == WHOLE_IDS
    assert n == 7
    event = AuditEvent.objects.get(action="export.sensitive")
    assert (event.actor, event.data["rows"], event.data["whole_ids"]) == (w.aid_officer, 7, True)


def test_export_headers_follow_the_language(w: World, tmp_path: Path) -> None:
    with translation.override("zh-hans"):
        export_identification(user=w.county_officer, run=w.run, path=tmp_path / "zh.xlsx")
    rows = read_xlsx(tmp_path / "zh.xlsx")
    assert rows[0][:2] == ["姓名", "身份证号（已遮盖）"]
    assert by_name(rows)[MING[0]][8] == "县内就读"


def test_ledger_export_function(w: World, tmp_path: Path) -> None:
    n = export_ledger(
        user=w.township_b, run=w.run, ledger=LEDGERS["school-age"], path=tmp_path / "b.xlsx"
    )
    rows = read_xlsx(tmp_path / "b.xlsx")
    assert n == 4
    assert sorted(r[2] for r in rows[1:]) == sorted([TWIN1[0], TWIN2[0], LATE[0], MIGRANT[0]])
    assert rows[0][:4] == ["Township", "Village", "Name", "Resident ID (masked)"]
    assert_no_whole_id(rows)
    event = AuditEvent.objects.get(action="export.ledger")
    assert event.data == {
        "ledger": "school-age",
        "rows": 4,
        "filters": "",
        "format": "xlsx",
    }


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_ledger_download_from_the_page(w: World) -> None:
    response = login(w.township_a).get(
        "/identification/ledgers/suspected/export.xlsx", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    rows = read_xlsx(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    assert rows[0][:3] == ["乡镇", "行政村", "姓名"]
    assert [r[2] for r in rows[1:]] == [HONG[0]]
    assert_no_whole_id(rows)
    assert AuditEvent.objects.filter(action="export.ledger", actor=w.township_a).count() == 1


def test_ledger_download_keeps_the_filters(w: World) -> None:
    response = login(w.county_officer).get(
        "/identification/ledgers/school-age/export.xlsx", {"school": w.school_b.pk}
    )
    rows = read_xlsx(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    assert sorted(r[2] for r in rows[1:]) == sorted([TWIN1[0], TWIN2[0]])


def test_run_download_from_the_page(w: World) -> None:
    client = login(w.township_b)
    response = client.get(f"/identification/runs/{w.run.pk}/export.xlsx")
    assert response.status_code == 200
    rows = read_xlsx(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    assert sorted(r[0] for r in rows[1:]) == sorted(
        [TWIN1[0], TWIN2[0], LATE[0], MIGRANT[0], TODDLER[0]]
    )
    assert_no_whole_id(rows)
    csv_response = client.get(f"/identification/runs/{w.run.pk}/export.csv")
    body = b"".join(csv_response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    assert len(body.strip().splitlines()) == 6
    assert login(w.nobody).get(f"/identification/runs/{w.run.pk}/export.xlsx").status_code == 403
