"""The demo generator lives in a school year: 2018 as it always was, other years moved whole."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command

from jingzhun.demo.generator import current_school_year, generate, shift_date
from jingzhun.demo.generator.dates import _dates, _day

# sha256 of the files seed 2018 gave at tiny scale before the generator followed the school
# year (recorded from the single-module generator, XlsxWriter as pinned in the lock file):
# school_year=2018 must keep writing exactly these bytes.
PINNED_2018 = {
    "standard": {
        "areas": "8131772111f60a00e4bde2acb2a4a74ce10bde6d6104ff0a0985c86e13885656",
        "schools": "f2519b767e8269bebf206a09d8711edec6abdd69bf9dd88c7e26a6e2225c5e39",
        "registry": "07526270cde4374c13300c02607068454e5ee4c4d7c80579fd2abd390815810d",
        "rolls": "03424f79a9fdb2a5b819e24611bc00512c342c0eb953942f2ca9ec446297bdf9",
        "truth": "902d8da99f9f093f4982b10550c072dc23d2d5c14d83e33a6abb0eac3491812a",
    },
    "national": {
        "registry": "673e3aa948f469d53bdc10d3111f6dc5d5185b405871fcab67b88243a8fb5eec",
        "rolls": "85eeb216c2a575c41f7c84dd2ff0cbfa54e55093c262f6b6cdd901e2d49a97d3",
        "university": "df40e5a7ab2f983debbf675f7289f2aef587bcb8b8e5247150e7611fd5191ea5",
        "outside": "291d57cde040088415f5e858bb0ad8ed427db9c5d8f79d8ddd35feba315134ee",
        "poor_villages": "ba99cc6ea4b56dfc1af896af9c90ae8a2a46f9235aee8b28a8c2a5d7419ad72b",
        "truth_links": "c6d90b9775ed3b33329be7d562707afdaa8432d16e5992347251fbc178defb06",
        "truth_children": "9c31fa6db65f079c404a85c68bc163521e49056367b3750bb9062eca29ff4361",
    },
}
ID_DATE = slice(6, 14)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def table(path: Path, header_row: int, note: bool) -> list[dict[str, Any]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = [list(r) for r in wb.active.iter_rows(values_only=True)]
    wb.close()
    header = [str(h) for h in rows[header_row]]
    body = rows[header_row + 1 : -1 if note else None]
    return [dict(zip(header, r, strict=True)) for r in body]


def plus_years(text: str, years: int) -> str:
    """Move every date (ISO, slashed, Chinese or compact) in a cell by whole years."""
    day = parse(text)
    moved = shift_date(day, years)
    if "-" in text:
        return moved.isoformat()
    if "/" in text:
        return f"{moved.year}/{moved.month}/{moved.day}"
    if "年" in text:
        return f"{moved.year}年{moved.month}月{moved.day}日"
    return moved.strftime("%Y%m%d")


def parse(text: str) -> dt.date:
    m = re.fullmatch(r"(\d{4})(?:-|/|年)?(\d{1,2})(?:-|/|月)?(\d{1,2})日?", text)
    assert m, text
    return dt.date(int(m[1]), int(m[2]), int(m[3]))


@pytest.mark.parametrize("layout", ["standard", "national"])
def test_school_year_2018_writes_the_bytes_it_always_wrote(layout: str, tmp_path: Path) -> None:
    paths = generate(seed=2018, scale="tiny", out=tmp_path, layout=layout, school_year=2018)
    assert {kind: sha(paths[kind]) for kind in PINNED_2018[layout]} == PINNED_2018[layout]


@pytest.fixture(scope="module")
def years(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Path]]:
    return {
        year: generate(
            seed=7, scale="tiny", out=tmp_path_factory.mktemp(f"y{year}"), school_year=year
        )
        for year in (2018, 2026)
    }


def test_2026_moves_every_person_eight_years(years: dict[int, dict[str, Path]]) -> None:
    old = table(years[2018]["registry"], 2, note=True)
    new = table(years[2026]["registry"], 2, note=True)
    assert len(old) == len(new) > 400
    for a, b in zip(old, new, strict=True):
        # the same person, born eight years later, with an ID that says so
        assert (a["姓名"], a["与户主关系"], a["户编号"]) == (
            b["姓名"],
            b["与户主关系"],
            b["户编号"],
        )
        assert b["出生日期"] == plus_years(a["出生日期"], 8)
        assert b["身份证号"][ID_DATE] == plus_years(a["身份证号"][ID_DATE], 8)
        assert b["身份证号"][:6] == a["身份证号"][:6]
        assert b["身份证号"][14:17] == a["身份证号"][14:17]
        assert b["识别年度"] == a["识别年度"] + 8
        assert b["脱贫年度"] == (a["脱贫年度"] + 8 if a["脱贫年度"] else None)
    assert {r["识别年度"] for r in new} <= {2022, 2023, 2024}


def test_2026_rolls_are_for_2026_2027(years: dict[int, dict[str, Path]]) -> None:
    old = table(years[2018]["rolls"], 1, note=True)
    new = table(years[2026]["rolls"], 1, note=True)
    assert len(old) == len(new)
    for a, b in zip(old, new, strict=True):
        assert b["学年"] == 2026 and a["学年"] == 2018
        assert (a["姓名"], a["学段"], a["年级"], a["班级"], a["班主任"], a["学籍状态"]) == (
            b["姓名"],
            b["学段"],
            b["年级"],
            b["班级"],
            b["班主任"],
            b["学籍状态"],
        )
        for col in ("出生日期", "状态日期", "入学日期"):
            assert b[col] == plus_years(a[col], 8), col
    wb = openpyxl.load_workbook(years[2026]["rolls"], read_only=True)
    assert next(wb.active.iter_rows(values_only=True))[0] == "清溪县2026-2027学年学生学籍信息表"
    wb.close()
    assert {parse(str(r["状态日期"])) for r in new} >= {dt.date(2026, 9, 1)}


def test_national_truth_moves_with_the_year(tmp_path: Path) -> None:
    old = generate(seed=7, scale="tiny", out=tmp_path / "a", layout="national", school_year=2018)
    new = generate(seed=7, scale="tiny", out=tmp_path / "b", layout="national", school_year=2026)
    read = [p["truth_children"].read_text(encoding="utf-8").splitlines() for p in (old, new)]
    assert len(read[0]) == len(read[1]) > 50
    for a, b in zip(read[0][1:], read[1][1:], strict=True):
        pa, pb = a.split(","), b.split(",")
        assert pb[2] == plus_years(pa[2], 8)
        assert pa[3:] == pb[3:]  # same age as of the same day of the school year, same status
    outside = table(new["outside"], 0, note=False)
    assert {r["学年"] for r in outside} == {"2026-2027"}


def test_29_february_falls_back_to_28_february() -> None:
    assert shift_date(dt.date(2008, 2, 29), 8) == dt.date(2016, 2, 29)
    assert shift_date(dt.date(2008, 2, 29), 7) == dt.date(2015, 2, 28)
    assert shift_date(dt.date(2008, 3, 1), 7) == dt.date(2015, 3, 1)
    day = _day(2008, 2, 29)
    assert _dates(7).iso[day] == "2015-02-28"
    assert _dates(7).iso[day + 1] == "2015-03-01"
    assert _dates(8).iso[day] == "2016-02-29"
    assert _dates(0).iso[day] == "2008-02-29"


def test_default_is_the_current_school_year(tmp_path: Path) -> None:
    assert current_school_year(dt.date(2026, 12, 4)) == 2026
    assert current_school_year(dt.date(2027, 8, 31)) == 2026
    assert current_school_year(dt.date(2027, 9, 1)) == 2027
    paths = generate(seed=7, scale="tiny", out=tmp_path)
    rolls = table(paths["rolls"], 1, note=True)
    assert {r["学年"] for r in rolls} == {current_school_year()}


def test_demo_data_takes_a_school_year(tmp_path: Path) -> None:
    call_command(
        "demo_data",
        "--scale",
        "tiny",
        "--school-year",
        "2024",
        "--out",
        str(tmp_path),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    rolls = table(tmp_path / "rolls.xlsx", 1, note=True)
    assert {r["学年"] for r in rolls} == {2024}
