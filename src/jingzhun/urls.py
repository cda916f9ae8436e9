"""URL routes."""

from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from jingzhun.accounts import views_setup
from jingzhun.api import api
from jingzhun.core import urls_imports
from jingzhun.core import views as core_views
from jingzhun.schools import urls as schools_urls

# One "imports" namespace for the import pages of core and the follow-up pages of the apps
# (core does not import the apps): imports:list, imports:schools-derived, ...
imports_routes: list[URLPattern | URLResolver] = [
    *urls_imports.urlpatterns,
    path("schools/", include(schools_urls)),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("setup/", views_setup.setup, name="setup"),  # first run only, then a 404
    path("account/", include("jingzhun.accounts.urls")),  # two-factor login
    path("admin/", admin.site.urls),
    path("reveal/<str:model>/<int:pk>/<str:field>/", core_views.reveal, name="reveal"),
    # API and imports routes are added below by their owners
    path("api/", api.urls),
    path("imports/", include((imports_routes, urls_imports.app_name))),
    path("identification/", include("jingzhun.identification.urls")),
    path("aid/", include("jingzhun.aid.urls")),
    path("duty/", include("jingzhun.duty.urls")),
    path("m/", include("jingzhun.duty.urls_mobile")),
    path("children/", include("jingzhun.dashboard.urls")),
    path("centre/", include("jingzhun.dashboard.urls_centre")),
    path("teachers/", include("jingzhun.teachers.urls")),
    path("projects/", include("jingzhun.projects.urls")),
    path("oversight/", include("jingzhun.oversight.urls")),
    path("funds/", include("jingzhun.funds.urls")),
]
