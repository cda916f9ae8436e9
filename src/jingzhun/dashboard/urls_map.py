"""Routes of the command centre's map pages (see urls_centre)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
