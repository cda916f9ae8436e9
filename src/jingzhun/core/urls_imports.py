from __future__ import annotations

from django.urls import path

from jingzhun.core import views_imports as v

app_name = "imports"
urlpatterns = [
    path("", v.import_list, name="list"),
    path("<int:pk>/", v.import_detail, name="detail"),
    path("<int:pk>/progress/", v.import_progress, name="progress"),
    path("<int:pk>/report/", v.import_report, name="report"),
    path("<int:pk>/mapping/", v.import_mapping, name="mapping"),
    path("templates/<str:kind>.xlsx", v.import_template, name="template"),
]
