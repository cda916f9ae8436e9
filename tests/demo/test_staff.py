"""The demo staff roster (staff.xlsx): the duty chain's people, with a few gaps on purpose."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from jingzhun.demo.generator import STAFF_HEADERS, generate
from jingzhun.demo.generator.staff import MISSING_CADRES, MISSING_HEAD_TEACHERS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"
GRADE_WORDS = {
    "小学": ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"],
    "初中": ["七年级", "八年级", "九年级"],
    "高中": ["高一", "高二", "高三"],
    "中职": ["中职一年级", "中职二年级", "中职三年级"],
    "学前": ["小班", "中班", "大班"],
}


def rows_of(path: Path, header_row: int = 0, note: bool = False) -> list[dict[str, Any]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = [list(r) for r in wb.active.iter_rows(values_only=True)]
    wb.close()
    header = [str(h) for h in rows[header_row]]
    body = rows[header_row + 1 : -1 if note else None]
    return [{k: ("" if v is None else v) for k, v in zip(header, r, strict=True)} for r in body]


@pytest.fixture(scope="module")
def standard(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    paths = generate(seed=7, scale="tiny", out=tmp_path_factory.mktemp("staff"), school_year=2026)
    return {
        "paths": paths,
        "staff": rows_of(paths["staff"]),
        "areas": rows_of(paths["areas"]),
        "schools": rows_of(paths["schools"]),
        "rolls": rows_of(paths["rolls"], 1, note=True),
    }


def test_headers_in_order(standard: dict[str, Any]) -> None:
    wb = openpyxl.load_workbook(standard["paths"]["staff"], read_only=True)
    header = next(wb.active.iter_rows(values_only=True))
    wb.close()
    assert (
        list(header)
        == list(STAFF_HEADERS)
        == [
            "姓名",
            "性别",
            "手机号码",
            "岗位",
            "学校标识码",
            "学校名称",
            "年级",
            "班级",
            "乡镇",
            "行政村",
        ]
    )
    # and docs/formats.md documents the same columns
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## staff") :]
    documented = [
        line.split("|")[2].strip()
        for line in section.splitlines()[1:]
        if line.startswith("|") and not line.startswith("|---") and "field" not in line
    ]
    assert documented[: len(STAFF_HEADERS)] == list(STAFF_HEADERS)


def test_posts_and_places(standard: dict[str, Any]) -> None:
    staff, areas = standard["staff"], standard["areas"]
    townships = {a["名称"] for a in areas if a["级别"] == "乡镇"}
    villages = {a["名称"]: a for a in areas if a["级别"] == "村"}
    in_county = {s["学校标识码"]: s for s in standard["schools"] if s["所在地"] == "县内"}
    posts = Counter(r["岗位"] for r in staff)
    assert posts["中心校校长"] == posts["乡镇教育专干"] == len(townships) == 1
    assert posts["校长"] == sum(1 for s in in_county.values() if s["办学类型"] != "教学点")
    # one cadre per village but the planted gap; poor villages have a first secretary
    cadres = [r for r in staff if r["岗位"] in ("村干部", "驻村第一书记")]
    assert len(cadres) == len(villages) - MISSING_CADRES
    for r in cadres:
        assert r["行政村"] in villages and r["乡镇"] in townships
        poor = villages[r["行政村"]]["是否贫困村"] == "是"
        assert r["岗位"] == ("驻村第一书记" if poor else "村干部")
        assert r["学校标识码"] == r["年级"] == r["班级"] == ""
    for r in staff:
        assert r["性别"] in ("男", "女")
        assert re.fullmatch(r"1[3-9]\d{9}", r["手机号码"]), r
        assert r["乡镇"] in townships
        if r["岗位"] in ("校长", "班主任"):
            assert r["学校标识码"] in in_county
            assert r["学校名称"] == in_county[r["学校标识码"]]["学校名称"]
        if r["岗位"] != "班主任":
            assert r["年级"] == r["班级"] == ""
    # a phone is one person's
    owners: dict[str, set[str]] = defaultdict(set)
    for r in staff:
        owners[r["手机号码"]].add(r["姓名"])
    assert all(len(names) == 1 for names in owners.values())


def test_head_teachers_are_the_rolls_head_teachers(standard: dict[str, Any]) -> None:
    in_county = {s["学校标识码"] for s in standard["schools"] if s["所在地"] == "县内"}
    rolls_classes: dict[tuple[str, str, str], str] = {}
    for r in standard["rolls"]:
        if r["学校标识码"] in in_county:
            word = GRADE_WORDS[r["学段"]][int(r["年级"]) - 1]
            rolls_classes[(r["学校标识码"], word, r["班级"])] = r["班主任"]
    heads = [r for r in standard["staff"] if r["岗位"] == "班主任"]
    listed = {(r["学校标识码"], r["年级"], r["班级"]): r["姓名"] for r in heads}
    assert len(listed) == len(heads)  # one row per class
    for key, name in listed.items():
        assert rolls_classes[key] == name, key
    # the planted gaps: a few classes on the rolls have no head teacher row
    missing = set(rolls_classes) - set(listed)
    assert len(missing) == MISSING_HEAD_TEACHERS == 3


def test_national_layout_writes_the_roster_of_its_rolls(tmp_path: Path) -> None:
    paths = generate(seed=7, scale="tiny", out=tmp_path, layout="national", school_year=2026)
    staff = rows_of(paths["staff"])
    rolls = list(csv.DictReader(io.StringIO(paths["rolls"].read_bytes().decode("gbk"))))
    classes = {(r["学校标识码"], r["班级"]) for r in rolls}
    heads = {(r["学校标识码"], r["班级"]) for r in staff if r["岗位"] == "班主任"}
    # every head teacher's class is on the rolls (junior classes of a nine-year school may
    # write their grade into 班级 on both files)
    assert heads <= classes
    assert Counter(r["岗位"] for r in staff)["中心校校长"] == 1


def test_roster_is_deterministic(tmp_path: Path) -> None:
    # (that it leaves the other files alone is pinned by test_generator_years' checksums)
    a = generate(seed=7, scale="tiny", out=tmp_path / "a", school_year=2026)
    b = generate(seed=7, scale="tiny", out=tmp_path / "b", school_year=2026)
    assert a["staff"].read_bytes() == b["staff"].read_bytes()
    assert a["rolls"].read_bytes() == b["rolls"].read_bytes()
