"""The synthetic demo generator: formats, determinism, counts and the recorded mess."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pypinyin import Style, lazy_pinyin

from jingzhun.demo import generator
from jingzhun.demo.generator import NO_MESS, MessRates, generate

DOCS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"
ROLL_RE = re.compile(r"G\d{17}[\dX]|L\d{18}")
STAGES = {"学前", "小学", "初中", "高中", "中职", "大学"}
STATUSES = {"在读", "休学", "转出", "辍学", "毕业"}
AGE_DAY = dt.date(2018, 8, 31)


# --- independent helpers (not taken from the generator) ----------------------------------


def ric_valid(s: str) -> bool:
    """GB 11643 checksum and birth date; the area code is not checked (late codes exist)."""
    if not re.fullmatch(r"\d{17}[\dX]", s):
        return False
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(s[:17]))
    if "10X98765432"[total % 11] != s[17]:
        return False
    try:
        dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return True


def id_birth(s: str) -> dt.date:
    return dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))


def age_on(born: dt.date, day: dt.date = AGE_DAY) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def parse_date(s: str) -> dt.date:
    m = re.fullmatch(r"(\d{4})(?:-|/|年)(\d{1,2})(?:-|/|月)(\d{1,2})日?", s)
    assert m, s
    return dt.date(int(m[1]), int(m[2]), int(m[3]))


def doc_headers() -> dict[str, list[str]]:
    """Chinese headers of each file kind, read from the table in docs/formats.md."""
    headers: dict[str, list[str]] = {}
    kind = ""
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            kind = line[3:].split()[0]
            headers[kind] = []
        elif kind and line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if cells[0] != "field":
                headers[kind].append(cells[1])
    return headers


def read_xlsx(path: Path) -> list[list[Any]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = [list(r) for r in wb.active.iter_rows(values_only=True)]
    wb.close()
    return rows


def table(path: Path, header_row: int, note: bool) -> tuple[list[str], list[dict[str, Any]]]:
    rows = read_xlsx(path)
    header = [str(h) for h in rows[header_row]]
    body = rows[header_row + 1 : -1 if note else None]
    return header, [dict(zip(header, r, strict=True)) for r in body]


def read_truth(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mess_counts(truth: list[dict[str, str]]) -> Counter[str]:
    c: Counter[str] = Counter()
    for t in truth:
        c.update(k for k in t["mess"].split(",") if k)
    return c


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate(school_year=2018, seed=7, scale="tiny", out=tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    calls: list[tuple[str, int, int]] = []
    paths = generate(
        school_year=2018,
        seed=2018,
        scale="county",
        out=tmp_path_factory.mktemp("county"),
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    _, areas = table(paths["areas"], 0, note=False)
    _, schools = table(paths["schools"], 0, note=False)
    _, registry = table(paths["registry"], 2, note=True)
    _, rolls = table(paths["rolls"], 1, note=True)
    return {
        "paths": paths,
        "calls": calls,
        "areas": areas,
        "schools": schools,
        "registry": registry,
        "rolls": rolls,
        "truth": read_truth(paths["truth"]),
    }


# --- tiny scale --------------------------------------------------------------------------


def test_returns_paths_by_kind(tiny: dict[str, Path]) -> None:
    assert list(tiny) == ["areas", "schools", "registry", "rolls", "truth", "staff", "teachers"]
    assert [p.name for p in tiny.values()] == [
        "areas.xlsx",
        "schools.xlsx",
        "registry.xlsx",
        "rolls.xlsx",
        "truth.csv",
        "staff.xlsx",
        "teachers.xlsx",
    ]
    assert all(p.stat().st_size > 0 for p in tiny.values())


def test_same_seed_same_bytes_other_seed_other_bytes(tiny: dict[str, Path], tmp_path: Path) -> None:
    again = generate(school_year=2018, seed=7, scale="tiny", out=tmp_path / "again")
    other = generate(school_year=2018, seed=8, scale="tiny", out=tmp_path / "other")
    for kind in tiny:
        assert sha(again[kind]) == sha(tiny[kind]), kind
    assert sha(other["rolls"]) != sha(tiny["rolls"])
    assert sha(other["truth"]) != sha(tiny["truth"])


def test_output_does_not_depend_on_hash_seed(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from jingzhun.demo.generator import generate; "
        "generate(school_year=2018, seed=3, scale='tiny', out=Path(sys.argv[1]))"
    )
    digests = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", code, str(out)], check=True, env=env)
        digests.append((sha(out / "rolls.xlsx"), sha(out / "registry.xlsx")))
    assert digests[0] == digests[1]


def test_headers_match_docs(tiny: dict[str, Path]) -> None:
    docs = doc_headers()
    assert list(generator.AREA_HEADERS) == docs["areas"]
    assert list(generator.SCHOOL_HEADERS) == docs["schools"]
    assert list(generator.REGISTRY_HEADERS) == docs["registry"]
    assert list(generator.ROLL_HEADERS) == docs["rolls"]
    # and the files carry them, below the title rows where there are any
    assert read_xlsx(tiny["areas"])[0] == docs["areas"]
    assert read_xlsx(tiny["schools"])[0] == docs["schools"]
    assert read_xlsx(tiny["registry"])[2] == docs["registry"]
    assert read_xlsx(tiny["rolls"])[1] == docs["rolls"]


def test_title_and_note_rows(tiny: dict[str, Path]) -> None:
    registry = read_xlsx(tiny["registry"])
    assert registry[0][0] == "清溪县2018年建档立卡贫困人口信息表"
    assert registry[0][1:] == [None] * 20
    assert str(registry[1][0]).startswith("填报单位：")
    assert str(registry[-1][0]).startswith("注：")
    assert registry[-1][1:] == [None] * 20
    rolls = read_xlsx(tiny["rolls"])
    assert rolls[0][0] == "清溪县2018-2019学年学生学籍信息表"
    assert str(rolls[-1][0]).startswith("注：")


def test_tiny_shape(tiny: dict[str, Path]) -> None:
    _, areas = table(tiny["areas"], 0, note=False)
    levels = Counter(a["级别"] for a in areas)
    assert levels == {"县": 1, "乡镇": 1, "村": 5}
    assert sum(a["是否贫困村"] == "是" for a in areas) == 2
    _, registry = table(tiny["registry"], 2, note=True)
    _, rolls = table(tiny["rolls"], 1, note=True)
    assert 400 <= len(registry) <= 600
    assert 400 <= len(rolls) <= 410


def test_ids_accounts_and_roll_numbers_are_text_cells(tiny: dict[str, Path]) -> None:
    _, registry = table(tiny["registry"], 2, note=True)
    _, rolls = table(tiny["rolls"], 1, note=True)
    for r in registry:
        assert isinstance(r["身份证号"], str)
        assert isinstance(r["户编号"], str)
        assert r["一卡通账号"] is None or isinstance(r["一卡通账号"], str)
        assert r["监护人身份证号"] is None or isinstance(r["监护人身份证号"], str)
    for r in rolls:
        assert isinstance(r["学籍号"], str)
        assert r["身份证号"] is None or isinstance(r["身份证号"], str)
        assert isinstance(r["学校标识码"], str)


def test_no_mess_means_rolls_carry_the_truth(tmp_path: Path) -> None:
    paths = generate(school_year=2018, seed=7, scale="tiny", out=tmp_path, mess=NO_MESS)
    _, rolls = table(paths["rolls"], 1, note=True)
    truth = read_truth(paths["truth"])
    assert len(rolls) == len(truth)
    for r, t in zip(rolls, truth, strict=True):
        assert t["mess"] == ""
        assert r["学籍号"] == t["roll_number"]
        assert (r["身份证号"] or "") == t["true_id_number"]
        if t["true_id_number"]:
            assert parse_date(r["出生日期"]) == id_birth(t["true_id_number"])


def test_excel_number_mess_writes_numbers(tmp_path: Path) -> None:
    paths = generate(
        school_year=2018, seed=7, scale="tiny", out=tmp_path, mess=MessRates(excel_number=1.0)
    )
    _, rolls = table(paths["rolls"], 1, note=True)
    truth = read_truth(paths["truth"])
    hit = 0
    for r, t in zip(rolls, truth, strict=True):
        if "excel_number" in t["mess"].split(","):
            hit += 1
            assert isinstance(r["身份证号"], float)
            # Excel keeps 15 significant digits of an 18-digit number
            assert round(r["身份证号"] / 1000) == int(t["true_id_number"][:15]) or (
                "sibling_id" in t["mess"] or "id_typo" in t["mess"]
            )
        elif "missing_id" not in t["mess"] and t["true_id_number"]:
            assert str(r["身份证号"]).endswith("X")
    assert hit > 300


def test_unknown_scale_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown scale"):
        generate(school_year=2018, seed=1, scale="planet", out=tmp_path)


# --- province path (streaming CSV), exercised on two tiny counties -------------------------


def test_province_streams_csv_counties(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    paths = generator._generate_province(
        seed=5,
        out=tmp_path / "one",
        mess=MessRates(excel_number=0.05),
        progress=lambda s, d, t: calls.append((s, d, t)),
        counties=2,
        county_scale=generator._SCALES["tiny"],
        workers=1,
    )
    assert calls == [("county", 1, 2), ("county", 2, 2)]
    assert [p.name for p in paths.values()] == [
        "areas.csv",
        "schools.csv",
        "registry.csv",
        "rolls.csv",
        "truth.csv",
    ]
    docs = doc_headers()
    data: dict[str, list[dict[str, str]]] = {}
    for kind in ("areas", "schools", "registry", "rolls"):
        with paths[kind].open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            assert next(reader) == docs[kind]  # header first: no title row in CSV
            data[kind] = [dict(zip(docs[kind], row, strict=True)) for row in reader]
    truth = read_truth(paths["truth"])
    counties = [a for a in data["areas"] if a["级别"] == "县"]
    assert [c["区划代码"] for c in counties] == ["422021", "422022"]
    assert len({c["名称"] for c in counties}) == 2
    ids = [r["身份证号"] for r in data["registry"]]
    assert len(ids) == len(set(ids)) and all(ric_valid(i) for i in ids)
    assert {r["村代码"][:6] for r in data["registry"]} == {"422021", "422022"}
    assert len(data["rolls"]) == len(truth) >= 800
    assert len({r["学籍号"] for r in data["rolls"]}) == len(data["rolls"])
    excel = [
        r["身份证号"] for r, t in zip(data["rolls"], truth, strict=True) if "excel" in t["mess"]
    ]
    assert excel and all(re.fullmatch(r"\d\.\d{5}E\+17", v) for v in excel)
    # shared out-of-county schools are listed once
    codes = [s["学校标识码"] for s in data["schools"]]
    assert len(codes) == len(set(codes))
    # the number of worker processes does not change a byte
    parallel = generator._generate_province(
        seed=5,
        out=tmp_path / "two",
        mess=MessRates(excel_number=0.05),
        progress=None,
        counties=2,
        county_scale=generator._SCALES["tiny"],
        workers=2,
    )
    for kind in paths:
        assert sha(parallel[kind]) == sha(paths[kind]), kind


# --- county scale --------------------------------------------------------------------------


def within(value: float, target: float, tolerance: float = 0.10) -> bool:
    return abs(value - target) <= tolerance * target


def test_county_counts(county: dict[str, Any]) -> None:
    areas = county["areas"]
    levels = Counter(a["级别"] for a in areas)
    assert levels["县"] == 1
    assert levels["乡镇"] == 12
    assert levels["村"] == 200
    assert sum(a["是否贫困村"] == "是" for a in areas) == 60
    registry = county["registry"]
    assert within(len(registry), 25_000)
    assert within(len({r["户编号"] for r in registry}), 7_000)
    assert within(len(county["rolls"]), 45_000)
    in_county = [s for s in county["schools"] if s["所在地"] == "县内"]
    assert within(len(in_county), 60)
    kinds = Counter(s["办学类型"] for s in in_county)
    assert kinds["普通高中"] == 1
    assert kinds["中等职业学校"] == 1
    assert kinds["特殊教育学校"] == 1
    assert kinds["教学点"] >= 5 and kinds["幼儿园"] >= 12 and kinds["九年一贯制学校"] >= 1
    outside = Counter(
        (s["办学类型"], s["所在地"]) for s in county["schools"] if s["所在地"] != "县内"
    )
    assert outside[("高等学校", "县外省内")] >= 2
    assert outside[("高等学校", "省外")] >= 2
    assert outside[("小学", "县外省内")] == 1
    assert outside[("初级中学", "县外省内")] == 1
    assert all(re.fullmatch(r"\d{10}", s["学校标识码"]) for s in county["schools"])


def test_county_area_codes(county: dict[str, Any]) -> None:
    areas = county["areas"]
    codes = {a["区划代码"] for a in areas}
    assert len(codes) == len(areas)
    for a in areas:
        n = {"县": 6, "乡镇": 9, "村": 12}[a["级别"]]
        assert re.fullmatch(rf"\d{{{n}}}", a["区划代码"])
        if n > 6:
            assert a["上级代码"] == a["区划代码"][: n - 3]
            assert a["上级代码"] in codes
        assert isinstance(a["经度"], float) and isinstance(a["纬度"], float)


def test_registry_ids_and_households(county: dict[str, Any]) -> None:
    registry = county["registry"]
    villages = {a["区划代码"] for a in county["areas"] if a["级别"] == "村"}
    ids = [r["身份证号"] for r in registry]
    assert len(set(ids)) == len(ids)
    households: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in registry:
        assert ric_valid(r["身份证号"]), r["身份证号"]
        assert id_birth(r["身份证号"]).isoformat() == r["出生日期"]
        assert r["性别"] == ("男" if int(r["身份证号"][16]) % 2 else "女")
        households[r["户编号"]].append(r)
    household_cols = generator.REGISTRY_HEADERS[:9]
    statuses: Counter[str] = Counter()
    for no, members in households.items():
        assert re.fullmatch(r"\d{16}", no)
        assert no[:12] == members[0]["村代码"] and no[:12] in villages
        assert sum(m["与户主关系"] == "户主" for m in members) == 1
        assert members[0]["与户主关系"] == "户主"
        for col in household_cols:
            assert len({m[col] for m in members}) == 1, (no, col)
        head = members[0]
        statuses[head["户状态"]] += 1
        assert 2014 <= head["识别年度"] <= 2016
        if head["户状态"] == "已脱贫":
            assert head["脱贫年度"] in (2016, 2017) and head["脱贫年度"] > head["识别年度"]
        else:
            assert head["脱贫年度"] is None
        if head["一卡通账号"] is not None:
            assert re.fullmatch(r"\d{19}", head["一卡通账号"])
            assert head["开户银行"] in ("农村信用社", "中国农业银行", "中国邮政储蓄银行")
        ids_here = {m["身份证号"]: m for m in members}
        for m in members:
            if m["监护人身份证号"]:
                guardian = ids_here[m["监护人身份证号"]]
                assert guardian["姓名"] == m["监护人姓名"]
                assert age_on(id_birth(m["身份证号"])) < 18
    assert set(statuses) == {"在册", "已脱贫", "已清退"}
    assert statuses["在册"] > statuses["已脱贫"] > 10 * statuses["已清退"] > 0
    accounts = [h[0]["一卡通账号"] for h in households.values() if h[0]["一卡通账号"]]
    assert len(accounts) == len(set(accounts))
    assert 0.005 < 1 - len(accounts) / len(households) < 0.05
    children = [r for r in registry if age_on(id_birth(r["身份证号"])) < 18]
    assert 0.15 < sum(r["是否留守儿童"] == "是" for r in children) / len(children) < 0.25
    assert any(r["残疾类别"] and r["残疾等级"] in (1, 2, 3, 4) for r in children)
    phones = [r["联系电话"] for r in registry if r["联系电话"]]
    assert all(re.fullmatch(r"1[3-9]\d{9}", p) for p in phones)


def test_rolls_structure(county: dict[str, Any]) -> None:
    rolls = county["rolls"]
    truth = county["truth"]
    schools = {s["学校标识码"]: s for s in county["schools"]}
    assert len(rolls) == len(truth)
    assert len({r["学籍号"] for r in rolls}) == len(rolls)
    roll_ids: Counter[str] = Counter()
    for r, t in zip(rolls, truth, strict=True):
        assert ROLL_RE.fullmatch(r["学籍号"])
        assert r["学籍号"] == t["roll_number"]
        if t["true_id_number"]:
            assert r["学籍号"] == "G" + t["true_id_number"]
            assert ric_valid(t["true_id_number"])
        assert r["学校标识码"] in schools
        assert r["学年"] == 2018
        assert r["学段"] in STAGES and r["学籍状态"] in STATUSES
        assert re.fullmatch(r"(\d+|[一二三四五六七八九])?年级?\d+班|\d+班", r["班级"])
        assert r["班主任"] and r["是否寄宿"] in ("是", "否") and r["是否建档立卡"] in ("是", "否")
        assert parse_date(r["入学日期"]) <= dt.date(2018, 9, 30)
        if r["身份证号"] and ric_valid(r["身份证号"]):
            roll_ids[r["身份证号"]] += 1
    # an ID never appears on two rows: that would be two enrolments of one person
    assert roll_ids.most_common(1)[0][1] == 1
    true_ids = [t["true_id_number"] for t in truth if t["true_id_number"]]
    assert len(true_ids) == len(set(true_ids))
    assert 0 < sum(t["true_id_number"] == "" for t in truth) < 0.02 * len(truth)
    statuses = Counter(r["学籍状态"] for r in rolls)
    assert statuses["在读"] > 0.97 * len(rolls)
    assert statuses["辍学"] > 0 and statuses["休学"] > 0 and statuses["转出"] > 0
    stages = Counter(r["学段"] for r in rolls)
    assert set(stages) == STAGES
    assert stages["小学"] > stages["初中"] > stages["高中"] > stages["中职"]
    # one head teacher per class
    teachers: dict[tuple[str, str, int, str], set[str]] = defaultdict(set)
    for r in rolls:
        teachers[(r["学校标识码"], r["学段"], r["年级"], r["班级"])].add(r["班主任"])
    assert all(len(v) == 1 for v in teachers.values())


def test_stage_follows_age(county: dict[str, Any]) -> None:
    ranges = {"学前": (2, 6), "小学": (5, 12), "初中": (11, 15), "高中": (14, 18)}
    ranges |= {"中职": (14, 18), "大学": (17, 22)}
    for r, t in zip(county["rolls"], county["truth"], strict=True):
        if not t["true_id_number"]:
            continue
        age = age_on(id_birth(t["true_id_number"]))
        lo, hi = ranges[r["学段"]]
        assert lo <= age <= hi, (r["学段"], age)
        assert 1 <= r["年级"] <= {"学前": 3, "小学": 6, "大学": 4}.get(r["学段"], 3)


def test_boarding_is_commoner_in_junior_high(county: dict[str, Any]) -> None:
    def share(stage: str) -> float:
        rows = [r for r in county["rolls"] if r["学段"] == stage]
        return sum(r["是否寄宿"] == "是" for r in rows) / len(rows)

    assert share("学前") == 0
    assert 0.1 < share("小学") < share("初中") < share("高中")
    schools = {s["学校标识码"]: s for s in county["schools"]}
    for r in county["rolls"]:
        if r["是否寄宿"] == "是":
            assert schools[r["学校标识码"]]["是否寄宿制"] == "是"


def test_registry_and_rolls_overlap(county: dict[str, Any]) -> None:
    registry = {r["身份证号"]: r for r in county["registry"]}
    rolls, truth = county["rolls"], county["truth"]
    matched = [(r, t) for r, t in zip(rolls, truth, strict=True) if t["in_registry"] == "true"]
    for _r, t in matched:
        assert t["true_id_number"] in registry
        assert registry[t["true_id_number"]]["户编号"] == t["household_no"]
    for t in truth:
        if t["in_registry"] == "false":
            assert t["household_no"] == "" and t["true_id_number"] not in registry
    assert 0.08 < len(matched) / len(rolls) < 0.2
    flagged = sum(r["是否建档立卡"] == "是" for r, _t in matched) / len(matched)
    assert 0.85 < flagged < 0.97
    reverse = sum(
        r["是否建档立卡"] == "是"
        for r, t in zip(rolls, truth, strict=True)
        if t["in_registry"] == "false"
    )
    assert 0 < reverse < 0.02 * len(rolls)
    # some poor children of compulsory age are on no roll at all
    enrolled = {t["true_id_number"] for t in truth}
    compulsory = [i for i in registry if 7 <= age_on(id_birth(i)) <= 14]
    missing = sum(i not in enrolled for i in compulsory) / len(compulsory)
    assert 0.005 < missing < 0.04
    # some study outside the county
    schools = {s["学校标识码"]: s for s in county["schools"]}
    places = Counter(schools[r["学校标识码"]]["所在地"] for r, _t in matched)
    assert places["县外省内"] > 0 and places["省外"] > 0


def test_late_area_codes_are_rare_and_young(county: dict[str, Any]) -> None:
    ids = [r["身份证号"] for r in county["registry"]]
    late = [i for i in ids if not i.startswith("422827")]
    assert 0 < len(late) < 0.01 * len(ids)
    assert all(age_on(id_birth(i)) <= 8 for i in late)


def test_mess_is_recorded_and_rates_roughly_honoured(county: dict[str, Any]) -> None:
    rolls, truth = county["rolls"], county["truth"]
    n = len(rolls)
    rates = MessRates()
    counts = mess_counts(truth)
    for kind in ("id_typo", "sibling_id", "missing_id", "homophone", "day_month_swap"):
        expected = getattr(rates, kind) * n
        assert 0.7 * expected < counts[kind] < 1.3 * expected, (kind, counts[kind], expected)
    assert counts["excel_number"] == 0
    registry = {r["身份证号"]: r for r in county["registry"]}
    for r, t in zip(rolls, truth, strict=True):
        kinds = set(t["mess"].split(",")) - {""}
        true_id = t["true_id_number"]
        shown = r["身份证号"] or ""
        if "missing_id" in kinds:
            assert shown == ""
        elif "id_typo" in kinds:
            assert not ric_valid(shown)
            if "sibling_id" not in kinds:
                assert sum(a != b for a, b in zip(shown, true_id, strict=True)) == 1
        elif "sibling_id" in kinds:
            assert ric_valid(shown) and shown != true_id
            if t["in_registry"] == "true":
                assert registry[shown]["户编号"] == t["household_no"]
        else:
            assert shown == true_id
        born = parse_date(r["出生日期"])
        if true_id:
            real = id_birth(true_id)
            if "day_month_swap" in kinds:
                assert real.day <= 12 and real.day != real.month
                assert (born.month, born.day) == (real.day, real.month)
            else:
                assert born == real
        if t["in_registry"] == "true":
            true_name = registry[true_id]["姓名"]
            if "homophone" in kinds:
                diff = [(a, b) for a, b in zip(r["姓名"], true_name, strict=True) if a != b]
                assert len(diff) == 1
                a, b = diff[0]
                assert lazy_pinyin(a, style=Style.NORMAL) == lazy_pinyin(b, style=Style.NORMAL)
            else:
                assert r["姓名"] == true_name


def test_names_look_chinese(county: dict[str, Any]) -> None:
    names = [r["姓名"] for r in county["registry"]]
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", n) for n in names)
    surnames = Counter(n[0] for n in names)
    assert len(surnames) > 50
    assert {"王", "李", "张"} <= {s for s, _ in surnames.most_common(15)}
    # siblings usually share the head's surname
    by_household: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in county["registry"]:
        by_household[r["户编号"]].append(r)
    same = total = 0
    for members in by_household.values():
        head = members[0]
        if head["性别"] != "男":
            continue
        for m in members:
            if m["与户主关系"] in ("之子", "之女"):
                total += 1
                same += m["姓名"][0] == head["姓名"][0]
    assert same / total > 0.97


def test_roll_dates_mostly_iso(county: dict[str, Any]) -> None:
    forms = Counter(
        "iso"
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["出生日期"])
        else "slash"
        if "/" in r["出生日期"]
        else "cn"
        for r in county["rolls"]
    )
    assert forms["iso"] > 0.8 * len(county["rolls"])
    assert forms["slash"] > 0 and forms["cn"] > 0


def test_progress_reports_each_file(county: dict[str, Any]) -> None:
    calls = county["calls"]
    finals = [stage for stage, done, total in calls if done == total]
    assert finals == [
        "build",
        "areas",
        "schools",
        "registry",
        "rolls",
        "truth",
        "staff",
        "teachers",
    ]
    assert ("rolls", 10000, len(county["rolls"])) in calls
