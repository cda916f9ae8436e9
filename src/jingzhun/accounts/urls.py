"""Account pages: two-factor login (enrolment and the code after the password)."""

from __future__ import annotations

from django.urls import path

from jingzhun.accounts import views_two_factor

app_name = "two_factor"

urlpatterns = [
    path("two-factor/", views_two_factor.enrol, name="enrol"),
    path("two-factor/verify/", views_two_factor.verify, name="verify"),
]
