"""Accounts made from the command line: passwords, jurisdictions named by code, updates.

Used by ``jingzhun county-setup`` (and its web twin, the first-run page /setup/) and
``jingzhun create-user``. Areas, schools and classes are reached through the user's foreign
keys, not imported: accounts does not import the apps downstream of it.
"""

from __future__ import annotations

import getpass
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from jingzhun.accounts.models import User
from jingzhun.accounts.passwords import character_classes
from jingzhun.accounts.roles import ROLE_LEVELS, Role
from jingzhun.accounts.services import (
    jurisdiction_county_code,
    user_create,
    validate_jurisdiction,
)
from jingzhun.core.audit import audit_record
from jingzhun.core.models import CountyProfile
from jingzhun.core.periods import SchoolYear
from jingzhun.core.working_year import parse_school_year

# Letters and digits that cannot be mistaken for one another when read aloud or copied by hand.
READABLE_CHARACTERS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
GENERATED_LENGTH = 16


def _model(field: str) -> type[models.Model]:
    model = User._meta.get_field(field).related_model
    assert isinstance(model, type) and issubclass(model, models.Model)
    return model


def area_model() -> Any:
    return _model("area")


def school_model() -> Any:
    return _model("school")


def class_model() -> Any:
    return _model("school_class")


def messages_of(exc: ValidationError) -> str:
    """Return a validation error's messages as one line."""
    return " ".join(str(m) for m in exc.messages)


# --------------------------------------------------------------------------- passwords


def stdin_is_terminal() -> bool:
    """Whether a person can be asked for a password (tests replace this)."""
    return sys.stdin.isatty()


def generate_password() -> str:
    """Return a random password of readable characters that mixes lower, upper case and digits
    (the password policy asks for three kinds of characters)."""
    while True:
        password = "".join(secrets.choice(READABLE_CHARACTERS) for _i in range(GENERATED_LENGTH))
        if len(character_classes(password)) >= 3:
            return password


def read_password_file(path: Path) -> str:
    """Return the first line of a password file ('-' reads standard input)."""
    try:
        text = sys.stdin.read() if str(path) == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(
            _("Cannot read the password file %(file)s: %(error)s") % {"file": path, "error": exc}
        ) from exc
    lines = text.splitlines()
    password = lines[0] if lines else ""
    if not password:
        raise CommandError(_("The password file %(file)s is empty.") % {"file": path})
    return password


def prompt_password(username: str) -> str:
    """Ask for a password twice on the terminal, never echoing it."""
    if not stdin_is_terminal():
        raise CommandError(
            _(
                "No password given for %(user)s and no terminal to ask for one: use "
                "--password-file FILE or --generate-password."
            )
            % {"user": username}
        )
    first = getpass.getpass(_("Password for %(user)s: ") % {"user": username})
    second = getpass.getpass(_("Password for %(user)s (again): ") % {"user": username})
    if first != second:
        raise CommandError(_("The two passwords differ; nothing was changed."))
    if not first:
        raise CommandError(_("The password is empty; nothing was changed."))
    return first


@dataclass
class Password:
    value: str
    generated: bool


def obtain_password(
    *, username: str, password_file: Path | None, generate: bool, ask: bool = True
) -> Password | None:
    """Return the password to set, from a file, generated, or asked for (None: keep it).

    A password a person chose must pass the site's password validators.
    """
    if generate:
        return Password(generate_password(), generated=True)
    if password_file is not None:
        value = read_password_file(password_file)
    elif ask:
        value = prompt_password(username)
    else:
        return None
    try:
        validate_password(value, User(username=username))
    except ValidationError as exc:
        raise CommandError(
            _("The password for %(user)s is not accepted: %(reasons)s")
            % {"user": username, "reasons": messages_of(exc)}
        ) from exc
    return Password(value, generated=False)


# --------------------------------------------------------------------------- jurisdictions


@dataclass
class Jurisdiction:
    area: Any = None
    school: Any = None
    school_class: Any = None

    @property
    def place(self) -> Any:
        return self.school_class or self.school or self.area


def role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else role


def find_area(code: str) -> Any:
    area = area_model().objects.filter(code=code.strip()).first()
    if area is None:
        raise CommandError(
            _(
                "No area with code %(code)s. Areas come from the registry, the areas file or "
                "county-setup; check the code (6 digits for the county, 9 for a township)."
            )
            % {"code": code}
        )
    return area


def find_school(code: str) -> Any:
    school = school_model().objects.filter(code=code.strip()).first()
    if school is None:
        raise CommandError(
            _("No school with code %(code)s. Schools come from the schools file or the rolls.")
            % {"code": code}
        )
    return school


def _stage_value(text: str) -> str:
    """Return the stage written as its value (primary), or its name in English or Chinese."""
    stages = class_model()._meta.get_field("stage").choices or []
    wanted = text.strip().casefold()
    for value, label in stages:
        names = {str(value).casefold(), str(label).casefold()}
        for language in ("en", "zh-hans"):
            with translation.override(language):
                names.add(str(label).casefold())
        if wanted in names:
            return str(value)
    raise CommandError(
        _("Unknown stage %(stage)s; one of: %(stages)s")
        % {"stage": text, "stages": ", ".join(f"{v} ({label})" for v, label in stages)}
    )


def find_class(spec: str) -> Any:
    """Find a class given as SCHOOLCODE:YEAR:STAGE:GRADE:NAME, e.g. 2142010001:2018:primary:3:1班."""
    parts = spec.split(":")
    if len(parts) != 5 or not all(p.strip() for p in parts):
        raise CommandError(
            _(
                "Give a class as SCHOOLCODE:YEAR:STAGE:GRADE:NAME, for example "
                "2142010001:2018:primary:3:1班 (got %(spec)s)."
            )
            % {"spec": spec}
        )
    code, year_text, stage_text, grade_text, name = (p.strip() for p in parts)
    school = find_school(code)
    try:
        year = parse_school_year(year_text)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    stage = _stage_value(stage_text)
    if not grade_text.isdigit():
        raise CommandError(_("The grade must be a number (got %(grade)s).") % {"grade": grade_text})
    classes = class_model().objects.filter(school=school, school_year=year)
    found = classes.filter(stage=stage, grade=int(grade_text), name=name).first()
    if found is None:
        known = ", ".join(f"{c.stage}:{c.grade}:{c.name}" for c in classes) or _("none")
        raise CommandError(
            _(
                "No class %(spec)s. Classes come from the rolls; the classes of %(school)s in "
                "%(year)d are: %(known)s"
            )
            % {"spec": spec, "school": school.name, "year": year, "known": known}
        )
    return found


def resolve_jurisdiction(
    role: str, *, area: str = "", school: str = "", school_class: str = ""
) -> Jurisdiction:
    """Find the jurisdiction named by codes and check that it fits the role."""
    levels = ROLE_LEVELS[role]
    label = role_label(role)
    wants = {"area": bool({"county", "township"} & set(levels)), "school": "school" in levels}
    wants["class"] = "class" in levels
    option = {
        "area": "--area CODE",
        "school": "--school SCHOOLCODE",
        "class": "--class SCHOOLCODE:YEAR:STAGE:GRADE:NAME",
    }
    given = {"area": area, "school": school, "class": school_class}
    needed = next(k for k, v in wants.items() if v)
    for kind, value in given.items():
        if value and not wants[kind]:
            raise CommandError(
                _("The role %(role)s does not take --%(given)s; give %(option)s.")
                % {"role": label, "given": kind, "option": option[needed]}
            )
    if not any(given.values()):
        raise CommandError(
            _("The role %(role)s needs a jurisdiction; give %(option)s.")
            % {"role": label, "option": option[needed]}
        )
    found = Jurisdiction()
    if area:
        found.area = find_area(area)
    if school:
        found.school = find_school(school)
        if found.school.township_id is None:
            raise CommandError(
                _(
                    "School %(code)s (%(name)s) has no township in the county, so it cannot be "
                    "a principal's school."
                )
                % {"code": found.school.code, "name": found.school.name}
            )
    if school_class:
        found.school_class = find_class(school_class)
    try:
        validate_jurisdiction(
            role=role, area=found.area, school=found.school, school_class=found.school_class
        )
    except ValidationError as exc:
        where = f" ({found.area.get_level_display()} {found.area.code})" if found.area else ""
        raise CommandError(f"{messages_of(exc)}{where}") from exc
    return found


# --------------------------------------------------------------------------- updates


@transaction.atomic
def user_update(
    *,
    user: User,
    role: str,
    jurisdiction: Jurisdiction,
    full_name: str | None,
    password: str | None,
) -> dict[str, list[Any]]:
    """Change a user's role, jurisdiction, name or password; return {field: [old, new]}.

    The change and a new password (never its value) go to the audit log; nothing is written
    when nothing changes.
    """
    wanted: dict[str, Any] = {
        "role": role,
        "area_id": jurisdiction.area.pk if jurisdiction.area else None,
        "school_id": jurisdiction.school.pk if jurisdiction.school else None,
        "school_class_id": jurisdiction.school_class.pk if jurisdiction.school_class else None,
        "county_code": jurisdiction_county_code(
            area=jurisdiction.area,
            school=jurisdiction.school,
            school_class=jurisdiction.school_class,
        ),
    }
    if full_name is not None:
        wanted["first_name"] = full_name
    changes = {
        name: [getattr(user, name), value]
        for name, value in wanted.items()
        if getattr(user, name) != value
    }
    for name, value in wanted.items():
        setattr(user, name, value)
    if password is not None:
        user.set_password(password)
    if not changes and password is None:
        return changes
    user.full_clean()
    user.save()
    if changes:
        audit_record(
            actor=None,
            actor_name="cli",
            action="user.update",
            target=user,
            data={"changes": changes},
        )
    if password is not None:
        audit_record(actor=None, actor_name="cli", action="user.password_set", target=user)
    return changes


# --------------------------------------------------------------------------- county setup
#
# ``jingzhun county-setup`` and the first-run page (/setup/) both check with
# :func:`county_setup_plan`, then write with :func:`county_setup`.

COUNTY_CODE = re.compile(r"^\d{6}$")


@dataclass
class CountyPlan:
    """What a county setup will write, once its values have been checked."""

    code: str
    name: str
    year: int
    username: str
    area: Any = None  # the county's area, if it exists already
    admin: User | None = None  # the administrator, if they exist already


@dataclass
class CountySetupResult:
    lines: list[str]  # what was done, one line per step, for the person who asked
    changed: bool
    county: Any
    admin: User


def county_setup_plan(*, code: str, name: str, school_year: str, username: str) -> CountyPlan:
    """Check a county setup's values against the database (CommandError names what is wrong)."""
    code = code.strip()
    if not COUNTY_CODE.match(code):
        raise CommandError(
            _("A county code has 6 digits, like 420101 (got %(code)s).") % {"code": code}
        )
    name = name.strip()
    if not name or len(name) > 100:
        raise CommandError(_("Give the county's name (at most 100 characters)."))
    try:
        year = parse_school_year(school_year)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    area = area_model().objects.filter(code=code).first()
    if area is not None and area.level != "county":
        raise CommandError(
            _("The code %(code)s belongs to %(area)s, which is not a county.")
            % {"code": code, "area": area}
        )
    username = username.strip()
    if not username:
        raise CommandError(_("Give the administrator's username."))
    admin = User.objects.filter(username=username).first()
    if admin is not None and (
        admin.role != Role.COUNTY_ADMIN
        or admin.area_id is None
        or admin.area_id != getattr(area, "pk", None)
    ):
        raise CommandError(
            _(
                "The user %(user)s already exists with another role or jurisdiction; "
                "nothing was changed. Choose another username for the county administrator "
                "(or change that user with create-user --update)."
            )
            % {"user": username}
        )
    return CountyPlan(code, name, year, username, area, admin)


@transaction.atomic
def county_setup(
    plan: CountyPlan,
    *,
    full_name: str | None,
    password: Password | None,
    actor_name: str = "cli",
    request: Any = None,
) -> CountySetupResult:
    """Create or update the county's area, its profile (working year) and its administrator.

    A new administrator needs a password; an existing one is left as they are (password too).
    Every change goes to the audit log under ``actor_name`` (and the request's address).
    """
    who = {"actor": None, "actor_name": actor_name, "request": request}
    lines: list[str] = []
    changed = _setup_area(plan, lines, who)
    changed |= _setup_year(plan, lines, who)
    county = area_model().objects.get(code=plan.code)
    changed_admin, admin = _setup_admin(plan, county, full_name, password, lines)
    return CountySetupResult(lines, changed or changed_admin, county, admin)


def _setup_area(plan: CountyPlan, lines: list[str], who: dict[str, Any]) -> bool:
    code, name, area = plan.code, plan.name, plan.area
    if area is None:
        area = area_model()(code=code, name=name, level="county", parent=None)
        area.full_clean()
        area.save()
        audit_record(
            action="county.setup",
            target=area,
            data={"created": {"code": code, "name": name}},
            **who,
        )
        lines.append(_("County %(code)s %(name)s: created.") % {"code": code, "name": name})
        return True
    if area.name != name:
        old = area.name
        area.name = name
        area.full_clean()
        area.save(update_fields=["name"])
        audit_record(
            action="county.setup", target=area, data={"changes": {"name": [old, name]}}, **who
        )
        lines.append(
            _("County %(code)s: name changed from %(old)s to %(new)s.")
            % {"code": code, "old": old, "new": name}
        )
        return True
    lines.append(_("County %(code)s %(name)s: unchanged.") % {"code": code, "name": name})
    return False


def _setup_year(plan: CountyPlan, lines: list[str], who: dict[str, Any]) -> bool:
    code, name, year = plan.code, plan.name, plan.year
    shown = str(SchoolYear(year))
    profile = CountyProfile.objects.filter(county_code=code).first()
    if profile is None:
        profile = CountyProfile.objects.create(county_code=code, name=name, working_year=year)
        audit_record(
            action="county.working_year", target=profile, data={"working_year": year}, **who
        )
        lines.append(_("Working school year: %(year)s (set).") % {"year": shown})
        return True
    changes: dict[str, list[Any]] = {}
    if profile.name != name:
        changes["name"] = [profile.name, name]
        profile.name = name
    if profile.working_year != year:
        changes["working_year"] = [profile.working_year, year]
        lines.append(
            _("Working school year changed from %(old)s to %(new)s.")
            % {
                "old": SchoolYear(profile.working_year) if profile.working_year else _("today's"),
                "new": shown,
            }
        )
        profile.working_year = year
    else:
        lines.append(_("Working school year %(year)s: unchanged.") % {"year": shown})
    if not changes:
        return False
    profile.save()
    audit_record(action="county.working_year", target=profile, data={"changes": changes}, **who)
    return True


def _setup_admin(
    plan: CountyPlan,
    county: Any,
    full_name: str | None,
    password: Password | None,
    lines: list[str],
) -> tuple[bool, User]:
    label = role_label(Role.COUNTY_ADMIN)
    username = plan.username
    if plan.admin is None:
        if password is None:
            raise CommandError(_("The password is empty; nothing was changed."))
        admin = user_create(
            actor=None,
            username=username,
            password=password.value,
            role=Role.COUNTY_ADMIN,
            area=county,
            full_name=full_name or "",
        )
        lines.append(_("%(role)s %(user)s: created.") % {"role": label, "user": username})
        return True, admin
    changes = user_update(
        user=plan.admin,
        role=Role.COUNTY_ADMIN,
        jurisdiction=Jurisdiction(area=county),
        full_name=full_name,
        password=None,
    )
    if changes:
        lines.append(
            _("%(role)s %(user)s: name changed to %(name)s (password not changed).")
            % {"role": label, "user": username, "name": full_name}
        )
        return True, plan.admin
    lines.append(
        _("%(role)s %(user)s: already exists, unchanged (password not changed).")
        % {"role": label, "user": username}
    )
    return False, plan.admin
