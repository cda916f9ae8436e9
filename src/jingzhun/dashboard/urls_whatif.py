"""Routes of the command centre's policy what-if pages (see urls_centre)."""

from __future__ import annotations

from django.urls import URLPattern, path

from jingzhun.dashboard import views_whatif as v

urlpatterns: list[URLPattern] = [
    path("what-if/", v.what_if, name="what-if"),
    path("what-if/<int:draft_id>/", v.what_if_draft, name="what-if-draft"),
    path("what-if/<int:draft_id>/result/", v.what_if_result, name="what-if-result"),
    path("what-if/<int:draft_id>/result.xlsx", v.what_if_xlsx, name="what-if-xlsx"),
]
