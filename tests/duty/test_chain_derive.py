"""The chain derived from the data: head teachers, principals, central-school heads,
township officers and village cadres; idempotent, never over a link a person made."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from jingzhun.accounts.models import StaffMember
from jingzhun.core.models import AuditEvent
from jingzhun.duty import selectors, services
from jingzhun.duty.models import Assignment, DropoutCase
from jingzhun.identification.services import identification_run

TODAY = dt.date(2018, 10, 10)


def identify() -> Any:
    return identification_run(
        actor=None, county_code="420101", as_of=dt.date(2018, 10, 8), fuzzy=None
    )


@pytest.fixture
def staffed(county: Any, personas: Any) -> Any:
    """The directory beyond the personas: township A's central-school head, village A's cadre."""
    identify()
    StaffMember.objects.create(
        name="陈中心",
        post="central_school_head",
        township=county.township_a,
        area_code=county.township_a.code,
    )
    StaffMember.objects.create(
        name="刘书记",
        post="village_cadre",
        township=county.township_a,
        village=county.village_a,
        area_code=county.village_a.code,
    )
    return county


def derive(actor: Any, **kwargs: Any) -> services.ChainResult:
    kwargs.setdefault("today", TODAY)
    return services.chain_derive(actor=actor, county_code="420101", **kwargs)


def current(kind: str) -> dict[str, str]:
    """Return target name -> holder name of the current links of a kind."""
    out = {}
    for a in Assignment.objects.filter(kind=kind, ends_on__isnull=True).select_related(
        "holder", "township", "village", "school", "school_class", "person"
    ):
        target = a.person or a.school_class or a.school or a.village or a.township
        name = target.name if kind != "class" else f"{a.school_class.school.name}{target.name}"
        out[name] = a.holder.name
    return out


def test_the_chain_is_derived_once_with_its_gaps(staffed: Any, personas: Any) -> None:
    # when
    result = derive(personas.county_officer)
    # then: every link the data names, and the gaps where it names no one
    assert dict(result.created) == {
        "township": 2,
        "school": 1,
        "class": 1,
        "village": 1,
        "student": 2,
    }
    assert dict(result.gaps) == {"school": 1, "class": 1, "village": 1}
    assert result.roster_people == 1  # class B's 李老师 comes from the rolls
    assert current("student") == {"张小明": "teacher_a", "李小红": "李老师"}
    assert current("class") == {"甲镇中心小学1班": "principal_a"}
    assert current("school") == {"甲镇中心小学": "陈中心"}
    assert current("township") == {"甲镇": "town_a", "乙乡": "town_b"}
    assert current("village") == {"甲村": "刘书记"}
    assert set(Assignment.objects.values_list("derived", flat=True)) == {True}
    teacher = StaffMember.objects.get(name="李老师")
    assert (teacher.post, teacher.school_class, teacher.phone, teacher.source) == (
        "class_teacher",
        staffed.class_b,
        "",
        "roster",
    )
    # audited once, as a summary
    events = AuditEvent.objects.filter(action="duty.chain_derive")
    assert events.count() == 1 and events.get().data["created"]["student"] == 2
    # coverage counts what was derived
    cov = selectors.coverage(user=personas.county_officer)
    assert (cov.students.covered, cov.villages.covered) == (2, 1)
    links = {
        r.key: (r.total, r.covered) for r in selectors.link_coverage(user=personas.county_officer)
    }
    assert links == {"township": (2, 2), "school": (2, 1), "class": (2, 1), "village": (2, 1)}


def test_a_new_head_teacher_on_the_rolls_takes_the_class_over(staffed: Any, personas: Any) -> None:
    # given the chain derived with class B's 李老师 from the rolls
    derive(personas.county_officer)
    first = Assignment.objects.get(kind="student", person__name="李小红", ends_on__isnull=True)
    # when the rolls name a new head teacher for class B and the chain is derived again
    staffed.class_b.head_teacher_name = "王老师"
    staffed.class_b.save(update_fields=["head_teacher_name"])
    result = derive(personas.county_officer, today=TODAY + dt.timedelta(days=30))
    # then 王老师 answers for the class's poor student, and the history keeps 李老师
    assert result.roster_people == 1 and result.replaced["student"] == 1
    assert current("student") == {"张小明": "teacher_a", "李小红": "王老师"}
    first.refresh_from_db()
    assert first.ends_on is not None and first.holder.name == "李老师"
    old = StaffMember.objects.get(name="李老师")
    assert (old.school_class, old.school, old.active) == (None, staffed.class_b.school, True)
    # a head teacher the county entered itself is not overridden by the rolls
    StaffMember.objects.filter(name="王老师").update(source=StaffMember.Source.IMPORT)
    staffed.class_b.head_teacher_name = "赵老师"
    staffed.class_b.save(update_fields=["head_teacher_name"])
    again = derive(personas.county_officer, today=TODAY + dt.timedelta(days=40))
    assert again.roster_people == 0 and current("student")["李小红"] == "王老师"


def test_a_second_run_changes_nothing(staffed: Any, personas: Any) -> None:
    derive(personas.county_officer)
    rows = list(Assignment.objects.order_by("pk").values_list("pk", "holder_id", "ends_on"))
    again = derive(personas.county_officer)
    assert (again.total_created, again.total_replaced, again.roster_people) == (0, 0, 0)
    assert sum(again.unchanged.values()) == 7
    assert list(Assignment.objects.order_by("pk").values_list("pk", "holder_id", "ends_on")) == rows


def test_a_manual_link_is_never_replaced(staffed: Any, personas: Any) -> None:
    # given: the county named town_b for village B and principal_a for student A by hand
    manual = services.assignment_create(
        actor=personas.county_officer,
        kind="student",
        target_id=staffed.student_a.pk,
        holder_id=personas.principal_a.staff_member.pk,
    )
    result = derive(personas.county_officer)
    assert result.manual["student"] == 1 and result.created["student"] == 1
    assert current("student")["张小明"] == "principal_a"
    manual.refresh_from_db()
    assert (manual.ends_on, manual.derived) == (None, False)


def test_a_new_head_teacher_takes_over_the_derived_links(staffed: Any, personas: Any) -> None:
    derive(personas.county_officer)
    old = Assignment.objects.get(kind="student", person=staffed.person_a)
    StaffMember.objects.filter(user=personas.teacher_a).update(school_class=None)
    StaffMember.objects.create(
        name="吴老师",
        post="class_teacher",
        school=staffed.school_a,
        school_class=staffed.class_a,
        area_code=staffed.township_a.code,
    )
    later = services.chain_derive(
        actor=None, county_code="420101", today=dt.date(2018, 11, 1), school_year=2018
    )
    assert later.replaced["student"] == 1
    old.refresh_from_db()
    assert old.ends_on == dt.date(2018, 11, 1)  # the history stays
    assert current("student")["张小明"] == "吴老师"


def test_the_preview_writes_nothing_and_counts_the_same(staffed: Any, personas: Any) -> None:
    staff_before = StaffMember.objects.count()
    preview = derive(personas.county_officer, preview=True)
    assert preview.preview and preview.total_created == 7 and preview.roster_people == 1
    assert Assignment.objects.count() == 0 and StaffMember.objects.count() == staff_before
    assert not AuditEvent.objects.filter(action="duty.chain_derive").exists()
    real = derive(personas.county_officer)
    assert (real.created, real.gaps) == (preview.created, preview.gaps)


def test_open_cases_without_a_responsible_person_get_one(staffed: Any, personas: Any) -> None:
    case = DropoutCase.objects.create(
        person=staffed.person_a,
        student=staffed.student_a,
        source="identification",
        reason="辍学",
        opened_on=dt.date(2018, 10, 8),
        village_code=staffed.village_a.code,
        school=staffed.school_a,
        school_class=staffed.class_a,
        last_step_on=dt.date(2018, 10, 8),
    )
    result = derive(personas.county_officer)
    case.refresh_from_db()
    assert result.cases_assigned == 1
    assert (case.assignee.name, case.supervisor.name) == ("teacher_a", "town_a")


def test_only_the_county_derives(staffed: Any, personas: Any) -> None:
    for who in (personas.township_a, personas.principal_a, personas.inspector, personas.nobody):
        with pytest.raises(PermissionDenied):
            derive(who)
    assert Assignment.objects.count() == 0


def test_the_command_derives_and_prints_counts(staffed: Any, capsys: Any) -> None:
    call_command("duty", "chain-derive", "--county", "420101", "--school-year", "2018")
    out = capsys.readouterr().out
    assert "created 7 links" in out and "head teachers from the rolls 1" in out
    assert "student   created     2" in out
    call_command("duty", "chain-derive", "--county", "420101", "--school-year", "2018")
    assert "created 0 links, replaced 0" in capsys.readouterr().out
