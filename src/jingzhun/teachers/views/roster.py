"""The teacher roster (教师花名册): filtered, searched by name, paged, exported as filtered."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.core import xlsx
from jingzhun.core.downloads import attachment as download
from jingzhun.core.listing import ListParams, paginate
from jingzhun.schools.selectors import list_choices
from jingzhun.teachers import selectors
from jingzhun.teachers.models import Teacher
from jingzhun.teachers.views.common import XLSX, may_record, page, teachers_view

ROSTER_EXTRA = ("staffing", "backbone")
BACKBONE = {"yes": True, "no": False}

# --- Chinese words of the official documents -------------------------------------------------
CN_POSTS = {"teacher": "教师", "principal": "校长", "other": "其他人员"}
CN_TITLES = {
    "none": "未定级",
    "junior": "初级",
    "intermediate": "中级",
    "senior": "高级",
    "full_senior": "正高级",
}
CN_STAFFING = {
    "in_establishment": "在编",
    "special_post": "特岗",
    "contract": "合同制",
    "substitute": "代课",
    "": "",
}
CN_SEX = {"M": "男", "F": "女"}
ROSTER_HEADERS = (
    "序号",
    "姓名",
    "身份证号",
    "性别",
    "乡镇",
    "学校",
    "岗位",
    "任教学科",
    "职称",
    "编制",
    "是否骨干",
    "到校日期",
    "离校日期",
)


def roster_params(request: HttpRequest) -> ListParams:
    lp = ListParams.read(
        request.GET,
        statuses=Teacher.Post.values,
        reasons=Teacher.Title.values,
        extra=ROSTER_EXTRA,
    )
    # A page's own filters are kept only with a value they can have.
    extra = dict(lp.extra)
    if extra.get("staffing") not in Teacher.Staffing.values:
        extra.pop("staffing", None)
    if extra.get("backbone") not in BACKBONE:
        extra.pop("backbone", None)
    return ListParams(**{**lp.__dict__, "extra": extra})


def filtered_teachers(user: Any, lp: ListParams) -> QuerySet[Teacher]:
    """Return the roster the user may see, as the page's filters narrow it."""
    rows = lp.apply(
        selectors.teacher_list(user=user),
        township="school__township__code",
        school="school_id",
        status="post",
        reason="title",
        names=("name",),
    )
    if "staffing" in lp.extra:
        rows = rows.filter(staffing=lp.extra["staffing"])
    if "backbone" in lp.extra:
        rows = rows.filter(backbone=BACKBONE[lp.extra["backbone"]])
    return rows.select_related("school__township").order_by(
        "school__township__code", "school__name", "name", "pk"
    )


def _active(lp: ListParams) -> bool:
    return lp.active or bool(lp.extra)


@teachers_view("GET", "HEAD")
def roster(request: HttpRequest) -> HttpResponse:
    """List the teachers the user may see, filtered, searched and paged."""
    user: Any = request.user
    lp = roster_params(request)
    page_ = paginate(request.GET, filtered_teachers(user, lp))
    return page(
        request,
        "teachers/roster.html",
        {
            "title": _("Teacher roster"),
            "active": "roster",
            "lp": lp,
            "filtered": _active(lp),
            "choices": list_choices(
                user=user,
                params=lp,
                statuses=[(k, str(v)) for k, v in Teacher.Post.choices],
                reasons=[(k, str(v)) for k, v in Teacher.Title.choices],
            ),
            "staffing_choices": [(k, str(v)) for k, v in Teacher.Staffing.choices],
            "total": page_.paginator.count,
            "rows": page_,
            "may_record": may_record(user),
        },
    )


@teachers_view("GET", "HEAD")
def roster_export(request: HttpRequest) -> HttpResponse:
    """Download the roster as filtered on the page (.xlsx); IDs masked, as the page shows."""
    user: Any = request.user
    lp = roster_params(request)
    rows = [
        [
            n,
            t.name,
            t.id_masked,
            CN_SEX.get(t.sex, ""),
            t.school.township.name if t.school.township else "",
            t.school.name,
            CN_POSTS.get(t.post, ""),
            t.subject,
            CN_TITLES.get(t.title, ""),
            CN_STAFFING.get(t.staffing, ""),
            "是" if t.backbone else "否",
            t.started_on.isoformat() if t.started_on else "",
            t.left_on.isoformat() if t.left_on else "",
        ]
        for n, t in enumerate(filtered_teachers(user, lp).iterator(chunk_size=1000), start=1)
    ]
    content = xlsx.workbook([xlsx.Sheet("教师花名册", ROSTER_HEADERS, rows)])
    return download(content, f"teachers-{timezone.localdate().isoformat()}.xlsx", XLSX)
