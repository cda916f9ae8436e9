"""The year-end audit (III.3): every planted anomaly is found, no clean case is reported, the
documents hold no whole ID or account number, and only county users and inspectors see it."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from tests.oversight.audit_world import World, build

from jingzhun.core.models import AuditEvent
from jingzhun.oversight.audit_checks import audit_report
from jingzhun.oversight.audit_documents import audit_pdf, audit_xlsx

CHECKED = [
    "duplicate",
    "not_poor",
    "not_enrolled",
    "over_age",
    "shared_account",
    "no_evidence",
    "over_budget",
    "unsettled_adjustment",
]


@pytest.fixture
def world(county: Any, personas: Any) -> World:
    return build(county, personas)


def client_for(user: Any) -> Client:
    c = Client(raise_request_exception=True)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    c.force_login(user)
    return c


def test_every_planted_anomaly_is_found_once(world: World) -> None:
    # when
    report = audit_report(county_code="420101", school_year=2018)
    # then one of each checked kind, and the kinds not checkable are not reported as 0
    counts = {c.kind.key: c.count for c in report.counts}
    assert counts == {
        "duplicate": 1,
        "not_poor": 1,
        "not_enrolled": 1,
        "after_death": None,
        "over_age": 1,
        "shared_account": 1,
        "no_evidence": 1,
        "over_budget": 1,
        "unsettled_adjustment": 1,
    }
    for kind in CHECKED:
        (found,) = report.of_kind(kind)
        assert world.planted[kind] in found.text and world.planted[kind] in found.text_zh
        assert found.links, kind
    (shared,) = report.of_kind("shared_account")
    assert "吴代领" in shared.text and "2 different households" in shared.text
    (twice,) = report.of_kind("duplicate")
    assert "2 times" in twice.text and len(twice.references) == 2
    (old,) = report.of_kind("over_age")
    assert "aged 20" in old.text
    (bare,) = report.of_kind("no_evidence")
    assert "a public notice" in bare.text and "approved entitlement" in bare.text


def test_no_clean_case_is_reported(world: World) -> None:
    report = audit_report(county_code="420101", school_year=2018)
    texts = " ".join(a.text + a.text_zh for a in report.anomalies)
    for name in world.clean:
        assert name not in texts, name
    # another year has nothing
    assert audit_report(county_code="420101", school_year=2019).total == 0


def test_sentences_and_links_name_records_not_numbers(world: World) -> None:
    report = audit_report(county_code="420101", school_year=2018)
    everything = " ".join(
        a.text + a.text_zh + " ".join(link.url + link.label for link in a.links)
        for a in report.anomalies
    )
    for number in world.ids + world.accounts:
        assert number not in everything
    (twice,) = report.of_kind("duplicate")
    urls = [link.url for link in twice.links]
    assert reverse("dashboard:child", args=[world.county.person_a.pk]) in urls
    assert any(u.startswith("/aid/batches/") for u in urls)


def _xlsx_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        return " ".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))


def test_documents_hold_no_whole_number(world: World, tmp_path: Any) -> None:
    report = audit_report(county_code="420101", school_year=2018)
    text = _xlsx_text(audit_xlsx(report))
    assert "王退出" in text and "无法核查" in text
    for number in world.ids + world.accounts:
        assert number not in text
    pdf = audit_pdf(report, issuer="测试县教育局")
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        path = tmp_path / "audit.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(  # noqa: S603
            ["pdftotext", str(path), "-"],  # noqa: S607
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
        assert "赵超龄" in out.replace(" ", "")
        for number in world.ids + world.accounts:
            assert number not in out.replace(" ", "")


def test_county_users_and_inspectors_see_and_export(world: World) -> None:
    p = world.personas
    for user in (p.county_officer, p.aid_officer, p.bureau_leader, p.inspector):
        c = client_for(user)
        page = c.get(reverse("oversight:audit"), {"year": 2018})
        assert page.status_code == 200, user.username
        assert "王退出" in page.content.decode()
        before = AuditEvent.objects.filter(action="oversight.audit_export").count()
        xlsx = c.get(reverse("oversight:audit-xlsx"), {"year": 2018})
        pdf = c.get(reverse("oversight:audit-pdf"), {"year": 2018})
        assert (xlsx.status_code, pdf.status_code) == (200, 200)
        assert pdf["Content-Type"] == "application/pdf"
        events = AuditEvent.objects.filter(action="oversight.audit_export").order_by("id")
        assert events.count() == before + 2
        assert events.last().actor == user  # type: ignore[union-attr]
        assert events.last().data["counts"]["duplicate"] == 1  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["township_a", "principal_a", "teacher_a", "nobody"])
def test_others_get_403(world: World, name: str) -> None:
    user = getattr(world.personas, name)
    c = client_for(user)
    for url in ("oversight:audit", "oversight:audit-xlsx", "oversight:audit-pdf"):
        assert c.get(reverse(url), {"year": 2018}).status_code == 403
    assert not AuditEvent.objects.filter(action="oversight.audit_export").exists()


def test_anonymous_is_sent_to_log_in(world: World) -> None:
    response = Client().get(reverse("oversight:audit"))
    assert response.status_code == 302


def test_page_filters_by_kind(world: World) -> None:
    c = client_for(world.personas.inspector)
    page = c.get(
        reverse("oversight:audit"), {"year": "2018", "status": "over_age"}
    ).content.decode()
    assert "赵超龄" in page and "王退出" not in page
    assert 'data-kind="over_budget" data-count="1"' in page
    assert 'data-kind="after_death" data-count="unavailable"' in page
    whole = c.get(reverse("oversight:audit"), {"year": 2018}).content.decode()
    for number in world.ids + world.accounts:
        assert number not in whole
