"""The aid API: coverage, entitlements, a student's aid and explaining a profile, scoped."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from tests.conftest import ID_A, ID_B, County, Personas

from jingzhun.accounts.services import api_token_create
from jingzhun.aid import services
from jingzhun.funds import services as funds

from .world import approve_school, identify

BANK_A = "6228480012345678901"


def call(
    user: Any, method: str, url: str, data: Any = None, language: str = "en", **params: Any
) -> Any:
    token = api_token_create(actor=None, user=user, name=uuid.uuid4().hex[:12])[1]
    client = Client(headers={"Authorization": f"Bearer {token}", "Accept-Language": language})
    if method == "get":
        response = client.get(url, params)
    else:
        response = client.post(url, json.dumps(data), content_type="application/json")
    body = response.content.decode()
    for whole in (ID_A, ID_B, BANK_A):
        assert whole not in body, url
    return response


@pytest.fixture
def computed(county: County, personas: Personas) -> County:
    identify()
    services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    return county


def test_coverage_gives_the_page_figures_and_gaps(computed: County, personas: Personas) -> None:
    approve_school(personas, computed)
    funds.allocation_record(
        actor=personas.aid_officer,
        channel="county",
        school_year=2018,
        programme="boarding_subsidy",
        amount=Decimal("1000.00"),
    )
    data = call(
        personas.county_officer, "get", "/api/aid/coverage", year=2018, semester="autumn"
    ).json()
    assert data["county"] == {
        "key": "county",
        "label": "测试县",
        "students": 2,
        "covered": 0,
        "share": "0.0",
    }
    assert [(r["label"], r["students"], r["covered"]) for r in data["by_township"]] == [
        ("甲镇", 1, 0),
        ("乙乡", 1, 0),
    ]
    assert [
        (g["student_name"], g["programme"], g["amount"], g["reason"]) for g in data["gaps"]
    ] == [
        ("李小红", "compulsory_waiver", "130.00", "pending_review"),
        ("张小明", "boarding_subsidy", "500.00", "awaiting_payment"),
    ]
    assert data["gaps"][1]["reason_label"] == "Approved, not yet in a payment batch"
    township = call(
        personas.township_b, "get", "/api/aid/coverage", year=2018, semester="autumn"
    ).json()
    assert [g["student_name"] for g in township["gaps"]] == ["李小红"]
    assert township["county"]["students"] == 1
    nobody = call(personas.nobody, "get", "/api/aid/coverage", year=2018, semester="autumn").json()
    assert (nobody["county"]["students"], nobody["gaps"]) == (0, [])
    assert (
        call(personas.county_officer, "get", "/api/aid/coverage", semester="winter").status_code
        == 422
    )


def test_entitlements_are_paginated_and_scoped(computed: County, personas: Personas) -> None:
    data = call(
        personas.county_officer,
        "get",
        "/api/aid/entitlements",
        year=2018,
        semester="autumn",
        limit=2,
    ).json()
    assert data["count"] == 3 and len(data["items"]) == 2
    first = data["items"][0]
    assert {
        k: first[k]
        for k in (
            "student_name",
            "school_name",
            "class_name",
            "programme",
            "amount",
            "review",
            "clause",
            "rule_book_year",
            "rule_book_version",
        )
    } == {
        "student_name": "李小红",
        "school_name": "乙乡中学",
        "class_name": "Grade 7, 2班",  # schools.naming, in the caller's language
        "programme": "compulsory_waiver",
        "amount": "130.00",
        "review": "pending",
        "clause": "II.1.2",
        "rule_book_year": 2018,
        "rule_book_version": 1,
    }
    township = call(
        personas.township_a, "get", "/api/aid/entitlements", year=2018, semester="autumn"
    ).json()
    assert sorted(i["programme"] for i in township["items"]) == [
        "boarding_subsidy",
        "compulsory_waiver",
    ]
    assert {i["student_name"] for i in township["items"]} == {"张小明"}
    filtered = call(
        personas.county_officer,
        "get",
        "/api/aid/entitlements",
        year=2018,
        semester="autumn",
        school_id=computed.school_b.pk,
    ).json()
    assert filtered["count"] == 1
    assert (
        call(
            personas.township_a,
            "get",
            "/api/aid/entitlements",
            year=2018,
            semester="autumn",
            school_id=computed.school_b.pk,
        ).json()["count"]
        == 0
    )
    assert call(
        personas.nobody, "get", "/api/aid/entitlements", year=2018, semester="autumn"
    ).json() == {
        "items": [],
        "count": 0,
    }


def test_student_entitlements_with_inputs_and_404_outside(
    computed: County, personas: Personas
) -> None:
    url = f"/api/aid/students/{computed.student_a.pk}/entitlements"
    data = call(personas.principal_a, "get", url).json()
    assert data["name"] == "张小明"
    boarding = next(e for e in data["entitlements"] if e["programme"] == "boarding_subsidy")
    assert (boarding["amount"], boarding["clause"], boarding["kind"]) == (
        "500.00",
        "II.1.2",
        "cash",
    )
    assert boarding["inputs"] == {
        "stage": "primary",
        "grade": 3,
        "boarding": True,
        "location": "in_county",
        "household_status": "registered",
        "exit_year": None,
        "exit_year_assumed": False,
    }
    assert call(personas.township_b, "get", url).status_code == 404
    assert call(personas.nobody, "get", url).status_code == 404
    assert (
        call(personas.principal_a, "get", "/api/aid/students/999999/entitlements").status_code
        == 404
    )


def test_explain_evaluates_a_profile_with_the_current_rule_book(
    computed: County, personas: Personas
) -> None:
    profile = {
        "school_year": 2018,
        "semester": "autumn",
        "stage": "junior",
        "grade": 2,
        "boarding": True,
    }
    data = call(personas.township_a, "post", "/api/aid/explain", profile).json()
    assert [(ln["programme"], ln["amount"], ln["clause"], ln["kind"]) for ln in data["lines"]] == [
        ("boarding_subsidy", "625.00", "II.1.2", "cash"),
        ("compulsory_waiver", "130.00", "II.1.2", "waiver"),
    ]
    assert data["lines"][0]["label"] == "Boarding living subsidy"
    chinese = call(personas.township_a, "post", "/api/aid/explain", profile, language="zh-hans")
    assert chinese.json()["lines"][0]["label"] == "义务教育家庭经济困难寄宿生生活补助"
    assert (data["total_cash"], data["total_waived"], data["rule_book_version"]) == (
        "625.00",
        "130.00",
        1,
    )
    # a household that left poverty beyond the transition gets nothing
    gone = call(
        personas.township_a,
        "post",
        "/api/aid/explain",
        {**profile, "household_status": "left_poverty", "exit_year": 2015},
    ).json()
    assert (gone["household_eligible"], gone["lines"]) == (False, [])
    assert (
        call(
            personas.township_a, "post", "/api/aid/explain", {**profile, "school_year": 2030}
        ).status_code
        == 404
    )
    assert (
        call(
            personas.township_a, "post", "/api/aid/explain", {**profile, "stage": "phd"}
        ).status_code
        == 422
    )
    assert call(personas.nobody, "post", "/api/aid/explain", profile).status_code == 404
