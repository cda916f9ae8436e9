"""A hand-made county for identification tests, imported through the real path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.imports.helpers import (
    REGISTRY_HEADER,
    ROLLS_HEADER,
    base_county,
    make_id,
    run_import,
    write_csv,
)

AS_OF = dt.date(2018, 10, 8)
HH_A = [
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
HH_B = [
    "4201010020010001",
    "420101002001",
    "2016",
    "在册",
    "",
    "缺技术",
    "否",
    "农业银行",
    "6228480099999999999",
]

# Registry children (name, id, sex, birth, household, disability)
MING = ("张小明", make_id("420101", "20100503", "013"), "男", "2010-05-03", HH_A, "")
HONG = ("张小红", make_id("420101", "20120704", "024"), "女", "2012-07-04", HH_A, "肢体")
TWIN1 = ("李大伟", make_id("420101", "20090909", "031"), "男", "2009-09-09", HH_B, "")
TWIN2 = ("李小伟", make_id("420101", "20090909", "051"), "男", "2009-09-09", HH_B, "")
LATE = (
    "李晓燕",
    make_id("420199", "20110101", "022"),
    "女",
    "2011-01-01",
    HH_B,
    "",
)  # newer area code
MIGRANT = ("李明", make_id("420101", "20080808", "071"), "男", "2008-08-08", HH_B, "")
TODDLER = ("李宝", make_id("420101", "20150606", "091"), "男", "2015-06-06", HH_B, "")
CHILDREN = [MING, HONG, TWIN1, TWIN2, LATE, MIGRANT, TODDLER]


def registry_rows(
    children: list[tuple[str, str, str, str, list[str], str]] = CHILDREN,
) -> list[list[str]]:
    rows = []
    for name, pid, sex, birth, hh, disability in children:
        grade = "1" if disability else ""
        rows.append(
            hh + [name, pid, sex, birth, "之子", "汉族", disability, grade, "否", "", "", ""]
        )
    return rows


def roll(
    name: str,
    pid: str,
    birth: str,
    school: str,
    stage: str,
    grade: str,
    *,
    roll_no: str = "",
    status: str = "在读",
    year: str = "2018",
    klass: str = "1班",
) -> list[str]:
    return [
        roll_no or f"G{pid}",
        name,
        pid,
        "",
        birth,
        school,
        year,
        stage,
        grade,
        klass,
        "王老师",
        "否",
        status,
        "",
        "",
        "是",
    ]


def rolls_rows() -> list[list[str]]:
    return [
        roll(MING[0], MING[1], MING[3], "2142010001", "小学", "3"),
        roll(TWIN1[0], TWIN1[1], TWIN1[3], "2142010002", "初中", "1"),
        roll(TWIN2[0], TWIN2[1], TWIN2[3], "2142010002", "初中", "1", klass="2班"),
        roll(LATE[0], LATE[1], LATE[3], "2142010001", "小学", "2"),
        roll(MIGRANT[0], MIGRANT[1], MIGRANT[3], "1110000001", "初中", "2"),  # a school outside
    ]


def build(
    tmp: Path,
    registry: list[list[str]] | None = None,
    rolls: list[list[str]] | None = None,
    *,
    registry_header: list[str] | None = None,
) -> None:
    base_county(tmp)
    r = run_import(
        "registry",
        write_csv(
            tmp / "registry.csv", registry_header or REGISTRY_HEADER, registry or registry_rows()
        ),
    )
    assert r.status == "done", r.message
    s = run_import(
        "rolls", write_csv(tmp / "rolls.csv", ROLLS_HEADER, rolls or rolls_rows()), county="420101"
    )
    assert s.status == "done", s.message


def import_rolls(tmp: Path, rows: list[list[str]], name: str = "rolls2.csv") -> None:
    s = run_import("rolls", write_csv(tmp / name, ROLLS_HEADER, rows), county="420101")
    assert s.status == "done", s.message
