"""The assessment pages: who sees which rows and records, the drill-down, the workbook, the PDF."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from tests.conftest import ID_A, ID_B, County, Personas, make_user
from tests.oversight.test_assessment_scores import build

from jingzhun.accounts.roles import Role

URL = "/oversight/assessment/?year=2018"


@pytest.fixture
def world(county: County, personas: Personas) -> County:
    return build(county, personas)


def login(user: Any, language: str = "en") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    return client


def rows(text: str, table: str) -> list[str]:
    marker = f'id="{table}"'
    body = text.split(marker, 1)[1].split("</table>", 1)[0] if marker in text else ""
    return re.findall(r'<tr data-(?:school|township)="([^"]+)"', body)


def test_county_users_see_every_row_with_county_ranks(world: County, personas: Personas) -> None:
    for user in (personas.county_officer, personas.inspector, personas.bureau_leader):
        response = login(user).get(URL)
        assert response.status_code == 200
        text = response.content.decode()
        assert rows(text, "jz-townships") == ["420101001", "420101002"]
        assert rows(text, "jz-schools") == [str(world.school_a.pk), str(world.school_b.pk)]
        assert "88.9" in text and "17.9" in text
        assert "renormalised" in text


def test_township_officer_sees_only_their_rows(world: County, personas: Personas) -> None:
    text = login(personas.township_b).get(URL).content.decode()
    assert rows(text, "jz-townships") == ["420101002"]
    assert rows(text, "jz-schools") == [str(world.school_b.pk)]
    result = login(personas.township_b).get(URL).context["result"]
    assert [(u.name, u.rank) for u in result.townships] == [("乙乡", 2)]  # county-wide rank
    assert "甲镇" not in text and "88.9" not in text


def test_principal_sees_their_school_only(world: County, personas: Personas) -> None:
    text = login(personas.principal_a).get(URL).content.decode()
    assert rows(text, "jz-townships") == []
    assert rows(text, "jz-schools") == [str(world.school_a.pk)]
    assert "乙乡中学" not in text


@pytest.mark.parametrize("who", ["teacher_a", "nobody"])
def test_class_teacher_and_nobody_get_403(world: County, personas: Personas, who: str) -> None:
    client = login(getattr(personas, who))
    for url in (
        URL,
        "/oversight/assessment.xlsx?year=2018",
        "/oversight/assessment.pdf?year=2018",
        f"/oversight/assessment/responsibility/?school={world.school_a.pk}&year=2018",
    ):
        assert client.get(url).status_code == 403, url


def records(client: Client, indicator: str, query: str) -> tuple[int, str]:
    response = client.get(f"/oversight/assessment/{indicator}/?{query}&year=2018")
    return response.status_code, response.content.decode()


def test_drill_down_lists_the_records_behind_a_figure(world: County, personas: Personas) -> None:
    client = login(personas.county_officer)
    status, text = records(client, "responsibility", "township=420101002")
    assert status == 200 and "李小红" in text and "张小明" not in text
    status, text = records(client, "dropout_cases", "township=420101002")
    assert status == 200 and "李小军" in text
    status, text = records(client, "identification", "township=420101002")
    assert status == 200 and "李小军" in text and "李小红" not in text
    status, text = records(client, "project_nodes", f"school={world.school_b.pk}")
    assert status == 200 and text.count("<tr>") == 1 + 3  # header and the three late nodes
    status, text = records(client, "aid_timeliness", f"school={world.school_a.pk}")
    assert status == 200 and "2019-03-15" in text and "2018-12-20" not in text
    status, text = records(client, "aid_coverage", f"school={world.school_b.pk}")
    assert status == 200 and "李小红" in text
    status, text = records(client, "training", f"school={world.school_a.pk}")
    assert status == 200 and "教师2" in text and "教师1" not in text
    status, text = records(client, "rectification", "township=420101001")
    assert status == 200 and 'id="jz-not-available"' not in text
    assert ID_A not in text and ID_B not in text


def test_township_a_never_reaches_township_b(world: County, personas: Personas) -> None:
    client = login(personas.township_a)
    for indicator in ("responsibility", "dropout_cases", "identification", "aid_coverage"):
        assert records(client, indicator, "township=420101002")[0] == 404
        assert records(client, indicator, f"school={world.school_b.pk}")[0] == 404
    status, text = records(client, "responsibility", "township=420101001")
    assert status == 200 and "李小红" not in text and "李小军" not in text
    principal = login(personas.principal_a)
    assert records(principal, "training", "township=420101001")[0] == 404
    assert records(principal, "training", f"school={world.school_a.pk}")[0] == 200
    assert records(client, "no_such_thing", "township=420101001")[0] == 404


def test_drill_down_of_another_township_officer_sees_own(world: County, personas: Personas) -> None:
    other = make_user("town_b2", Role.TOWNSHIP_OFFICER, area=world.township_b)
    status, text = records(login(other), "dropout_cases", "township=420101002")
    assert status == 200 and "李小军" in text


def test_workbook_holds_the_rows_the_user_sees(world: County, personas: Personas) -> None:
    response = login(personas.township_a).get("/oversight/assessment.xlsx?year=2018")
    assert response.status_code == 200 and response.content.startswith(b"PK")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        shared = archive.read("xl/sharedStrings.xml").decode()
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
    assert len(sheets) == 3
    assert "甲镇中心小学" in shared and "乙乡中学" not in shared and "暂无数据" in shared
    assert "100.0%（1/1）" in shared and ID_A not in shared


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
def test_pdf_lists_scores_in_chinese(world: County, personas: Personas, tmp_path: Any) -> None:
    response = login(personas.county_officer).get("/oversight/assessment.pdf?year=2018")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    path = tmp_path / "a.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(  # noqa: S603
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "年度考核结果" in text
    assert "甲镇中心小学" in text and "86.1" in text and "17.9" in text
    assert ID_A not in text


def test_page_in_chinese(world: County, personas: Personas) -> None:
    response = login(personas.county_officer, "zh-hans").get(URL)
    assert response.status_code == 200 and 'lang="zh-hans"' in response.content.decode()
