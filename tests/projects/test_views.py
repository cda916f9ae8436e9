"""The school-condition pages (II.2, I.2): who sees them, what they show, their downloads,
and their forms (set up a project, close a node, record a survey)."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from tests.projects.helpers import (
    BOARDING_PRIMARY,
    DAY_SCHOOL,
    close_all,
    load_standard,
    nodes,
    project,
    survey,
)

from conftest import County, Personas
from jingzhun.core.navigation import sidebar_links
from jingzhun.projects.models import Project, ProjectNode, StandardVersion, Survey

PAGES = ["/projects/", "/projects/list/", "/projects/schools/", "/projects/coverage/"]
DOWNLOADS = ["/projects/list.xlsx", "/projects/coverage.xlsx"]


def client_for(user: Any, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def text(response: Any) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def row_text(response: Any, marker: str) -> str:
    html = response.content.decode()
    match = re.search(rf"<tr[^>]*{re.escape(marker)}[^>]*>(.*?)</tr>", html, flags=re.S)
    assert match, f"no row with {marker}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def sheets(content: bytes) -> list[list[tuple[Any, ...]]]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [[tuple(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets]


@pytest.fixture
def works(county: County, personas: Personas) -> dict[str, Project]:
    """The standard; a renovation at school A (accepted in time) and one at school B (open,
    overdue since 2016); school A surveyed with its toilets not met, then renovated."""
    load_standard()
    officer = personas.county_officer
    survey(officer, county.school_a, dt.date(2016, 1, 10), not_met=["toilets", "canteen"])
    survey(officer, county.school_b, dt.date(2016, 1, 10), items=DAY_SCHOOL, not_met=["toilets"])
    a = project(
        officer,
        "renovation",
        school=county.school_a,
        items=["toilets"],
        budget=(("central", "300000.00"), ("county", "50000.00")),
    )
    close_all(officer, a)
    b = project(
        officer,
        "renovation",
        school=county.school_b,
        items=["toilets"],
        budget=(("county", "80000.00"),),
    )
    later = project(
        officer,
        "informatization",
        school=county.school_a,
        plan_year=2026,
        items=["canteen"],
        budget=(("provincial", "20000.00"),),
        start=dt.date(2026, 11, 1),
    )
    return {"a": a, "b": b, "later": later}


# --------------------------------------------------------------------------- who sees what


@pytest.mark.parametrize("url", PAGES + DOWNLOADS + ["/projects/schools/survey/"])
def test_a_class_teacher_and_a_user_without_jurisdiction_are_refused(
    url: str, personas: Personas, works: dict[str, Project]
) -> None:
    for user in (personas.teacher_a, personas.nobody):
        assert client_for(user).get(url).status_code == 403, (user.username, url)


@pytest.mark.parametrize("url", PAGES)
def test_every_page_renders_for_county_township_and_school(
    url: str, personas: Personas, works: dict[str, Project]
) -> None:
    for user in (personas.county_officer, personas.township_a, personas.principal_a):
        response = client_for(user).get(url)
        assert response.status_code == 200, (user.username, url)
        assert len(response.content) < 300_000


def test_the_list_is_scoped_and_another_townships_project_is_a_404(
    personas: Personas, works: dict[str, Project]
) -> None:
    # when
    county_page = client_for(personas.county_officer).get("/projects/list/")
    township_b_page = client_for(personas.township_b).get("/projects/list/")
    principal_page = client_for(personas.principal_a).get("/projects/list/")

    # then
    assert "3 projects" in text(county_page)
    assert f'data-project="{works["b"].pk}"' in township_b_page.content.decode()
    assert "1 project" in text(township_b_page) and "甲镇中心小学" not in text(township_b_page)
    assert "2 projects" in text(principal_page) and "乙乡中学" not in text(principal_page)
    assert client_for(personas.township_b).get(f"/projects/{works['a'].pk}/").status_code == 404
    assert client_for(personas.township_a).get(f"/projects/{works['a'].pk}/").status_code == 200
    node = works["a"].nodes.first()
    assert node is not None
    url = f"/projects/nodes/{node.pk}/close/"
    assert client_for(personas.township_b).get(url).status_code == 404


def test_the_sidebar_offers_school_conditions_to_staff_but_not_to_a_class_teacher(
    personas: Personas,
) -> None:
    def links(user: Any) -> set[str]:
        request = RequestFactory().get("/")
        request.user = user
        return sidebar_links(request)

    for user in (personas.county_officer, personas.township_a, personas.principal_a):
        assert {"/projects/", "/projects/list/", "/projects/coverage/"} <= links(user)
    assert "/projects/" not in links(personas.teacher_a)
    assert "/projects/" not in links(personas.nobody)


# --------------------------------------------------------------------------- task book


def test_task_book_is_computed_red_in_time_black_when_past_its_year(
    personas: Personas, works: dict[str, Project]
) -> None:
    # when: the county's renovations of 2016 (1 accepted of 18) looked at in 2016 and now
    during = client_for(personas.county_officer).get("/projects/", {"on": "2016-12-01"})
    now = client_for(personas.county_officer).get("/projects/", {"on": "2026-12-06"})

    # then
    line = row_text(during, 'data-target="renovated_schools_2016-2016"')
    assert "2016 1 18 In progress" in line
    line = row_text(now, 'data-target="renovated_schools_2016-2016"')
    assert "2016 1 18 Not met in its year" in line
    assert "jz-flag-black" in now.content.decode()
    link = re.search(r'href="([^"]*kind=renovation[^"]*year=2016[^"]*)"', now.content.decode())
    assert link
    listed = client_for(personas.county_officer).get(link.group(1).replace("&amp;", "&"))
    assert "1 project" in text(listed)
    assert f'data-project="{works["a"].pk}"' in listed.content.decode()


# --------------------------------------------------------------------------- list and export


def test_filters_totals_and_export_hold_the_same_rows(
    county: County, personas: Personas, works: dict[str, Project]
) -> None:
    client = client_for(personas.county_officer)
    # when: renovations only, then the black-flagged ones in township B
    page = client.get("/projects/list/", {"kind": "renovation"})
    black = client.get("/projects/list/", {"state": "black", "township": county.township_b.code})
    export = client.get("/projects/list.xlsx", {"kind": "renovation", "year": "2016"})

    # then
    assert "2 projects" in text(page)
    assert "430,000.00" in text(page)  # 300,000 + 50,000 + 80,000
    assert "20,000.00" not in text(page)
    assert "1 project" in text(black)
    assert f'data-project="{works["b"].pk}"' in black.content.decode()
    all_black = client.get("/projects/list/", {"state": "black"}).content.decode()
    assert f'data-project="{works["a"].pk}"' not in all_black
    assert f'data-project="{works["later"].pk}"' in all_black
    accepted = client.get("/projects/list/", {"state": "accepted"})
    assert "1 project" in text(accepted)
    assert f'data-project="{works["a"].pk}"' in accepted.content.decode()
    assert export.status_code == 200
    rows = sheets(export.content)[0]
    names = [r[1] for r in rows[2:]]
    assert names == ["renovation 2016", "renovation 2016", "2个项目"]
    assert rows[-1][8] == 430000.0
    assert {r[3] for r in rows[2:-1]} == {"甲镇", "乙乡"}


def test_the_export_of_a_township_holds_its_own_rows_only(
    personas: Personas, works: dict[str, Project]
) -> None:
    rows = sheets(client_for(personas.township_a).get("/projects/list.xlsx").content)[0]
    assert [r[4] for r in rows[2:-1]] == ["甲镇中心小学", "甲镇中心小学"]


def test_the_project_page_shows_budget_items_and_nodes(
    personas: Personas, works: dict[str, Project]
) -> None:
    response = client_for(personas.county_officer).get(f"/projects/{works['a'].pk}/")
    body = text(response)
    assert "350,000.00" in body and "Central government" in body
    assert "toilets" in body
    line = row_text(response, 'data-node="acceptance"')
    assert "scan/" in line and "county" in line and "Done in time (red flag)" in line


# --------------------------------------------------------------------------- closing a node


def test_closing_a_node_records_the_evidence_and_turns_its_flag(
    personas: Personas, works: dict[str, Project]
) -> None:
    # given: school B's project, every node overdue (black)
    node = works["b"].nodes.get(kind=ProjectNode.Kind.SETUP)
    client = client_for(personas.county_officer)
    before = client.get(f"/projects/{works['b'].pk}/")
    assert "Overdue (black flag)" in row_text(before, 'data-node="setup"')

    # when
    response = client.post(
        f"/projects/nodes/{node.pk}/close/",
        {"closed_on": "2016-05-01", "evidence_ref": "乙乡2016-立项批复.pdf", "note": ""},
    )

    # then
    assert response.status_code == 302
    node.refresh_from_db()
    assert node.closed_on == dt.date(2016, 5, 1) and node.evidence_ref == "乙乡2016-立项批复.pdf"
    after = client.get(f"/projects/{works['b'].pk}/")
    assert "Done late" in row_text(after, 'data-node="setup"')


def test_closing_a_node_without_evidence_or_out_of_order_changes_nothing(
    personas: Personas, works: dict[str, Project]
) -> None:
    client = client_for(personas.county_officer)
    setup = works["b"].nodes.get(kind=ProjectNode.Kind.SETUP)
    tender = works["b"].nodes.get(kind=ProjectNode.Kind.TENDER)
    # when
    blank = client.post(
        f"/projects/nodes/{setup.pk}/close/", {"closed_on": "2016-03-01", "evidence_ref": " "}
    )
    early = client.post(
        f"/projects/nodes/{tender.pk}/close/", {"closed_on": "2016-03-01", "evidence_ref": "x"}
    )
    # then
    assert blank.status_code == 200 and early.status_code == 200
    assert "Close the earlier time nodes first." in text(early)
    assert not works["b"].nodes.filter(closed_on__isnull=False).exists()


SCAN = b"%PDF-1.4\n% acceptance certificate of 2016\n%%EOF\n"


def test_closing_a_node_with_its_scan_keeps_it_sealed_and_serves_it_in_scope(
    personas: Personas, works: dict[str, Project], settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    # given: school B's first node, closed with a scan and no document number
    node = works["b"].nodes.get(kind=ProjectNode.Kind.SETUP)
    officer = client_for(personas.county_officer)
    upload = SimpleUploadedFile("立项批复.pdf", SCAN, content_type="application/pdf")
    # when
    response = officer.post(
        f"/projects/nodes/{node.pk}/close/", {"closed_on": "2016-05-01", "evidence": upload}
    )
    # then: closed with the file; the page links it and serves it to those who may see it
    assert response.status_code == 302
    node.refresh_from_db()
    assert node.closed_on == dt.date(2016, 5, 1) and node.evidence.name.endswith("-setup.pdf")
    # the bytes on disk are sealed, not the scan
    on_disk = (settings.MEDIA_ROOT / node.evidence.name).read_bytes()
    assert SCAN not in on_disk and b"%PDF" not in on_disk
    page = officer.get(f"/projects/{works['b'].pk}/")
    assert f"/projects/nodes/{node.pk}/evidence/" in row_text(page, 'data-node="setup"') or (
        f'href="/projects/nodes/{node.pk}/evidence/"' in page.content.decode()
    )
    served = officer.get(f"/projects/nodes/{node.pk}/evidence/")
    assert served.status_code == 200 and served["Content-Type"] == "application/pdf"
    assert b"".join(served.streaming_content) == SCAN  # type: ignore[attr-defined]
    assert "no-store" in served["Cache-Control"]
    assert (
        client_for(personas.township_b).get(f"/projects/nodes/{node.pk}/evidence/").status_code
        == 200
    )
    assert (
        client_for(personas.township_a).get(f"/projects/nodes/{node.pk}/evidence/").status_code
        == 404
    )


def test_a_node_closed_with_a_file_that_is_not_a_scan_is_refused(
    personas: Personas, works: dict[str, Project]
) -> None:
    node = works["b"].nodes.get(kind=ProjectNode.Kind.SETUP)
    upload = SimpleUploadedFile("page.html", b"<script>alert(1)</script>", content_type="text/html")
    response = client_for(personas.county_officer).post(
        f"/projects/nodes/{node.pk}/close/", {"closed_on": "2016-05-01", "evidence": upload}
    )
    assert response.status_code == 200 and "html" in text(response)
    node.refresh_from_db()
    assert node.closed_on is None and not node.evidence


def test_a_township_officer_may_not_close_a_node(
    personas: Personas, works: dict[str, Project]
) -> None:
    node = works["b"].nodes.get(kind=ProjectNode.Kind.SETUP)
    response = client_for(personas.township_b).post(
        f"/projects/nodes/{node.pk}/close/", {"closed_on": "2016-03-01", "evidence_ref": "x"}
    )
    assert response.status_code == 403
    node.refresh_from_db()
    assert node.closed_on is None


# --------------------------------------------------------------------------- set up a project


def _project_data(county: County, **override: Any) -> dict[str, Any]:
    due = nodes(dt.date(2027, 3, 1))
    return {
        "kind": "renovation",
        "name": "乙乡中学改厕",
        "plan_year": "2027",
        "school": str(county.school_b.pk),
        "items": ["toilets"],
        "budget_county": "120000",
        **{f"due_{k}": v.isoformat() for k, v in due.items()},
        **override,
    }


def test_the_county_sets_up_a_project_through_the_form(
    county: County, personas: Personas, works: dict[str, Project]
) -> None:
    response = client_for(personas.county_officer).post("/projects/new/", _project_data(county))
    assert response.status_code == 302
    made = Project.objects.get(name="乙乡中学改厕")
    assert made.township_code == county.township_b.code and made.items == ["toilets"]
    assert [str(b.amount) for b in made.budget_lines.all()] == ["120000.00"]
    assert made.nodes.count() == 6


@pytest.mark.parametrize(
    "override, message",
    [
        ({"due_tender": "2027-01-01"}, "The due dates of the time nodes go backwards."),
        ({"school": "", "items": []}, "Choose a school or a village."),
        ({"budget_county": "-5"}, "greater than or equal to 0"),
        ({"plan_year": "abc"}, "Enter a whole number."),
    ],
)
def test_a_bad_project_is_refused_on_the_form_and_nothing_is_saved(
    county: County, personas: Personas, works: dict[str, Project], override: Any, message: str
) -> None:
    before = Project.objects.count()
    response = client_for(personas.county_officer).post(
        "/projects/new/", _project_data(county, **override)
    )
    assert response.status_code == 200
    assert message in text(response)
    assert Project.objects.count() == before


def test_only_county_editors_set_up_projects(
    county: County, personas: Personas, works: dict[str, Project]
) -> None:
    before = Project.objects.count()
    for user in (personas.township_b, personas.principal_a, personas.bureau_leader):
        response = client_for(user).post("/projects/new/", _project_data(county))
        assert response.status_code == 403, user.username
    assert Project.objects.count() == before


# --------------------------------------------------------------------------- school conditions


def test_school_conditions_show_counts_gaps_and_the_closing_project(
    county: County, personas: Personas, works: dict[str, Project]
) -> None:
    response = client_for(personas.county_officer).get("/projects/schools/")
    a = row_text(response, f'data-school="{county.school_a.pk}"')
    b = row_text(response, f'data-school="{county.school_b.pk}"')
    # school A: the accepted renovation's survey (2016) met the toilets; the canteen is a gap
    # that the 2026 informatization project closes
    assert f"{len(BOARDING_PRIMARY) - 1} 1 0" in a
    assert "informatization 2026" in a and "accepted by 2027-03-31" in a
    assert f"{len(DAY_SCHOOL) - 1} 1 0" in b and "renovation 2016" in b


def test_recording_a_survey_through_the_form(
    county: County, personas: Personas, works: dict[str, Project]
) -> None:
    client = client_for(personas.principal_a)
    form = client.get("/projects/schools/survey/")
    assert "jz-survey-form" in form.content.decode()
    data = {"surveyed_on": "2026-12-01", "school": str(county.school_b.pk)}
    data |= {f"item_{c}": "met" for c in BOARDING_PRIMARY}
    # when
    response = client.post("/projects/schools/survey/", data)
    # then: the principal records for their own school whatever the form says
    assert response.status_code == 302
    made = Survey.objects.order_by("-id").first()
    assert made is not None and made.school == county.school_a
    page = client_for(personas.principal_a).get("/projects/schools/")
    assert "Reached" in row_text(page, f'data-school="{county.school_a.pk}"')


def test_a_survey_with_an_unexplained_not_applicable_is_refused(
    county: County, personas: Personas, works: dict[str, Project]
) -> None:
    before = Survey.objects.count()
    data = {"surveyed_on": "2026-12-01", "school": str(county.school_a.pk)}
    data |= {f"item_{c}": "met" for c in BOARDING_PRIMARY}
    data["item_canteen"] = "not_applicable"
    response = client_for(personas.county_officer).post("/projects/schools/survey/", data)
    assert response.status_code == 200
    assert "Say why these items do not apply: canteen" in text(response)
    assert Survey.objects.count() == before


def test_a_survey_of_another_townships_school_is_a_404(
    county: County, personas: Personas, works: dict[str, Project]
) -> None:
    response = client_for(personas.township_a).get(
        "/projects/schools/survey/", {"school": county.school_b.pk}
    )
    assert response.status_code == 403  # (township officers record no surveys)
    response = client_for(personas.county_officer).get(
        "/projects/schools/survey/", {"school": 999999}
    )
    assert response.status_code == 404


# --------------------------------------------------------------------------- coverage I.2


def test_coverage_at_a_date_with_links_and_export(
    county: County, personas: Personas, works: dict[str, Project]
) -> None:
    client = client_for(personas.county_officer)
    # when: school A (the only poor-village school) before and after its canteen is met
    before = client.get("/projects/coverage/", {"on": "2026-12-06"})
    survey(personas.county_officer, county.school_a, dt.date(2026, 12, 1))
    after = client.get("/projects/coverage/", {"on": "2026-12-06"})
    earlier = client.get("/projects/coverage/", {"on": "2026-11-30"})
    export = client.get("/projects/coverage.xlsx", {"on": "2026-12-06"})

    # then
    assert "1 0 1 0.0%" in row_text(before, 'id="jz-county-total"')
    assert "1 1 0 100.0%" in row_text(after, 'id="jz-county-total"')
    assert "0.0%" in row_text(earlier, 'id="jz-county-total"')
    link = re.search(
        r'href="(/projects/schools/\?poor=1&amp;on=2026-12-06&amp;reached=1)"',
        after.content.decode(),
    )
    assert link
    listed = client.get(link.group(1).replace("&amp;", "&"))
    assert "1 school" in text(listed) and "甲镇中心小学" in text(listed)
    rows = sheets(export.content)
    assert rows[0][2][1] == "甲镇中心小学" and rows[0][2][7] == "是"
    assert rows[1][-1][:4] == ("全县", "测试县", 1, 1)


def test_without_a_standard_the_pages_name_the_command_and_load_nothing(
    county: County, personas: Personas
) -> None:
    for url in ("/projects/schools/", "/projects/coverage/"):
        body = text(client_for(personas.county_officer).get(url))
        assert "jingzhun load_basic_standard" in body, url
    assert StandardVersion.objects.count() == 0


def test_a_survey_with_an_item_left_unanswered_is_refused(
    county: County, personas: Personas, works: dict[str, Project]
) -> None:
    before = Survey.objects.count()
    data = {"surveyed_on": "2026-12-01", "school": str(county.school_a.pk)}
    data |= {f"item_{c}": "met" for c in BOARDING_PRIMARY if c != "toilets"}
    response = client_for(personas.county_officer).post("/projects/schools/survey/", data)
    assert response.status_code == 200
    assert "This field is required." in text(response)
    assert Survey.objects.count() == before
