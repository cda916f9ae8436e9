"""Small county files written as CSV/XLSX for import tests."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from stdnum.cn import ric

from jingzhun.core.importing import import_create, import_run
from jingzhun.core.models import ImportBatch


def make_id(area: str, birth: str, seq: str) -> str:
    """Return a valid 18-character resident ID."""
    body = f"{area}{birth}{seq}"
    return body + ric.calc_check_digit(body + "0")  # stdnum drops the last char


AREAS_HEADER = ["区划代码", "名称", "级别", "上级代码", "是否贫困村"]
AREAS = [
    ["420101", "测试县", "县", "", ""],
    ["420101001", "甲镇", "乡镇", "420101", ""],
    ["420101002", "乙乡", "乡镇", "420101", ""],
    ["420101001001", "甲村", "村", "420101001", "是"],
    ["420101002001", "乙村", "村", "420101002", "否"],
]
SCHOOLS_HEADER = [
    "学校标识码",
    "学校名称",
    "办学类型",
    "乡镇代码",
    "村代码",
    "是否寄宿制",
    "所在地",
]
SCHOOLS = [
    ["2142010001", "甲镇中心小学", "小学", "420101001", "420101001001", "是", "县内"],
    ["2142010002", "乙乡中学", "初级中学", "420101002", "", "否", "县内"],
    ["1110000001", "省城大学", "高等学校", "", "", "否", "县外省内"],
]
REGISTRY_HEADER = [
    "户编号",
    "村代码",
    "识别年度",
    "户状态",
    "脱贫年度",
    "致贫原因",
    "是否低保",
    "开户银行",
    "一卡通账号",
    "姓名",
    "身份证号",
    "性别",
    "出生日期",
    "与户主关系",
    "民族",
    "残疾类别",
    "残疾等级",
    "是否留守儿童",
    "监护人姓名",
    "监护人身份证号",
    "联系电话",
]
ROLLS_HEADER = [
    "学籍号",
    "姓名",
    "身份证号",
    "性别",
    "出生日期",
    "学校标识码",
    "学年",
    "学段",
    "年级",
    "班级",
    "班主任",
    "是否寄宿",
    "学籍状态",
    "状态日期",
    "入学日期",
    "是否建档立卡",
]

FATHER = make_id("420101", "19800101", "011")
CHILD1 = make_id("420101", "20100503", "013")
CHILD2 = make_id("420101", "20120704", "024")
OTHER = make_id("420101", "19790202", "022")
OTHER_CHILD = make_id("420101", "20110909", "031")


def registry_rows() -> list[list[str]]:
    hh1 = [
        "4201010010010001",
        "420101001001",
        "2015",
        "在册",
        "",
        "因病",
        "是",
        "农村信用社",
        "6228480012345678901",
    ]
    hh2 = [
        "4201010020010001",
        "420101002001",
        "2016",
        "已脱贫",
        "2017",
        "缺技术",
        "否",
        "农业银行",
        "6228480099999999999",
    ]
    return [
        hh1
        + [
            "张大山",
            FATHER,
            "男",
            "1980-01-01",
            "户主",
            "汉族",
            "",
            "",
            "否",
            "",
            "",
            "13800000001",
        ],
        hh1
        + ["张小明", CHILD1, "男", "2010/5/3", "之子", "汉族", "", "", "是", "张大山", FATHER, ""],
        hh1
        + [
            "张小红",
            CHILD2,
            "女",
            "2012年7月4日",
            "之女",
            "汉族",
            "肢体",
            "2",
            "是",
            "张大山",
            FATHER,
            "",
        ],
        hh2 + ["李四", OTHER, "男", "1979-02-02", "户主", "汉族", "", "", "否", "", "", ""],
        hh2
        + [
            "李小花",
            OTHER_CHILD,
            "女",
            "2011-09-09",
            "之女",
            "苗族",
            "",
            "",
            "否",
            "李四",
            OTHER,
            "",
        ],
    ]


def rolls_rows() -> list[list[str]]:
    return [
        [
            "G" + CHILD1,
            "张小明",
            CHILD1,
            "男",
            "2010-05-03",
            "2142010001",
            "2018",
            "小学",
            "3",
            "1班",
            "王老师",
            "是",
            "在读",
            "",
            "2016-09-01",
            "是",
        ],
        [
            "G" + OTHER_CHILD,
            "李小花",
            OTHER_CHILD,
            "女",
            "2011-09-09",
            "2142010002",
            "2018-2019",
            "初中",
            "1",
            "2班",
            "李老师",
            "否",
            "在读",
            "",
            "2018-09-01",
            "否",
        ],
        [
            "L201800000000000001",
            "王五",
            "",
            "男",
            "2011-01-01",
            "2142010002",
            "2018",
            "初中",
            "1",
            "2班",
            "李老师",
            "否",
            "在读",
            "",
            "2018-09-01",
            "否",
        ],
    ]


def write_csv(
    path: Path,
    header: list[str],
    rows: list[list[str]],
    *,
    encoding: str = "utf-8",
    title: str | None = None,
) -> Path:
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.writer(f)
        if title:
            w.writerow([title] + [""] * (len(header) - 1))
        w.writerow(header)
        w.writerows(rows)
    return path


def run_import(
    kind: str,
    path: Path,
    *,
    actor: Any = None,
    source: str = "",
    county: str = "",
    strict: bool = False,
    school_year: int | None = None,
) -> ImportBatch:
    batch = import_create(actor=actor, kind=kind, path=path, file_name=path.name, source=source)
    batch.county_code = county
    batch.strict = strict
    batch.school_year = school_year
    batch.save()
    return import_run(batch=batch)


def base_county(tmp: Path) -> None:
    """Import the areas and schools of the test county (and assert they landed)."""
    for kind, header, rows in (
        ("areas", AREAS_HEADER, AREAS),
        ("schools", SCHOOLS_HEADER, SCHOOLS),
    ):
        batch = run_import(kind, write_csv(tmp / f"{kind}.csv", header, rows))
        assert batch.status == "done", (batch.message, batch.report_path)
