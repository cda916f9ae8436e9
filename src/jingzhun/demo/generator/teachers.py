"""The demo county's teacher roster (``teachers.xlsx``, 教职工花名册) and village-school list.

The roster is the county's own sheet, one row per member of staff of every in-county school,
as a personnel clerk keeps it: a title and a subtitle above the header, a 序号 and a 学校名称
column the import does not need, and columns (:data:`TEACHER_HEADERS`) 姓名, 性别, 身份证号,
出生日期, 学校标识码, 岗位, 任教学科, 职称, 编制, 到校日期, 是否骨干.

Each school is staffed to the national ratios for its pupils on the rolls (primary 19, junior
13.5, senior 12.5 pupils a post, a post more per 40 boarders and for a teaching point; one
teacher per 15 pupils where that gives more, as in kindergartens and vocational schools), with
a post or two to spare, and a principal (teaching points have none: the township's central
school runs them). The principal and the head teachers are the people of the staff roster
(:mod:`.staff`), under the same names.

Planted, so the II.3 figures have something to show (:class:`TeacherPlan` names them):

* :data:`SHORT_SCHOOLS` primary schools and teaching points in poor villages (fewer at tiny
  scale) are left clearly short of staff;
* :data:`BAD_ID_ROWS` rows carry an ID number with a wrong check digit (the clerk's typo):
  the import sets them aside to fix, and the rest lands.

The mess the import handles: 出生日期 or 性别 left blank (read from the ID), dates written
``2015/9/1``, ``2015年9月1日``, ``2015.9.1`` or ``19850312``, title names from before the 2015
reform (小学高级教师, 中学一级教师 …), 编制 and 岗位 written several ways (在编, 编制内, 公办; 特岗,
特岗教师; 代课, 临聘; 专任教师, 任课教师 …), 是否骨干 sometimes blank.

Teachers' resident IDs are valid (GB 11643), born in the county or nearby, and never the same
as any person's of the county files. Every draw comes from a generator of its own (seeded
from the county's seed), after the other files are written, so they do not change with it.

The national layout has no school list: the rolls name the schools, not their villages.
:func:`village_school_rows` is the county's list of its village schools and teaching points
(村小、教学点名单), in the school import's layout, so that they land in their villages.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from jingzhun.demo.generator.county import _County
from jingzhun.demo.generator.dates import _AGE_RANGES, _CHECK, _SEQ, _SEQ_SUM, _area_sum
from jingzhun.demo.generator.model import (
    _BANK_PICKER,
    _BANKS,
    Cell,
    _Enrol,
    _full_name,
    _luhn,
    _pick,
    _ri,
    _School,
    _yn,
)

TEACHER_HEADERS = (
    "序号",
    "姓名",
    "性别",
    "身份证号",
    "出生日期",
    "学校标识码",
    "学校名称",
    "岗位",
    "任教学科",
    "职称",
    "编制",
    "到校日期",
    "是否骨干",
    "开户银行",
    "工资卡号",
)
TEACHERS_SEED_OFFSET = 0x54454143  # "TEAC"
# The staffing standard the county follows (the national ratios, as the settings' defaults).
PUPILS_PER_POST = {"小学": Fraction(19), "初中": Fraction(27, 2), "高中": Fraction(25, 2)}
BOARDERS_PER_POST = 40
TEACHING_POINT_EXTRA_POSTS = 1
PUPILS_PER_TEACHER = 15
SHORT_SCHOOLS = 4
BAD_ID_ROWS = 2
# Birthplaces of teachers born outside the county (codes of the prefecture and the province).
_OTHER_AREAS = ("422801", "422802", "422822", "422823", "422825", "422826", "422828", "420106")
_SUBJECTS = {
    "小学": ("语文", "数学", "语文", "数学", "英语", "科学", "音乐", "体育", "美术", "道德与法治"),
    "初中": ("语文", "数学", "英语", "物理", "化学", "生物", "历史", "地理", "道德与法治", "体育"),
    "高中": (
        "语文",
        "数学",
        "英语",
        "物理",
        "化学",
        "生物",
        "历史",
        "地理",
        "思想政治",
        "信息技术",
    ),
    "幼儿园": ("学前教育", "学前教育", "幼儿教育"),
    "中职": ("汽车运用与维修", "计算机应用", "电子商务", "旅游服务与管理", "语文", "数学"),
    "特殊教育": ("特殊教育", "康复训练", "生活适应"),
    "教学点": ("全科", "语文、数学", "包班"),
}
_STAFFING = {
    # kind of school -> (written 编制, weight); the words are those the import maps
    "urban": (("在编", 80), ("编制内", 8), ("公办", 4), ("合同制", 6), ("聘用", 2)),
    "township": (
        ("在编", 66),
        ("编制内", 6),
        ("特岗", 14),
        ("特岗教师", 6),
        ("代课", 5),
        ("临聘", 3),
    ),
    "village": (
        ("在编", 50),
        ("公办", 6),
        ("特岗", 18),
        ("特岗教师", 6),
        ("代课", 14),
        ("代课教师", 6),
    ),
    "kindergarten": (("在编", 45), ("合同制", 30), ("聘用", 10), ("代课", 10), ("临聘", 5)),
}


@dataclass(frozen=True)
class TeacherPlan:
    """What the roster planted: the schools left short, and the rows with a mistyped ID."""

    short_schools: tuple[str, ...]  # school codes
    bad_id_rows: int
    teachers: int  # rows in a teaching post (teacher or principal), the bad rows included


def required_posts(pupils: dict[str, int], boarders: int, teaching_point: bool) -> int:
    """Return the posts the staffing standard gives a school (as the teachers app computes)."""
    posts = sum((Fraction(n) / PUPILS_PER_POST[stage] for stage, n in pupils.items()), Fraction(0))
    posts += Fraction(boarders, BOARDERS_PER_POST)
    return math.ceil(posts) + (TEACHING_POINT_EXTRA_POSTS if teaching_point else 0)


def _pupils(enrolments: Iterable[_Enrol]) -> dict[str, tuple[dict[str, int], int, int]]:
    """Return {school code: (pupils by counted stage, boarders, all pupils)} of the rolls."""
    out: dict[str, tuple[dict[str, int], int, int]] = {}
    for en in enrolments:
        if en.school.location != "县内" or en.status != "在读":
            continue
        by_stage, boarders, total = out.get(en.school.code, ({}, 0, 0))
        if en.stage in PUPILS_PER_POST:
            by_stage[en.stage] = by_stage.get(en.stage, 0) + 1
            boarders += en.boarding
        out[en.school.code] = (by_stage, boarders, total + 1)
    return out


def _category(county: _County, school: _School) -> str:
    if school.kind == "幼儿园":
        return "kindergarten"
    if school.village:
        return "village"
    seat = county.townships[0].code
    return "urban" if school.township == seat else "township"


def _subjects(school: _School) -> Sequence[str]:
    kind = school.kind
    if kind == "幼儿园":
        return _SUBJECTS["幼儿园"]
    if kind == "教学点":
        return _SUBJECTS["教学点"]
    if kind == "中等职业学校":
        return _SUBJECTS["中职"]
    if kind == "特殊教育学校":
        return _SUBJECTS["特殊教育"]
    if kind == "普通高中":
        return _SUBJECTS["高中"]
    if kind == "初级中学":
        return _SUBJECTS["初中"]
    if kind == "九年一贯制学校":
        return _SUBJECTS["小学"] + _SUBJECTS["初中"]
    return _SUBJECTS["小学"]


class _TeacherRoster:
    def __init__(self, county: _County) -> None:
        self.county = county
        self.rng = random.Random(county.spec.seed + TEACHERS_SEED_OFFSET)
        # Salary cards from their own stream, so that the rest of the roster stays as it was.
        self.cards = random.Random(county.spec.seed + TEACHERS_SEED_OFFSET + 1)
        self.used_cards: set[str] = set()
        self.year = county.school_year

    def new_id(self, age: int, male: bool) -> tuple[str, int]:
        """Return a valid resident ID no person of the county has, and the birth day index."""
        county, rng = self.county, self.rng
        lo, hi = _AGE_RANGES[age]
        area = county.spec.code if rng.random() < 0.75 else _pick(rng, _OTHER_AREAS)
        asum = _area_sum(area)
        while True:
            day = lo + int(rng.random() * (hi - lo + 1))
            seq = int(rng.random() * 500) * 2 + (1 if male else 0)
            body = area + county.dates.compact[day] + _SEQ[seq]
            if body not in county.used_bodies:
                break
        county.used_bodies.add(body)
        return body + _CHECK[(asum + county.dates.wsum[day] + _SEQ_SUM[seq]) % 11], day

    def date_text(self, d: dt.date) -> str:
        r = self.rng.random()
        if r < 0.8:
            return d.isoformat()
        if r < 0.9:
            return f"{d.year}/{d.month}/{d.day}"
        if r < 0.95:
            return f"{d.year}年{d.month}月{d.day}日"
        return f"{d.year}.{d.month}.{d.day}"

    def title(self, age: int, staffing: str, secondary: bool, urban: bool) -> str:
        rng = self.rng
        if staffing in ("代课", "代课教师", "临聘"):
            return _pick(rng, ("无", "未定级", "无"))
        r = rng.random()
        if age < 25:
            level = "none" if r < 0.4 else "second"
        elif age < 35:
            level = "second" if r < 0.5 else "first"
        elif age < 50:
            level = "first" if r < (0.55 if urban else 0.7) else "senior"
        else:
            level = "first" if r < (0.35 if urban else 0.5) else "senior"
            if urban and rng.random() < 0.03:
                return "正高级教师"
        if level == "none":
            return _pick(rng, ("未定级", "未评", "无"))
        if age >= 35 and rng.random() < 0.25:  # the clerk kept the title's pre-2015 name
            old = {
                ("second", False): "小学一级教师",
                ("first", False): "小学高级教师",
                ("senior", False): "高级教师",
                ("second", True): "中学二级教师",
                ("first", True): "中学一级教师",
                ("senior", True): "中学高级教师",
            }
            return old[(level, secondary)]
        if rng.random() < 0.05:
            return {"second": "初级", "first": "中级", "senior": "高级"}[level]
        return {"second": "二级教师", "first": "一级教师", "senior": "高级教师"}[level]

    def row(
        self,
        school: _School,
        category: str,
        name: str,
        male: bool,
        post: str,
        *,
        age: int,
        staffing: str,
        subject: str,
        title: str = "",
        backbone: bool | None = None,
    ) -> list[Cell]:
        rng, year = self.rng, self.year
        id_, day = self.new_id(age, male)
        birth = dt.date(*self.county.dates.ymd[day])
        young = staffing in ("特岗", "特岗教师")
        here = _ri(rng, 0, 2) if young else _ri(rng, 0, max(0, min(age - 22, 24)))
        started = dt.date(year - here, 9, 1)
        if rng.random() < 0.15:
            started = (
                dt.date(year - here, 9, _ri(rng, 2, 20))
                if rng.random() < 0.7
                else dt.date(year - here, 2, _ri(rng, 20, 28))
            )
            started = min(started, dt.date(year, 9, 1))
        secondary = school.kind in ("初级中学", "普通高中", "中等职业学校", "九年一贯制学校")
        title = title or self.title(age, staffing, secondary, category == "urban")
        if backbone is None:
            share = {"urban": 0.16, "township": 0.08}.get(category, 0.05)
            backbone = (
                30 <= age <= 55
                and title
                not in ("无", "未定级", "未评", "二级教师", "小学一级教师", "中学二级教师")
                and rng.random() < share * 2
            )
        r = rng.random()
        birth_text = "" if r < 0.03 else birth.strftime("%Y%m%d") if r < 0.08 else None
        sex = "" if rng.random() < 0.02 else ("男" if male else "女")
        flag = "" if rng.random() < 0.05 else _yn(backbone)
        return [
            0,
            name,
            sex,
            id_,
            self.date_text(birth) if birth_text is None else birth_text,
            school.code,
            school.name,
            post,
            subject,
            title,
            staffing,
            self.date_text(started),
            flag,
            *self.card(),
        ]

    def card(self) -> tuple[str, str]:
        """Return a salary card (bank, number) for the allowance (II.3.4); one in 40 has
        none on the roster yet, and the allowance lists them as not paid."""
        rng = self.cards
        if rng.random() < 0.025:
            return ("", "")
        bank, prefix, _ = _BANKS[int(_BANK_PICKER(rng))]
        while True:
            body = prefix + "".join(str(int(rng.random() * 10)) for _ in range(12))
            if body not in self.used_cards:
                break
        self.used_cards.add(body)
        return (bank, body + _luhn(body))


def _people_of(staff: Iterable[Sequence[Cell]]) -> dict[str, tuple[list[tuple[str, bool]], ...]]:
    """Return {school code: (principals, head teachers)} of the staff roster, as (name, male)."""
    out: dict[str, tuple[list[tuple[str, bool]], ...]] = {}
    for row in staff:
        name, gender, _phone, post, code = (str(c) for c in row[:5])
        if not code or post not in ("校长", "班主任"):
            continue
        principals, heads = out.setdefault(code, ([], []))
        person = (name, gender == "男")
        group = principals if post == "校长" else heads
        if person not in group:
            group.append(person)
    return out


def teacher_rows(
    county: _County, enrolments: Iterable[_Enrol], staff: Iterable[Sequence[Cell]] = ()
) -> tuple[list[list[Cell]], TeacherPlan]:
    """Return the roster rows of every in-county school and what was planted in them.

    ``enrolments`` are the roll rows written (the pupils staffed for), ``staff`` the staff
    roster's rows (its principals and head teachers are taken by name). Call last: the IDs
    drawn are added to the county's, so that none is used twice.
    """
    roster = _TeacherRoster(county)
    rng = roster.rng
    pupils = _pupils(enrolments)
    people = _people_of(staff)
    poor = {v.code for v in county.villages if v.poor}
    schools = [s for s in county.schools if s.location == "县内"]
    candidates = [s for s in schools if s.village in poor and s.kind in ("小学", "教学点")]
    if not candidates:
        candidates = [s for s in schools if s.kind in ("小学", "教学点")]
    wanted = SHORT_SCHOOLS if len(schools) > 20 else 1
    short = {s.code for s in rng.sample(candidates, min(wanted, len(candidates)))}
    rows: list[list[Cell]] = []
    in_post = 0
    for school in schools:
        category = _category(county, school)
        by_stage, boarders, total = pupils.get(school.code, ({}, 0, 0))
        required = required_posts(by_stage, boarders, school.kind == "教学点")
        posts = max(required, math.ceil(total / PUPILS_PER_TEACHER), 1)
        if school.kind == "特殊教育学校":
            posts = max(posts, 4)
        if school.code in short:
            posts = max(1, required - max(1 if required < 3 else 2, round(required * 0.35)))
        else:
            posts += 1 + int(rng.random() * 3)
        principals, heads = people.get(school.code, ([], []))
        subjects = _subjects(school)
        staffing = _STAFFING[category]
        school_rows: list[list[Cell]] = []
        if school.kind != "教学点":
            name, male = principals[0] if principals else (roster_person(county, rng, 0.75))
            school_rows.append(
                roster.row(
                    school,
                    category,
                    name,
                    male,
                    "校长",
                    age=_ri(rng, 42, 57),
                    staffing=_pick(rng, ("在编", "在编", "编制内")),
                    subject=_pick(rng, subjects),
                    backbone=rng.random() < 0.5,
                )
            )
            if posts >= 30:
                name, male = roster_person(county, rng, 0.6)
                school_rows.append(
                    roster.row(
                        school,
                        category,
                        name,
                        male,
                        "副校长",
                        age=_ri(rng, 38, 55),
                        staffing="在编",
                        subject=_pick(rng, subjects),
                    )
                )
        names = list(heads)
        while len(school_rows) < posts:
            name, male = names.pop(0) if names else roster_person(county, rng, 0.35)
            written = _weighted(rng, staffing)
            young = written in ("特岗", "特岗教师")
            age = _ri(rng, 22, 30) if young else _age(rng)
            if written in ("代课", "代课教师", "临聘") and age < 30:
                age = _ri(rng, 30, 58)
            post = _pick(rng, ("专任教师",) * 7 + ("教师",) * 2 + ("任课教师",))
            school_rows.append(
                roster.row(
                    school,
                    category,
                    name,
                    male,
                    post,
                    age=age,
                    staffing=written,
                    subject=_pick(rng, subjects),
                )
            )
        in_post += len(school_rows)
        if posts >= 20:
            for _ in range(1 + int(rng.random() * 2)):  # staff outside the teaching posts
                name, male = roster_person(county, rng, 0.5)
                school_rows.append(
                    roster.row(
                        school,
                        category,
                        name,
                        male,
                        _pick(rng, ("工勤", "职员")),
                        age=_ri(rng, 30, 58),
                        staffing=_pick(rng, ("在编", "合同制")),
                        subject="",
                        title="无",
                        backbone=False,
                    )
                )
        head, rest = school_rows[:1], school_rows[1:]
        rng.shuffle(rest)
        rows.extend(head + rest)
    # the clerk's typos: an extra teacher at the largest schools, the check digit wrong
    large = sorted(schools, key=lambda s: (-pupils.get(s.code, ({}, 0, 0))[2], s.code))
    bad = min(BAD_ID_ROWS if len(schools) > 20 else 1, len(large))
    for school in large[:bad]:
        name, male = roster_person(county, rng, 0.4)
        row = roster.row(
            school,
            _category(county, school),
            name,
            male,
            "专任教师",
            age=_age(rng),
            staffing="在编",
            subject=_pick(rng, _subjects(school)),
        )
        id_ = str(row[3])
        row[3] = id_[:17] + next(c for c in _CHECK if c != id_[17])
        row[2] = "男" if male else "女"
        row[4] = ""
        rows.append(row)
        in_post += 1
    for i, row in enumerate(rows, start=1):
        row[0] = i
    return rows, TeacherPlan(tuple(sorted(short)), bad, in_post)


def roster_person(county: _County, rng: random.Random, male_share: float) -> tuple[str, bool]:
    """Return a new name of the county's surnames, and whether the person is a man."""
    male = rng.random() < male_share
    return _full_name(rng, county.surname(rng), male), male


def _age(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.2:
        return _ri(rng, 22, 29)
    if r < 0.45:
        return _ri(rng, 30, 39)
    if r < 0.78:
        return _ri(rng, 40, 49)
    return _ri(rng, 50, 59)


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    total = sum(w for _, w in pairs)
    r = rng.random() * total
    for word, weight in pairs:
        r -= weight
        if r < 0:
            return word
    return pairs[-1][0]


def village_school_rows(county: _County, exported_villages: set[str]) -> list[list[Cell]]:
    """Return the county's village schools and teaching points in the school import's layout.

    A village whose households are not in the registry export has no code the platform
    knows: its schools are listed without one.
    """
    rows: list[list[Cell]] = []
    for school in county.schools:
        if not school.village:
            continue
        row = school.row()
        if school.village not in exported_villages:
            row[4] = ""
        rows.append(row)
    return rows
