"""Routes of the class teacher's mobile page (mounted at /m/)."""

from __future__ import annotations

from django.urls import path

from jingzhun.duty.views import mobile as v

app_name = "mobile"
urlpatterns = [
    path("", v.home, name="home"),
    path("students/<int:student_id>/", v.student, name="student"),
]
