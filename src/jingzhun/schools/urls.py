"""Pages of the schools app, under ``imports/schools/``.

No namespace of their own: jingzhun.urls places them in the ``imports`` namespace
(``imports:schools-derived``), beside the import pages of core.
"""

from __future__ import annotations

from django.urls import path

from jingzhun.schools import views

urlpatterns = [
    path("", views.derived_list, name="schools-derived"),
]
