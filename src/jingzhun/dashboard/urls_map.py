"""Routes of the command centre's map pages (see urls_centre)."""

from __future__ import annotations

from django.urls import URLPattern, path

from jingzhun.dashboard import views_map as v

urlpatterns: list[URLPattern] = [
    path("map/", v.map_page, name="map"),
    path("map/import/", v.map_import, name="map-import"),
    path("map/village/<str:village_code>/", v.village_page, name="village"),
]
