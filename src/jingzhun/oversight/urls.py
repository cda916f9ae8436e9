"""Routes of the supervision pages (mounted at /oversight/): each part lists its own."""

from __future__ import annotations

from jingzhun.oversight.views import assessment, audit, inspections

app_name = "oversight"
urlpatterns = [*inspections.urlpatterns, *assessment.urlpatterns, *audit.urlpatterns]
