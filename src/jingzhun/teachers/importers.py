"""The teacher roster import (教师花名册, kind ``teachers``): one row per teacher.

Columns: 姓名, 身份证号, 性别, 出生日期, 学校标识码, 岗位, 任教学科, 职称, 编制, 到校日期, 是否骨干.
A teacher is keyed by the blind index of their resident ID, so a row without a valid ID is
an error (and set aside to fix); importing the same roster again changes nothing. A teacher
missing from a later roster is not marked as gone: rosters often cover some schools only, and
who left, and when, is recorded by ``teacher_leave``.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from django.utils.translation import gettext as _

from jingzhun.core import normalize
from jingzhun.core.bulk import fetch_columns
from jingzhun.core.importing import (
    Context,
    Counts,
    Field,
    Importer,
    duck,
    hash_expr,
    sync_rows,
)
from jingzhun.core.sensitive import seal_array
from jingzhun.registry.importers import SEX
from jingzhun.schools.importers import only_county
from jingzhun.teachers.models import Teacher

POSTS = {
    "教师": Teacher.Post.TEACHER,
    "专任教师": Teacher.Post.TEACHER,
    "任课教师": Teacher.Post.TEACHER,
    "校长": Teacher.Post.PRINCIPAL,
    "副校长": Teacher.Post.PRINCIPAL,
    "其他": Teacher.Post.OTHER,
    "工勤": Teacher.Post.OTHER,
    "职员": Teacher.Post.OTHER,
}
# The titles since the 2015 reform, and the older names of the primary and secondary series:
# a former 小学高级教师 became 一级教师 (intermediate), a former 中学高级教师 高级教师 (senior).
TITLES = {
    "无": Teacher.Title.NONE,
    "未定级": Teacher.Title.NONE,
    "未评": Teacher.Title.NONE,
    "初级": Teacher.Title.JUNIOR,
    "三级教师": Teacher.Title.JUNIOR,
    "二级教师": Teacher.Title.JUNIOR,
    "小学二级教师": Teacher.Title.JUNIOR,
    "小学一级教师": Teacher.Title.JUNIOR,
    "中学二级教师": Teacher.Title.JUNIOR,
    "中级": Teacher.Title.INTERMEDIATE,
    "一级教师": Teacher.Title.INTERMEDIATE,
    "小学高级教师": Teacher.Title.INTERMEDIATE,
    "中学一级教师": Teacher.Title.INTERMEDIATE,
    "高级": Teacher.Title.SENIOR,
    "高级教师": Teacher.Title.SENIOR,
    "中学高级教师": Teacher.Title.SENIOR,
    "正高级": Teacher.Title.FULL_SENIOR,
    "正高级教师": Teacher.Title.FULL_SENIOR,
}
STAFFING = {
    "在编": Teacher.Staffing.IN_ESTABLISHMENT,
    "编制内": Teacher.Staffing.IN_ESTABLISHMENT,
    "公办": Teacher.Staffing.IN_ESTABLISHMENT,
    "特岗": Teacher.Staffing.SPECIAL_POST,
    "特岗教师": Teacher.Staffing.SPECIAL_POST,
    "合同": Teacher.Staffing.CONTRACT,
    "合同制": Teacher.Staffing.CONTRACT,
    "聘用": Teacher.Staffing.CONTRACT,
    "代课": Teacher.Staffing.SUBSTITUTE,
    "代课教师": Teacher.Staffing.SUBSTITUTE,
    "临聘": Teacher.Staffing.SUBSTITUTE,
}

# The columns compared with the stored row (the ID only as its keyed index).
DIFF_COLUMNS = [
    "name",
    "id_index",
    "sex",
    "birth_date",
    "school_id",
    "post",
    "subject",
    "title",
    "staffing",
    "started_on",
    "backbone",
    "bank_name",
    "bank_index",
    "county_code",
]


class TeacherImporter(Importer):
    kind = "teachers"
    key_fields = ("id_number",)
    fields = (
        Field("name", "姓名", "name", required=True, max_length=50, aliases=("教师姓名",)),
        Field(
            "id_number",
            "身份证号",
            "id_number",
            "id",
            required=True,
            aliases=("身份证件号", "证件号码", "身份证号码"),
        ),
        Field("sex", "性别", "sex", "choice", choices=SEX),
        Field("birth_date", "出生日期", "birth_date", "date"),
        Field(
            "school_code",
            "学校标识码",
            "school_code",
            "code",
            required=True,
            lengths=tuple(range(6, 31)),
            aliases=("学校代码", "学校编码"),
        ),
        Field("post", "岗位", "post", "choice", choices=POSTS, aliases=("岗位类别",)),
        Field("subject", "任教学科", "subject", max_length=50, aliases=("学科",)),
        Field("title", "职称", "title", "choice", choices=TITLES, aliases=("专业技术职务",)),
        Field("staffing", "编制", "staffing", "choice", choices=STAFFING, aliases=("编制情况",)),
        Field("started_on", "到校日期", "started_on", "date", aliases=("到校时间",)),
        Field("backbone", "是否骨干", "backbone", "bool", aliases=("骨干教师",)),
        # The salary card the rural teacher living allowance is paid to (II.3.4).
        Field("bank_name", "开户银行", "bank_name", max_length=100, aliases=("开户行",)),
        Field(
            "bank_account",
            "工资卡号",
            "bank_account",
            "bank",
            aliases=("银行账号", "工资卡账号", "账号"),
        ),
    )

    def check(self, data: pa.Table, ctx: Context) -> pa.Table:
        con = duck()
        con.register("f", data)
        schools = [c for (c,) in fetch_columns("SELECT code FROM schools_school")]
        con.register("known", pa.table({"code": pa.array(schools, pa.string())}))
        for line, code in con.execute("""SELECT _line, school_code FROM f
                WHERE school_code IS NOT NULL AND school_code NOT IN (SELECT code FROM known)
                ORDER BY _line""").fetchall():
            ctx.report.add(
                line,
                ctx.header("school_code"),
                code,
                _("Unknown school code; import the school list first."),
            )
        for line, value in con.execute("""SELECT _line, id_number FROM f
                WHERE id_number IS NOT NULL QUALIFY
                row_number() OVER (PARTITION BY id_number ORDER BY _line) > 1""").fetchall():
            ctx.report.add(
                line,
                ctx.header("id_number"),
                value,
                _("This ID number appears more than once in the file."),
                sensitive=True,
            )
        con.close()
        return data

    def apply(self, data: pa.Table, ctx: Context) -> Counts:
        ids = data.column("id_number")
        # What the file leaves out is read from the ID itself (GB 11643: birth date, sex).
        birth = pc.coalesce(data.column("birth_date"), normalize.id_birth_dates(ids))
        sex = pc.coalesce(data.column("sex"), normalize.id_sex(ids))
        sealed = seal_array(ids, prefix="id", purpose="id")
        card = seal_array(data.column("bank_account"), prefix="bank", purpose="bank")
        con = duck()
        con.register(
            "f",
            data.drop_columns(
                [
                    c
                    for c in data.column_names
                    if c.startswith("id_number") or c.startswith("bank_account")
                ]
            )
            .append_column("_birth", birth)
            .append_column("_sex", sex.cast(pa.string()))
            .append_column("id_cipher", sealed["id_cipher"])
            .append_column("id_key", sealed["id_key"])
            .append_column("id_index", sealed["id_index"])
            .append_column("id_masked", sealed["id_masked"])
            .append_column("bank_cipher", card["bank_cipher"])
            .append_column("bank_key", card["bank_key"])
            .append_column("bank_index", card["bank_index"])
            .append_column("bank_masked", card["bank_masked"]),
        )
        schools = fetch_columns(
            "SELECT s.code, s.id, coalesce(a.code, '') FROM schools_school s "
            "LEFT JOIN registry_area a ON a.id = s.township_id"
        )
        con.register(
            "s",
            pa.table(
                {
                    "code": pa.array([r[0] for r in schools], pa.string()),
                    "school_id": pa.array([r[1] for r in schools], pa.int64()),
                    "county": pa.array([r[2][:6] for r in schools], pa.string()),
                }
            ),
        )
        rows = con.sql(
            f"""
            WITH x AS (
              SELECT f.id_index AS _key, f.id_masked AS _label, f.name,
                     f.id_cipher, f.id_key, f.id_index, f.id_masked,
                     coalesce(f._sex, '') AS sex, f._birth AS birth_date, s.school_id,
                     coalesce(f.post, 'teacher') AS post, coalesce(f.subject, '') AS subject,
                     coalesce(f.title, 'none') AS title, coalesce(f.staffing, '') AS staffing,
                     f.started_on, coalesce(f.backbone, false) AS backbone,
                     coalesce(f.bank_name, '') AS bank_name, f.bank_cipher, f.bank_key,
                     f.bank_index, coalesce(f.bank_masked, '') AS bank_masked,
                     coalesce(nullif(s.county, ''), $county) AS county_code
              FROM f JOIN s ON s.code = f.school_code)
            SELECT *, {hash_expr(DIFF_COLUMNS)} AS row_hash FROM x""",
            # A school without its township yet: the county the import names, else the one
            # county this installation holds (as the rolls import reads it).
            params={"county": ctx.batch.county_code or only_county()},
        ).to_arrow_table()
        con.close()
        if not ctx.batch.county_code:
            counties = {c for c in rows.column("county_code").to_pylist() if c}
            ctx.batch.county_code = counties.pop() if len(counties) == 1 else ""
        result = sync_rows(
            ctx=ctx,
            table="teachers_teacher",
            entity="teacher",
            rows=rows,
            key_sql="id_index",
            diff_columns=DIFF_COLUMNS,
            sensitive={"id_index": "id_number", "bank_index": "bank_account"},
        )
        return Counts(result.created, result.updated, result.unchanged)


TEACHERS_IMPORTER = TeacherImporter()
