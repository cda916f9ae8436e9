"""Fixtures of the teacher tests."""

from __future__ import annotations

from typing import Any

import pytest
from tests.teachers.helpers import add_teacher

from jingzhun.core.sensitive import seal
from jingzhun.schools.models import School
from jingzhun.teachers.models import Teacher


@pytest.fixture
def roster(county: Any) -> dict[str, Any]:
    """A teaching point and a town primary school beside the village primary school A."""
    point = School.objects.create(
        code="2142010009",
        name="甲村教学点",
        kind=School.Kind.TEACHING_POINT,
        township=county.township_a,
        village=county.village_a,
        in_poor_village=True,
    )
    town = School.objects.create(
        code="2142010010", name="甲镇二小", kind=School.Kind.PRIMARY, township=county.township_a
    )
    card = seal("6217000011112222333", prefix="bank", purpose="bank")
    bank = {f"bank_{k.split('_', 1)[1]}": v for k, v in card.items()}
    t = {
        "village": add_teacher(county.school_a, 1, bank_name="农行", **bank),
        "point": add_teacher(point, 2, bank_name="农行", **bank),
        "town": add_teacher(town, 3, bank_name="农行", **bank),
        "nocard": add_teacher(point, 4),
        "clerk": add_teacher(point, 5, post=Teacher.Post.OTHER, bank_name="农行", **bank),
    }
    return {"point_school": point, "town_school": town, **t}
