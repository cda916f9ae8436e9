"""The national poverty-registry export (全国扶贫开发信息系统, 全县全字段) imported as is.

Its layout has no village code (the first 12 digits of 户编号), names the county, township and
village, keys each person by 人口编号, and carries the registry's mess: blank IDs, IDs Excel
turned into numbers, IDs failing their checks, disability-card numbers in the ID column, 返贫
and 已脱贫 without an exit year. Most tests start from an empty database, so the areas are
derived from the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from tests.imports.helpers import (
    AREAS,
    AREAS_HEADER,
    CHILD1,
    CHILD2,
    FATHER,
    OTHER,
    OTHER_CHILD,
    make_id,
    run_import,
    write_csv,
)

from jingzhun.core import crypto
from jingzhun.core.importing import set_aside_values
from jingzhun.core.models import DataQualityTask, ImportBatch, ImportChange, SetAsideRow
from jingzhun.core.sensitive import unseal
from jingzhun.registry.models import Area, Household, HouseholdStatusChange, Person

pytestmark = pytest.mark.django_db

HEADER = [
    "县",
    "乡（镇）",
    "行政村",
    "户编号",
    "人口编号",
    "姓名",
    "证件号码",
    "与户主关系",
    "性别",
    "出生日期",
    "民族",
    "文化程度",
    "在校生状况",
    "残疾证号",
    "脱贫属性",
    "开户银行",
    "一卡通账号",
    "联系电话",
]
COL = {h: i for i, h in enumerate(HEADER)}
HH1 = "4201010010010001"  # 甲镇 甲村
HH2 = "4201010020010001"  # 乙乡 乙村
HH3 = "4201010010020001"  # 甲镇 甲二村
PLACES = {HH1: ("甲镇", "甲村"), HH2: ("乙乡", "乙村"), HH3: ("甲镇", "甲二村")}
BANK1 = "6228480012345678901"
BANK2 = "6228480099999999999"
# The first data row of a national file is line 4: a title row, a note row, the header.
FIRST_LINE = 4

# A child whose ID Excel rounded to 15 digits (the last three became 000).
ROUNDED_CHILD = make_id("420101", "20130601", "245")
ROUNDED_TEXT = ROUNDED_CHILD[:15] + "000"
# A child whose ID has a wrong check character (not ending in 000).
TYPO_CHILD = make_id("420101", "20140815", "023")
TYPO_TEXT = TYPO_CHILD[:-1] + ("1" if TYPO_CHILD[-1] != "1" else "2")
# A child whose disability-card number stands in the ID column.
CARD_CHILD = make_id("420101", "20150303", "028")


def member(
    household: str,
    person_no: str,
    name: str,
    id_number: str,
    relation: str,
    sex: str,
    birth: str,
    *,
    status: str = "未脱贫",
    education: str = "",
    school_status: str = "",
    card: str = "",
    phone: str = "",
) -> list[str]:
    town, village = PLACES[household]
    bank = BANK1 if household == HH1 else BANK2
    bank_name = "农村信用社" if household == HH1 else "农业银行"
    return [
        "测试县",
        town,
        village,
        household,
        person_no,
        name,
        id_number,
        relation,
        sex,
        birth,
        "汉族",
        education,
        school_status,
        card,
        status,
        bank_name,
        bank,
        phone,
    ]


def family() -> list[list[str]]:
    """Two households, five persons: the first registered, the second left poverty."""
    return [
        member(
            HH1,
            "P0001",
            "张大山",
            FATHER,
            "户主",
            "男",
            "1980-01-01",
            education="初中",
            school_status="非在校生",
            phone="13800000001",
        ),
        member(HH1, "P0002", "张小明", CHILD1, "之子", "男", "2010-05-03", school_status="小学"),
        member(
            HH1,
            "P0003",
            "张小红",
            CHILD2,
            "之女",
            "女",
            "2012-07-04",
            education="学龄前儿童",
            school_status="学前教育",
        ),
        member(HH2, "P0004", "李四", OTHER, "户主", "男", "1979-02-02", status="已脱贫"),
        member(HH2, "P0005", "李小花", OTHER_CHILD, "之女", "女", "2011-09-09", status="已脱贫"),
    ]


def write_xlsx(
    path: Path,
    rows: list[list[str]],
    *,
    header: list[str] = HEADER,
    numbers: dict[tuple[int, str], float] | None = None,
) -> Path:
    """Write a national export: a merged title row, a note row, the header, the rows.

    ``numbers`` puts a number cell (as Excel stores an ID typed into a number cell) at
    (row index, header).
    """
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["测试县建档立卡贫困人口信息（全县全字段）"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(["数据来源：全国扶贫开发信息系统  导出日期：2018-09-20"])
    ws.append(header)
    for row in rows:
        ws.append(row)
    for (r, column), value in (numbers or {}).items():
        ws.cell(row=FIRST_LINE + r, column=header.index(column) + 1, value=value)
    wb.save(path)
    return path


def land(path: Path, **kwargs: object) -> ImportBatch:
    batch = run_import("registry", path, **kwargs)  # type: ignore[arg-type]
    assert batch.status == ImportBatch.Status.DONE, batch.message
    return batch


def report_rows(batch: ImportBatch) -> list[tuple[object, ...]]:
    ws = openpyxl.load_workbook(batch.report_path).active
    return [tuple(r) for r in ws.iter_rows(min_row=2, values_only=True)]


def tasks(kind: str, status: str = "open") -> list[DataQualityTask]:
    return list(DataQualityTask.objects.filter(kind=kind, status=status).order_by("object_id"))


# --------------------------------------------------------------------------- derivation


def test_areas_derived_from_an_empty_database(tmp_path: Path) -> None:
    batch = land(write_xlsx(tmp_path / "registry.xlsx", family()))
    assert (batch.rows_total, batch.rows_created, batch.rows_updated) == (5, 5, 0)
    assert (batch.rows_unchanged, batch.rows_set_aside) == (0, 0)
    areas = {
        a.code: (a.name, a.level, a.parent.code if a.parent else None) for a in Area.objects.all()
    }
    assert areas == {
        "420101": ("测试县", "county", None),
        "420101001": ("甲镇", "township", "420101"),
        "420101002": ("乙乡", "township", "420101"),
        "420101001001": ("甲村", "village", "420101001"),
        "420101002001": ("乙村", "village", "420101002"),
    }
    derived = sorted(
        ImportChange.objects.filter(batch=batch, action="derived").values_list("entity", "key")
    )
    assert derived == [
        ("area", "420101001"),
        ("area", "420101001001"),
        ("area", "420101002"),
        ("area", "420101002001"),
    ]
    assert "Areas taken from the registry: 2 townships and 2 villages" in batch.message
    assert dict(Household.objects.values_list("household_no", "village__code")) == {
        HH1: "420101001001",
        HH2: "420101002001",
    }


def test_persons_keyed_by_person_number_with_education(tmp_path: Path) -> None:
    land(write_xlsx(tmp_path / "registry.xlsx", family()))
    assert sorted(Person.objects.values_list("person_no", flat=True)) == [
        "P0001",
        "P0002",
        "P0003",
        "P0004",
        "P0005",
    ]
    father = Person.objects.get(person_no="P0001")
    assert (father.name, father.sex, str(father.birth_date), father.relation) == (
        "张大山",
        "M",
        "1980-01-01",
        "户主",
    )
    assert (father.education, father.school_status, father.phone) == (
        "初中",
        "非在校生",
        "13800000001",
    )
    assert (father.id_status, father.id15_index) == ("valid", None)
    assert unseal(father, prefix="id", purpose="id") == FATHER
    girl = Person.objects.get(person_no="P0003")
    assert (girl.education, girl.school_status, girl.sex) == ("学龄前儿童", "学前教育", "F")
    assert Person.objects.get(person_no="P0002").education == ""
    hh1 = Household.objects.get(household_no=HH1)
    assert (hh1.status, hh1.relapsed, hh1.bank_name) == ("registered", False, "农村信用社")
    assert unseal(hh1, prefix="bank", purpose="bank") == BANK1


def test_existing_areas_are_left_as_they_are(tmp_path: Path) -> None:
    areas = [list(a) for a in AREAS]
    areas[3][1] = "甲村（老名）"
    assert run_import("areas", write_csv(tmp_path / "a.csv", AREAS_HEADER, areas)).status == "done"
    batch = land(write_xlsx(tmp_path / "registry.xlsx", family()))
    assert Area.objects.count() == 5
    assert Area.objects.get(code="420101001001").name == "甲村（老名）"
    assert not ImportChange.objects.filter(batch=batch, action="derived").exists()
    assert "Areas taken from the registry" not in batch.message


def test_county_name_from_the_county_column(tmp_path: Path) -> None:
    rows = family()
    for row in rows:
        row[COL["县"]] = "青山县"
    land(write_xlsx(tmp_path / "registry.xlsx", rows))
    assert Area.objects.get(code="420101").name == "青山县"


def test_batch_county_taken_from_the_household_numbers(tmp_path: Path) -> None:
    rows = family()
    rows.append(member(HH1, "", "张无号", "", "之子", "男", "2015-01-01"))
    batch = land(write_xlsx(tmp_path / "registry.xlsx", rows))
    assert batch.rows_set_aside == 1
    assert batch.county_code == "420101"
    assert SetAsideRow.objects.get(batch=batch).county_code == "420101"


# --------------------------------------------------------------------------- 脱贫属性


def test_relapsed_household_lands_registered_and_marked(tmp_path: Path) -> None:
    rows = family()
    for row in rows[:3]:
        row[COL["脱贫属性"]] = "返贫"
    land(write_xlsx(tmp_path / "registry.xlsx", rows))
    hh1 = Household.objects.get(household_no=HH1)
    assert (hh1.status, hh1.relapsed, hh1.exit_year) == ("registered", True, None)
    hh2 = Household.objects.get(household_no=HH2)
    assert (hh2.status, hh2.relapsed) == ("left_poverty", False)
    assert list(
        HouseholdStatusChange.objects.filter(household=hh1).values_list("status", flat=True)
    ) == ["registered"]


def test_relapse_of_a_household_that_had_left_poverty(tmp_path: Path) -> None:
    land(write_xlsx(tmp_path / "r1.xlsx", family()))
    rows = family()
    for row in rows[3:]:
        row[COL["脱贫属性"]] = "返贫"
    batch = land(write_xlsx(tmp_path / "r2.xlsx", rows))
    hh2 = Household.objects.get(household_no=HH2)
    assert (hh2.status, hh2.relapsed) == ("registered", True)
    assert list(
        HouseholdStatusChange.objects.filter(household=hh2)
        .order_by("id")
        .values_list("status", "import_batch_id")
    ) == [("left_poverty", hh2.status_history.first().import_batch_id), ("registered", batch.pk)]
    # Its exit-year task is resolved: it is no longer a household that left poverty.
    assert [t.object_id for t in tasks("exit_year_unknown", "resolved")] == [hh2.pk]
    assert tasks("exit_year_unknown") == []


def test_left_poverty_without_exit_year_lands_with_warning_and_task(tmp_path: Path) -> None:
    batch = land(write_xlsx(tmp_path / "registry.xlsx", family()))
    hh2 = Household.objects.get(household_no=HH2)
    assert (hh2.status, hh2.exit_year, hh2.relapsed) == ("left_poverty", None, False)
    warned = [(r[0], r[1]) for r in report_rows(batch) if r[4] == "warning"]
    # the national file has no 脱贫年度 column: the warning names the one it has
    assert warned == [(FIRST_LINE + 3, "脱贫属性")]  # once per household, on its first row
    assert batch.warnings == 1
    (task,) = tasks("exit_year_unknown")
    assert (task.entity, task.object_id, task.county_code, task.area_code) == (
        "household",
        hh2.pk,
        "420101",
        "420101002001",
    )
    assert task.label == HH2
    assert task.batch_id == batch.pk
    assert "1 records need checking at their source" in batch.message


def test_exit_year_task_resolved_when_a_later_file_gives_the_year(tmp_path: Path) -> None:
    land(write_xlsx(tmp_path / "r1.xlsx", family()))
    rows = [row + ["2017" if row[COL["脱贫属性"]] == "已脱贫" else ""] for row in family()]
    batch = land(write_xlsx(tmp_path / "r2.xlsx", rows, header=HEADER + ["脱贫年度"]))
    hh2 = Household.objects.get(household_no=HH2)
    assert (hh2.status, hh2.exit_year) == ("left_poverty", 2017)
    assert tasks("exit_year_unknown") == []
    (done,) = tasks("exit_year_unknown", "resolved")
    assert done.object_id == hh2.pk and done.resolved_at is not None
    assert (batch.rows_updated, batch.rows_unchanged) == (0, 5)  # persons are unchanged


# --------------------------------------------------------------------------- unusable IDs


def test_blank_id_lands_by_person_number_with_task(tmp_path: Path) -> None:
    rows = family()
    rows[2][COL["证件号码"]] = ""
    batch = land(write_xlsx(tmp_path / "registry.xlsx", rows))
    assert (batch.rows_created, batch.rows_set_aside) == (5, 0)
    girl = Person.objects.get(person_no="P0003")
    assert (girl.id_status, girl.id_index, girl.id15_index, girl.id_masked) == (
        "missing",
        None,
        None,
        "",
    )
    assert (girl.sex, str(girl.birth_date)) == ("F", "2012-07-04")
    (task,) = tasks("id_missing")
    assert (task.entity, task.object_id, task.area_code, task.county_code) == (
        "person",
        girl.pk,
        "420101001001",
        "420101",
    )
    assert task.label == "张小红 P0003"
    assert tasks("id_excel_number") == tasks("id_invalid") == tasks("id_disability_card") == []


def test_excel_rounded_id_keeps_its_first_15_digits(tmp_path: Path) -> None:
    assert ROUNDED_TEXT != ROUNDED_CHILD
    rows = family()
    rows.append(member(HH1, "P0006", "张小刚", ROUNDED_TEXT, "之子", "男", "2013-06-01"))
    batch = land(write_xlsx(tmp_path / "registry.xlsx", rows))
    assert (batch.rows_created, batch.rows_set_aside) == (6, 0)
    boy = Person.objects.get(person_no="P0006")
    assert (boy.id_status, boy.id_index) == ("excel_number", None)
    assert boy.id15_index == crypto.blind_index(ROUNDED_CHILD[:15], purpose="id15")
    assert [t.object_id for t in tasks("id_excel_number")] == [boy.pk]
    warned = [(r[0], r[1]) for r in report_rows(batch) if r[4] == "warning"]
    assert (FIRST_LINE + 5, "证件号码") in warned


def test_id_in_a_number_cell_is_an_excel_number(tmp_path: Path) -> None:
    rows = family()
    rows[1][COL["证件号码"]] = ""
    batch = land(
        write_xlsx(tmp_path / "registry.xlsx", rows, numbers={(1, "证件号码"): float(CHILD1)})
    )
    assert batch.rows_set_aside == 0
    boy = Person.objects.get(person_no="P0002")
    assert (boy.id_status, boy.id_index) == ("excel_number", None)
    assert [t.object_id for t in tasks("id_excel_number")] == [boy.pk]
    assert tasks("id_missing") == []


def test_id_in_a_number_cell_keeps_its_first_15_digits(tmp_path: Path) -> None:
    rows = family()
    rows[1][COL["证件号码"]] = ""
    excel = float(int(CHILD1[:15]) * 1000)  # what Excel keeps: 15 digits, then zeros
    land(write_xlsx(tmp_path / "registry.xlsx", rows, numbers={(1, "证件号码"): excel}))
    boy = Person.objects.get(person_no="P0002")
    assert boy.id_status == "excel_number"
    assert boy.id15_index == crypto.blind_index(CHILD1[:15], purpose="id15")


def test_invalid_id_lands_marked_invalid(tmp_path: Path) -> None:
    rows = family()
    rows.append(member(HH1, "P0006", "张小军", TYPO_TEXT, "之子", "男", "2014-08-15"))
    batch = land(write_xlsx(tmp_path / "registry.xlsx", rows))
    assert batch.rows_set_aside == 0
    boy = Person.objects.get(person_no="P0006")
    assert (boy.id_status, boy.id_index, boy.id15_index) == ("invalid", None, None)
    assert [t.object_id for t in tasks("id_invalid")] == [boy.pk]
    found = [r for r in report_rows(batch) if r[0] == FIRST_LINE + 5]
    assert [(r[1], r[4]) for r in found] == [("证件号码", "warning")]
    assert "check character" in str(found[0][3])
    assert str(found[0][2]) != TYPO_TEXT  # shown masked


def test_in_a_csv_a_zero_ending_id_is_a_wrong_check_character(tmp_path: Path) -> None:
    rows = family()
    rows.append(member(HH1, "P0006", "张小刚", ROUNDED_TEXT, "之子", "男", "2013-06-01"))
    rows.append(member(HH1, "P0007", "张小强", "4.20101201306E+17", "之子", "男", "2013-06-02"))
    path = write_csv(tmp_path / "registry.csv", HEADER, rows, title="测试县建档立卡贫困人口")
    batch = land(path)
    assert batch.rows_created == 7
    rounded = Person.objects.get(person_no="P0006")
    assert (rounded.id_status, rounded.id15_index) == ("invalid", None)
    scientific = Person.objects.get(person_no="P0007")
    assert scientific.id_status == "excel_number"
    assert [t.object_id for t in tasks("id_invalid")] == [rounded.pk]
    assert [t.object_id for t in tasks("id_excel_number")] == [scientific.pk]
    reasons = {r[0]: str(r[3]) for r in report_rows(batch) if r[1] == "证件号码"}
    assert "check character" in reasons[FIRST_LINE + 5 - 1]  # one title row in the CSV
    assert "Excel" in reasons[FIRST_LINE + 6 - 1]


def test_disability_card_in_the_id_column(tmp_path: Path) -> None:
    rows = family()
    rows[2][COL["证件号码"]] = CHILD2 + "42"  # kind 4 (肢体), grade 2
    batch = land(write_xlsx(tmp_path / "registry.xlsx", rows))
    girl = Person.objects.get(person_no="P0003")
    assert girl.id_status == "valid"
    assert unseal(girl, prefix="id", purpose="id") == CHILD2
    assert girl.id_index == crypto.blind_index(CHILD2, purpose="id")
    assert (girl.disability_kind, girl.disability_grade) == ("肢体", 2)
    assert [t.object_id for t in tasks("id_disability_card")] == [girl.pk]
    warned = [(r[0], r[1]) for r in report_rows(batch) if r[4] == "warning"]
    assert (FIRST_LINE + 2, "证件号码") in warned


def test_disability_card_column_gives_kind_and_grade(tmp_path: Path) -> None:
    rows = family()
    rows[0][COL["残疾证号"]] = FATHER + "13"  # kind 1 (视力), grade 3
    rows[2][COL["证件号码"]] = ""
    rows[2][COL["残疾证号"]] = CHILD2 + "51"  # ID blank: taken from the card
    land(write_xlsx(tmp_path / "registry.xlsx", rows))
    father = Person.objects.get(person_no="P0001")
    assert (father.disability_kind, father.disability_grade, father.id_status) == (
        "视力",
        3,
        "valid",
    )
    girl = Person.objects.get(person_no="P0003")
    assert (girl.disability_kind, girl.disability_grade, girl.id_status) == ("智力", 1, "valid")
    assert unseal(girl, prefix="id", purpose="id") == CHILD2
    assert tasks("id_missing") == []
    # Only the card that stood in for the ID is a task.
    assert [t.object_id for t in tasks("id_disability_card")] == [girl.pk]


def test_unusable_id_without_person_number_is_set_aside(tmp_path: Path) -> None:
    rows = family()
    rows.append(member(HH1, "", "张小军", TYPO_TEXT, "之子", "男", "2014-08-15"))
    rows.append(member(HH1, "", "张小无", "", "之子", "男", "2015-01-01"))
    batch = land(write_xlsx(tmp_path / "registry.xlsx", rows), county="420101")
    assert (batch.rows_total, batch.rows_created, batch.rows_set_aside) == (7, 5, 2)
    assert not Person.objects.filter(name__in=["张小军", "张小无"]).exists()
    typo, blank = SetAsideRow.objects.filter(batch=batch).order_by("line")
    assert (typo.line, blank.line) == (FIRST_LINE + 5, FIRST_LINE + 6)
    assert [r["column"] for r in typo.reasons] == ["证件号码"]
    assert "check character" in typo.reasons[0]["reason"]
    assert "Without 人口编号" in typo.reasons[0]["reason"]
    assert typo.reasons[0]["value"] != TYPO_TEXT
    assert [r["column"] for r in blank.reasons] == ["证件号码"]
    assert blank.reasons[0]["reason"].startswith("A value is required.")
    values = set_aside_values(typo)
    assert (values["姓名"], values["证件号码"], values["户编号"]) == ("张小军", TYPO_TEXT, HH1)
    assert list(values) == HEADER


def test_unusable_id_needs_the_birth_date(tmp_path: Path) -> None:
    rows = family()
    rows[2][COL["证件号码"]] = ""
    rows[2][COL["出生日期"]] = ""
    batch = land(write_xlsx(tmp_path / "registry.xlsx", rows))
    assert (batch.rows_created, batch.rows_set_aside) == (4, 1)
    (row,) = SetAsideRow.objects.filter(batch=batch)
    assert row.line == FIRST_LINE + 2
    assert row.reasons == [
        {
            "column": "出生日期",
            "value": "",
            "reason": "The ID number is unusable, so the birth date is required.",
        }
    ]


def test_duplicate_person_number_is_set_aside(tmp_path: Path) -> None:
    rows = family()
    rows[4][COL["人口编号"]] = "P0004"
    batch = land(write_xlsx(tmp_path / "registry.xlsx", rows))
    assert (batch.rows_created, batch.rows_set_aside) == (4, 1)
    (row,) = SetAsideRow.objects.filter(batch=batch)
    assert row.line == FIRST_LINE + 4
    assert row.reasons[0]["column"] == "人口编号"
    assert f"first on line {FIRST_LINE + 3}" in row.reasons[0]["reason"]


def test_id_tasks_resolved_when_a_later_file_gives_valid_ids(tmp_path: Path) -> None:
    rows = family()
    rows[1][COL["证件号码"]] = ""
    rows[2][COL["证件号码"]] = CHILD2[:-1] + ("1" if CHILD2[-1] != "1" else "2")
    rows.append(member(HH1, "P0006", "张小刚", ROUNDED_TEXT, "之子", "男", "2013-06-01"))
    rows.append(
        member(
            HH2, "P0007", "李小草", CARD_CHILD + "62", "之女", "女", "2015-03-03", status="已脱贫"
        )
    )
    first = land(write_xlsx(tmp_path / "r1.xlsx", rows))
    assert first.rows_created == 7
    assert {
        k: len(tasks(k))
        for k in ("id_missing", "id_invalid", "id_excel_number", "id_disability_card")
    } == {"id_missing": 1, "id_invalid": 1, "id_excel_number": 1, "id_disability_card": 1}
    ids_before = dict(Person.objects.values_list("person_no", "id"))

    fixed = family()
    fixed.append(member(HH1, "P0006", "张小刚", ROUNDED_CHILD, "之子", "男", "2013-06-01"))
    fixed.append(
        member(HH2, "P0007", "李小草", CARD_CHILD, "之女", "女", "2015-03-03", status="已脱贫")
    )
    fixed[-1][COL["残疾证号"]] = CARD_CHILD + "62"  # kind 6 (精神), grade 2
    second = land(write_xlsx(tmp_path / "r2.xlsx", fixed))
    # P0007 had the same ID and disability before (from the card), so only 3 rows change.
    assert (second.rows_created, second.rows_updated, second.rows_unchanged) == (0, 3, 4)
    # The same persons, now with valid IDs.
    assert dict(Person.objects.values_list("person_no", "id")) == ids_before
    assert set(Person.objects.values_list("id_status", flat=True)) == {"valid"}
    boy = Person.objects.get(person_no="P0006")
    assert unseal(boy, prefix="id", purpose="id") == ROUNDED_CHILD
    assert boy.id15_index is None
    for kind in ("id_missing", "id_invalid", "id_excel_number", "id_disability_card"):
        assert tasks(kind) == [], kind
        assert len(tasks(kind, "resolved")) == 1, kind
    grass = Person.objects.get(person_no="P0007")
    assert (grass.disability_kind, grass.disability_grade) == ("精神", 2)


def test_tasks_are_not_opened_twice(tmp_path: Path) -> None:
    rows = family()
    rows[2][COL["证件号码"]] = ""
    path = write_xlsx(tmp_path / "registry.xlsx", rows)
    land(path)
    land(path)
    assert DataQualityTask.objects.filter(kind="id_missing").count() == 1
    assert DataQualityTask.objects.filter(kind="exit_year_unknown").count() == 1


# --------------------------------------------------------------------------- idempotence


def test_reimport_of_the_same_file_changes_nothing(tmp_path: Path) -> None:
    rows = family()
    rows[1][COL["证件号码"]] = ""
    rows[2][COL["证件号码"]] = CHILD2 + "42"
    rows.append(member(HH1, "P0006", "张小刚", ROUNDED_TEXT, "之子", "男", "2013-06-01"))
    rows.append(member(HH1, "", "张小军", TYPO_TEXT, "之子", "男", "2014-08-15"))
    path = write_xlsx(tmp_path / "registry.xlsx", rows)
    first = land(path)
    assert (first.rows_created, first.rows_set_aside) == (6, 1)
    persons = list(Person.objects.order_by("id").values_list("id", "row_hash", "id_status"))
    households = list(Household.objects.order_by("id").values_list("id", "row_hash"))
    task_rows = list(DataQualityTask.objects.order_by("id").values_list("id", "kind", "status"))
    areas = Area.objects.count()
    history = HouseholdStatusChange.objects.count()

    again = land(path)
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 6)
    assert again.rows_set_aside == 1
    assert again.rows_total == again.rows_created + again.rows_updated + again.rows_unchanged + 1
    assert list(Person.objects.order_by("id").values_list("id", "row_hash", "id_status")) == persons
    assert list(Household.objects.order_by("id").values_list("id", "row_hash")) == households
    assert (
        list(DataQualityTask.objects.order_by("id").values_list("id", "kind", "status"))
        == task_rows
    )
    assert (Area.objects.count(), HouseholdStatusChange.objects.count()) == (areas, history)
    assert not ImportChange.objects.filter(batch=again).exists()
    assert "Areas taken from the registry" not in again.message
    # The row set aside again replaces the earlier one.
    assert list(SetAsideRow.objects.order_by("id").values_list("batch_id", "status")) == [
        (first.pk, "superseded"),
        (again.pk, "open"),
    ]


# --------------------------------------------------------------------------- poor villages

POOR_HEADER = ["乡（镇）", "行政村", "村代码"]


def three_villages(tmp_path: Path) -> None:
    rows = family() + [
        member(
            HH3, "P0009", "王五", make_id("420101", "19700303", "015"), "户主", "男", "1970-03-03"
        )
    ]
    land(write_xlsx(tmp_path / "registry.xlsx", rows))
    assert Area.objects.filter(level="village", is_poor=False).count() == 3


def test_poor_villages_by_code_and_by_name(tmp_path: Path) -> None:
    three_villages(tmp_path)
    rows = [
        ["甲镇", "甲村", "420101001001"],
        ["乙乡", "乙村", ""],
        ["甲镇", "甲二村", "420101001002"],
        ["丙镇", "丙村", ""],
    ]
    batch = run_import(
        "poor_villages", write_xlsx(tmp_path / "poor.xlsx", rows, header=POOR_HEADER)
    )
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert (batch.rows_total, batch.rows_created, batch.rows_updated) == (4, 0, 3)
    assert (batch.rows_unchanged, batch.rows_set_aside) == (0, 1)
    assert batch.county_code == "420101"
    assert dict(Area.objects.filter(level="village").values_list("code", "is_poor")) == {
        "420101001001": True,
        "420101001002": True,
        "420101002001": True,
    }
    (row,) = SetAsideRow.objects.filter(batch=batch)
    assert (row.kind, row.line, row.county_code) == ("poor_villages", FIRST_LINE + 3, "420101")
    assert row.reasons == [
        {
            "column": "行政村",
            "value": "丙村",
            "reason": "Unknown village: import the registry (or the area list) first.",
        }
    ]
    again = run_import(
        "poor_villages", write_xlsx(tmp_path / "poor2.xlsx", rows, header=POOR_HEADER)
    )
    assert (again.rows_updated, again.rows_unchanged, again.rows_set_aside) == (0, 3, 1)
    row.refresh_from_db()
    assert row.status == "superseded"


def test_poor_village_unknown_code_or_wrong_township_is_set_aside(
    tmp_path: Path, settings: Any
) -> None:
    settings.IMPORT_MAX_BAD_PERCENT = 50
    three_villages(tmp_path)
    rows = [
        ["甲镇", "甲村", "420101001001"],
        ["乙乡", "乙村", "420101002001"],
        ["甲镇", "甲二村", ""],
        ["", "", "420101009009"],  # no such village code
        ["乙乡", "甲村", ""],  # 甲村 lies in 甲镇, not 乙乡
        ["甲镇", "甲村", "4201010010"],  # not 12 digits
    ]
    batch = run_import(
        "poor_villages", write_xlsx(tmp_path / "poor.xlsx", rows, header=POOR_HEADER)
    )
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert (batch.rows_updated, batch.rows_unchanged, batch.rows_set_aside) == (3, 0, 3)
    lines = {r.line: r.reasons for r in SetAsideRow.objects.filter(batch=batch)}
    assert sorted(lines) == [FIRST_LINE + 3, FIRST_LINE + 4, FIRST_LINE + 5]
    assert [(r["column"], r["value"]) for r in lines[FIRST_LINE + 3]] == [
        ("村代码", "420101009009")
    ]
    assert [(r["column"], r["value"]) for r in lines[FIRST_LINE + 4]] == [("行政村", "甲村")]
    assert lines[FIRST_LINE + 5][0]["column"] == "村代码"
    assert lines[FIRST_LINE + 5][0]["reason"] == "Wrong number of digits for this code."


def test_poor_village_counts_add_up_when_a_village_is_listed_twice(tmp_path: Path) -> None:
    three_villages(tmp_path)
    rows = [
        ["甲镇", "甲村", "420101001001"],
        ["乙乡", "乙村", "420101002001"],
        ["甲镇", "甲二村", "420101001002"],
        ["甲镇", "甲村", ""],  # 甲村 again, by name
    ]
    batch = run_import(
        "poor_villages", write_xlsx(tmp_path / "poor.xlsx", rows, header=POOR_HEADER)
    )
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert batch.rows_set_aside == 0
    assert batch.rows_updated == 3
    total = batch.rows_created + batch.rows_updated + batch.rows_unchanged + batch.rows_set_aside
    assert total == batch.rows_total == 4


def test_a_registry_file_never_clears_a_poor_village_flag(tmp_path: Path) -> None:
    three_villages(tmp_path)
    rows = [["甲镇", "甲村", "420101001001"]]
    assert (
        run_import(
            "poor_villages", write_xlsx(tmp_path / "poor.xlsx", rows, header=POOR_HEADER)
        ).status
        == ImportBatch.Status.DONE
    )
    again = land(write_xlsx(tmp_path / "registry2.xlsx", family()))
    assert again.rows_created == 0
    assert Area.objects.get(code="420101001001").is_poor is True
    assert Area.objects.get(code="420101002001").is_poor is False


def test_a_row_in_an_unknown_township_without_its_name_is_set_aside(tmp_path: Path) -> None:
    rows = family()
    extra = member(
        HH1, "P0008", "赵六", make_id("420101", "19750505", "019"), "户主", "男", "1975-05-05"
    )
    extra[COL["户编号"]] = "4201010030010001"  # township 420101003: not in the file or the county
    extra[COL["乡（镇）"]] = ""
    extra[COL["行政村"]] = "丙村"
    rows.append(extra)
    batch = land(write_xlsx(tmp_path / "registry.xlsx", rows))
    assert (batch.rows_total, batch.rows_created) == (6, 5)
    assert batch.rows_set_aside == 1
    assert SetAsideRow.objects.get(batch=batch).line == FIRST_LINE + 5
