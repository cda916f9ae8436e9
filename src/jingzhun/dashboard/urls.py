"""Routes of the child search and the child's page."""

from __future__ import annotations

from django.urls import path

from jingzhun.dashboard import views as v

app_name = "dashboard"
urlpatterns = [
    path("", v.children, name="children"),
    path("<int:person_id>/", v.child, name="child"),
    path("student/<int:student_id>/", v.student, name="student"),
]
