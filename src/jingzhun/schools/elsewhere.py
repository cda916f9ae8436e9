"""Study outside the county's rolls: the aid office's university list and receiving schools'
confirmations (外县就读证明) for children studying in other counties or provinces.

Both land as students enrolled at out-of-county schools, through the roll importer's
writing step, so identification links them like any roll and finds these children
studying, not missing. A school is known by its name (no national code is given).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.utils.translation import gettext as _

from jingzhun.core.bulk import fetch_columns
from jingzhun.core.importing import Context, Counts, Field, Importer, put_column
from jingzhun.core.models import ImportChange
from jingzhun.core.working_year import working_year
from jingzhun.registry.importers import SEX
from jingzhun.schools.derive import parse_grade, school_kind
from jingzhun.schools.importers import ROLLS_IMPORTER, STAGES, only_county
from jingzhun.schools.models import School

DEGREES = {
    "本科": "bachelor",
    "专科": "associate",
    "高职": "associate",
    "大专": "associate",
    "高职（大专）": "associate",
    "硕士": "graduate",
    "博士": "graduate",
    "研究生": "graduate",
    "硕士研究生": "graduate",
    "博士研究生": "graduate",
    "bachelor": "bachelor",
    "associate": "associate",
    "graduate": "graduate",
}

# GB/T 2260 province codes (the first two digits of an area code) and their names.
PROVINCES = {
    "11": "北京",
    "12": "天津",
    "13": "河北",
    "14": "山西",
    "15": "内蒙古",
    "21": "辽宁",
    "22": "吉林",
    "23": "黑龙江",
    "31": "上海",
    "32": "江苏",
    "33": "浙江",
    "34": "安徽",
    "35": "福建",
    "36": "江西",
    "37": "山东",
    "41": "河南",
    "42": "湖北",
    "43": "湖南",
    "44": "广东",
    "45": "广西",
    "46": "海南",
    "50": "重庆",
    "51": "四川",
    "52": "贵州",
    "53": "云南",
    "54": "西藏",
    "61": "陕西",
    "62": "甘肃",
    "63": "青海",
    "64": "宁夏",
    "65": "新疆",
}


def home_province(county_code: str) -> str:
    """Return the county's province name: JINGZHUN_PROVINCE_NAME, else the one its code gives."""
    return settings.PROVINCE_NAME or PROVINCES.get(county_code[:2], "")


def location_of(place: str | None, county_code: str) -> str:
    """Return in_province or out_of_province for a place written like 江汉省江城市."""
    home = home_province(county_code).removesuffix("省").removesuffix("市")
    if place and home and place.strip().startswith(home):
        return School.Location.IN_PROVINCE
    return School.Location.OUT_OF_PROVINCE


def _code(prefix: str, name: str) -> str:
    return prefix + hashlib.sha256(name.encode()).hexdigest()[:16]


class StudyElsewhereImporter(Importer):
    """A list of students at schools outside the county, landed as enrolments there."""

    key_fields = ("id_number",)
    school_prefix = "X"
    fields: tuple[Field, ...] = ()

    def check(self, data: pa.Table, ctx: Context) -> pa.Table:
        stages, grades = [], []
        for line, text, stage in zip(
            data.column("_line").to_pylist(),
            data.column("grade").to_pylist(),
            data.column("stage").to_pylist()
            if "stage" in data.column_names
            else [None] * data.num_rows,
            strict=True,
        ):
            found = parse_grade(text, stage or self.default_stage)
            if found is None:
                ctx.report.add(
                    line,
                    ctx.header("grade"),
                    text,
                    _("Not a grade we know; write it like 大一, 高二, 初一 or 三年级."),
                )
            stages.append(found[0] if found else None)
            grades.append(found[1] if found else None)
        for line in [
            ln
            for ln, v in zip(
                data.column("_line").to_pylist(), data.column("id_number").to_pylist(), strict=True
            )
            if v is None
        ]:
            ctx.report.add(
                line,
                ctx.header("id_number"),
                None,
                _("A valid ID number is needed to find the student in the registry."),
            )
        # 研一 … is graduate study whatever its grade number (大五 is not).
        graduate = [
            bool(t) and str(t).strip().startswith(("研", "硕", "博"))
            for t in data.column("grade").to_pylist()
        ]
        data = put_column(data, "_graduate_grade", pa.array(graduate, pa.bool_()))
        data = put_column(data, "stage", pa.array(stages, pa.string()))
        return put_column(data, "grade", pa.array(grades, pa.int64()))

    default_stage: str | None = None

    def apply(self, data: pa.Table, ctx: Context) -> Counts:
        county = ctx.batch.county_code or only_county()
        ctx.batch.county_code = county
        year = ctx.batch.school_year or working_year(county)
        names = data.column("school_name").to_pylist()
        places = data.column("place").to_pylist()
        codes = [_code(self.school_prefix, n) for n in names]
        known = {c for (c,) in fetch_columns("SELECT code FROM schools_school")}
        new: dict[str, tuple[str, str]] = {}
        taught: dict[str, set[str]] = {}
        for code, name, place, stage in zip(
            codes, names, places, data.column("stage").to_pylist(), strict=True
        ):
            taught.setdefault(code, set()).add(stage or "")
            if code not in known and code not in new:
                new[code] = (name, location_of(place, county))
        for code, (name, location) in new.items():
            kind = (
                School.Kind.UNIVERSITY
                if self.kind == "university"
                else school_kind(taught[code] - {""}, name)
            )
            School.objects.create(
                code=code, name=name, kind=kind, location=location, boarding=False
            )
        ImportChange.objects.bulk_create(
            [
                ImportChange(
                    batch=ctx.batch,
                    entity="school",
                    key=code,
                    action="derived",
                    changes={"name": name, "location": location},
                )
                for code, (name, location) in new.items()
            ]
        )
        ids = data.column("id_number").to_pylist()
        n = data.num_rows
        rolls = pa.table(
            {
                "roll_number": pa.array([self.school_prefix + (i or "") for i in ids], pa.string()),
                "name": data.column("name"),
                "id_number": data.column("id_number"),
                "id_number__raw": data.column("id_number__raw"),
                "id_number__error": data.column("id_number__error"),
                "sex": data.column("sex")
                if "sex" in data.column_names
                else pa.nulls(n, pa.string()),
                "birth_date": pa.nulls(n, pa.date32()),
                "school_code": pa.array(codes, pa.string()),
                "school_name": pa.array(names, pa.string()),
                "school_year": pa.array([year] * n, pa.int64())
                if "school_year" not in data.column_names
                else _fill_year(data.column("school_year"), year),
                "stage": data.column("stage"),
                "grade": data.column("grade"),
                "class_name": pa.nulls(n, pa.string()),
                "head_teacher": pa.nulls(n, pa.string()),
                "boarding": pa.array([False] * n, pa.bool_()),
                "migrant": pa.array([False] * n, pa.bool_()),
                "status": pa.array(["enrolled"] * n, pa.string()),
                "status_date": pa.nulls(n, pa.date32()),
                "enrolled_on": pa.nulls(n, pa.date32()),
                "poor_flag": pa.array([True] * n, pa.bool_()),
                **self.extra_columns(data),
                "_line": data.column("_line"),
            }
        )
        counts = ROLLS_IMPORTER.apply(rolls, ctx)
        if new:
            counts.notes.append(_("Schools outside the county added: %(n)d.") % {"n": len(new)})
        return counts

    def extra_columns(self, data: pa.Table) -> dict[str, Any]:
        return {}


# Who the student is: both lists give the name and the ID number.
STUDENT_FIELDS = (
    Field("name", "姓名", "name", required=True, max_length=50, aliases=("学生姓名",)),
    Field(
        "id_number",
        "身份证号",
        "id_number",
        "id",
        required=True,
        aliases=("身份证号码", "证件号码", "公民身份号码"),
    ),
)


class UniversityImporter(StudyElsewhereImporter):
    kind = "university"
    school_prefix = "U"
    default_stage = "university"
    fields = (
        *STUDENT_FIELDS,
        Field(
            "school_name",
            "录取学校",
            "university",
            required=True,
            max_length=100,
            aliases=("录取院校", "就读学校", "学校名称", "高校名称"),
        ),
        Field("place", "学校所在省份", "province", max_length=50, aliases=("所在省份", "省份")),
        Field(
            "degree", "层次", "degree", "choice", choices=DEGREES, aliases=("学历层次", "培养层次")
        ),
        Field("grade", "年级", "grade", required=True, max_length=20),
        Field("freshman", "是否新生", "freshman", "bool", aliases=("新生",)),
        Field("school_year", "学年", "school_year", "year", aliases=("学年度",)),
    )

    def extra_columns(self, data: pa.Table) -> dict[str, Any]:
        n = data.num_rows
        degree = data.column("degree").to_pylist()
        graduate = data.column("_graduate_grade").to_pylist()
        # A grade written 研一 is graduate study when the level column says nothing.
        filled = [d or ("graduate" if g else "") for d, g in zip(degree, graduate, strict=True)]
        fresh = data.column("freshman").to_pylist()
        return {
            "degree": pa.array(filled, pa.string()),
            "freshman": pa.array([bool(f) for f in fresh], pa.bool_())
            if n
            else pa.array([], pa.bool_()),
        }


class OutsideImporter(StudyElsewhereImporter):
    kind = "outside"
    school_prefix = "X"
    fields = (
        *STUDENT_FIELDS,
        Field(
            "school_name",
            "就读学校",
            "school_name",
            required=True,
            max_length=100,
            aliases=("学校名称", "接收学校", "就读学校名称"),
        ),
        Field(
            "place",
            "学校所在地",
            "place",
            max_length=100,
            aliases=("所在地", "就读地", "学校所在省市"),
        ),
        Field("stage", "学段", "stage", "choice", choices=STAGES),
        Field("grade", "年级", "grade", required=True, max_length=20),
        Field("school_year", "学年", "school_year", "year", aliases=("学年度",)),
        Field("sex", "性别", "sex", "choice", choices=SEX),
    )


def _fill_year(column: Any, year: int) -> Any:
    return pc.fill_null(column.cast(pa.int64()), year)


UNIVERSITY_IMPORTER = UniversityImporter()
OUTSIDE_IMPORTER = OutsideImporter()
