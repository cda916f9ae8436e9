"""The chain's pages: letters with people's names, bulk naming from a list and by Excel,
the staff directory with masked phones, the derivation's preview and confirmation."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.test import Client

from jingzhun.accounts.models import StaffMember
from jingzhun.duty import services
from jingzhun.duty.models import Assignment
from jingzhun.identification.services import identification_run


def client_for(user: Any) -> Client:
    c = Client(headers={"Accept-Language": "en"})
    c.force_login(user)
    return c


def identify() -> None:
    identification_run(actor=None, county_code="420101", as_of=dt.date(2018, 10, 8), fuzzy=None)


PDFTOTEXT = shutil.which("pdftotext")


def pdf_words(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(content)
    assert PDFTOTEXT is not None
    out = subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, check=True)
    return re.sub(r"\s+", "", out.stdout.decode("utf-8"))


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) missing")
def test_letter_names_the_person_their_post_and_the_class(
    county: Any, personas: Any, tmp_path: Path
) -> None:
    StaffMember.objects.filter(user=personas.principal_a).update(name="周校长")
    a = services.assignment_create(
        actor=personas.county_officer,
        kind="class",
        target_id=county.class_a.pk,
        holder_id=personas.principal_a.staff_member.pk,
    )
    response = client_for(personas.county_officer).get(f"/duty/assignments/{a.pk}/letter.pdf")
    words = pdf_words(response.content, tmp_path)
    assert "周校长" in words and "三年级1班" in words and "甲镇中心小学校长" in words
    for login in ("principal_a", "county"):
        assert login not in words


def test_bulk_from_the_coverage_list(county: Any, personas: Any) -> None:
    identify()
    helper = StaffMember.objects.create(
        name="钱老师", post="other", school=county.school_b, area_code=county.township_b.code
    )
    client = client_for(personas.county_officer)
    page = client.get("/duty/coverage/")
    assert f'name="targets" value="{county.student_b.pk}"' in page.content.decode()
    response = client.post(
        "/duty/assignments/bulk/",
        {"kind": "student", "targets": [county.student_b.pk], "holder": helper.pk},
        follow=True,
    )
    assert "Named: 1 new, 0 handed over, 0 unchanged." in response.content.decode()
    a = Assignment.objects.get()
    assert (a.person, a.holder, a.derived) == (county.person_b, helper, False)
    # township A may not name anyone for B's student: nothing changes
    client_for(personas.township_a).post(
        "/duty/assignments/bulk/",
        {"kind": "student", "targets": [county.student_b.pk], "holder": helper.pk},
    )
    assert Assignment.objects.count() == 1


def test_bulk_by_excel_previews_then_confirms(county: Any, personas: Any, tmp_path: Path) -> None:
    identify()
    StaffMember.objects.create(
        name="钱老师",
        post="other",
        phone="13500004444",
        school=county.school_b,
        area_code=county.township_b.code,
    )
    client = client_for(personas.county_officer)
    template = client.get("/duty/assignments/template.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    ws = book.active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1] == ("对象类型", "对象", "对象编号", "责任人姓名", "手机号码")
    kinds = [r[0] for r in rows[2:]]
    assert kinds == ["贫困学生", "贫困村", "贫困村"]
    ws.cell(row=3, column=4, value="钱老师")  # the student
    ws.cell(row=4, column=4, value="无此人")  # a village: unknown name
    path = tmp_path / "filled.xlsx"
    book.save(path)
    with open(path, "rb") as f:
        preview = client.post("/duty/assignments/upload/", {"file": f})
    html = preview.content.decode()
    assert "No one of this name" in html and "jz-confirm-form" not in html
    assert Assignment.objects.count() == 0
    ws.cell(row=4, column=4).value = None
    book.save(path)
    with open(path, "rb") as f:
        preview = client.post("/duty/assignments/upload/", {"file": f})
    body = preview.content.decode()
    assert "jz-confirm-form" in body and Assignment.objects.count() == 0
    client.post("/duty/assignments/upload/", {"action": "confirm"})
    a = Assignment.objects.get()
    assert (a.kind, a.person, a.holder.name) == ("student", county.person_b, "钱老师")


def test_staff_directory_masks_phones_for_those_who_do_not_assign(
    county: Any, personas: Any
) -> None:
    StaffMember.objects.filter(user=personas.teacher_a).update(phone="13812341234")
    whole = client_for(personas.principal_a).get("/duty/staff/").content.decode()
    assert "13812341234" in whole
    masked = client_for(personas.teacher_a).get("/duty/staff/").content.decode()
    assert "138****1234" in masked and "13812341234" not in masked
    search = client_for(personas.principal_a).get("/duty/people/search/", {"q": "teacher"})
    assert "1381234" not in search.content.decode()


def test_derive_page_previews_then_derives(county: Any, personas: Any) -> None:
    identify()
    client = client_for(personas.county_officer)
    preview = client.get("/duty/chain/derive/")
    assert preview.status_code == 200 and "jz-derive-preview" in preview.content.decode()
    assert Assignment.objects.count() == 0
    client.post("/duty/chain/derive/")
    assert Assignment.objects.filter(derived=True).exists()
    assert client_for(personas.township_a).get("/duty/chain/derive/").status_code == 403
