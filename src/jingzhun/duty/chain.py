"""Who currently answers for whom: the chain read once, for many children at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from jingzhun.accounts.roles import Role
from jingzhun.duty.models import Assignment


@dataclass
class Chain:
    """The current holders: named persons by child, class teachers by class, contact persons
    by village code, township officers by township code (the lowest id where several)."""

    named: dict[int, Any]
    teachers: dict[int, Any]
    contacts: dict[str, Any]
    officers: dict[str, Any]

    @classmethod
    def read(cls) -> Chain:
        """Read the current chain in three queries."""
        chain = cls({}, {}, {}, {})
        current = Assignment.objects.filter(ends_on__isnull=True).select_related(
            "holder", "village"
        )
        for a in current.filter(kind__in=[Assignment.Kind.STUDENT, Assignment.Kind.VILLAGE]):
            if a.kind == Assignment.Kind.STUDENT and a.person_id is not None:
                chain.named[a.person_id] = a.holder
            elif a.kind == Assignment.Kind.VILLAGE and a.village is not None:
                chain.contacts[a.village.code] = a.holder
        # Newest first, so that where several hold one post the earliest account wins.
        users = get_user_model().objects.filter(is_active=True).order_by("-id")
        for u in users.filter(role=Role.CLASS_TEACHER, school_class__isnull=False):
            if u.school_class_id is not None:
                chain.teachers[u.school_class_id] = u
        for u in users.filter(role=Role.TOWNSHIP_OFFICER).select_related("area"):
            if u.area is not None:
                chain.officers[u.area.code] = u
        return chain

    def responsible(self, person_id: int, school_class_id: int | None, village_code: str) -> Any:
        """Return the child's responsible person: the named one, else the class teacher, else
        the contact person of their village (for a child with no school), else None."""
        if person_id in self.named:
            return self.named[person_id]
        if school_class_id is not None and school_class_id in self.teachers:
            return self.teachers[school_class_id]
        return self.contacts.get(village_code)

    def supervisor(self, village_code: str) -> Any:
        """Return the township officer of the child's township."""
        return self.officers.get(village_code[:9])
