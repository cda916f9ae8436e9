"""The inspection pages: status codes per persona, the forms, the .xlsx and the phone page."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.test import Client
from tests.conftest import ID_A, County, Personas
from tests.oversight.test_inspections_world import build, finding

from jingzhun.core.crypto import mask_id
from jingzhun.oversight import services
from jingzhun.oversight.models import SampleCheck

pytestmark = pytest.mark.django_db


def client_for(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


def test_plan_pages_by_persona(county: County, personas: Personas) -> None:
    w = build(county, personas, aid=False)
    expected = {
        "inspector": 200,
        "county_officer": 200,
        "bureau_leader": 200,
        "township_a": 403,
        "principal_a": 403,
        "teacher_a": 403,
        "nobody": 403,
    }
    for persona, status in expected.items():
        c = client_for(getattr(personas, persona))
        assert c.get("/oversight/inspections/").status_code == status, persona
        assert c.get(f"/oversight/inspections/{w.plan.pk}/").status_code == status, persona


def test_visit_form_records_the_visit(county: County, personas: Personas) -> None:
    w = build(county, personas, aid=False)
    c = client_for(personas.inspector)
    data = {"visited_on": "2018-10-10", "note": "顺利"}
    for item in w.plan.item_ids():
        data[f"item_{item}"] = "met"
    data["item_attendance"] = "not_met"
    response = c.post(f"/oversight/inspections/visits/{w.visit_a.pk}/", data)
    assert response.status_code == 302
    w.visit_a.refresh_from_db()
    assert w.visit_a.status == "done"
    assert w.visit_a.answers.get(item_id="attendance").status == "not_met"
    # the bureau leader may look, not record
    leader = client_for(personas.bureau_leader)
    assert leader.post(f"/oversight/inspections/visits/{w.visit_b.pk}/", data).status_code == 403


def test_plan_new_page(county: County, personas: Personas) -> None:
    c = client_for(personas.inspector)
    assert c.get("/oversight/inspections/new/").status_code == 200
    response = c.post(
        "/oversight/inspections/new/",
        {
            "year": "2026",
            "half": "H1",
            "title": "2026年上半年督导检查",
            "starts_on": "2026-03-01",
            "ends_on": "2026-06-10",
            "schools": [str(county.school_a.pk)],
            "sample_size": "5",
        },
    )
    assert response.status_code == 302
    assert client_for(personas.aid_officer).get("/oversight/inspections/new/").status_code == 403


def test_findings_list_filters_and_export(county: County, personas: Personas) -> None:
    w = build(county, personas, aid=False)
    finding(w, w.visit_a, text="甲校问题", severity="critical")
    finding(w, w.visit_b, text="乙校问题", severity="minor")
    c = client_for(personas.inspector)
    body = c.get("/oversight/findings/?severity=critical").content.decode()
    assert "甲校问题" in body and "乙校问题" not in body
    body = c.get(f"/oversight/findings/?township={county.township_b.code}").content.decode()
    assert "乙校问题" in body and "甲校问题" not in body
    body = c.get("/oversight/findings/?flag=black").content.decode()
    assert "甲校问题" in body and "乙校问题" in body  # both past their deadline, open
    assert "甲校问题" not in c.get("/oversight/findings/?flag=red").content.decode()
    export = c.get("/oversight/findings.xlsx?severity=minor")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).worksheets[0]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [(r[2], r[4], r[5], r[11]) for r in rows] == [
        ("乙乡", "一般", "乙校问题", "逾期未整改（黑旗）")
    ]
    assert client_for(personas.teacher_a).get("/oversight/findings/").status_code == 403
    assert client_for(personas.nobody).get("/oversight/findings.xlsx").status_code == 403


def test_rectification_pages(county: County, personas: Personas) -> None:
    w = build(county, personas, aid=False)
    r = finding(w, w.visit_a).rectification
    url = f"/oversight/rectifications/{r.pk}/"
    assert client_for(personas.township_b).get(url).status_code == 404
    principal = client_for(personas.principal_a)
    page = principal.get(url).content.decode()
    assert 'id="jz-progress-form"' in page and 'id="jz-close-form"' not in page
    response = principal.post(
        f"{url}progress/", {"happened_on": "2018-11-01", "text": "已补齐公示材料"}
    )
    assert response.status_code == 302
    inspector = client_for(personas.inspector)
    assert 'id="jz-close-form"' in inspector.get(url).content.decode()
    response = inspector.post(f"{url}close/", {"closed_on": "2018-11-20", "note": "核实无误"})
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.status == "closed"
    assert "jz-flag-red" in inspector.get(url).content.decode()
    # the principal cannot close
    assert (
        principal.post(f"{url}close/", {"closed_on": "2018-11-20", "note": "x"}).status_code == 403
    )


def test_mobile_sample_page(county: County, personas: Personas) -> None:
    w = build(county, personas)
    (row,) = services.sample_draw(actor=personas.inspector, visit=w.visit_a)
    c = client_for(personas.inspector)
    page = c.get(f"/oversight/m/visits/{w.visit_a.pk}/").content.decode()
    assert county.student_a.name in page
    assert ID_A not in page and mask_id(ID_A) in page
    assert 'name="viewport"' in page
    response = c.post(
        f"/oversight/m/checks/{row.pk}/", {"outcome": "partly", "amount_said": "200", "note": "少"}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.outcome == SampleCheck.Outcome.PARTLY and str(row.amount_said) == "200.00"
    # the form is gone once recorded
    assert 'id="m-check"' not in c.get(f"/oversight/m/checks/{row.pk}/").content.decode()
    for persona, status in (("township_a", 403), ("teacher_a", 403), ("bureau_leader", 200)):
        got = client_for(getattr(personas, persona)).get(f"/oversight/m/visits/{w.visit_a.pk}/")
        assert got.status_code == status, persona
    # a read-only county user cannot record
    leader = client_for(personas.bureau_leader)
    assert leader.post(f"/oversight/m/checks/{row.pk}/", {"outcome": "full"}).status_code == 403


def test_found_on_default(county: County, personas: Personas) -> None:
    w = build(county, personas, aid=False)
    f = finding(w)
    assert f.found_on == dt.date(2018, 10, 10)
