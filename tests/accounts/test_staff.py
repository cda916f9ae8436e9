"""The staff directory on the accounts side: a login given later keeps what a person answers
for; phones are masked; the directory is scoped like everything else."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from jingzhun.accounts.models import StaffMember, User, mask_phone
from jingzhun.accounts.services import staff_link_user
from jingzhun.core.scoping import scope_queryset
from jingzhun.duty import services
from jingzhun.duty.models import Assignment


def test_mask_phone() -> None:
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone(" 138 1234 1234 ") == "138****1234"
    assert mask_phone("") == ""
    assert mask_phone("12345") == "****2345"


def test_a_login_given_later_keeps_the_assignments(county: Any, personas: Any) -> None:
    # given: a teacher without a login answers for village A
    teacher = StaffMember.objects.create(
        name="王芳",
        post="class_teacher",
        phone="13812341234",
        school=county.school_a,
        area_code=county.township_a.code,
    )
    a = services.assignment_create(
        actor=personas.county_officer,
        kind="village",
        target_id=county.village_a.pk,
        holder_id=teacher.pk,
        school_id=county.school_a.pk,
    )
    # when: the command creates her login for that directory entry
    call_command(
        "create_user",
        "wangfang",
        "--role",
        "class_teacher",
        "--class",
        "2142010001:2018:primary:3:1班",
        "--generate-password",
        "--staff",
        str(teacher.pk),
    )
    # then
    user = User.objects.get(username="wangfang")
    teacher.refresh_from_db()
    assert teacher.user == user and user.staff_member == teacher
    a.refresh_from_db()
    assert a.holder == teacher and a.ends_on is None
    assert StaffMember.objects.filter(user=user).count() == 1


def test_linking_checks_the_actor_and_refuses_a_second_login(county: Any, personas: Any) -> None:
    person = StaffMember.objects.create(
        name="赵某", post="other", school=county.school_a, area_code=county.township_a.code
    )
    with pytest.raises(PermissionDenied):  # a principal manages no users
        staff_link_user(actor=personas.principal_a, staff_id=person.pk, user_id=personas.nobody.pk)
    staff_link_user(actor=None, staff_id=person.pk, user_id=personas.nobody.pk)
    with pytest.raises(ValidationError):
        staff_link_user(actor=None, staff_id=person.pk, user_id=personas.inspector.pk)
    assert StaffMember.objects.get(pk=person.pk).user == personas.nobody


def test_the_directory_is_scoped(county: Any, personas: Any) -> None:
    def names(user: Any) -> set[str]:
        return set(scope_queryset(StaffMember.objects.all(), user).values_list("name", flat=True))

    assert names(personas.county_officer) == {"town_a", "town_b", "principal_a", "teacher_a"}
    assert names(personas.township_a) == {"town_a", "principal_a", "teacher_a"}
    assert names(personas.principal_a) == {"principal_a", "teacher_a"}
    assert names(personas.nobody) == set()
    assert Assignment.objects.count() == 0
