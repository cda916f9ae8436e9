"""Exact matching with verification, classification, and reruns (fuzzy stage off)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.identification.helpers import (
    AS_OF,
    CHILDREN,
    HH_A,
    HONG,
    LATE,
    MIGRANT,
    MING,
    REGISTRY_HEADER,
    TODDLER,
    TWIN1,
    TWIN2,
    build,
    import_rolls,
    make_id,
    registry_rows,
    roll,
    rolls_rows,
)

from jingzhun.core.models import DataQualityTask
from jingzhun.identification.models import (
    ChildStatus,
    IdentificationRun,
    Link,
    RollDuplicate,
    RunChange,
)
from jingzhun.identification.services import home_teaching_record, identification_run
from jingzhun.registry.models import Person

pytestmark = pytest.mark.django_db


def statuses(run: IdentificationRun) -> dict[str, str]:
    return dict(ChildStatus.objects.filter(run=run).values_list("person__name", "category"))


def identify() -> IdentificationRun:
    return identification_run(actor=None, county_code="420101", as_of=AS_OF)


def test_exact_links_and_classification(tmp_path: Path) -> None:
    build(tmp_path)
    run = identify()
    assert run.status == "done"
    assert statuses(run) == {
        MING[0]: "in_county",
        HONG[0]: "suspected_dropout",  # six, disabled, on no roll
        TWIN1[0]: "in_county",
        TWIN2[0]: "in_county",
        LATE[0]: "in_county",  # a newer area code is only a warning; the ID still links
        MIGRANT[0]: "out_of_county",
        TODDLER[0]: "preschool_not_enrolled",
    }
    assert Link.objects.filter(method="exact").count() == 5
    twins = {
        link.person.name: link.student.name
        for link in Link.objects.select_related("person", "student")
        if link.person.name in (TWIN1[0], TWIN2[0])
    }
    assert twins == {TWIN1[0]: TWIN1[0], TWIN2[0]: TWIN2[0]}
    assert run.counts["suspected_dropout"] == 1 and run.counts["children"] == 7


def test_a_siblings_id_on_a_roll_is_not_linked_by_id(tmp_path: Path) -> None:
    rows = rolls_rows()
    rows[0] = roll(
        MING[0], HONG[1], MING[3], "2142010001", "小学", "3", roll_no="L201800000000000001"
    )
    build(tmp_path, rolls=rows)
    identify()
    hong = Person.objects.get(name=HONG[0])
    assert not Link.objects.filter(person=hong).exists()  # the ID is Hong's, the child is Ming
    assert not Link.objects.filter(person__name=MING[0]).exists()  # left for the fuzzy stage


def test_missing_id_is_not_linked_by_the_exact_stage(tmp_path: Path) -> None:
    rows = rolls_rows()
    rows[0][2] = ""
    rows[0][0] = "L201800000000000013"  # and no ID inside the roll number either
    build(tmp_path, rolls=rows)
    run = identify()
    assert statuses(run)[MING[0]] == "suspected_dropout"
    assert not Link.objects.filter(person__name=MING[0]).exists()


def test_the_id_inside_the_national_roll_number_links_a_row_without_id(tmp_path: Path) -> None:
    rows = rolls_rows()
    rows[0][2] = ""  # the ID column is blank; 全国学籍号 is G + Ming's ID
    build(tmp_path, rolls=rows)
    run = identify()
    assert statuses(run)[MING[0]] == "in_county"
    assert Link.objects.get(person__name=MING[0]).method == "exact"


def test_a_siblings_id_typed_in_is_overruled_by_the_roll_numbers_witness(tmp_path: Path) -> None:
    # given Hong's ID typed on Ming's row, whose 全国学籍号 still carries Ming's own ID
    rows = rolls_rows()
    rows[0][2] = HONG[1]
    build(tmp_path, rolls=rows)
    # when
    run = identify()
    # then Ming is linked to his row, and Hong stays a suspected dropout
    link = Link.objects.get(person__name=MING[0])
    assert link.student.name == MING[0] and link.method == "exact"
    assert not Link.objects.filter(person__name=HONG[0]).exists()
    assert statuses(run)[HONG[0]] == "suspected_dropout"


def test_same_name_typo_in_birth_date_still_verified(tmp_path: Path) -> None:
    rows = rolls_rows()
    rows[0][4] = "2010-03-05"  # day and month swapped by a clerk, name agrees
    build(tmp_path, rolls=rows)
    identify()
    assert Link.objects.filter(person__name=MING[0], method="exact").count() == 1


def test_disabled_child_taught_at_home_is_not_a_dropout(tmp_path: Path) -> None:
    build(tmp_path)
    home_teaching_record(
        actor=None,
        person=Person.objects.get(name=HONG[0]),
        teacher_name="赵老师",
        since=AS_OF.replace(month=9, day=1),
        schedule="每周二、四",
    )
    run = identify()
    assert statuses(run)[HONG[0]] == "home_teaching"
    status = ChildStatus.objects.get(run=run, person__name=HONG[0])
    assert status.known is True


def test_rerun_with_no_changes_writes_nothing(tmp_path: Path) -> None:
    build(tmp_path)
    first = identify()
    counts = (
        IdentificationRun.objects.count(),
        ChildStatus.objects.count(),
        RunChange.objects.count(),
    )
    again = identify()
    assert again.pk == first.pk
    assert (
        IdentificationRun.objects.count(),
        ChildStatus.objects.count(),
        RunChange.objects.count(),
    ) == counts


def test_rerun_after_a_transfer_records_it(tmp_path: Path) -> None:
    build(tmp_path)
    identify()
    rows = rolls_rows()
    rows[0] = roll(MING[0], MING[1], MING[3], "2142010002", "小学", "3")
    import_rolls(tmp_path, rows)
    run = identify()
    assert list(RunChange.objects.filter(run=run).values_list("kind", "person__name")) == [
        ("transfer", MING[0])
    ]
    assert ChildStatus.objects.get(run=run, person__name=MING[0]).school.code == "2142010002"


def test_dropout_and_return_are_changes(tmp_path: Path) -> None:
    build(tmp_path)
    identify()
    rows = rolls_rows()
    rows[0] = roll(MING[0], MING[1], MING[3], "2142010001", "小学", "3", status="辍学")
    import_rolls(tmp_path, rows)
    dropped = identify()
    assert statuses(dropped)[MING[0]] == "dropped_out"
    assert list(RunChange.objects.filter(run=dropped).values_list("kind", flat=True)) == [
        "new_dropout"
    ]
    import_rolls(tmp_path, rolls_rows(), name="rolls3.csv")
    back = identify()
    assert list(RunChange.objects.filter(run=back).values_list("kind", flat=True)) == ["returned"]


def test_a_second_roll_record_of_a_child_is_tied_to_the_linked_one(tmp_path: Path) -> None:
    # given Ming's record twice (重复学籍): his own, and an L-numbered one without an ID
    rows = rolls_rows()
    rows.append(
        roll(MING[0], "", MING[3], "2142010001", "小学", "3", roll_no="L201800000000000077")
    )
    build(tmp_path, rolls=rows)
    # when
    run = identify()
    # then one record holds the link, the other is tied to the same child, with a task
    ming = Person.objects.get(name=MING[0])
    link = Link.objects.get(person=ming)
    duplicate = RollDuplicate.objects.get()
    assert (duplicate.person, duplicate.primary) == (ming, link.student)
    assert duplicate.student != link.student and duplicate.student.name == MING[0]
    assert not Link.objects.filter(student=duplicate.student).exists()
    task = DataQualityTask.objects.get(kind="duplicate_roll")
    assert (task.entity, task.object_id, task.status) == ("student", duplicate.student_id, "open")
    assert run.counts["roll_duplicates"] == 1 and statuses(run)[MING[0]] == "in_county"


def test_a_child_the_registry_reports_in_school_is_to_verify_not_a_dropout(
    tmp_path: Path,
) -> None:
    # given the registry says Hong (6, on no roll) studies at primary school
    header = [*REGISTRY_HEADER, "在校生状况"]
    rows = [
        [*r, "小学" if r[REGISTRY_HEADER.index("姓名")] == HONG[0] else ""] for r in registry_rows()
    ]
    build(tmp_path, registry=rows, registry_header=header)
    # when
    run = identify()
    # then she is to verify as studying outside the county, with a task, and not a dropout
    assert statuses(run)[HONG[0]] == "to_verify_outside"
    task = DataQualityTask.objects.get(kind="verify_outside", status="open")
    assert task.object_id == Person.objects.get(name=HONG[0]).pk
    # and once a later run finds her on a roll, the task is resolved
    later = rolls_rows() + [roll(HONG[0], HONG[1], HONG[3], "2142010001", "小学", "1")]
    import_rolls(tmp_path, later)
    rerun = identify()
    assert statuses(rerun)[HONG[0]] == "in_county"
    assert DataQualityTask.objects.get(kind="verify_outside").status == "resolved"


def test_a_fifteen_year_old_with_junior_high_behind_them_is_not_a_dropout(
    tmp_path: Path,
) -> None:
    # given two 15-year-olds (on 31 August) on no roll: one finished junior high (文化程度 初中)
    done = ("王初中", make_id("420101", "20030501", "035"), "男", "2003-05-01", HH_A, "")
    left = ("王小学", make_id("420101", "20030601", "046"), "女", "2003-06-01", HH_A, "")
    children = [*CHILDREN, done, left]
    header = [*REGISTRY_HEADER, "文化程度"]
    education = {done[0]: "初中", left[0]: "小学"}
    rows = [
        [*r, education.get(r[REGISTRY_HEADER.index("姓名")], "")] for r in registry_rows(children)
    ]
    build(tmp_path, registry=rows, registry_header=header)
    # when
    run = identify()
    # then the one with junior high behind them is 两后生, the other a suspected dropout
    found = statuses(run)
    assert (found[done[0]], found[left[0]]) == ("not_continuing", "suspected_dropout")


def test_last_years_roll_tells_a_junior_dropout_from_one_who_finished(tmp_path: Path) -> None:
    # given three 15-year-olds on no roll this year, whom last year's roll had in junior high
    grade2 = ("赵二年", make_id("420101", "20030502", "015"), "男", "2003-05-02", HH_A, "")
    grade3 = ("赵三年", make_id("420101", "20030503", "026"), "女", "2003-05-03", HH_A, "")
    silent = ("赵无填", make_id("420101", "20030504", "037"), "男", "2003-05-04", HH_A, "")
    header = [*REGISTRY_HEADER, "文化程度"]
    education = {grade2[0]: "初中", grade3[0]: "初中", silent[0]: ""}
    rows = [
        [*r, education.get(r[REGISTRY_HEADER.index("姓名")], "")]
        for r in registry_rows([*CHILDREN, grade2, grade3, silent])
    ]
    last_year = [
        roll(grade2[0], grade2[1], grade2[3], "2142010002", "初中", "2", year="2017"),
        roll(grade3[0], grade3[1], grade3[3], "2142010002", "初中", "3", year="2017"),
        roll(silent[0], silent[1], silent[3], "2142010002", "初中", "3", year="2017"),
    ]
    build(tmp_path, registry=rows, rolls=rolls_rows() + last_year, registry_header=header)
    # when
    run = identify()
    # then 文化程度 初中 does not hide the one who left in grade 2; grade 3 finished junior high
    found = statuses(run)
    assert (found[grade2[0]], found[grade3[0]], found[silent[0]]) == (
        "suspected_dropout",
        "not_continuing",
        "not_continuing",
    )
