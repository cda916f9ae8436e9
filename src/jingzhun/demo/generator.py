"""Generate a synthetic demo county (or province) in the four import formats.

The files follow docs/formats.md: areas, schools, the poverty registry (建档立卡) and the
student rolls (学籍) for school year 2018, plus ``truth.csv``, which records for every roll
row who the student really is, so that matching can be scored.

Only registered-poor persons appear in the registry; every other resident of the county
appears only as a student on the rolls. The rolls carry the clerical mess found in real
files (typos in ID numbers, siblings' IDs, missing IDs, homophones in names, swapped day
and month), at the rates given by :class:`MessRates`.

This module is pure Python (no Django); the demo management commands and the benchmarks
call :func:`generate`.
"""

from __future__ import annotations

import bisect
import csv
import io
import math
import multiprocessing
import os
import random
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import TypeVar

import xlsxwriter

from jingzhun.demo import names

T = TypeVar("T")
Progress = Callable[[str, int, int], None]
Cell = str | int | float

SCHOOL_YEAR = 2018
KINDS = ("areas", "schools", "registry", "rolls", "truth")

# Headers exactly as in docs/formats.md.
AREA_HEADERS = ("区划代码", "名称", "级别", "上级代码", "是否贫困村", "经度", "纬度")
SCHOOL_HEADERS = (
    "学校标识码",
    "学校名称",
    "办学类型",
    "乡镇代码",
    "村代码",
    "是否寄宿制",
    "所在地",
)
REGISTRY_HEADERS = (
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
)
ROLL_HEADERS = (
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
)
TRUTH_HEADERS = (
    "roll_number",
    "true_id_number",
    "person_key",
    "in_registry",
    "household_no",
    "mess",
)
HEADERS: dict[str, tuple[str, ...]] = {
    "areas": AREA_HEADERS,
    "schools": SCHOOL_HEADERS,
    "registry": REGISTRY_HEADERS,
    "rolls": ROLL_HEADERS,
    "truth": TRUTH_HEADERS,
}
MESS_KINDS = (
    "id_typo",
    "sibling_id",
    "missing_id",
    "homophone",
    "day_month_swap",
    "excel_number",
)


@dataclass(frozen=True)
class MessRates:
    """Share of roll rows affected by each kind of clerical error, drawn independently."""

    id_typo: float = 0.01
    sibling_id: float = 0.003
    missing_id: float = 0.02
    homophone: float = 0.01
    day_month_swap: float = 0.005
    excel_number: float = 0.0


NO_MESS = MessRates(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class _Scale:
    townships: int
    villages: int
    poor_villages: int
    poor_households: int
    enrolments: int
    village_primaries: int
    teaching_points: int
    village_kindergartens: int
    nine_year_townships: int


_SCALES: dict[str, _Scale] = {
    "county": _Scale(12, 200, 60, 7000, 45000, 8, 9, 5, 4),
    "tiny": _Scale(1, 5, 2, 140, 400, 1, 1, 1, 0),
}
PROVINCE_COUNTIES = 100

# --- resident ID numbers (GB 11643, ISO 7064 mod 11-2) -------------------------------

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SEQ = tuple(f"{i:03d}" for i in range(1000))
_SEQ_SUM = tuple(int(s[0]) * _W[14] + int(s[1]) * _W[15] + int(s[2]) * _W[16] for s in _SEQ)


def _area_sum(area: str) -> int:
    return sum(int(c) * w for c, w in zip(area, _W[:6], strict=True))


_DATE_BASE = date(1925, 1, 1).toordinal()
_DATE_END = date(2019, 12, 31).toordinal()


@dataclass(frozen=True)
class _DateTable:
    compact: tuple[str, ...]  # YYYYMMDD
    iso: tuple[str, ...]  # YYYY-MM-DD
    ymd: tuple[tuple[int, int, int], ...]
    wsum: tuple[int, ...]  # weighted digit sum of YYYYMMDD at ID positions 7-14


@cache
def _dates() -> _DateTable:
    compact: list[str] = []
    iso: list[str] = []
    ymd: list[tuple[int, int, int]] = []
    wsum: list[int] = []
    weights = _W[6:14]
    for ordinal in range(_DATE_BASE, _DATE_END + 1):
        d = date.fromordinal(ordinal)
        c = f"{d.year:04d}{d.month:02d}{d.day:02d}"
        compact.append(c)
        iso.append(f"{d.year:04d}-{d.month:02d}-{d.day:02d}")
        ymd.append((d.year, d.month, d.day))
        wsum.append(sum(int(ch) * w for ch, w in zip(c, weights, strict=True)))
    return _DateTable(tuple(compact), tuple(iso), tuple(ymd), tuple(wsum))


def _day(y: int, m: int, d: int) -> int:
    return date(y, m, d).toordinal() - _DATE_BASE


def _age_range(age: int) -> tuple[int, int]:
    """Day indexes of the first and last birthday giving ``age`` on 31 August 2018."""
    return _day(SCHOOL_YEAR - 1 - age, 9, 1), _day(SCHOOL_YEAR - age, 8, 31)


_AGE_RANGES = tuple(_age_range(a) for a in range(0, 94))

# --- small helpers ---------------------------------------------------------------------


class _Picker:
    """Weighted choice with precomputed cumulative weights (faster than Random.choices)."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Iterable[tuple[str, float]]) -> None:
        self.items: list[str] = []
        self.cum: list[float] = []
        total = 0.0
        for item, weight in pairs:
            total += weight
            self.items.append(item)
            self.cum.append(total)
        self.total = total

    def __call__(self, rng: random.Random) -> str:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


def _ri(rng: random.Random, a: int, b: int) -> int:
    """Return a random integer in [a, b]; cheaper than Random.randint in hot loops."""
    return a + int(rng.random() * (b - a + 1))


def _pick(rng: random.Random, seq: Sequence[T]) -> T:
    return seq[int(rng.random() * len(seq))]


def _yn(flag: bool) -> str:
    return "是" if flag else "否"


def _luhn(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return str((10 - total % 10) % 10)


_MALE_POOL = names.MALE_CHARS + names.NEUTRAL_CHARS
_FEMALE_POOL = names.FEMALE_CHARS + names.NEUTRAL_CHARS
_POVERTY_CAUSES = _Picker(
    [
        ("因病", 30),
        ("缺技术", 15),
        ("缺资金", 15),
        ("缺劳力", 10),
        ("因学", 10),
        ("因残", 8),
        ("自身发展动力不足", 6),
        ("因灾", 3),
        ("交通条件落后", 3),
    ]
)
_BANKS = (
    ("农村信用社", "621779", 55),
    ("中国农业银行", "622848", 25),
    ("中国邮政储蓄银行", "621799", 20),
)
_BANK_PICKER = _Picker((str(i), float(b[2])) for i, b in enumerate(_BANKS))
_DISABILITY_KINDS = _Picker(
    [("肢体", 35), ("智力", 20), ("视力", 12), ("听力", 12), ("精神", 10), ("言语", 5), ("多重", 6)]
)
_PHONE_PREFIXES = tuple(
    [f"13{i}" for i in range(10)]
    + [f"15{i}" for i in (0, 1, 2, 3, 5, 6, 7, 8, 9)]
    + [f"18{i}" for i in range(10)]
    + ["177", "176", "199", "166", "147", "173"]
)
_STAGE_ORDER = {"学前": 0, "小学": 1, "初中": 2, "高中": 3, "中职": 4, "大学": 5}
_CN_NUM = "一二三四五六七八九十"

# --- model -----------------------------------------------------------------------------


class _School:
    __slots__ = (
        "boarding",
        "cap",
        "code",
        "kind",
        "location",
        "name",
        "style",
        "teachers",
        "township",
        "village",
    )

    def __init__(
        self,
        code: str,
        name: str,
        kind: str,
        township: str,
        village: str,
        boarding: bool,
        location: str,
        cap: int,
    ) -> None:
        self.code = code
        self.name = name
        self.kind = kind
        self.township = township
        self.village = village
        self.boarding = boarding
        self.location = location
        self.cap = cap  # class size
        self.style = 0  # clerk's date style: 0 ISO, 1 "2010/5/3", 2 "2010年5月3日"
        self.teachers: dict[tuple[str, int, int], str] = {}

    def row(self) -> list[Cell]:
        return [
            self.code,
            self.name,
            self.kind,
            self.township,
            self.village,
            _yn(self.boarding),
            self.location,
        ]


class _Village:
    __slots__ = (
        "code",
        "kg",
        "lat",
        "lon",
        "name",
        "poor",
        "population",
        "primary",
        "seq",
        "tp",
        "township",
        "vk",
        "vp",
        "junior",
    )

    def __init__(self, code: str, name: str, township: _Township, poor: bool) -> None:
        self.code = code
        self.name = name
        self.township = township
        self.poor = poor
        self.population = 0
        self.seq = 0  # last household sequence number used
        self.lon = 0.0
        self.lat = 0.0
        self.vk: _School | None = None
        self.tp: _School | None = None
        self.vp: _School | None = None
        self.kg: list[_School] = []
        self.primary: list[_School] = []
        self.junior: list[_School] = []


class _Township:
    __slots__ = ("code", "kg", "junior", "lat", "lon", "name", "primary", "seat", "villages")

    def __init__(self, code: str, name: str, seat: bool) -> None:
        self.code = code
        self.name = name
        self.seat = seat
        self.villages: list[_Village] = []
        self.kg: list[_School] = []
        self.primary: list[_School] = []
        self.junior: list[_School] = []
        self.lon = 0.0
        self.lat = 0.0


class _Household:
    __slots__ = (
        "account",
        "bank",
        "cause",
        "dibao",
        "ethnicity",
        "exit_year",
        "members",
        "no",
        "phone",
        "reg_year",
        "status",
        "village",
    )

    def __init__(self, village: _Village, no: str) -> None:
        self.village = village
        self.no = no  # empty for households outside the registry
        self.members: list[_Person] = []
        self.reg_year = 0
        self.status = ""
        self.exit_year = 0
        self.cause = ""
        self.dibao = False
        self.bank = ""
        self.account = ""
        self.phone = ""
        self.ethnicity = "汉族"


class _Person:
    __slots__ = (
        "age",
        "day",
        "dis_grade",
        "dis_kind",
        "ethnicity",
        "guardian",
        "hh",
        "id",
        "key",
        "left_behind",
        "male",
        "name",
        "relation",
    )

    def __init__(
        self, key: str, name: str, id_: str, male: bool, day: int, age: int, relation: str
    ) -> None:
        self.key = key
        self.name = name
        self.id = id_
        self.male = male
        self.day = day
        self.age = age
        self.relation = relation
        self.hh: _Household | None = None
        self.dis_kind = ""
        self.dis_grade = 0
        self.left_behind = False
        self.guardian: _Person | None = None
        self.ethnicity = "汉族"


class _Enrol:
    __slots__ = (
        "boarding",
        "class_no",
        "enrolled_on",
        "grade",
        "person",
        "school",
        "stage",
        "status",
        "status_day",
    )

    def __init__(self, person: _Person, school: _School, stage: str, grade: int) -> None:
        self.person = person
        self.school = school
        self.stage = stage
        self.grade = grade
        self.class_no = 1
        self.status = "在读"
        self.status_day = 0
        self.enrolled_on = 0
        self.boarding = False


@dataclass(frozen=True)
class _CountySpec:
    index: int
    code: str
    alt_code: str  # newer area code seen in IDs of some late-registered children
    name: str
    lon: float
    lat: float
    seed: int


@dataclass
class _Shared:
    """Out-of-county schools shared by every county of a run."""

    universities_in: list[_School]
    universities_out: list[_School]
    city_primary: _School
    city_junior: _School

    def all(self) -> list[_School]:
        return [
            *self.universities_in,
            *self.universities_out,
            self.city_primary,
            self.city_junior,
        ]


def _shared_schools(rng: random.Random, province: str) -> _Shared:
    uni_in = [
        _School(f"41{province}01{i + 1:04d}", name, "高等学校", "", "", True, "县外省内", 40)
        for i, name in enumerate(["江汉师范学院", "江汉理工大学", "江汉医学院", "江城职业技术学院"])
    ]
    uni_out = [
        _School(code, name, "高等学校", "", "", True, "省外", 40)
        for code, name in [
            ("4131010021", "东海理工大学"),
            ("4144010107", "南岭农业大学"),
            ("4150010032", "巴山师范大学"),
        ]
    ]
    city = f"{province}0102"
    primary = _School(f"3{city}001", "江城市东湖区育才小学", "小学", "", "", False, "县外省内", 48)
    junior = _School(
        f"3{city}002", "江城市东湖区第二初级中学", "初级中学", "", "", False, "县外省内", 50
    )
    shared = _Shared(uni_in, uni_out, primary, junior)
    # Head teachers of out-of-county classes are fixed up front: students from many
    # counties share these classes.
    for school in shared.all():
        stages = (
            [("大学", g) for g in range(1, 5)]
            if school.kind == "高等学校"
            else [("小学", g) for g in range(1, 7)]
            if school.kind == "小学"
            else [("初中", g) for g in range(1, 4)]
        )
        for stage, grade in stages:
            for k in range(1, 9 if school.kind == "高等学校" else 7):
                school.teachers[(stage, grade, k)] = _full_name(
                    rng, _SURNAME_DEFAULT(rng), rng.random() < 0.5
                )
    return shared


def _full_name(rng: random.Random, surname: str, male: bool, gen_char: str = "") -> str:
    pool = _MALE_POOL if male else _FEMALE_POOL
    if gen_char:
        return surname + gen_char + pool[int(rng.random() * len(pool))]
    if rng.random() < 0.22:
        return surname + pool[int(rng.random() * len(pool))]
    a = pool[int(rng.random() * len(pool))]
    b = pool[int(rng.random() * len(pool))]
    while b == a:
        b = pool[int(rng.random() * len(pool))]
    return surname + a + b


_SURNAME_DEFAULT = _Picker((s, float(w)) for s, w in names.SURNAMES)


# --- one county --------------------------------------------------------------------------


class _County:
    """Everything about one county, built in memory (a county is small) and then emitted."""

    def __init__(
        self,
        spec: _CountySpec,
        scale: _Scale,
        shared: _Shared,
        mess: MessRates,
        excel: bool,
    ) -> None:
        self.spec = spec
        self.scale = scale
        self.shared = shared
        self.mess = mess
        self.excel = excel  # output goes to .xlsx (affects the excel_number mess only)
        self.rng = random.Random(spec.seed)
        self.dates = _dates()
        self.used_bodies: set[str] = set()
        self.used_accounts: set[str] = set()
        self.used_l_numbers: set[str] = set()
        self.area_sum = _area_sum(spec.code)
        self.alt_sum = _area_sum(spec.alt_code)
        self.n_persons = 0
        self.townships: list[_Township] = []
        self.villages: list[_Village] = []
        self.schools: list[_School] = []
        self.households: list[_Household] = []
        self.enrolments: list[_Enrol] = []
        self.high: _School
        self.vocational: _School
        self.special: _School
        rng = self.rng
        local = rng.sample(names.LOCAL_SURNAMES, 6) if rng.random() < 0.7 else []
        weights: dict[str, float] = {s: float(w) for s, w in names.SURNAMES}
        for s in local:
            weights[s] = weights.get(s, 0) + rng.uniform(80, 300)
        self.surname = _Picker(weights.items())
        minority = rng.uniform(0.0, 0.5)
        self.ethnicity = _Picker(
            [
                ("汉族", 1.0 - minority),
                ("土家族", minority * 0.7),
                ("苗族", minority * 0.22),
                ("侗族", minority * 0.08),
            ]
        )

    # -- persons

    def new_id(self, day: int, male: bool, late: bool = False) -> str:
        rng = self.rng
        area, asum = (self.spec.alt_code, self.alt_sum) if late else (self.spec.code, self.area_sum)
        prefix = area + self.dates.compact[day]
        base = asum + self.dates.wsum[day]
        while True:
            seq = int(rng.random() * 500) * 2 + (1 if male else 0)
            body = prefix + _SEQ[seq]
            if body not in self.used_bodies:
                break
        self.used_bodies.add(body)
        return body + _CHECK[(base + _SEQ_SUM[seq]) % 11]

    def new_person(
        self,
        surname: str,
        male: bool,
        age: int,
        relation: str,
        gen_char: str = "",
        with_id: bool = True,
    ) -> _Person:
        rng = self.rng
        lo, hi = _AGE_RANGES[age]
        day = lo + int(rng.random() * (hi - lo + 1))
        late = age <= 8 and rng.random() < 0.03
        id_ = self.new_id(day, male, late) if with_id else ""
        self.n_persons += 1
        key = f"{self.spec.code}-{self.n_persons:07d}"
        return _Person(key, _full_name(rng, surname, male, gen_char), id_, male, day, age, relation)

    # -- areas and schools

    def build_areas(self) -> None:
        rng, spec, scale = self.rng, self.spec, self.scale
        used_names: set[str] = set()

        def place() -> str:
            while True:
                n = rng.choice(names.PLACE_HEADS) + rng.choice(names.PLACE_TAILS)
                if n not in used_names and n[0] != n[1]:
                    used_names.add(n)
                    return n

        n_towns = max(1, (scale.townships + 1) // 2)
        for t in range(scale.townships):
            if t == 0:
                code, name = spec.code + "100", "城关镇"
            elif t < n_towns:
                code, name = f"{spec.code}{100 + t:03d}", place() + "镇"
            else:
                code, name = f"{spec.code}{200 + t - n_towns:03d}", place() + "乡"
            township = _Township(code, name, t == 0)
            township.lon = round(spec.lon + rng.uniform(-0.3, 0.3), 6)
            township.lat = round(spec.lat + rng.uniform(-0.25, 0.25), 6)
            self.townships.append(township)
        # villages per township, the county seat a little larger
        tw = [1.5 if t.seat else rng.uniform(0.7, 1.3) for t in self.townships]
        counts = _apportion(scale.villages, tw)
        for township, count in zip(self.townships, counts, strict=True):
            communities = min(3, count // 5) if township.seat else 0
            for i in range(count):
                if i < communities:
                    code = f"{township.code}{i + 1:03d}"
                    name = township.name[:-1] + _CN_NUM[i] + "社区"
                else:
                    code = f"{township.code}{200 + i - communities + 1:03d}"
                    name = place() + "村"
                v = _Village(code, name, township, False)
                v.population = rng.randint(1500, 3000) if i < communities else rng.randint(300, 900)
                v.lon = round(township.lon + rng.uniform(-0.08, 0.08), 6)
                v.lat = round(township.lat + rng.uniform(-0.08, 0.08), 6)
                township.villages.append(v)
                self.villages.append(v)
        rural = [v for v in self.villages if v.name.endswith("村")]
        outer = [v for v in rural if not v.township.seat]
        candidates = outer if len(outer) >= scale.poor_villages else rural
        for v in rng.sample(candidates, min(scale.poor_villages, len(candidates))):
            v.poor = True

    def build_schools(self) -> None:
        rng, spec, scale = self.rng, self.spec, self.scale
        county = spec.name
        seq = 0

        def add(
            name: str, kind: str, township: _Township, village: str, boarding: bool, cap: int
        ) -> _School:
            nonlocal seq
            seq += 1
            school = _School(
                f"3{spec.code}{seq:03d}", name, kind, township.code, village, boarding, "县内", cap
            )
            r = rng.random()
            school.style = 0 if r < 0.9 else 1 if r < 0.96 else 2
            self.schools.append(school)
            return school

        non_seat = [t for t in self.townships if not t.seat]
        nine_year = set(
            t.code for t in rng.sample(non_seat, min(scale.nine_year_townships, len(non_seat)))
        )
        for township in self.townships:
            short = township.name
            if township.seat:
                township.kg = [
                    add(f"{county}实验幼儿园", "幼儿园", township, "", False, 30),
                    add(f"{county}城关幼儿园", "幼儿园", township, "", False, 30),
                ]
                township.primary = [
                    add(f"{county}实验小学", "小学", township, "", False, 48),
                    add(f"{county}城关小学", "小学", township, "", True, 45),
                ]
                township.junior = [add(f"{county}实验中学", "初级中学", township, "", True, 52)]
                self.high = add(f"{county}第一中学", "普通高中", township, "", True, 56)
                self.vocational = add(
                    f"{county}职业教育中心", "中等职业学校", township, "", True, 45
                )
                self.special = add(f"{county}特殊教育学校", "特殊教育学校", township, "", True, 12)
                continue
            township.kg = [add(f"{short}中心幼儿园", "幼儿园", township, "", False, 30)]
            if township.code in nine_year:
                school = add(f"{short}九年一贯制学校", "九年一贯制学校", township, "", True, 45)
                township.primary = [school]
                township.junior = [school]
            else:
                township.primary = [add(f"{short}中心小学", "小学", township, "", True, 45)]
                township.junior = [add(f"{short}初级中学", "初级中学", township, "", True, 50)]
        rural = [v for v in self.villages if v.name.endswith("村")]
        poor = [v for v in rural if v.poor]
        remote = [v for v in rural if not v.township.seat] or rural
        tps = rng.sample(remote, min(scale.teaching_points, len(remote)))
        rest = [v for v in rural if v not in tps] or rural
        vps = rng.sample(rest, min(scale.village_primaries, len(rest)))
        vks = rng.sample(poor or rural, min(scale.village_kindergartens, len(poor or rural)))
        for v in sorted(tps + vps + vks, key=lambda v: v.code):
            t = v.township
            if v in vks and v.vk is None:
                v.vk = add(f"{t.name}{v.name}幼儿园", "幼儿园", t, v.code, False, 25)
            if v in tps and v.tp is None:
                v.tp = add(f"{t.name}{v.name}教学点", "教学点", t, v.code, False, 15)
            if v in vps and v.vp is None:
                v.vp = add(f"{t.name}{v.name}小学", "小学", t, v.code, False, 40)
        seat = self.townships[0]
        for v in self.villages:
            t = v.township
            v.kg = t.kg
            v.primary = t.primary
            # a sixth of the pupils of outer townships go to the county seat's junior high
            v.junior = t.junior if t.seat else t.junior * 5 + seat.junior[:1]
        # one head teacher per class (a teaching point has one teacher for every grade)
        for school in self.schools:
            if school.kind == "教学点":
                teacher = _full_name(rng, self.surname(rng), rng.random() < 0.6)
                school.teachers[("", 0, 0)] = teacher

    # -- households

    def build_poor_households(self) -> None:
        scale = self.scale
        weights = [
            v.population * (4.0 if v.poor else 0.2 if v.name.endswith("社区") else 1.0)
            for v in self.villages
        ]
        counts = _apportion(scale.poor_households, weights)
        for v, count in zip(self.villages, counts, strict=True):
            for _ in range(count):
                v.seq += 1
                hh = _Household(v, f"{v.code}{v.seq:04d}")
                self._poor_household(hh)
                self.households.append(hh)

    def _poor_household(self, hh: _Household) -> None:
        rng = self.rng
        r = rng.random()
        head_age = (
            _ri(rng, 25, 34)
            if r < 0.15
            else _ri(rng, 35, 44)
            if r < 0.43
            else _ri(rng, 45, 54)
            if r < 0.68
            else _ri(rng, 55, 64)
            if r < 0.85
            else _ri(rng, 65, 82)
        )
        head_male = rng.random() < 0.88
        surname = self.surname(rng)
        hh.ethnicity = self.ethnicity(rng)
        head = self.new_person(surname, head_male, head_age, "户主")
        members = [head]
        spouse: _Person | None = None
        if rng.random() < (0.86 if head_age < 60 else 0.62):
            gap = _ri(rng, -1, 6)
            sp_age = min(92, max(20, head_age - gap if head_male else head_age + gap))
            spouse = self.new_person(self.surname(rng), not head_male, sp_age, "配偶")
            members.append(spouse)
        mother_age = spouse.age if head_male and spouse else head_age
        kids_surname = surname if head_male or rng.random() < 0.4 else self.surname(rng)
        gen_char = _pick(rng, names.NEUTRAL_CHARS + "家子文嘉思") if rng.random() < 0.25 else ""
        r = rng.random()
        n_kids = 0 if r < 0.07 else 1 if r < 0.33 else 2 if r < 0.74 else 3 if r < 0.94 else 4
        grand_parent: _Person | None = None
        children: list[_Person] = []
        for _ in range(n_kids):
            age = mother_age - _ri(rng, 19, 36)
            if age < 0:
                continue
            if age > 23 and rng.random() < 0.7:
                continue  # grown up and registered elsewhere
            male = rng.random() < 0.53
            kid = self.new_person(
                kids_surname, male, age, "之子" if male else "之女", gen_char if age < 30 else ""
            )
            members.append(kid)
            children.append(kid)
        # grandchildren, often left behind with grandparents
        adult_sons = [k for k in children if k.male and k.age >= 21]
        if head_age >= 46 and (adult_sons or rng.random() < 0.35) and rng.random() < 0.7:
            parent_age = adult_sons[0].age if adult_sons else head_age - _ri(rng, 22, 30)
            gsurname = adult_sons[0].name[0] if adult_sons else kids_surname
            if adult_sons and rng.random() < 0.5:
                members.append(
                    self.new_person(self.surname(rng), False, max(20, parent_age - 2), "之儿媳")
                )
            for _ in range(_pick(rng, (1, 1, 2, 2, 3))):
                age = parent_age - _ri(rng, 19, 32)
                if 0 <= age <= 17:
                    male = rng.random() < 0.53
                    members.append(
                        self.new_person(gsurname, male, age, "之孙子" if male else "之孙女")
                    )
            grand_parent = head
        # the head's parents
        elders: list[_Person] = []
        if head_age <= 50 and rng.random() < 0.3:
            f_age = min(90, head_age + _ri(rng, 22, 32))
            if rng.random() < 0.6:
                elders.append(self.new_person(surname, True, f_age, "之父"))
            if rng.random() < 0.8:
                elders.append(self.new_person(self.surname(rng), False, min(90, f_age - 2), "之母"))
            members.extend(elders)
        for m in members:
            m.hh = hh
            m.ethnicity = hh.ethnicity if rng.random() < 0.9 else self.ethnicity(rng)
            is_child = m.age < 18
            if rng.random() < (0.02 if is_child else 0.06):
                m.dis_kind = _DISABILITY_KINDS(rng)
                m.dis_grade = _pick(rng, (1, 2, 2, 3, 3, 3, 4, 4, 4))
            if is_child:
                m.left_behind = rng.random() < 0.2
                if m.relation in ("之孙子", "之孙女"):
                    m.guardian = grand_parent or head
                elif m.left_behind and elders:
                    m.guardian = elders[-1]
                elif m.relation in ("户主", "配偶"):
                    m.guardian = None
                else:
                    m.guardian = spouse if spouse and rng.random() < 0.3 else head
        hh.members = members
        # household fields
        r = rng.random()
        hh.reg_year = 2014 if r < 0.72 else 2015 if r < 0.88 else 2016
        r = rng.random()
        if r < 0.006:
            hh.status = "已清退"
        elif r < 0.31:
            hh.status = "已脱贫"
            hh.exit_year = 2017 if hh.reg_year == 2016 or rng.random() < 0.6 else 2016
        else:
            hh.status = "在册"
        disabled = any(m.dis_kind for m in members)
        hh.cause = "因残" if disabled and rng.random() < 0.5 else _POVERTY_CAUSES(rng)
        hh.dibao = rng.random() < 0.25
        if rng.random() >= 0.02:
            bank, prefix, _ = _BANKS[int(_BANK_PICKER(rng))]
            while True:
                body = prefix + "".join(str(int(rng.random() * 10)) for _ in range(12))
                if body not in self.used_accounts:
                    break
            self.used_accounts.add(body)
            hh.bank = bank
            hh.account = body + _luhn(body)
        if rng.random() >= 0.03:
            hh.phone = _pick(rng, _PHONE_PREFIXES) + f"{int(rng.random() * 1e8):08d}"

    def _nonpoor_household(self, village: _Village) -> _Household:
        rng = self.rng
        hh = _Household(village, "")
        parent_age = _ri(rng, 24, 52)
        male = rng.random() < 0.75
        surname = self.surname(rng)
        head = self.new_person(surname, male, parent_age, "户主")
        hh.members = [head]
        r = rng.random()
        n_kids = 1 if r < 0.38 else 2 if r < 0.85 else 3
        kids_surname = surname if male or rng.random() < 0.3 else self.surname(rng)
        gen_char = _pick(rng, names.NEUTRAL_CHARS + "家子文嘉思") if rng.random() < 0.2 else ""
        mother_age = parent_age + (_ri(rng, -5, 1) if male else 0)
        for _ in range(n_kids):
            age = mother_age - _ri(rng, 20, 38)
            if age < 0 or age > 24:
                continue
            male_kid = rng.random() < 0.53
            with_id = not (age <= 5 and rng.random() < 0.02) and rng.random() >= 0.002
            kid = self.new_person(
                kids_surname,
                male_kid,
                age,
                "之子" if male_kid else "之女",
                gen_char,
                with_id=with_id,
            )
            kid.hh = hh
            if rng.random() < 0.004:
                kid.dis_kind = _DISABILITY_KINDS(rng)
                kid.dis_grade = _pick(rng, (1, 2, 3, 4))
            hh.members.append(kid)
        head.hh = hh
        return hh

    def build_enrolments(self) -> None:
        rng, scale = self.rng, self.scale
        for hh in self.households:
            for m in hh.members:
                self._place(m, True, hh.village)
        weights = [float(v.population) for v in self.villages]
        picker = _Picker((str(i), w) for i, w in enumerate(weights))
        while len(self.enrolments) < scale.enrolments:
            village = self.villages[int(picker(rng))]
            hh = self._nonpoor_household(village)
            for m in hh.members[1:]:
                self._place(m, False, village)

    def _place(self, p: _Person, poor: bool, v: _Village) -> None:
        rng = self.rng
        age = p.age
        if age < 3 or age > 22:
            return
        r = rng.random()
        e = age + 1 if r < 0.02 else age - 1 if r < 0.12 else age
        school: _School
        if e < 3:
            return
        severe = p.dis_kind in ("智力", "多重", "精神") and p.dis_grade <= 2
        if e <= 5:
            rate = (0.62, 0.82, 0.92)[e - 3] * (0.94 if poor else 1.0)
            if severe or rng.random() >= rate:
                return
            school = v.vk if v.vk and rng.random() < 0.75 else _pick(rng, v.kg)
            stage, grade = "学前", e - 2
        elif e <= 14:
            missing = 0.015 if poor else 0.005
            if severe:
                missing = 0.5
            if rng.random() < missing:
                return
            stage, grade = ("小学", e - 5) if e <= 11 else ("初中", e - 11)
            if p.dis_kind in ("智力", "听力", "视力", "多重") and rng.random() < 0.55:
                school = self.special
            elif rng.random() < (0.03 if poor else 0.06):
                school = self.shared.city_primary if stage == "小学" else self.shared.city_junior
            elif stage == "初中":
                school = _pick(rng, v.junior)
            elif grade <= 3 and v.tp and rng.random() < 0.8:
                school = v.tp
            elif v.vp and rng.random() < 0.82:
                school = v.vp
            else:
                school = _pick(rng, v.primary)
        elif e <= 17:
            r = rng.random()
            if severe:
                return
            high, voc = (0.45, 0.33) if poor else (0.55, 0.25)
            if r < high:
                school, stage = self.high, "高中"
            elif r < high + voc:
                school, stage = self.vocational, "中职"
            else:
                return  # left school after junior high (两后生) or finished
            grade = e - 14
        else:
            if e > 21 or severe or rng.random() >= (0.32 if poor else 0.38):
                return
            unis = (
                self.shared.universities_in if rng.random() < 0.75 else self.shared.universities_out
            )
            school, stage, grade = _pick(rng, unis), "大学", e - 17
        en = _Enrol(p, school, stage, grade)
        # statuses
        r = rng.random()
        drop = {"初中": 0.012, "高中": 0.02, "中职": 0.025, "小学": 0.002}.get(stage, 0.003)
        if not poor:
            drop /= 2
        if r < drop:
            en.status = "辍学"
        elif r < drop + 0.003:
            en.status = "休学"
        elif r < drop + 0.007 and school.location == "县内":
            en.status = "转出"
        if en.status != "在读":
            en.status_day = _day(2018, 9, 10) + int(rng.random() * 200)
        # boarding
        if school.boarding:
            kind = school.kind
            if stage == "大学":
                pb = 1.0
            elif stage == "小学":
                pb = 0.05 if grade <= 3 else 0.35
            elif stage == "初中":
                pb = 0.65
            elif kind == "普通高中":
                pb = 0.85
            elif kind == "特殊教育学校":
                pb = 0.6
            else:
                pb = 0.75
            if v.poor:
                pb *= 1.25
            if p.left_behind:
                pb *= 1.2
            en.boarding = rng.random() < pb
        # date the student entered this school
        start_year = SCHOOL_YEAR - grade + 1
        r = rng.random()
        en.enrolled_on = (
            _day(start_year, 9, 1)
            if r < 0.9
            else _day(start_year, 8, 30 + int(rng.random() * 2))
            if r < 0.95
            else _day(start_year, 9, 2 + int(rng.random() * 20))
        )
        self.enrolments.append(en)

    # -- classes

    def assign_classes(self) -> list[_Enrol]:
        rng = self.rng
        order = {s.code: i for i, s in enumerate(self.schools)}
        for i, s in enumerate(self.shared.all()):
            order[s.code] = len(self.schools) + i
        groups: dict[tuple[int, int, int], list[_Enrol]] = {}
        for en in self.enrolments:
            key = (order[en.school.code], _STAGE_ORDER[en.stage], en.grade)
            groups.setdefault(key, []).append(en)
        out: list[_Enrol] = []
        for key in sorted(groups):
            members = groups[key]
            rng.shuffle(members)
            school = members[0].school
            if school.location != "县内":
                k = 8 if school.kind == "高等学校" else 6
                for en in members:
                    en.class_no = 1 + int(rng.random() * k)
            elif school.kind == "教学点":
                for en in members:
                    en.class_no = 1
            else:
                k = max(1, math.ceil(len(members) / school.cap))
                for i, en in enumerate(members):
                    en.class_no = i % k + 1
            members.sort(key=lambda en: en.class_no)
            out.extend(members)
        return out

    def class_name(self, en: _Enrol) -> str:
        kind = en.school.kind
        if en.stage == "初中" and kind in ("九年一贯制学校", "特殊教育学校"):
            return f"{_CN_NUM[en.grade + 5]}年级{en.class_no}班"
        return f"{en.class_no}班"

    def teacher(self, en: _Enrol) -> str:
        school = en.school
        if school.kind == "教学点":
            return school.teachers[("", 0, 0)]
        key = (en.stage, en.grade, en.class_no)
        name = school.teachers.get(key)
        if name is None:
            name = _full_name(self.rng, self.surname(self.rng), self.rng.random() < 0.4)
            school.teachers[key] = name
        return name

    # -- emit rows

    def build(self) -> None:
        self.build_areas()
        self.build_schools()
        self.build_poor_households()
        self.build_enrolments()

    def area_rows(self) -> list[list[Cell]]:
        spec = self.spec
        rows: list[list[Cell]] = [[spec.code, spec.name, "县", "", "", spec.lon, spec.lat]]
        for t in self.townships:
            rows.append([t.code, t.name, "乡镇", spec.code, "", t.lon, t.lat])
        for t in self.townships:
            for v in t.villages:
                rows.append([v.code, v.name, "村", t.code, _yn(v.poor), v.lon, v.lat])
        return rows

    def school_rows(self) -> list[list[Cell]]:
        return [s.row() for s in self.schools]

    def registry_rows(self) -> list[list[Cell]]:
        dates = self.dates
        rows: list[list[Cell]] = []
        for hh in self.households:
            head: list[Cell] = [
                hh.no,
                hh.village.code,
                hh.reg_year,
                hh.status,
                hh.exit_year or "",
                hh.cause,
                _yn(hh.dibao),
                hh.bank,
                hh.account,
            ]
            for m in hh.members:
                child = m.age < 18
                g = m.guardian
                rows.append(
                    [
                        *head,
                        m.name,
                        m.id,
                        "男" if m.male else "女",
                        dates.iso[m.day],
                        m.relation,
                        m.ethnicity,
                        m.dis_kind,
                        m.dis_grade or "",
                        _yn(m.left_behind) if child else "",
                        g.name if g else "",
                        g.id if g else "",
                        hh.phone,
                    ]
                )
        return rows

    def _fmt(self, day: int, style: int, ymd: tuple[int, int, int] | None = None) -> str:
        y, m, d = ymd or self.dates.ymd[day]
        if style == 0:
            return f"{y:04d}-{m:02d}-{d:02d}"
        if style == 1:
            return f"{y}/{m}/{d}"
        return f"{y}年{m}月{d}日"

    def roll_rows(self) -> tuple[list[list[Cell]], list[list[Cell]]]:
        """Return (rolls rows, truth rows), in the same order."""
        rng, mess, dates = self.rng, self.mess, self.dates
        ordered = self.assign_classes()
        # Rolls may carry the ID of a household member, but never one that has its own
        # roll row: two active enrolments for one ID would make the whole file invalid.
        on_roll = {en.person.id for en in ordered if en.person.id}
        swap_p = min(1.0, mess.day_month_swap / (132 / 365))
        rolls: list[list[Cell]] = []
        truth: list[list[Cell]] = []
        school_day = _day(SCHOOL_YEAR, 9, 1)
        for en in ordered:
            p = en.person
            school = en.school
            hh = p.hh
            in_registry = bool(hh and hh.no)
            style = school.style
            applied: list[str] = []
            id_cell: Cell = p.id
            name = p.name
            ymd = dates.ymd[p.day]
            if p.id:
                roll_no = "G" + p.id
                if mess.sibling_id and rng.random() < mess.sibling_id:
                    other = self._sibling(p, on_roll)
                    if other:
                        id_cell = other
                        on_roll.add(other)
                        applied.append("sibling_id")
                if mess.id_typo and rng.random() < mess.id_typo:
                    s = str(id_cell)
                    pos = int(rng.random() * 17)
                    digit = str((int(s[pos]) + 1 + int(rng.random() * 9)) % 10)
                    typed = s[:pos] + digit + s[pos + 1 :]
                    # An invalid ID ending in 000 reads as one Excel rounded (the import refuses
                    # it, as it should); a clerk's typo must not look like that.
                    if not typed.endswith("000"):
                        id_cell = typed
                        applied.append("id_typo")
                if mess.missing_id and rng.random() < mess.missing_id:
                    id_cell = ""
                    applied = [a for a in applied if a not in ("sibling_id", "id_typo")]
                    applied.append("missing_id")
                if (
                    mess.excel_number
                    and id_cell
                    and str(id_cell)[-1] != "X"
                    and rng.random() < mess.excel_number
                ):
                    number = float(int(str(id_cell)[:15]) * 1000)
                    id_cell = number if self.excel else f"{number:.5E}"
                    applied.append("excel_number")
            else:
                roll_no = self._l_number(p)
            if mess.homophone and rng.random() < mess.homophone:
                alt = _homophone(rng, name)
                if alt:
                    name = alt
                    applied.append("homophone")
            y, m, d = ymd
            if d <= 12 and d != m and mess.day_month_swap and rng.random() < swap_p:
                ymd = (y, d, m)
                applied.append("day_month_swap")
            if in_registry and hh is not None:
                flag_p = 0.15 if hh.status == "已清退" else 0.92
            else:
                flag_p = 0.006
            rolls.append(
                [
                    roll_no,
                    name,
                    id_cell,
                    "男" if p.male else "女",
                    self._fmt(p.day, style, ymd),
                    school.code,
                    SCHOOL_YEAR,
                    en.stage,
                    en.grade,
                    self.class_name(en),
                    self.teacher(en),
                    _yn(en.boarding),
                    en.status,
                    self._fmt(en.status_day or school_day, style),
                    self._fmt(en.enrolled_on, style),
                    _yn(rng.random() < flag_p),
                ]
            )
            truth.append(
                [
                    roll_no,
                    p.id,
                    p.key,
                    "true" if in_registry else "false",
                    hh.no if hh else "",
                    ",".join(k for k in MESS_KINDS if k in applied),
                ]
            )
        return rolls, truth

    def _sibling(self, p: _Person, on_roll: set[str]) -> str:
        hh = p.hh
        if hh is None:
            return ""
        others = [m for m in hh.members if m is not p and m.id and m.id not in on_roll]
        if not others:
            return ""
        kids = ("之子", "之女") if p.relation in ("之子", "之女") else ("之孙子", "之孙女")
        siblings = [m for m in others if m.relation in kids]
        return self.rng.choice(siblings or others).id

    def _l_number(self, p: _Person) -> str:
        while True:
            n = f"L{self.spec.code}{self.dates.compact[p.day]}{int(self.rng.random() * 1e4):04d}"
            if n not in self.used_l_numbers:
                self.used_l_numbers.add(n)
                return n


def _homophone(rng: random.Random, name: str) -> str:
    """Replace one character of the given name by a homophone; '' if none is known."""
    positions = [i for i in range(1, len(name)) if name[i] in names.HOMOPHONES]
    if not positions:
        return ""
    i = rng.choice(positions)
    return name[:i] + rng.choice(names.HOMOPHONES[name[i]]) + name[i + 1 :]


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    counts = [int(x) for x in raw]
    rest = total - sum(counts)
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[:rest]:
        counts[i] += 1
    return counts


# --- writers -----------------------------------------------------------------------------


def _county_spec(seed: int) -> _CountySpec:
    return _CountySpec(0, "422827", "422807", "清溪县", 109.31, 29.98, seed)


def _province_specs(seed: int, counties: int) -> list[_CountySpec]:
    rng = random.Random(seed)
    specs: list[_CountySpec] = []
    used: set[str] = set()
    for i in range(counties):
        prefecture, k = divmod(i, 10)
        pref = f"42{20 + prefecture:02d}"
        while True:
            name = rng.choice(names.COUNTY_HEADS) + rng.choice(names.COUNTY_TAILS)
            if name[0] != name[1] and name not in used:
                used.add(name)
                break
        specs.append(
            _CountySpec(
                i,
                f"{pref}{21 + k:02d}",
                f"{pref}{1 + k:02d}",
                name + "县",
                round(108.5 + rng.uniform(0, 7), 6),
                round(29.2 + rng.uniform(0, 4), 6),
                seed * 1_000_003 + i + 1,
            )
        )
    return specs


_CREATED = datetime(2018, 9, 10, 8, 0, tzinfo=UTC)


def _write_xlsx(
    path: Path,
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    title: str = "",
    subtitle: str = "",
    note: str = "",
    text_cols: Iterable[int] = (),
    progress: Progress | None = None,
    stage: str = "",
) -> None:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    # a fixed creation time keeps the bytes identical from run to run
    wb.set_properties({"created": _CREATED, "author": "jingzhun demo"})
    ws = wb.add_worksheet("Sheet1")
    bold = wb.add_format({"bold": True, "border": 1, "align": "center", "bg_color": "#DDEBF7"})
    title_fmt = wb.add_format({"bold": True, "font_size": 16, "align": "center"})
    text_fmt = wb.add_format({"num_format": "@"})
    last = len(headers) - 1
    text = set(text_cols)
    for c, h in enumerate(headers):
        width = max(8, 2 * len(h) + 2)
        ws.set_column(c, c, 20 if c in text else width, text_fmt if c in text else None)
    r = 0
    if title:
        ws.merge_range(r, 0, r, last, title, title_fmt)
        r += 1
    if subtitle:
        ws.merge_range(r, 0, r, last, subtitle)
        r += 1
    for c, h in enumerate(headers):
        ws.write_string(r, c, h, bold)
    r += 1
    total = len(rows)
    for i, row in enumerate(rows):
        for c, v in enumerate(row):
            if isinstance(v, str):
                if v:
                    ws.write_string(r, c, v)
            else:
                ws.write_number(r, c, v)
        r += 1
        if progress and (i + 1) % 10000 == 0:
            progress(stage, i + 1, total)
    if note:
        ws.write_string(r, 0, note)
    wb.close()
    if progress:
        progress(stage, total, total)


def _fmt_cell(v: Cell) -> str:
    return v if isinstance(v, str) else str(v)


def _write_csv(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(headers)
        w.writerows([_fmt_cell(v) for v in row] for row in rows)


def _generate_county(
    *, seed: int, scale: _Scale, out: Path, mess: MessRates, progress: Progress | None
) -> dict[str, Path]:
    spec = _county_spec(seed)
    shared = _shared_schools(random.Random(seed ^ 0x5EED), "42")
    county = _County(spec, scale, shared, mess, excel=True)
    county.build()
    if progress:
        progress("build", 1, 1)
    paths = {kind: out / f"{kind}.xlsx" for kind in KINDS}
    paths["truth"] = out / "truth.csv"
    _write_xlsx(paths["areas"], AREA_HEADERS, county.area_rows(), text_cols=(0, 3))
    if progress:
        progress("areas", 1, 1)
    _write_xlsx(
        paths["schools"],
        SCHOOL_HEADERS,
        county.school_rows() + [s.row() for s in shared.all()],
        text_cols=(0, 3, 4),
    )
    if progress:
        progress("schools", 1, 1)
    _write_xlsx(
        paths["registry"],
        REGISTRY_HEADERS,
        county.registry_rows(),
        title=f"{spec.name}{SCHOOL_YEAR}年建档立卡贫困人口信息表",
        subtitle=f"填报单位：{spec.name}扶贫开发办公室　　　　数据截至：{SCHOOL_YEAR}年8月31日",
        note=f"注：本表由{spec.name}扶贫办提供，仅限教育资助工作使用，不得外传。",
        text_cols=(0, 1, 8, 10, 19, 20),
        progress=progress,
        stage="registry",
    )
    rolls, truth = county.roll_rows()
    _write_xlsx(
        paths["rolls"],
        ROLL_HEADERS,
        rolls,
        title=f"{spec.name}{SCHOOL_YEAR}-{SCHOOL_YEAR + 1}学年学生学籍信息表",
        note=f"注：本表由{spec.name}教育局学籍管理系统导出，含本县户籍在县外就读学生。",
        text_cols=(0, 2, 5),
        progress=progress,
        stage="rolls",
    )
    _write_csv(paths["truth"], TRUTH_HEADERS, truth)
    if progress:
        progress("truth", 1, 1)
    return paths


def _county_csv_chunks(
    spec: _CountySpec, scale: _Scale, shared: _Shared, mess: MessRates
) -> dict[str, str]:
    """Build one county and return its rows as CSV text (no header), by kind."""
    county = _County(spec, scale, shared, mess, excel=False)
    county.build()
    rolls, truth = county.roll_rows()
    parts = {
        "areas": county.area_rows(),
        "schools": county.school_rows(),
        "registry": county.registry_rows(),
        "rolls": rolls,
        "truth": truth,
    }
    out: dict[str, str] = {}
    for kind, rows in parts.items():
        buf = io.StringIO()
        csv.writer(buf).writerows([_fmt_cell(v) for v in row] for row in rows)
        out[kind] = buf.getvalue()
    return out


def _chunks_in_order(
    specs: Sequence[_CountySpec],
    scale: _Scale,
    shared: _Shared,
    mess: MessRates,
    workers: int,
) -> Iterator[dict[str, str]]:
    """Yield each county's CSV chunks in county order, built by up to ``workers`` processes.

    Counties are independent (own seed, own area codes), so the output does not depend on
    the number of workers. At most ``2 * workers`` finished counties wait in memory.
    """
    if workers <= 1 or len(specs) <= 1:
        for spec in specs:
            yield _county_csv_chunks(spec, scale, shared, mess)
        return
    # spawn, not fork: the caller may be a Django process with open connections and threads
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: deque[Future[dict[str, str]]] = deque()
        todo = iter(specs)
        for spec in todo:
            pending.append(pool.submit(_county_csv_chunks, spec, scale, shared, mess))
            if len(pending) >= 2 * workers:
                break
        while pending:
            chunk = pending.popleft().result()
            spec_next = next(todo, None)
            if spec_next is not None:
                pending.append(pool.submit(_county_csv_chunks, spec_next, scale, shared, mess))
            yield chunk


def _generate_province(
    *,
    seed: int,
    out: Path,
    mess: MessRates,
    progress: Progress | None,
    counties: int = PROVINCE_COUNTIES,
    county_scale: _Scale | None = None,
    workers: int | None = None,
) -> dict[str, Path]:
    """Stream a province county by county to CSV files; memory holds a few counties at most."""
    scale = county_scale or _SCALES["county"]
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    shared = _shared_schools(random.Random(seed ^ 0x5EED), "42")
    specs = _province_specs(seed, counties)
    out.mkdir(parents=True, exist_ok=True)
    paths = {kind: out / f"{kind}.csv" for kind in KINDS}
    files = {kind: paths[kind].open("w", encoding="utf-8", newline="") for kind in KINDS}
    try:
        for kind, f in files.items():
            csv.writer(f).writerow(HEADERS[kind])
        csv.writer(files["schools"]).writerows(
            [_fmt_cell(v) for v in s.row()] for s in shared.all()
        )
        for i, chunks in enumerate(_chunks_in_order(specs, scale, shared, mess, workers)):
            for kind, text in chunks.items():
                files[kind].write(text)
            if progress:
                progress("county", i + 1, len(specs))
    finally:
        for f in files.values():
            f.close()
    return paths


def generate(
    *,
    seed: int,
    scale: str,
    out: Path,
    mess: MessRates = MessRates(),  # noqa: B008 - frozen dataclass, safe as a default
    progress: Progress | None = None,
    layout: str = "standard",
) -> dict[str, Path]:
    """Generate the demo files into ``out`` and return their paths by kind.

    ``scale`` is ``"county"`` (one county, .xlsx files), ``"province"`` (100 counties,
    streamed to .csv files) or ``"tiny"`` (one township, for tests). The output is
    deterministic for a given seed.

    ``layout`` is ``"standard"`` (the import formats of docs/formats.md) or ``"national"``
    (the files national systems export, see :mod:`jingzhun.demo.national`; county or tiny
    scale only).
    """
    if layout not in ("standard", "national"):
        raise ValueError(f"unknown layout {layout!r}: use standard or national")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if layout == "national":
        if scale not in _SCALES:
            raise ValueError(f"the national layout needs scale county or tiny, not {scale!r}")
        from jingzhun.demo.national import generate_national

        return generate_national(
            seed=seed, scale=_SCALES[scale], out=out, mess=mess, progress=progress
        )
    if scale == "province":
        return _generate_province(seed=seed, out=out, mess=mess, progress=progress)
    if scale not in _SCALES:
        raise ValueError(f"unknown scale {scale!r}: use county, province or tiny")
    return _generate_county(seed=seed, scale=_SCALES[scale], out=out, mess=mess, progress=progress)
