"""Identification pages: runs and changes, the review queue, the ledgers and coverage, per persona."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from tests.identification.helpers import HONG, LATE, MIGRANT, MING, TODDLER, TWIN1, TWIN2
from tests.identification.world import World, identify, make_world

from jingzhun.core.models import AuditEvent
from jingzhun.identification import selectors
from jingzhun.identification.models import ChildStatus, IdentificationRun
from jingzhun.identification.services import review_decide

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(tmp_path: Path) -> World:
    return make_world(tmp_path)


def login(user: Any, language: str = "en") -> Client:
    """Return a client logged in as the user, asking for pages in a language."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    return client


def names(response: Any, key: str = "rows") -> list[str]:
    assert response.status_code == 200
    return sorted(s.person.name for s in response.context[key])


# --------------------------------------------------------------------------- review queue


def test_review_queue_is_scoped_per_persona(w: World) -> None:
    expected = {
        "county_officer": [w.candidate_a.pk, w.candidate_b.pk],
        "township_a": [w.candidate_a.pk],
        "township_b": [w.candidate_b.pk],
        "principal_a": [w.candidate_a.pk],
        "teacher_a": [],
        "inspector": [w.candidate_a.pk, w.candidate_b.pk],
    }
    for persona, pks in expected.items():
        response = login(w.users[persona]).get("/identification/candidates/")
        assert response.status_code == 200, persona
        assert sorted(c.pk for c in response.context["candidates"]) == sorted(pks), persona
    assert login(w.nobody).get("/identification/candidates/").status_code == 403


def test_other_townships_candidate_is_404(w: World) -> None:
    client = login(w.township_a)
    assert client.get(f"/identification/candidates/{w.candidate_b.pk}/").status_code == 404
    response = client.post(
        f"/identification/candidates/{w.candidate_b.pk}/", {"decision": "accept"}
    )
    assert response.status_code == 404
    w.candidate_b.refresh_from_db()
    assert w.candidate_b.decision == "pending"
    assert (
        login(w.principal_a).get(f"/identification/candidates/{w.candidate_b.pk}/").status_code
        == 404
    )
    assert (
        login(w.township_b).get(f"/identification/candidates/{w.candidate_a.pk}/").status_code
        == 404
    )


def test_review_page_shows_both_sides_masked(w: World) -> None:
    response = login(w.township_a).get(f"/identification/candidates/{w.candidate_a.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    person = w.candidate_a.person
    assert person.name in page and person.id_masked in page
    assert MING[1] not in page  # never the whole number
    # the birth month shown, never the day (with the area code it would narrow the ID)
    assert "2010-05" in page and "2010-05-03" not in page
    assert "甲村" in page and "甲镇中心小学" in page
    assert "93.0%" in page
    rows = {str(r.label): r.agrees for r in response.context["comparison"]}
    assert rows == {
        "Name": True,
        "Resident ID": None,  # no ID on the roll
        "Birth month": True,
        "Sex": None,  # the roll gives no sex
        "Village / school": True,
    }
    evidence = dict((str(k), v) for k, v in response.context["evidence"])
    assert evidence["Names agree (characters or pinyin)"] is True
    assert evidence["Match weight"] == 12.5
    assert 'value="accept"' in page and 'value="reject"' in page


def test_accept_through_the_page_writes_the_decision_and_an_audit_event(w: World) -> None:
    # given
    client = login(w.township_a)
    # when
    response = client.post(
        f"/identification/candidates/{w.candidate_a.pk}/",
        {"decision": "accept", "reason": "同一人，学籍漏填身份证号"},
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == "/identification/candidates/"
    w.candidate_a.refresh_from_db()
    assert w.candidate_a.decision == "accepted"
    assert w.candidate_a.decided_by == w.township_a
    assert w.candidate_a.reason == "同一人，学籍漏填身份证号"
    event = AuditEvent.objects.get(action="identification.review")
    assert (event.actor, event.object_id) == (w.township_a, str(w.candidate_a.pk))
    assert event.data == {"accept": True, "reason": "同一人，学籍漏填身份证号"}
    # and the queue no longer lists it
    assert [c.pk for c in client.get("/identification/candidates/").context["candidates"]] == []


def test_an_accepted_link_is_honoured_by_the_next_run(w: World) -> None:
    login(w.township_a).post(
        f"/identification/candidates/{w.candidate_a.pk}/", {"decision": "accept"}
    )
    run = identify()
    assert run.pk != w.run.pk
    status = ChildStatus.objects.get(run=run, person__name=MING[0])
    assert (status.category, status.link_method, status.known) == ("in_county", "reviewed", True)
    # the page of the new run lists the change, for township A only
    page = login(w.township_a).get(
        f"/identification/runs/{run.pk}/",
    )
    assert [(r["change"].kind, r["change"].person.name) for r in page.context["change_rows"]] == [
        ("returned", MING[0])
    ]
    assert str(page.context["change_rows"][0]["after"]) == "Enrolled in the county"
    other = login(w.township_b).get(f"/identification/runs/{run.pk}/")
    assert other.context["change_rows"] == []


def test_reject_keeps_the_reason(w: World) -> None:
    response = login(w.county_officer).post(
        f"/identification/candidates/{w.candidate_b.pk}/",
        {"decision": "reject", "reason": "不是同一人"},
    )
    assert response.status_code == 302
    w.candidate_b.refresh_from_db()
    assert (w.candidate_b.decision, w.candidate_b.reason) == ("rejected", "不是同一人")


def test_a_second_decision_is_refused_with_a_clear_message(w: World) -> None:
    client = login(w.township_a)
    client.post(f"/identification/candidates/{w.candidate_a.pk}/", {"decision": "accept"})
    response = client.post(
        f"/identification/candidates/{w.candidate_a.pk}/", {"decision": "reject"}, follow=True
    )
    assert response.status_code == 200
    assert "This candidate was already decided." in response.content.decode()
    w.candidate_a.refresh_from_db()
    assert w.candidate_a.decision == "accepted"
    assert AuditEvent.objects.filter(action="identification.review").count() == 1


def test_inspector_may_look_but_not_decide(w: World) -> None:
    client = login(w.inspector)
    page = client.get(f"/identification/candidates/{w.candidate_a.pk}/")
    assert page.status_code == 200 and 'value="accept"' not in page.content.decode()
    response = client.post(
        f"/identification/candidates/{w.candidate_a.pk}/", {"decision": "accept"}
    )
    assert response.status_code == 403
    w.candidate_a.refresh_from_db()
    assert (w.candidate_a.decision, w.candidate_a.decided_by) == ("pending", None)
    assert not AuditEvent.objects.filter(action="identification.review").exists()
    assert AuditEvent.objects.filter(action="access.denied", actor=w.inspector).exists()


def test_a_post_without_a_decision_changes_nothing(w: World) -> None:
    response = login(w.township_a).post(f"/identification/candidates/{w.candidate_a.pk}/", {})
    assert response.status_code == 200
    w.candidate_a.refresh_from_db()
    assert w.candidate_a.decision == "pending"


# --------------------------------------------------------------------------- runs


def test_runs_page_and_run_detail_counts_are_scoped(w: World) -> None:
    response = login(w.township_a).get(f"/identification/runs/{w.run.pk}/")
    assert response.status_code == 200
    counts = {c.code: c.n for c in response.context["categories"]}
    assert counts["suspected_dropout"] == 2 and counts["in_county"] == 1
    assert sum(counts.values()) == 3 == response.context["children"]
    county = login(w.county_officer).get(
        f"/identification/runs/{w.run.pk}/",
    )
    assert sum(c.n for c in county.context["categories"]) == 7
    page = county.content.decode()
    assert "Compulsory age, not enrolled (suspected dropout)" in page
    listing = login(w.principal_a).get("/identification/")
    assert [r.pk for r in listing.context["runs"]] == [w.run.pk]
    assert login(w.nobody).get(f"/identification/runs/{w.run.pk}/").status_code == 403


def test_run_page_speaks_chinese(w: World) -> None:
    page = login(w.county_officer, "zh-hans").get(f"/identification/runs/{w.run.pk}/")
    text = page.content.decode()
    assert "疑似辍学" in text and "与上次比对相比的变化" in text


def test_run_now_enqueues_a_preview_for_users_who_import(w: World) -> None:
    # given a decision made since the run (so that a new run has something new to read)
    review_decide(actor=w.county_officer, candidate_id=w.candidate_b.pk, accept=False)
    before = IdentificationRun.objects.count()
    # when a township officer tries
    response = login(w.township_a).post("/identification/", {"as_of": "2018-10-08"})
    # then nothing happens
    assert response.status_code == 403
    assert IdentificationRun.objects.count() == before
    # when the aid centre officer starts a run (the test backend runs it at once)
    response = login(w.aid_officer).post("/identification/", {"as_of": "2018-10-08"})
    assert response.status_code == 302
    assert response["Location"].startswith("/identification/?task=")
    progress = login(w.aid_officer).get(
        "/identification/runs/progress/", {"task": response["Location"].split("=")[1]}
    )
    assert progress.json()["task_finished"] is True
    assert IdentificationRun.objects.count() == before + 1
    latest = IdentificationRun.objects.order_by("-id").first()
    assert latest is not None and latest.status == "preview" and latest.started_by == w.aid_officer
    assert latest.as_of.isoformat() == "2018-10-08"
    # then the current run is still the old one
    assert selectors.latest_run(user=w.county_officer) == w.run
    page = login(w.aid_officer).get("/identification/")
    assert 'id="jz-run-now"' in page.content.decode()
    assert f'id="jz-preview-{latest.pk}"' in page.content.decode()
    assert 'id="jz-run-now"' not in login(w.township_a).get("/identification/").content.decode()


def test_progress_endpoint(w: World) -> None:
    data = login(w.township_a).get("/identification/runs/progress/").json()
    assert data == {"running": False, "run": w.run.pk, "status": "done"}


# --------------------------------------------------------------------------- ledgers


def test_school_age_ledger_per_persona(w: World) -> None:
    url = "/identification/ledgers/school-age/"
    assert names(login(w.county_officer).get(url)) == sorted(
        [MING[0], HONG[0], TWIN1[0], TWIN2[0], LATE[0], MIGRANT[0]]
    )
    assert names(login(w.township_a).get(url)) == sorted([MING[0], HONG[0], LATE[0]])
    assert names(login(w.township_b).get(url)) == sorted([TWIN1[0], TWIN2[0], LATE[0], MIGRANT[0]])
    assert names(login(w.principal_a).get(url)) == [LATE[0]]
    assert names(login(w.teacher_a).get(url)) == []
    assert login(w.nobody).get(url).status_code == 403
    assert TODDLER[0] not in login(w.county_officer).get(url).content.decode()


def test_suspected_and_confirmed_dropout_ledgers(w: World) -> None:
    suspected = "/identification/ledgers/suspected/"
    assert names(login(w.county_officer).get(suspected)) == sorted([MING[0], HONG[0]])
    assert names(login(w.township_a).get(suspected)) == sorted([MING[0], HONG[0]])
    assert names(login(w.township_b).get(suspected)) == []
    assert names(login(w.county_officer).get("/identification/ledgers/dropped/")) == []


def test_ledger_filters_by_township_and_school(w: World) -> None:
    client = login(w.county_officer)
    url = "/identification/ledgers/school-age/"
    assert names(client.get(url, {"township": "420101001"})) == sorted([MING[0], HONG[0]])
    assert names(client.get(url, {"school": w.school_b.pk})) == sorted([TWIN1[0], TWIN2[0]])
    groups = client.get(url).context["groups"]
    assert [(g.name, g.n) for g in groups["township"]] == [("甲镇", 2), ("乙乡", 4)]
    by_school = {g.name: g.n for g in groups["school"]}
    assert by_school == {"": 2, "乙乡中学": 2, "甲镇中心小学": 1, "省城大学": 1}
    # a filter only narrows: township A's officer asking for B sees nothing of B
    assert names(login(w.township_a).get(url, {"township": "420101002"})) == [LATE[0]]
    page = client.get(url, {"group": "school"})
    assert page.status_code == 200 and "乙乡中学" in page.content.decode()


def test_ledger_in_chinese(w: World) -> None:
    page = login(w.township_a, "zh-hans").get("/identification/ledgers/suspected/").content.decode()
    assert "疑似辍学台账" in page and "张小红" in page and "李大伟" not in page


# --------------------------------------------------------------------------- coverage


def test_coverage_figures_are_exact(w: World) -> None:
    response = login(w.county_officer).get("/identification/coverage/")
    cov = response.context["coverage"]
    t = cov.total
    assert (t.name, t.school_age, t.school_age_known, str(t.school_age_share)) == (
        "测试县",
        6,
        4,
        "66.7",
    )
    assert (t.all_ages, t.all_ages_known, str(t.all_ages_share)) == (7, 4, "57.1")
    assert [
        (
            r.name,
            r.school_age,
            r.school_age_known,
            str(r.school_age_share),
            r.all_ages,
            str(r.all_ages_share),
        )
        for r in cov.townships
    ] == [("甲镇", 2, 0, "0.0", 2, "0.0"), ("乙乡", 4, 4, "100.0", 5, "80.0")]
    assert [(r.code, r.name) for r in cov.villages] == [
        ("420101001001", "甲村"),
        ("420101002001", "乙村"),
    ]
    assert "66.7%" in response.content.decode()


def test_coverage_of_a_township_counts_its_own_villages(w: World) -> None:
    cov = login(w.township_a).get("/identification/coverage/").context["coverage"]
    assert (cov.total.name, cov.total.school_age, cov.total.school_age_known) == ("甲镇", 2, 0)
    assert [r.name for r in cov.townships] == ["甲镇"]
    assert [r.name for r in cov.villages] == ["甲村"]


def test_coverage_rises_when_a_decision_links_a_child(w: World) -> None:
    login(w.township_a).post(
        f"/identification/candidates/{w.candidate_a.pk}/", {"decision": "accept"}
    )
    run = identify()
    cov = selectors.coverage(user=w.county_officer, run=run)
    assert (cov.total.school_age, cov.total.school_age_known, str(cov.total.school_age_share)) == (
        6,
        5,
        "83.3",
    )


def test_percent_rounds_half_up() -> None:
    assert str(selectors.percent(1, 8)) == "12.5"
    assert str(selectors.percent(1, 3)) == "33.3"
    assert str(selectors.percent(2, 3)) == "66.7"
    assert selectors.percent(0, 0) is None
