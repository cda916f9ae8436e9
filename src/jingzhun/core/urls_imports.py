from __future__ import annotations

from django.urls import path

from jingzhun.core import views_imports as v
from jingzhun.core import views_setaside as fix

app_name = "imports"
urlpatterns = [
    path("", v.import_list, name="list"),
    path("<int:pk>/", v.import_detail, name="detail"),
    path("<int:pk>/progress/", v.import_progress, name="progress"),
    path("<int:pk>/report/", v.import_report, name="report"),
    path("<int:pk>/mapping/", v.import_mapping, name="mapping"),
    path("templates/<str:kind>.xlsx", v.import_template, name="template"),
    path("set-aside/", fix.set_aside_list, name="set-aside"),
    path("set-aside/export.xlsx", fix.set_aside_export, name="set-aside-export"),
    path("set-aside/<int:pk>/", fix.set_aside_detail, name="set-aside-detail"),
    path("quality/", fix.quality_list, name="quality"),
    path("quality/export.xlsx", fix.quality_export, name="quality-export"),
]
