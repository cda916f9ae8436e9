"""The demo generator's vocabulary: file headers, mess rates, scales and the county model.

Plain classes with ``__slots__`` (a county holds ~100,000 persons); the builders that fill
them live in :mod:`.places`, :mod:`.people` and :mod:`.rolls`.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from jingzhun.demo import names
from jingzhun.demo.generator.dates import BASE_YEAR

T = TypeVar("T")
Progress = Callable[[str, int, int], None]
Cell = str | int | float

# The school year of the frame (see dates.py); kept for code that imported it.
SCHOOL_YEAR = BASE_YEAR
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
