"""The national layout of the demo generator: the files national systems export, and the truth."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command

from jingzhun.demo.generator import generate

REGISTRY_HEADERS = [
    "序号",
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
ROLL_HEADERS = [
    "全国学籍号",
    "姓名",
    "身份证号",
    "性别",
    "出生日期",
    "学校标识码",
    "学校名称",
    "年级",
    "班级",
    "就读方式",
    "是否随迁子女",
    "是否建档立卡",
]
GRADES = {
    "小班",
    "中班",
    "大班",
    *(f"{c}年级" for c in "一二三四五六七八九"),
    "初一",
    "初二",
    "初三",
    "高一",
    "高二",
    "高三",
    "中职一年级",
    "中职二年级",
    "中职三年级",
}
EDUCATION = {"学龄前儿童", "文盲或半文盲", "小学", "初中", "高中", "中专", "大专及以上"}
STUDY = {"非在校生", "学前教育", "小学", "初中", "普通高中", "中职", "高职（大专）", "本科及以上"}
TRUE_STATUSES = {
    "in_county",
    "outside_county",
    "out_of_school",
    "finished",
    "preschool_not_enrolled",
    "other",
}
KINDS = {
    "registry": "registry.xlsx",
    "rolls": "rolls.csv",
    "university": "university.xlsx",
    "outside": "outside.xlsx",
    "poor_villages": "poor-villages.xlsx",
    "truth_links": "truth-links.csv",
    "truth_children": "truth-children.csv",
    "staff": "staff.xlsx",
    "village_schools": "village-schools.xlsx",
    "teachers": "teachers.xlsx",
}
AS_OF = dt.date(2018, 10, 8)


def ric_valid(s: str) -> bool:
    if not re.fullmatch(r"\d{17}[\dX]", s):
        return False
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(s[:17]))
    return "10X98765432"[total % 11] == s[17]


def read_xlsx(path: Path) -> list[list[Any]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = [list(r) for r in wb.active.iter_rows(values_only=True)]
    wb.close()
    return rows


def records(path: Path, header_row: int = 0) -> list[dict[str, Any]]:
    rows = read_xlsx(path)
    header = [str(h) for h in rows[header_row]]
    return [dict(zip(header, r, strict=True)) for r in rows[header_row + 1 :]]


def read_csv(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(paths: dict[str, Path]) -> dict[str, Any]:
    return {
        "paths": paths,
        "registry": records(paths["registry"], 2),
        "rolls": read_csv(paths["rolls"], "gbk"),
        "university": records(paths["university"]),
        "outside": records(paths["outside"]),
        "villages": records(paths["poor_villages"]),
        "links": read_csv(paths["truth_links"]),
        "children": read_csv(paths["truth_children"]),
    }


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("national-tiny")
    return load(generate(school_year=2018, seed=7, scale="tiny", out=out, layout="national"))


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("national-county")
    return load(generate(school_year=2018, seed=2018, scale="county", out=out, layout="national"))


# --- tiny scale --------------------------------------------------------------------------


def test_files_and_paths(tiny: dict[str, Any]) -> None:
    paths = tiny["paths"]
    assert {k: p.name for k, p in paths.items()} == KINDS
    assert all(p.stat().st_size > 0 for p in paths.values())


def test_registry_title_note_and_header(tiny: dict[str, Any]) -> None:
    rows = read_xlsx(tiny["paths"]["registry"])
    assert rows[0][0] == "清溪县建档立卡贫困人口信息表（全县全字段）"
    assert rows[0][1:] == [None] * 18
    assert str(rows[1][0]).startswith("导出单位：清溪县扶贫办")
    assert "全国扶贫开发信息系统" in str(rows[1][0])
    assert rows[2] == REGISTRY_HEADERS
    assert [r[0] for r in rows[3:]] == list(range(1, len(rows) - 2))


def test_registry_values(tiny: dict[str, Any]) -> None:
    reg = tiny["registry"]
    villages = {v["村代码"] for v in tiny["villages"]}
    assert villages
    pnos = [r["人口编号"] for r in reg]
    assert len(set(pnos)) == len(pnos)
    for r in reg:
        assert re.fullmatch(r"\d{16}", r["户编号"])
        assert re.fullmatch(r"\d{18}", r["人口编号"]) and r["人口编号"].startswith(r["户编号"])
        assert r["县"] == "清溪县"
        assert r["文化程度"] in EDUCATION
        assert r["脱贫属性"] in {"未脱贫", "已脱贫", "返贫"}
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{8}", r["出生日期"])
        born = dt.date.fromisoformat(r["出生日期"]) if "-" in r["出生日期"] else None
        if born and (AS_OF.year - born.year) > 27:
            assert r["在校生状况"] is None
        if r["在校生状况"] is not None:
            assert r["在校生状况"] in STUDY
        card = r["残疾证号"]
        if card:
            assert len(card) == 20 and ric_valid(card[:18])
            assert card[18] in "1234567" and card[19] in "1234"
    # the poor villages' codes are those of the households' villages (where poor)
    assert {r["户编号"][:12] for r in reg} & villages


def test_genuine_ids_ending_in_000(tiny: dict[str, Any]) -> None:
    ids = [r["证件号码"] for r in tiny["registry"] if isinstance(r["证件号码"], str)]
    genuine = [i for i in ids if i.endswith("000")]
    assert len(genuine) >= 3
    assert all(ric_valid(i) for i in genuine)


def test_rolls_are_gbk_with_the_national_columns(tiny: dict[str, Any]) -> None:
    raw = tiny["paths"]["rolls"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gbk")
    header = next(csv.reader(io.StringIO(text)))
    assert header == ROLL_HEADERS
    assert "学年" not in header and "学段" not in header
    rolls = tiny["rolls"]
    assert {r["年级"] for r in rolls} <= GRADES
    assert {r["就读方式"] for r in rolls} <= {"住校", "走读"}
    assert {r["是否随迁子女"] for r in rolls} <= {"是", "否"}
    assert {r["是否建档立卡"] for r in rolls} <= {"是", "否"}
    for r in rolls:
        assert re.fullmatch(r"G\d{17}[\dX]|L\d{18}", r["全国学籍号"]), r
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["出生日期"])
        assert r["学校标识码"].startswith("3422827")


def test_truth_links_follow_rolls(tiny: dict[str, Any]) -> None:
    links, rolls = tiny["links"], tiny["rolls"]
    assert [t["roll_number"] for t in links] == [r["全国学籍号"] for r in rolls]
    pnos = {r["人口编号"] for r in tiny["registry"]}
    linked = [t["person_no"] for t in links if t["person_no"]]
    assert linked and set(linked) <= pnos


def test_truth_children(tiny: dict[str, Any]) -> None:
    reg = {r["人口编号"]: r for r in tiny["registry"]}
    children = tiny["children"]
    assert children
    for c in children:
        assert c["person_no"] in reg
        assert c["person_no"].startswith(c["household_no"])
        born = dt.date.fromisoformat(c["birth_date"])
        age = AS_OF.year - born.year - ((AS_OF.month, AS_OF.day) < (born.month, born.day))
        assert int(c["age"]) == age and 3 <= age <= 22
        assert c["true_status"] in TRUE_STATUSES
    # every registry person aged 3-22 has a row
    expected = 0
    for r in reg.values():
        d = r["出生日期"]
        born = (
            dt.date.fromisoformat(d) if "-" in d else dt.date(int(d[:4]), int(d[4:6]), int(d[6:]))
        )
        age = AS_OF.year - born.year - ((AS_OF.month, AS_OF.day) < (born.month, born.day))
        expected += 3 <= age <= 22
    assert expected == len(children)


def test_small_lists(tiny: dict[str, Any]) -> None:
    assert list(tiny["villages"][0]) == ["乡（镇）", "行政村", "村代码"]
    assert all(re.fullmatch(r"\d{12}", v["村代码"]) for v in tiny["villages"])
    rows = read_xlsx(tiny["paths"]["university"])
    assert rows[0] == ["姓名", "身份证号", "录取学校", "学校所在省份", "层次", "年级", "是否新生"]
    rows = read_xlsx(tiny["paths"]["outside"])
    assert rows[0] == ["姓名", "身份证号", "就读学校", "学校所在地", "学段", "年级", "学年"]


def test_same_seed_same_bytes(tiny: dict[str, Any], tmp_path: Path) -> None:
    again = generate(
        school_year=2018, seed=7, scale="tiny", out=tmp_path / "again", layout="national"
    )
    for kind, path in tiny["paths"].items():
        assert sha(again[kind]) == sha(path), kind
    other = generate(
        school_year=2018, seed=8, scale="tiny", out=tmp_path / "other", layout="national"
    )
    assert sha(other["rolls"]) != sha(tiny["paths"]["rolls"])


def test_standard_layout_unchanged(tmp_path: Path) -> None:
    """The standard layout gives, for seed 7, what it gave before the national layout."""
    paths = generate(school_year=2018, seed=7, scale="tiny", out=tmp_path)
    assert sha(paths["truth"]) == "f7f8cd9334557345ee442f1821d442ca0d1ea993496fd12323fd74369686781a"
    cells = {
        "registry": "11c6b5fca5fe9a40c00c29a5c95ea423c5bf1f257a0d7084e3b27e1de85de86d",
        "rolls": "58cf000b3029b7511a4e43f560640545a931305f17ea2b607ac3e0819dbc3fa8",
        "areas": "5d92dedaaad2323d55af7d3d5cbf7b06b30d894e3b017622a7f0950cb4c4cb5c",
        "schools": "12b863defd2d1fd42839cf9f84f34c8d1e428551069224ef3f4e5f9f8b36aab5",
    }
    for kind, digest in cells.items():
        got = hashlib.sha256(repr(read_xlsx(paths[kind])).encode()).hexdigest()
        assert got == digest, kind


def test_layout_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="layout"):
        generate(school_year=2018, seed=1, scale="tiny", out=tmp_path, layout="regional")
    with pytest.raises(ValueError, match="national"):
        generate(school_year=2018, seed=1, scale="province", out=tmp_path, layout="national")


def test_command_writes_the_national_layout(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command(
        "demo_data",
        "--layout",
        "national",
        "--scale",
        "tiny",
        "--seed",
        "3",
        "--out",
        str(tmp_path),
        stdout=out,
        stderr=io.StringIO(),
    )
    assert "rolls: " in out.getvalue()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(KINDS.values())


# --- county scale ------------------------------------------------------------------------


def test_registry_mess_rates(county: dict[str, Any]) -> None:
    reg = county["registry"]
    n = len(reg)
    assert 20000 < n < 30000
    ids = [r["证件号码"] for r in reg]
    blank = sum(1 for i in ids if i is None)
    numbers = [i for i in ids if isinstance(i, int | float)]
    cards = [i for i in ids if isinstance(i, str) and len(i) == 20]
    disabled = sum(1 for r in reg if r["残疾证号"])
    assert 0.006 < blank / n < 0.02
    assert 0.005 < len(numbers) / n < 0.016
    assert all(1e17 < x < 1e18 for x in numbers)
    assert 1 <= len(cards) and len(cards) / disabled < 0.02
    cards_by_person = {r["残疾证号"] for r in reg if r["残疾证号"]}
    assert set(cards) <= cards_by_person
    texts = [i for i in ids if isinstance(i, str) and len(i) == 18]
    assert sum(1 for i in texts if ric_valid(i)) == len(texts)
    assert sum(1 for i in texts if i.endswith("000")) >= 3
    households: dict[str, str] = {r["户编号"]: r["脱贫属性"] for r in reg}
    relapsed = Counter(households.values())["返贫"] / len(households)
    assert 0.015 < relapsed < 0.05
    assert Counter(households.values())["已脱贫"] > Counter(households.values())["返贫"]


def test_stale_study_state(county: dict[str, Any]) -> None:
    children = county["children"]
    school_age = [c for c in children if 6 <= int(c["age"]) <= 17]
    stale = sum(1 for c in school_age if "stale_registry_status" in c["detail"])
    assert 0.008 < stale / len(school_age) < 0.04
    # the registry mostly agrees with the truth
    reg = {r["人口编号"]: r for r in county["registry"]}
    agree = sum(
        1
        for c in school_age
        if (reg[c["person_no"]]["在校生状况"] != "非在校生")
        == (c["true_status"] in ("in_county", "outside_county"))
    )
    assert agree / len(school_age) > 0.95


def test_roll_mess_and_duplicates(county: dict[str, Any]) -> None:
    links, rolls = county["links"], county["rolls"]
    n = len(links)
    kinds: Counter[str] = Counter()
    for t in links:
        kinds.update(k for k in t["mess"].split(",") if k)
    assert 0.002 < kinds["duplicate_record"] / n < 0.007
    assert 0.01 < kinds["missing_id"] / n < 0.04
    assert 0.005 < kinds["id_typo"] / n < 0.02
    assert kinds["homophone"] and kinds["sibling_id"] and kinds["day_month_swap"]
    by_roll = {r["全国学籍号"]: r for r in rolls}
    assert len(by_roll) == len(rolls)  # roll numbers are unique, even for duplicates
    first: dict[str, dict[str, str]] = {}
    for t, r in zip(links, rolls, strict=True):
        if t["person_no"] and "duplicate_record" not in t["mess"]:
            first.setdefault(t["person_no"], r)
    for t, r in zip(links, rolls, strict=True):
        if "duplicate_record" in t["mess"]:
            assert r["全国学籍号"].startswith("L")
    # ID cells are text: those ending in 000 survive as written
    assert any(r["身份证号"].endswith("000") for r in rolls)
    assert {r["年级"] for r in rolls} <= GRADES
    assert {"初一", "七年级"} <= {r["年级"] for r in rolls}


def test_university_and_outside_coverage(county: dict[str, Any]) -> None:
    children = county["children"]
    reg = {r["人口编号"]: r for r in county["registry"]}
    id_of = {c["person_no"]: reg[c["person_no"]]["证件号码"] for c in children}
    uni = [c for c in children if c["detail"].startswith("university:")]
    uni_ids = {str(r["身份证号"]) for r in county["university"]}
    listed = sum(1 for c in uni if id_of[c["person_no"]] in uni_ids)
    assert 0.8 < listed / len(uni) < 0.97
    assert {r["层次"] for r in county["university"]} <= {"本科", "专科", "硕士"}
    assert {r["是否新生"] for r in county["university"]} == {"是", "否"}
    below = [
        c
        for c in children
        if c["true_status"] == "outside_county"
        and not c["detail"].startswith(("university", "transferred_out:;", "transferred_out:"))
    ]
    out_ids = {str(r["身份证号"]) for r in county["outside"]}
    confirmed = sum(1 for c in below if id_of[c["person_no"]] in out_ids)
    assert 0.55 < confirmed / len(below) < 0.85
    assert {r["学段"] for r in county["outside"]} <= {"小学", "初中", "高中", "中职"}
    assert {r["学年"] for r in county["outside"]} == {"2018-2019"}
    assert {r["年级"] for r in county["outside"]} <= GRADES
    places = {r["学校所在地"] for r in county["outside"]}
    assert "湖北省江城市" in places and "广东省东莞市" in places


def test_true_status_counts(county: dict[str, Any]) -> None:
    counts = Counter(c["true_status"] for c in county["children"])
    assert set(counts) == TRUE_STATUSES
    assert counts["in_county"] > counts["outside_county"] > counts["out_of_school"]
    details = Counter(c["detail"].split(":")[0] for c in county["children"])
    for kind in ("migrant", "university", "dropped_out", "transferred_out"):
        assert details[kind] > 0, kind
    assert details["out_of_county_高中"] + details["out_of_county_中职"] > 0
