"""The identification API: runs, their changes, statuses and candidates, scoped and masked."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from tests.identification.helpers import CHILDREN, HONG, LATE, MING
from tests.identification.world import World, identify, make_world

from jingzhun.accounts.services import api_token_create
from jingzhun.identification.services import review_decide

pytestmark = pytest.mark.django_db

WHOLE_IDS = {child[1] for child in CHILDREN}


@pytest.fixture
def w(tmp_path: Path) -> World:
    return make_world(tmp_path)


def get(user: Any, url: str, **params: Any) -> Any:
    token = api_token_create(actor=None, user=user, name=uuid.uuid4().hex[:12])[1]
    response = Client().get(url, params, headers={"Authorization": f"Bearer {token}"})
    body = json.dumps(response.json(), ensure_ascii=False)
    assert not [i for i in WHOLE_IDS if i in body], url
    return response


def test_runs_list_and_detail(w: World) -> None:
    data = get(w.township_a, "/api/identification/runs").json()
    assert data["count"] == 1 and data["items"][0]["id"] == w.run.pk
    detail = get(w.township_a, f"/api/identification/runs/{w.run.pk}").json()
    assert detail["children"] == 3
    assert detail["categories"]["suspected_dropout"] == 2
    assert detail["candidates_pending"] == 1
    assert get(w.nobody, "/api/identification/runs").json() == {"items": [], "count": 0}
    assert get(w.nobody, f"/api/identification/runs/{w.run.pk}").status_code == 404


def test_api_returns_the_changes_of_a_run(w: World) -> None:
    # given a decision and a new run that honours it
    review_decide(actor=w.township_a, candidate_id=w.candidate_a.pk, accept=True)
    run = identify()
    # when / then
    county = get(w.county_officer, f"/api/identification/runs/{run.pk}/changes").json()
    assert county["count"] == 1
    (change,) = county["items"]
    assert (change["kind"], change["name"], change["before"], change["after"]) == (
        "returned",
        MING[0],
        "suspected_dropout",
        "in_county",
    )
    assert change["id_masked"] == MING[1][:6] + "*" * 12
    assert change["school_name"] == "甲镇中心小学"
    assert get(w.township_a, f"/api/identification/runs/{run.pk}/changes").json()["count"] == 1
    assert get(w.township_b, f"/api/identification/runs/{run.pk}/changes").json()["count"] == 0
    assert (
        get(w.county_officer, f"/api/identification/runs/{run.pk}/changes", kind="transfer").json()[
            "count"
        ]
        == 0
    )


def test_statuses_are_scoped_filtered_and_masked(w: World) -> None:
    data = get(w.township_a, "/api/identification/statuses").json()
    assert sorted(s["name"] for s in data["items"]) == sorted([MING[0], HONG[0], LATE[0]])
    suspected = get(
        w.county_officer, "/api/identification/statuses", run=w.run.pk, category="suspected_dropout"
    ).json()
    assert sorted(s["name"] for s in suspected["items"]) == sorted([MING[0], HONG[0]])
    late = next(s for s in data["items"] if s["name"] == LATE[0])
    assert (late["category"], late["school_name"], late["link_method"]) == (
        "in_county",
        "甲镇中心小学",
        "exact",
    )
    assert late["roll_masked"].startswith("G420") and "*" in late["roll_masked"]
    assert get(w.principal_a, "/api/identification/statuses").json()["count"] == 1
    assert get(w.nobody, "/api/identification/statuses").json()["count"] == 0


def test_each_listed_child_says_why_and_what_takes_them_off(w: World) -> None:
    suspected = get(
        w.county_officer, "/api/identification/statuses", run=w.run.pk, category="suspected_dropout"
    ).json()["items"]
    hong = next(s for s in suspected if s["name"] == HONG[0])
    # born 2012-07-04: 6 on 31 August 2018; the test registry gives no in-school status
    assert hong["why_listed"] == (
        "8月31日年满 6 岁；不在任何学籍和就读证明名单中；建档立卡在校生状况：（未填写）。"
    )
    assert hong["what_takes_them_off"] == (
        "学籍在读记录、外地就读证明、送教上门记录，或儿童已返校。"
    )
    enrolled = get(w.township_a, "/api/identification/statuses").json()["items"]
    late = next(s for s in enrolled if s["name"] == LATE[0])
    assert (late["why_listed"], late["what_takes_them_off"]) == ("", "")


def test_candidates_pending_and_scoped(w: World) -> None:
    items = get(w.township_a, "/api/identification/candidates").json()["items"]
    assert [c["id"] for c in items] == [w.candidate_a.pk]
    assert items[0]["person_name"] == MING[0]
    assert items[0]["evidence"]["name_agrees"] is True
    assert items[0]["student_id_masked"] == ""
    county = get(w.county_officer, "/api/identification/candidates").json()
    assert [c["id"] for c in county["items"]] == [w.candidate_a.pk, w.candidate_b.pk]
    review_decide(actor=w.township_a, candidate_id=w.candidate_a.pk, accept=False)
    assert get(w.township_a, "/api/identification/candidates").json()["count"] == 0
