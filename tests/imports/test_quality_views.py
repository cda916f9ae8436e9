"""Data-quality tasks: scoped to the user's county or township, counted per kind, filtered,
paginated and exported with the village and township names (no whole ID number)."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from tests.conftest import Personas
from tests.imports.helpers import (
    CHILD2,
    REGISTRY_HEADER,
    base_county,
    registry_rows,
    run_import,
    write_csv,
)

from jingzhun.core.models import AuditEvent, DataQualityTask, ImportBatch

pytestmark = pytest.mark.django_db

HH_A = "4201010010010001"  # in 甲村, township 甲镇 (A)
HH_B = "4201010020010001"  # in 乙村, township 乙乡 (B)
BROKEN = CHILD2[:-1] + ("1" if CHILD2[-1] != "1" else "2")


@pytest.fixture(autouse=True)
def english_pages(client: Client) -> None:
    """Ask for the pages in English, so their texts can be asserted."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def tasks(personas: Personas, tmp_path: Path) -> list[DataQualityTask]:
    """Import a registry where both households left poverty without an exit year, and one
    child of household A (keyed by 人口编号) has an ID number with a wrong check character."""
    base_county(tmp_path)
    header = REGISTRY_HEADER + ["人口编号"]
    status, exit_year = REGISTRY_HEADER.index("户状态"), REGISTRY_HEADER.index("脱贫年度")
    rows = []
    for i, row in enumerate(registry_rows()):
        row[status], row[exit_year] = "已脱贫", ""
        if row[REGISTRY_HEADER.index("身份证号")] == CHILD2:
            row[REGISTRY_HEADER.index("身份证号")] = BROKEN
        rows.append(row + [f"P{i:03d}"])
    batch = run_import(
        "registry", write_csv(tmp_path / "registry.csv", header, rows), county="420101"
    )
    assert batch.status == ImportBatch.Status.DONE, batch.message
    found = list(DataQualityTask.objects.order_by("kind", "area_code"))
    assert [(t.kind, t.area_code) for t in found] == [
        ("exit_year_unknown", "420101001001"),
        ("exit_year_unknown", "420101002001"),
        ("id_invalid", "420101001001"),
    ]
    return found


def labels(page: object) -> list[str]:
    return sorted(t.label for t in page.context["tasks"])  # type: ignore[attr-defined]


@pytest.mark.parametrize("who", ["aid_officer", "county_officer", "bureau_leader", "inspector"])
def test_county_users_see_the_countys_tasks_with_counts(
    client: Client, personas: Personas, tasks: list[DataQualityTask], who: str
) -> None:
    client.force_login(getattr(personas, who))
    page = client.get(reverse("imports:quality"))
    assert page.status_code == 200
    assert page.context["tasks"].paginator.count == 3
    counts = {c["kind"]: c["n"] for c in page.context["counts"]}
    assert counts == {"exit_year_unknown": 2, "id_invalid": 1}
    text = page.content.decode()
    assert HH_A in text and HH_B in text and "甲镇" in text and "乙村" in text
    assert "Left poverty, exit year unknown" in text
    assert BROKEN not in text
    assert len(page.content) < 300_000


def test_a_township_officer_sees_only_their_townships_tasks(
    client: Client, personas: Personas, tasks: list[DataQualityTask]
) -> None:
    client.force_login(personas.township_a)
    page = client.get(reverse("imports:quality"))
    assert page.status_code == 200
    assert page.context["tasks"].paginator.count == 2
    text = page.content.decode()
    assert HH_A in text and HH_B not in text
    assert {c["kind"]: c["n"] for c in page.context["counts"]} == {
        "exit_year_unknown": 1,
        "id_invalid": 1,
    }
    client.force_login(personas.township_b)
    page = client.get(reverse("imports:quality"))
    assert labels(page) == [HH_B]
    export = client.get(reverse("imports:quality-export"))
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    assert [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)] == [HH_B]


@pytest.mark.parametrize("who", ["principal_a", "teacher_a", "nobody"])
def test_schools_and_users_without_jurisdiction_get_404(
    client: Client, personas: Personas, tasks: list[DataQualityTask], who: str
) -> None:
    client.force_login(getattr(personas, who))
    assert client.get(reverse("imports:quality")).status_code == 404
    assert client.get(reverse("imports:quality-export")).status_code == 404


def test_another_countys_tasks_are_not_listed(
    client: Client, personas: Personas, tasks: list[DataQualityTask]
) -> None:
    DataQualityTask.objects.filter(area_code="420101002001").update(county_code="999999")
    client.force_login(personas.aid_officer)
    assert labels(client.get(reverse("imports:quality")))[0] != HH_B
    assert client.get(reverse("imports:quality")).context["tasks"].paginator.count == 2


def test_the_list_filters_by_kind_and_status(
    client: Client, personas: Personas, tasks: list[DataQualityTask]
) -> None:
    client.force_login(personas.aid_officer)
    url = reverse("imports:quality")
    assert labels(client.get(url, {"kind": "exit_year_unknown"})) == [HH_A, HH_B]
    assert client.get(url, {"kind": "id_invalid"}).context["tasks"].paginator.count == 1
    DataQualityTask.objects.filter(area_code="420101002001").update(status="resolved")
    assert labels(client.get(url, {"kind": "exit_year_unknown"})) == [HH_A]
    assert labels(client.get(url, {"kind": "exit_year_unknown", "status": "resolved"})) == [HH_B]
    assert client.get(url, {"status": "all"}).context["tasks"].paginator.count == 3


def test_the_list_is_paginated(
    client: Client, personas: Personas, tasks: list[DataQualityTask]
) -> None:
    template = tasks[0]
    DataQualityTask.objects.bulk_create(
        DataQualityTask(
            kind="id_missing",
            county_code="420101",
            area_code="420101001001",
            entity="person",
            object_id=10_000 + i,
            label=f"person {i}",
            batch=template.batch,
        )
        for i in range(120)
    )
    client.force_login(personas.aid_officer)
    first = client.get(reverse("imports:quality"))
    assert first.context["tasks"].paginator.count == 123
    assert len(first.context["tasks"]) == 50
    assert "Page 1 of 3" in first.content.decode()
    assert len(first.content) < 300_000
    last = client.get(reverse("imports:quality"), {"page": 3})
    assert len(last.context["tasks"]) == 23


def test_the_export_has_kind_record_detail_place_and_date_and_no_whole_id(
    client: Client, personas: Personas, tasks: list[DataQualityTask]
) -> None:
    client.force_login(personas.aid_officer)
    response = client.get(reverse("imports:quality-export"))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == (
        "Problem",
        "Record",
        "Detail",
        "Township",
        "Village",
        "Area code",
        "Status",
        "Found on",
    )
    body = sorted(rows[1:], key=lambda r: (str(r[0]), str(r[1])))
    assert [(r[0], r[3], r[4]) for r in body] == [
        ("ID number fails its checks", "甲镇", "甲村"),
        ("Left poverty, exit year unknown", "甲镇", "甲村"),
        ("Left poverty, exit year unknown", "乙乡", "乙村"),
    ]
    assert body[1][1] == HH_A and body[2][1] == HH_B
    assert body[0][1] == "张小红 P002"
    assert all(r[7] is not None for r in body)
    assert BROKEN not in " ".join(str(v) for r in rows for v in r)
    assert AuditEvent.objects.filter(action="export.quality_tasks").exists()
    only = client.get(reverse("imports:quality-export"), {"kind": "id_invalid"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(only.streaming_content))).active
    assert sheet.max_row == 2
