"""The demo county as the files a real county holds, exported by national systems.

``generate(..., layout="national")`` builds the same county model as the standard layout
(:class:`jingzhun.demo.generator._County`) and writes it the way the national systems
export it, with the mess such exports carry:

* ``registry.xlsx``: the poverty-alleviation system's person export (全县全字段), two
  title rows, then the header; IDs sometimes blank, mangled into numbers by Excel or
  replaced by the disability-card number; a stale 在校生状况 for some children.
* ``rolls.csv``: the student-roll system's export (GBK), in-county schools, enrolled
  students only, with the roll mess of the standard layout plus duplicate records.
* ``university.xlsx``: the aid office's list of university students (most of them).
* ``outside.xlsx``: receiving schools' confirmations for children studying outside the
  county below university (most of them).
* ``poor-villages.xlsx``: the county's poor villages.
* ``truth-links.csv`` and ``truth-children.csv``: who each roll row really is, and what
  each registry child really does.
* ``staff.xlsx``: the staff roster of the duty chain (see :mod:`jingzhun.demo.generator.staff`).
* ``village-schools.xlsx``: the county's list of its village schools and teaching points, in
  the school import's layout (the rolls name schools, not their villages), and
  ``teachers.xlsx``: the county's teacher roster (see :mod:`jingzhun.demo.generator.teachers`).

All dates move with the school year asked for (``school_year``), as in the standard layout.

Every random draw added here comes from its own ``random.Random`` (seeded from the run's
seed), never from the county's generator, so the standard layout is unaffected.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jingzhun.demo.generator import (
    _W,
    BASE_YEAR,
    Cell,
    MessRates,
    Progress,
    _County,
    _county_spec,
    _Enrol,
    _Person,
    _Scale,
    _School,
    _shared_schools,
    _write_xlsx,
    _yn,
    created_at,
    shift_date,
    staff_rows,
)
from jingzhun.demo.generator.model import SCHOOL_HEADERS
from jingzhun.demo.generator.staff import STAFF_HEADERS
from jingzhun.demo.generator.teachers import village_school_rows
from jingzhun.demo.generator.writers import write_teachers

NATIONAL_SEED_OFFSET = 0x4E415449  # "NATI"
# In the frame of school year 2018 (see jingzhun.demo.generator.dates); moved with the year.
EXPORT_DATE = "2018-09-20"
AS_OF = (2018, 10, 8)


def export_date(school_year: int) -> str:
    """Return the date the national systems' files were exported, in a school year."""
    return shift_date(dt.date.fromisoformat(EXPORT_DATE), school_year - BASE_YEAR).isoformat()


def as_of(school_year: int) -> tuple[int, int, int]:
    """Return the truth's as-of day (year, month, day) in a school year."""
    day = shift_date(dt.date(*AS_OF), school_year - BASE_YEAR)
    return day.year, day.month, day.day


REGISTRY_HEADERS = (
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
)
ROLL_HEADERS = (
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
)
UNIVERSITY_HEADERS = ("姓名", "身份证号", "录取学校", "学校所在省份", "层次", "年级", "是否新生")
OUTSIDE_HEADERS = ("姓名", "身份证号", "就读学校", "学校所在地", "学段", "年级", "学年")
POOR_VILLAGE_HEADERS = ("乡（镇）", "行政村", "村代码")
TRUTH_LINK_HEADERS = ("roll_number", "person_no", "mess")
TRUTH_CHILD_HEADERS = ("person_no", "household_no", "birth_date", "age", "true_status", "detail")
KINDS = (
    "registry",
    "rolls",
    "university",
    "outside",
    "poor_villages",
    "truth_links",
    "truth_children",
    "staff",
    "village_schools",
    "teachers",
)
FILE_NAMES = {
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
# The county's files as `jingzhun import` takes them (kind, file), in the order of a first load.
# The staff roster (STAFF_FILE) is written too, but imported only where its importer exists.
STAFF_FILE = ("staff", FILE_NAMES["staff"])
# The county's own lists, imported after the national exports: its village schools (placing
# them in their villages, imported as a school list) and its teacher roster.
VILLAGE_SCHOOLS_FILE = ("village_schools", FILE_NAMES["village_schools"])
TEACHERS_FILE = ("teachers", FILE_NAMES["teachers"])
NATIONAL_FILES = tuple(
    (kind, FILE_NAMES[kind])
    for kind in ("registry", "rolls", "university", "outside", "poor_villages")
)

EDUCATION_LEVELS = ("学龄前儿童", "文盲或半文盲", "小学", "初中", "高中", "中专", "大专及以上")
STUDY_STATES = (
    "非在校生",
    "学前教育",
    "小学",
    "初中",
    "普通高中",
    "中职",
    "高职（大专）",
    "本科及以上",
)
TRUE_STATUSES = (
    "in_county",
    "outside_county",
    "out_of_school",
    "finished",
    "preschool_not_enrolled",
    "other",
)
_CN = "一二三四五六七八九"
GRADE_WORDS = (
    ["小班", "中班", "大班"]
    + [f"{c}年级" for c in _CN[:9]]
    + ["初一", "初二", "初三", "高一", "高二", "高三"]
    + [f"中职{c}年级" for c in _CN[:3]]
)
_DISABILITY_DIGIT = {"视力": 1, "听力": 2, "言语": 3, "肢体": 4, "智力": 5, "精神": 6, "多重": 7}
_STUDY_STATE = {
    "学前": "学前教育",
    "小学": "小学",
    "初中": "初中",
    "高中": "普通高中",
    "中职": "中职",
}
_LEVEL_OF_STAGE = {
    "学前": "学龄前儿童",
    "小学": "小学",
    "初中": "初中",
    "高中": "高中",
    "中职": "中专",
    "大学": "大专及以上",
}
_PROVINCE_OF = {"42": "湖北省", "31": "上海市", "44": "广东省", "50": "重庆市"}
_STAGE_ORDER = {"学前": 0, "小学": 1, "初中": 2, "高中": 3, "中职": 4}


@dataclass(frozen=True)
class NationalMess:
    """Rates of the mess specific to the national exports (drawn per person or per row)."""

    id_blank: float = 0.012  # registry: 证件号码 empty
    id_excel: float = 0.010  # registry: 证件号码 a number (Excel kept 15 digits)
    id_disability_card: float = 0.006  # registry, disabled persons: the card number instead
    stale_study_state: float = 0.02  # registry, school-age children: 在校生状况 out of date
    compact_birth_date: float = 0.05  # registry: 出生日期 as 20080512
    duplicate_record: float = 0.004  # rolls: a second record for the same child
    university_listed: float = 0.92  # university list coverage
    university_id_typo: float = 0.01
    outside_confirmed: float = 0.70  # outside confirmation coverage
    out_of_county_upper: float = 0.10  # high / vocational students studying outside


def _out_schools() -> list[tuple[_School, str]]:
    """Invented out-of-county high and vocational schools, with their place."""
    rows = [
        ("3420102031", "江城市第三高级中学", "普通高中", "湖北省江城市"),
        ("3420502007", "清江市职业技术学校", "中等职业学校", "湖北省清江市"),
        ("3441190017", "东莞市机电工程学校", "中等职业学校", "广东省东莞市"),
    ]
    return [
        (_School(code, name, kind, "", "", True, "县外", 50), place)
        for code, name, kind, place in rows
    ]


def _grade_word(stage: str, grade: int, chu: bool) -> str:
    if stage == "学前":
        return ("小班", "中班", "大班")[min(max(grade, 1), 3) - 1]
    if stage == "小学":
        return f"{_CN[grade - 1]}年级"
    if stage == "初中":
        return f"初{_CN[grade - 1]}" if chu else f"{_CN[grade + 5]}年级"
    if stage == "高中":
        return f"高{_CN[grade - 1]}"
    if stage == "中职":
        return f"中职{_CN[grade - 1]}年级"
    raise ValueError(stage)


def _age_on(ymd: tuple[int, int, int], on: tuple[int, int, int]) -> int:
    y, m, d = ymd
    return on[0] - y - ((on[1], on[2]) < (m, d))


def _typo(rng: random.Random, s: str) -> str:
    while True:
        pos = int(rng.random() * 17)
        digit = str((int(s[pos]) + 1 + int(rng.random() * 9)) % 10)
        typed = s[:pos] + digit + s[pos + 1 :]
        if not typed.endswith("000"):
            return typed


@dataclass
class _National:
    county: _County
    rng: random.Random
    rates: NationalMess
    out_schools: list[tuple[_School, str]]
    place: dict[str, str] = field(default_factory=dict)  # school code -> 学校所在地
    enrol_of: dict[str, _Enrol] = field(default_factory=dict)  # person key -> enrolment
    receiving: dict[str, _School] = field(default_factory=dict)  # person key (转出) -> school
    level: dict[str, str] = field(default_factory=dict)  # person key -> 层次 (university)
    person_no: dict[str, str] = field(default_factory=dict)  # person key -> 人口编号
    stale: set[str] = field(default_factory=set)  # person keys with a stale 在校生状况
    chu: set[str] = field(default_factory=set)  # school codes writing 初一/初二/初三

    # -- preparing the model

    def prepare(self) -> None:
        county, rng = self.county, self.rng
        shared = county.shared
        self.place[shared.city_primary.code] = "湖北省江城市"
        self.place[shared.city_junior.code] = "湖北省江城市"
        for school, place in self.out_schools:
            self.place[school.code] = place
        highs = [s for s, _ in self.out_schools if s.kind == "普通高中"]
        vocs = [s for s, _ in self.out_schools if s.kind == "中等职业学校"]
        for school in county.schools:
            school.style = 0  # the national system writes ISO dates
            if (
                school.kind in ("初级中学", "九年一贯制学校", "特殊教育学校")
                and rng.random() < 1 / 3
            ):
                self.chu.add(school.code)
        for en in county.enrolments:
            p = en.person
            if en.school in (county.high, county.vocational) and (
                rng.random() < self.rates.out_of_county_upper
            ):
                en.school = _pick(rng, highs if en.stage == "高中" else vocs)
                if en.status == "转出":
                    en.status = "在读"
                    en.status_day = 0
            if en.status == "转出" and en.stage != "学前":
                self.receiving[p.key] = (
                    shared.city_primary
                    if en.stage == "小学"
                    else shared.city_junior
                    if en.stage == "初中"
                    else _pick(rng, highs if en.stage == "高中" else vocs)
                )
            if en.stage == "大学":
                if "职业技术" in en.school.name:
                    level = "专科"
                    en.grade = min(en.grade, 3)
                elif en.grade <= 3 and rng.random() < 0.15:
                    level = "专科"
                elif en.grade == 4 and rng.random() < 0.03:
                    level = "硕士"
                    en.grade = 1
                else:
                    level = "本科"
                self.level[p.key] = level
            self.enrol_of[p.key] = en
        for hh in county.households:
            for i, m in enumerate(hh.members):
                self.person_no[m.key] = f"{hh.no}{i + 1:02d}"
        self._ids_ending_000()

    def exported(self) -> list[tuple[int, _Person]]:
        return [
            (hi, m)
            for hi, hh in enumerate(self.county.households)
            if hh.status != "已清退"
            for m in hh.members
        ]

    def _ids_ending_000(self, want: int = 5) -> None:
        """Give a few registry girls a (valid) ID ending in 000, if too few have one."""
        county = self.county
        have = sum(1 for _, m in self.exported() if m.id.endswith("000"))
        candidates = [m for _, m in self.exported() if not m.male and 6 <= m.age <= 17]
        self.rng.shuffle(candidates)
        for m in candidates:
            if have >= want:
                break
            body14 = m.id[:14]
            base = sum(int(c) * w for c, w in zip(body14, _W[:14], strict=True))
            for x in range(10):
                if (base + _W[14] * x) % 11 == 1:  # check digit "0"
                    body = f"{body14}{x}00"
                    if body not in county.used_bodies:
                        county.used_bodies.add(body)
                        m.id = body + "0"
                        have += 1
                    break

    # -- what each child does

    def studying(self, p: _Person) -> _Enrol | None:
        """The enrolment of a child who is studying (anywhere), else None."""
        en = self.enrol_of.get(p.key)
        if en is None or en.status == "辍学":
            return None
        return en

    def study_state(self, p: _Person) -> str:
        en = self.studying(p)
        if en is None:
            return "非在校生"
        if en.stage == "大学":
            return "高职（大专）" if self.level[p.key] == "专科" else "本科及以上"
        return _STUDY_STATE[en.stage]

    def education(self, p: _Person) -> str:
        en = self.enrol_of.get(p.key)
        rng = self.rng
        severe = p.dis_kind in ("智力", "多重", "精神") and p.dis_grade <= 2
        if en is not None:
            if en.status != "辍学" or en.stage in ("学前", "小学", "初中"):
                return _LEVEL_OF_STAGE[en.stage]
            return "初中"
        age = p.age
        if age <= 5:
            return "学龄前儿童"
        if age <= 14:
            return "文盲或半文盲" if severe or age < 8 else "小学"
        if severe:
            return "文盲或半文盲" if rng.random() < 0.7 else "小学"
        if age <= 17:
            return "初中"
        r = rng.random()
        if age <= 25:
            return "小学" if r < 0.05 else "初中" if r < 0.6 else "高中" if r < 0.85 else "中专"
        table: tuple[tuple[float, str], ...]
        if age <= 44:
            table = ((0.04, "文盲或半文盲"), (0.29, "小学"), (0.81, "初中"), (0.91, "高中"))
            tail = "中专" if r < 0.97 else "大专及以上"
        elif age <= 59:
            table = ((0.15, "文盲或半文盲"), (0.60, "小学"), (0.93, "初中"), (0.98, "高中"))
            tail = "中专"
        else:
            table = ((0.45, "文盲或半文盲"), (0.85, "小学"), (0.98, "初中"))
            tail = "高中"
        for cut, level in table:
            if r < cut:
                return level
        return tail

    def true_status(self, p: _Person) -> tuple[str, str]:
        en = self.enrol_of.get(p.key)
        sa = p.age  # school-year age (on 31 August of the school year's first calendar year)
        severe = p.dis_kind in ("智力", "多重", "精神") and p.dis_grade <= 2
        if en is not None:
            school = en.school
            if en.status == "辍学":
                # Out of school is a compulsory-age matter; a child who left kindergarten is
                # preschool age not enrolled, one who left after junior high is 两后生.
                if en.stage == "学前":
                    return "preschool_not_enrolled", "dropped_out:学前"
                if en.stage in ("高中", "中职", "大学"):
                    return "finished", f"dropped_out:{en.stage}"
                return "out_of_school", f"dropped_out:{en.stage}"
            if en.status == "转出":
                to = self.receiving.get(p.key)
                return "outside_county", f"transferred_out:{to.code if to else ''}"
            if school.location == "县内":
                return "in_county", school.code + (":suspended" if en.status == "休学" else "")
            if en.stage == "大学":
                return "outside_county", f"university:{school.code}"
            if school.kind in ("小学", "初级中学"):
                return "outside_county", f"migrant:{school.code}"
            return "outside_county", f"out_of_county_{en.stage}:{school.code}"
        if sa <= 5:
            return (
                "preschool_not_enrolled",
                "severe_disability" if severe else "not_in_kindergarten",
            )
        if sa <= 14:
            return "out_of_school", "severe_disability" if severe else "never_enrolled"
        if severe:
            return ("out_of_school" if sa <= 15 else "other"), "severe_disability"
        if sa <= 18:
            return "finished", "junior_high_graduate" if sa <= 17 else "senior_high_or_earlier"
        return "other", "not_studying"


def _pick(rng: random.Random, seq: Sequence[_School]) -> _School:
    return seq[int(rng.random() * len(seq))]


def _write_csv(path: Path, headers: Sequence[str], rows: list[list[str]], encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(headers)
        w.writerows(rows)


def generate_national(
    *,
    seed: int,
    scale: _Scale,
    out: Path,
    mess: MessRates,
    progress: Progress | None = None,
    rates: NationalMess = NationalMess(),  # noqa: B008 - frozen dataclass
    school_year: int = BASE_YEAR,
) -> dict[str, Path]:
    """Write the national-layout files for one county into ``out``; return paths by kind."""
    spec = _county_spec(seed)
    shared = _shared_schools(random.Random(seed ^ 0x5EED), "42")
    county = _County(spec, scale, shared, mess, excel=False, school_year=school_year)
    created = created_at(school_year)
    truth_day = as_of(school_year)
    county.build()
    nat = _National(county, random.Random(seed + NATIONAL_SEED_OFFSET), rates, _out_schools())
    nat.prepare()
    if progress:
        progress("build", 1, 1)
    rng = nat.rng
    dates = county.dates
    paths = {kind: out / FILE_NAMES[kind] for kind in KINDS}
    exported = nat.exported()
    in_registry = {m.key for _, m in exported}

    # -- registry
    relapsed: set[int] = set()
    out_share = sum(1 for hh in county.households if hh.status == "已脱贫") / max(
        1, sum(1 for hh in county.households if hh.status != "已清退")
    )
    for hi, hh in enumerate(county.households):
        if hh.status == "已脱贫" and rng.random() < 0.03 / max(out_share, 0.03):
            relapsed.add(hi)
    registry: list[list[Cell]] = []
    for n, (hi, m) in enumerate(exported, start=1):
        hh = county.households[hi]
        v = hh.village
        id_cell: Cell = m.id
        genuine_000 = m.id.endswith("000")
        r = rng.random()
        if not genuine_000:
            if r < rates.id_blank:
                id_cell = ""
            elif r < rates.id_blank + rates.id_excel and not m.id.endswith("X"):
                id_cell = int(m.id[:15]) * 1000
        card = ""
        if m.dis_kind:
            card = f"{m.id}{_DISABILITY_DIGIT[m.dis_kind]}{m.dis_grade}"
            if rng.random() < rates.id_disability_card and id_cell == m.id and not genuine_000:
                id_cell = card
        birth = (
            dates.compact[m.day] if rng.random() < rates.compact_birth_date else dates.iso[m.day]
        )
        state = ""
        if m.age <= 25:
            state = nat.study_state(m)
            if 6 <= m.age <= 17 and rng.random() < rates.stale_study_state:
                nat.stale.add(m.key)
                if state != "非在校生":
                    state = "非在校生"
                else:
                    state = "小学" if m.age <= 11 else "初中" if m.age <= 14 else "普通高中"
        status = "返贫" if hi in relapsed else "未脱贫" if hh.status == "在册" else "已脱贫"
        registry.append(
            [
                n,
                spec.name,
                v.township.name,
                v.name,
                hh.no,
                nat.person_no[m.key],
                m.name,
                id_cell,
                m.relation,
                "男" if m.male else "女",
                birth,
                m.ethnicity,
                nat.education(m),
                state,
                card,
                status,
                hh.bank,
                hh.account,
                hh.phone,
            ]
        )
    _write_xlsx(
        paths["registry"],
        REGISTRY_HEADERS,
        registry,
        title=f"{spec.name}建档立卡贫困人口信息表（全县全字段）",
        subtitle=(
            f"导出单位：{spec.name}扶贫办　导出时间：{export_date(school_year)}"
            "　数据来源：全国扶贫开发信息系统"
        ),
        text_cols=(4, 5, 7, 10, 14, 17, 18),
        progress=progress,
        stage="registry",
        created=created,
    )

    # -- rolls: in-county schools, students on the roll (在籍: enrolled or suspended)
    all_enrolments = county.enrolments
    county.enrolments = [
        en
        for en in all_enrolments
        if en.school.location == "县内" and en.status in ("在读", "休学")
    ]
    rolls, truth = county.roll_rows()
    enrolled = county.enrolments
    county.enrolments = all_enrolments
    order = {s.code: i for i, s in enumerate(county.schools)}
    by_stage: dict[str, list[_School]] = {}
    for s in county.schools:
        for st in sorted(
            {en.stage for en in enrolled if en.school is s}, key=lambda st: _STAGE_ORDER[st]
        ):
            by_stage.setdefault(st, []).append(s)
    keyed: list[tuple[tuple[int, int, int, int], list[str], list[str]]] = []
    for i, (row, t) in enumerate(zip(rolls, truth, strict=True)):
        roll_no = str(row[0])
        key = str(t[2])
        en = nat.enrol_of[key]
        p = en.person
        school = en.school
        pno = nat.person_no[key] if key in in_registry else ""
        poor = key in in_registry
        migrant = rng.random() < (0.005 if poor else 0.02)
        grade = _grade_word(en.stage, en.grade, school.code in nat.chu)
        id_cell = row[2]
        out_row = [
            roll_no,
            str(row[1]),
            id_cell if isinstance(id_cell, str) else f"{id_cell:.5E}",
            str(row[3]),
            str(row[4]),
            school.code,
            school.name,
            grade,
            str(row[9]),
            "住校" if row[11] == "是" else "走读",
            _yn(migrant),
            str(row[15]),
        ]
        sort_key = (order[school.code], _STAGE_ORDER[en.stage], en.grade, i)
        keyed.append((sort_key, out_row, [roll_no, pno, str(t[5])]))
        if rng.random() < rates.duplicate_record:
            same = rng.random() < 0.4
            others = [s for s in by_stage.get(en.stage, []) if s is not school]
            other = school if same or not others else _pick(rng, others)
            with_id = bool(p.id) and rng.random() < 0.6
            dup_no = _l_number(county, rng, p)
            dup = [
                dup_no,
                p.name,
                p.id if with_id else "",
                "男" if p.male else "女",
                dates.iso[p.day],
                other.code,
                other.name,
                _grade_word(en.stage, en.grade, other.code in nat.chu),
                str(row[9]) if other is school else "1班",
                "住校" if row[11] == "是" else "走读",
                _yn(migrant),
                str(row[15]),
            ]
            kinds = "duplicate_record" if with_id else "duplicate_record,missing_id"
            dkey = (order[other.code], _STAGE_ORDER[en.stage], en.grade, len(rolls) + i)
            keyed.append((dkey, dup, [dup_no, pno, kinds]))
    keyed.sort(key=lambda k: k[0])
    _write_csv(paths["rolls"], ROLL_HEADERS, [k[1] for k in keyed], "gbk")
    _write_csv(paths["truth_links"], TRUTH_LINK_HEADERS, [k[2] for k in keyed], "utf-8")
    if progress:
        progress("rolls", len(keyed), len(keyed))

    # -- university list and outside confirmations
    university: list[list[Cell]] = []
    outside: list[list[Cell]] = []
    for _, m in exported:
        studying = nat.studying(m)
        if studying is None:
            continue
        en = studying
        if en.stage == "大学":
            if rng.random() >= rates.university_listed:
                continue
            level = nat.level[m.key]
            id_ = m.id
            if rng.random() < rates.university_id_typo:
                id_ = _typo(rng, id_)
            grade = (
                f"研{_CN[en.grade - 1]}"
                if level == "硕士"
                else ("大一", "大二", "大三", "大四")[en.grade - 1]
            )
            university.append(
                [
                    m.name,
                    id_,
                    en.school.name,
                    _PROVINCE_OF.get(en.school.code[2:4], "湖北省"),
                    level,
                    grade,
                    _yn(en.grade == 1),
                ]
            )
            continue
        goes_to = nat.receiving.get(m.key) if en.status == "转出" else en.school
        if goes_to is None or goes_to.location == "县内":
            continue
        school = goes_to
        if rng.random() >= rates.outside_confirmed:
            continue
        outside.append(
            [
                m.name,
                m.id,
                school.name,
                nat.place[school.code],
                en.stage,
                _grade_word(en.stage, en.grade, False),
                f"{school_year}-{school_year + 1}",
            ]
        )
    _write_xlsx(
        paths["university"], UNIVERSITY_HEADERS, university, text_cols=(1,), created=created
    )
    _write_xlsx(paths["outside"], OUTSIDE_HEADERS, outside, text_cols=(1,), created=created)
    poor_villages: list[list[Cell]] = [
        [v.township.name, v.name, v.code] for v in county.villages if v.poor
    ]
    _write_xlsx(
        paths["poor_villages"],
        POOR_VILLAGE_HEADERS,
        poor_villages,
        text_cols=(2,),
        created=created,
    )

    # -- the truth about each registry child
    children: list[list[str]] = []
    for hi, m in exported:
        ymd = dates.ymd[m.day]
        age = _age_on(ymd, truth_day)
        if not 3 <= age <= 22:
            continue
        status, detail = nat.true_status(m)
        if m.key in nat.stale:
            detail = f"{detail};stale_registry_status" if detail else "stale_registry_status"
        children.append(
            [
                nat.person_no[m.key],
                county.households[hi].no,
                dates.iso[m.day],
                str(age),
                status,
                detail,
            ]
        )
    _write_csv(paths["truth_children"], TRUTH_CHILD_HEADERS, children, "utf-8")
    if progress:
        progress("truth", 1, 1)

    # -- the staff roster: head teachers of the classes on the rolls, and the chain above them
    staff, _gaps = staff_rows(county, enrolled)
    _write_xlsx(paths["staff"], STAFF_HEADERS, staff, text_cols=(2, 4), created=created)
    if progress:
        progress("staff", 1, 1)

    # -- the county's own lists: its village schools, and its teachers (drawn last)
    villages = {county.households[hi].village.code for hi, _m in exported}
    _write_xlsx(
        paths["village_schools"],
        SCHOOL_HEADERS,
        village_school_rows(county, villages),
        text_cols=(0, 3, 4),
        created=created,
    )
    write_teachers(paths["teachers"], county, enrolled, staff, created)
    if progress:
        progress("teachers", 1, 1)
    return paths


def _l_number(county: _County, rng: random.Random, p: _Person) -> str:
    while True:
        n = f"L{county.spec.code}{county.dates.compact[p.day]}{int(rng.random() * 1e4):04d}"
        if n not in county.used_l_numbers:
            county.used_l_numbers.add(n)
            return n
