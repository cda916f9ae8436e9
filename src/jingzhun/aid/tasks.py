"""Background jobs of student aid (django-tasks)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_tasks import task

from jingzhun.aid import services
from jingzhun.core.progress import Progress


def progress_job(county_code: str) -> str:
    """Return the name under which a county's aid computation reports its progress."""
    return f"aid-{county_code}"


@task()
def compute(county_code: str, school_year: int, semester: str, user_id: int | None) -> int | None:
    """Compute a semester's entitlements in the worker; return the computation's id, if any."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    result = services.aid_compute(
        actor=user,
        county_code=county_code,
        school_year=school_year,
        semester=semester,
        progress=Progress(progress_job(county_code)),
    )
    return result.computation.pk if result.computation else None
