"""Importers for the area list and the poverty registry (docs/formats.md)."""

from __future__ import annotations

import pyarrow as pa
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core import crypto
from jingzhun.core.bulk import fetch_columns, insert_rows
from jingzhun.core.importing import Context, Counts, Field, Importer, duck, hash_expr, sync_rows
from jingzhun.core.sensitive import seal_array
from jingzhun.registry.models import Area

LEVELS = {
    "县": "county",
    "区": "county",
    "county": "county",
    "乡镇": "township",
    "乡": "township",
    "镇": "township",
    "街道": "township",
    "township": "township",
    "村": "village",
    "社区": "village",
    "village": "village",
}
HOUSEHOLD_STATUS = {
    "在册": "registered",
    "未脱贫": "registered",
    "registered": "registered",
    "已脱贫": "left_poverty",
    "脱贫": "left_poverty",
    "left_poverty": "left_poverty",
    "已清退": "removed",
    "清退": "removed",
    "removed": "removed",
}
SEX = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"}


class AreaImporter(Importer):
    kind = "areas"
    county_column = "code"
    fields = (
        Field(
            "code",
            "区划代码",
            "code",
            "code",
            required=True,
            lengths=(6, 9, 12),
            aliases=("行政区划代码", "代码"),
        ),
        Field("name", "名称", "name", required=True, aliases=("区划名称",)),
        Field("level", "级别", "level", "choice", choices=LEVELS),
        Field("parent_code", "上级代码", "parent_code", "code", lengths=(6, 9)),
        Field("is_poor", "是否贫困村", "is_poor_village", "bool", aliases=("贫困村",)),
        Field("longitude", "经度", "longitude", "decimal"),
        Field("latitude", "纬度", "latitude", "decimal"),
    )

    def check(self, data: pa.Table, ctx: Context) -> pa.Table:
        con = duck()
        con.register("f", data)
        rows = con.execute("""
            SELECT _line, code, parent_code, level,
                   CASE length(code) WHEN 6 THEN 'county' WHEN 9 THEN 'township' ELSE 'village' END AS lvl,
                   count(*) OVER (PARTITION BY code) AS dup
            FROM f WHERE code IS NOT NULL""").fetchall()
        known = set(Area.objects.values_list("code", flat=True))
        in_file = {r[1] for r in rows}
        for line, code, parent, level, lvl, dup in rows:
            if dup > 1:
                ctx.report.add(
                    line,
                    ctx.header("code"),
                    code,
                    _("This code appears more than once in the file."),
                )
            if level and level != lvl:
                ctx.report.add(
                    line,
                    ctx.header("level"),
                    level,
                    _("The level does not fit a code of %(n)d digits.") % {"n": len(code)},
                )
            if lvl != "county":
                if not parent:
                    ctx.report.add(line, ctx.header("parent_code"), parent, "required")
                elif not code.startswith(parent) or len(parent) != len(code) - 3:
                    ctx.report.add(
                        line,
                        ctx.header("parent_code"),
                        parent,
                        _("The parent code must be the first %(n)d digits of the code.")
                        % {"n": len(code) - 3},
                    )
                elif parent not in in_file and parent not in known:
                    ctx.report.add(
                        line, ctx.header("parent_code"), parent, _("Unknown parent area.")
                    )
        return data

    def apply(self, data: pa.Table, ctx: Context) -> Counts:
        counts = Counts()
        rows = sorted(data.to_pylist(), key=lambda r: len(r["code"]))
        for row in rows:
            code = row["code"]
            level = {6: "county", 9: "township", 12: "village"}[len(code)]
            parent = Area.objects.get(code=row["parent_code"]) if row["parent_code"] else None
            wanted = {
                "name": row["name"],
                "level": level,
                "parent": parent,
                "is_poor": bool(row["is_poor"]) and level == "village",
                "longitude": row["longitude"],
                "latitude": row["latitude"],
            }
            area = Area.objects.filter(code=code).first()
            if area is None:
                area = Area(code=code, **wanted)
                area.full_clean()
                area.save()
                counts.created += 1
                continue
            diff = {
                k: [str(getattr(area, k)), str(v)]
                for k, v in wanted.items()
                if getattr(area, k) != v
                and not (
                    k in ("longitude", "latitude")
                    and v is not None
                    and getattr(area, k) is not None
                    and float(getattr(area, k)) == float(v)
                )
            }
            if diff:
                for k, v in wanted.items():
                    setattr(area, k, v)
                area.full_clean()
                area.save()
                ctx.batch.changes.create(entity="area", key=code, action="updated", changes=diff)
                counts.updated += 1
            else:
                counts.unchanged += 1
        return counts


class RegistryImporter(Importer):
    kind = "registry"
    county_column = "village_code"
    fields = (
        Field(
            "household_no",
            "户编号",
            "household_no",
            required=True,
            max_length=32,
            aliases=("建档立卡户编号", "户码", "家庭编号"),
        ),
        Field(
            "village_code",
            "村代码",
            "village_code",
            "code",
            required=True,
            lengths=(12,),
            aliases=("行政村代码", "村级代码"),
        ),
        Field(
            "registration_year",
            "识别年度",
            "registration_year",
            "int",
            required=True,
            lo=2000,
            hi=2100,
            aliases=("识别年份", "建档年度"),
        ),
        Field(
            "household_status",
            "户状态",
            "household_status",
            "choice",
            choices=HOUSEHOLD_STATUS,
            aliases=("贫困户状态", "脱贫状态"),
        ),
        Field("exit_year", "脱贫年度", "exit_year", "int", lo=2000, hi=2100, aliases=("脱贫年份",)),
        Field("poverty_cause", "致贫原因", "poverty_cause", aliases=("主要致贫原因",)),
        Field("minimum_income", "是否低保", "minimum_income", "bool", aliases=("低保户",)),
        Field("bank_name", "开户银行", "bank_name", aliases=("开户行",)),
        Field(
            "bank_account",
            "一卡通账号",
            "bank_account",
            "bank",
            aliases=("银行账号", "惠民惠农一卡通账号", "账号"),
        ),
        Field("name", "姓名", "name", required=True, max_length=50),
        Field(
            "id_number",
            "身份证号",
            "id_number",
            "id",
            required=True,
            aliases=("证件号码", "身份证号码", "公民身份号码"),
        ),
        Field("sex", "性别", "sex", "choice", choices=SEX),
        Field("birth_date", "出生日期", "birth_date", "date"),
        Field("relation", "与户主关系", "relation", max_length=20),
        Field("ethnicity", "民族", "ethnicity", max_length=20),
        Field("disability_kind", "残疾类别", "disability_kind", max_length=20),
        Field("disability_grade", "残疾等级", "disability_grade", "int", lo=1, hi=4),
        Field("left_behind", "是否留守儿童", "left_behind", "bool", aliases=("留守儿童",)),
        Field("guardian_name", "监护人姓名", "guardian_name", max_length=50),
        Field("guardian_id_number", "监护人身份证号", "guardian_id_number", "id"),
        Field("phone", "联系电话", "phone", max_length=20, aliases=("电话", "手机号码")),
    )

    def check(self, data: pa.Table, ctx: Context) -> pa.Table:
        con = duck()
        con.register("f", data)
        villages = {
            c: i
            for c, i in fetch_columns("SELECT code, id FROM registry_area WHERE level = 'village'")
        }
        h = ctx.header
        for line, code in con.execute(
            "SELECT _line, village_code FROM f WHERE village_code IS NOT NULL"
        ).fetchall():
            if code not in villages:
                ctx.report.add(
                    line,
                    h("village_code"),
                    code,
                    _("Unknown village code; import the area list first."),
                )
        for line, value in (
            con.execute("""
                SELECT _line, id_number FROM f WHERE id_number IS NOT NULL
                QUALIFY count(*) OVER (PARTITION BY id_number) > 1
                    AND row_number() OVER (PARTITION BY id_number ORDER BY _line) > 1""").fetchall()
        ):
            ctx.report.add(
                line,
                h("id_number"),
                value,
                _("This ID number appears more than once in the file."),
                sensitive=True,
            )
        for col in (
            "village_code",
            "registration_year",
            "household_status",
            "exit_year",
            "bank_account",
            "minimum_income",
        ):
            for line, value in con.execute(f"""
                    SELECT _line, {col} FROM f WHERE household_no IS NOT NULL
                    QUALIFY coalesce(CAST({col} AS VARCHAR), '~') <> first_value(
                        coalesce(CAST({col} AS VARCHAR), '~')) OVER (
                        PARTITION BY household_no ORDER BY _line)
                    """).fetchall():
                ctx.report.add(
                    line,
                    h(col),
                    value if col != "bank_account" else crypto.mask_account(value),
                    _("Household fields must agree on every member's row."),
                )
        for (line,) in con.execute("""SELECT _line FROM f WHERE household_status = 'left_poverty'
                                      AND exit_year IS NULL""").fetchall():
            ctx.report.add(
                line,
                h("exit_year"),
                None,
                _("A household that left poverty needs the year it left."),
            )
        for line, value in con.execute("""
                SELECT _line, birth_date FROM f WHERE birth_date IS NOT NULL AND id_number IS NOT NULL
                AND strftime(birth_date, '%Y%m%d') <> substr(id_number, 7, 8)""").fetchall():
            ctx.report.add(
                line,
                h("birth_date"),
                value,
                _("The birth date differs from the one in the ID number."),
                warning=True,
            )
        return data

    def apply(self, data: pa.Table, ctx: Context) -> Counts:
        con = duck()
        village_rows = fetch_columns("SELECT code, id FROM registry_area WHERE level = 'village'")
        con.register(
            "v",
            pa.table(
                {
                    "code": pa.array([r[0] for r in village_rows], pa.string()),
                    "village_id": pa.array([r[1] for r in village_rows], pa.int64()),
                }
            ),
        )
        data = data.drop_columns([c for c in data.column_names if c.endswith(("__raw", "__error"))])
        data = data.append_column(
            "id_index",
            pa.array(
                crypto.blind_index_many(data.column("id_number").to_pylist(), purpose="id"),
                pa.string(),
            ),
        )
        data = data.append_column(
            "guardian_id_index",
            pa.array(
                crypto.blind_index_many(
                    data.column("guardian_id_number").to_pylist(), purpose="id"
                ),
                pa.string(),
            ),
        )
        data = data.append_column(
            "bank_index",
            pa.array(
                crypto.blind_index_many(data.column("bank_account").to_pylist(), purpose="bank"),
                pa.string(),
            ),
        )
        con.register("f", data)
        hh_cols = [
            "village_id",
            "registration_year",
            "status",
            "exit_year",
            "poverty_cause",
            "minimum_income",
            "bank_name",
            "bank_index",
        ]
        hh = con.sql(f"""
            WITH first AS (
                SELECT f.*, v.village_id, coalesce(household_status, 'registered') AS status
                FROM f JOIN v ON v.code = f.village_code
                QUALIFY row_number() OVER (PARTITION BY household_no ORDER BY _line) = 1)
            SELECT household_no AS _key, household_no, village_id, registration_year, status,
                   exit_year, coalesce(poverty_cause, '') AS poverty_cause,
                   coalesce(minimum_income, false) AS minimum_income,
                   coalesce(bank_name, '') AS bank_name, bank_index, bank_account AS _bank,
                   {hash_expr(hh_cols)} AS row_hash, {ctx.batch.pk} AS import_batch_id
            FROM first ORDER BY _line""").to_arrow_table()
        for name, column in seal_array(
            hh.column("_bank"), prefix="bank", purpose="bank", with_index=False
        ).items():
            hh = hh.append_column(name, column)
        hh = hh.drop_columns(["_bank"])
        old_status = dict(fetch_columns("SELECT household_no, status FROM registry_household"))
        households = sync_rows(
            ctx=ctx,
            table="registry_household",
            entity="household",
            rows=hh,
            key_sql="household_no",
            diff_columns=hh_cols,
            sensitive={"bank_index": "bank_account"},
        )
        self._record_status_changes(hh, households.ids, old_status, ctx)
        con.register("h", households.ids)
        p_cols = [
            "household_id",
            "name",
            "sex",
            "birth_date",
            "relation",
            "ethnicity",
            "disability_kind",
            "disability_grade",
            "left_behind",
            "guardian_name",
            "guardian_id_index",
            "phone",
        ]
        persons = con.sql(f"""
            WITH x AS (
              SELECT f.id_index AS _key, f.id_number AS _id, f.guardian_id_number AS _gid,
                     h.id AS household_id, f.name,
                     coalesce(f.sex, CASE WHEN CAST(substr(f.id_number, 17, 1) AS INTEGER) % 2 = 1
                                          THEN 'M' ELSE 'F' END) AS sex,
                     coalesce(f.birth_date, strptime(substr(f.id_number, 7, 8), '%Y%m%d')::DATE) AS birth_date,
                     coalesce(relation, '') AS relation, coalesce(ethnicity, '') AS ethnicity,
                     coalesce(disability_kind, '') AS disability_kind, disability_grade,
                     coalesce(left_behind, false) AS left_behind,
                     coalesce(guardian_name, '') AS guardian_name, guardian_id_index,
                     coalesce(phone, '') AS phone, id_index
              FROM f JOIN h ON h._key = f.household_no)
            SELECT *, {hash_expr(p_cols)} AS row_hash FROM x""").to_arrow_table()
        sealed = {
            **seal_array(persons.column("_id"), prefix="id", purpose="id", with_index=False),
            **seal_array(
                persons.column("_gid"), prefix="guardian_id", purpose="id", with_index=False
            ),
        }
        for name, column in sealed.items():
            persons = persons.append_column(name, column)
        persons = persons.append_column("_label", persons.column("id_masked"))
        persons = persons.drop_columns(["_id", "_gid"])
        result = sync_rows(
            ctx=ctx,
            table="registry_person",
            entity="person",
            rows=persons,
            key_sql="id_index",
            diff_columns=p_cols,
            sensitive={"guardian_id_index": "guardian_id_number"},
        )
        counts = Counts(result.created, result.updated, result.unchanged)
        counts.notes.append(
            _("Households: %(c)d new, %(u)d updated.")
            % {"c": households.created, "u": households.updated}
        )
        return counts

    def _record_status_changes(
        self, hh: pa.Table, ids: pa.Table, old_status: dict[str, str], ctx: Context
    ) -> None:
        """Append a dated history entry for every new household and every changed status."""
        id_of = dict(zip(ids.column("_key").to_pylist(), ids.column("id").to_pylist(), strict=True))
        today = timezone.localdate()
        history = []
        for row in hh.select(
            ["household_no", "status", "exit_year", "registration_year"]
        ).to_pylist():
            if old_status.get(row["household_no"]) != row["status"]:
                year = (
                    row["exit_year"]
                    if row["status"] == "left_poverty"
                    else row["registration_year"]
                )
                history.append(
                    (id_of[row["household_no"]], row["status"], year, today, ctx.batch.pk)
                )
        insert_rows(
            "registry_householdstatuschange",
            ["household_id", "status", "year", "recorded_on", "import_batch_id"],
            history,
        )


AREA_IMPORTER = AreaImporter()
REGISTRY_IMPORTER = RegistryImporter()
