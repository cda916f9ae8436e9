"""The shared list component: filters read safely, applied by field, kept in links."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from jingzhun.core.listing import ListParams, looks_like_id, paginate
from jingzhun.registry.models import Area


def test_read_checks_every_value() -> None:
    data = QueryDict(
        "township=420102001&school=12&class=x&status=open&reason=bogus&q=%20Li%20%20Lei%20"
    )
    lp = ListParams.read(data, statuses=["open", "closed"], reasons=["poverty"])
    assert lp.township == "420102001"
    assert lp.school_id == 12
    assert lp.class_id is None  # not a number: ignored
    assert lp.status == "open"
    assert lp.reason == ""  # not one of the reasons offered
    assert lp.q == "Li Lei"
    assert lp.active


def test_township_must_be_a_code() -> None:
    lp = ListParams.read(QueryDict("township=4201' OR 1=1"))
    assert lp.township == ""
    assert not lp.active


def test_an_id_is_never_searched_from_a_url() -> None:
    lp = ListParams.read(QueryDict("q=42010220100101123X"))
    assert lp.q == ""
    assert lp.id_refused
    assert looks_like_id("420102201001011")
    assert not looks_like_id("G12345")
    assert "42010220100101123X" not in lp.query()


def test_query_keeps_filters_but_not_the_page() -> None:
    lp = ListParams.read(
        QueryDict("township=420102&status=open&page=3&mine=1"), statuses=["open"], extra=["mine"]
    )
    assert lp.query() == "township=420102&status=open&mine=1"
    assert lp.query(status="") == "township=420102&mine=1"
    assert lp.without("township").township == ""


@pytest.mark.django_db
def test_apply_filters_by_the_fields_named() -> None:
    for code, name in [("420102", "County"), ("420102001", "East"), ("420102002", "West")]:
        Area.objects.create(code=code, name=name, level="township" if len(code) > 6 else "county")
    rows = Area.objects.filter(level="township")
    lp = ListParams.read(QueryDict("township=420102001"))
    assert list(lp.apply(rows, township="code").values_list("name", flat=True)) == ["East"]
    # A filter the page does not name is not applied.
    assert lp.apply(rows).count() == 2
    lp = ListParams.read(QueryDict("q=es"))
    assert list(lp.apply(rows, names=["name"]).values_list("name", flat=True)) == ["West"]
    lp = ListParams.read(QueryDict("q=420102002"))
    assert list(lp.apply(rows, exact=["code"]).values_list("name", flat=True)) == ["West"]


def test_paginate_gives_the_last_page_when_out_of_range() -> None:
    page = paginate(QueryDict("page=99"), list(range(120)), size=50)
    assert page.number == 3
    assert list(page) == list(range(100, 120))
