"""Places of the demo county: townships, villages and schools (and the shared schools outside).

Also the specs of the county (or of a province's counties): codes, names, seat, seed.
"""

from __future__ import annotations

import random

from jingzhun.demo import names
from jingzhun.demo.generator.model import (
    _CN_NUM,
    _SURNAME_DEFAULT,
    Cell,
    _apportion,
    _CountySpec,
    _full_name,
    _School,
    _Shared,
    _Township,
    _Village,
    _yn,
)
from jingzhun.demo.generator.people import _CountyBase


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


class _Places(_CountyBase):
    """Areas and schools."""

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
