"""The role x area access matrix: every persona against every URL route of the project.

The routes are not listed here: they are read from ``django.urls.get_resolver()``, so a
page, admin registration or API endpoint added later is covered without touching this
file. Path parameters are filled with the record of township A and of township B of the
right model; a route whose parameters this file cannot fill fails the test, so that a
new kind of route forces an update of the mapping below.

For each persona (logged in by session, and for the API also by bearer token):

(a) no response body contains a whole ID number or bank account;
(b) a persona scoped to township A (or a school or class in it) never gets a 200 on a
    URL naming a township-B object, and no body it receives names a B record (and
    the other way round for township B);
(c) the persona without a jurisdiction gets no 200 that shows any record;
(d) a forbidden POST (any POST by a read-only role; a POST naming the other
    township's records by anyone scoped to one township) changes no row of the
    data tables.

When ``test_every_route_can_be_filled`` fails after a new route: give a new model its
A and B record in ``world`` (or list it in SHARED_MODELS with the reason), name a new
URL parameter in PARAM_MODELS or PK_ROUTES, or teach ``fills`` a new kind of route.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import html
import io
import json
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import models
from django.forms import CheckboxInput, MultiWidget
from django.http import HttpResponseBase
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern
from tests.aid.world import identify
from tests.conftest import ID_A, ID_B, County, Personas, make_user
from tests.imports.helpers import make_id

from jingzhun.accounts.models import ApiToken, StaffMember, User
from jingzhun.accounts.roles import Role
from jingzhun.accounts.services import api_token_create
from jingzhun.aid import services as aid_services
from jingzhun.aid.models import Adjustment, AidNotice, Entitlement, Loan
from jingzhun.core import permissions as P
from jingzhun.core.models import ImportBatch
from jingzhun.core.reveal import REVEALABLE
from jingzhun.core.sensitive import seal
from jingzhun.duty import services as duty_services
from jingzhun.duty.models import Assignment, CaseStep, DropoutCase
from jingzhun.funds import services as funds_services
from jingzhun.funds.models import PaymentBatch
from jingzhun.identification.models import (
    ChildStatus,
    Discrepancy,
    HomeTeaching,
    IdentificationRun,
    OutOfCountyProof,
    ReviewCandidate,
    RunChange,
)
from jingzhun.oversight import services as oversight_services
from jingzhun.oversight.assessment import INDICATORS
from jingzhun.oversight.models import (
    Finding,
    InspectionPlan,
    Rectification,
    RectificationEntry,
    SampleCheck,
    Visit,
)
from jingzhun.projects import services as projects_services
from jingzhun.projects.models import Project, ProjectNode
from jingzhun.registry.models import Area, Household, HouseholdStatusChange, Person
from jingzhun.schools.models import Enrolment, School, SchoolClass, Student
from jingzhun.teachers.models import Exchange, ServicePeriod, Teacher, Training

BANK_A = "6228480012345678901"
TEACHER_ID_A = make_id("420101", "19800101", "013")
TEACHER_ID_B = make_id("420101", "19810202", "024")
SECRETS = (ID_A, ID_B, BANK_A, TEACHER_ID_A, TEACHER_ID_B)

# Routes that need special handling, each with the reason. Everything else is requested
# with GET and POST ("get" and "post" default to True).
SPECIAL_ROUTES: dict[str, dict[str, Any]] = {
    "admin/logout/": {
        "post": False,
        "why": "a POST ends the session the rest of the walk runs in (GET is a 405)",
    },
    "i18n/setlang/": {
        "post": False,
        "why": "sets only the language cookie; switching language mid-walk changes no data",
    },
    "admin/password_change/": {
        "post": False,
        "why": "every user may change their own password; that write is allowed, not forbidden",
    },
}

# Models with no township: one shared record is requested (or a missing pk if none exists).
SHARED_MODELS: dict[str, str] = {
    "auth.group": "permission groups are global configuration",
    "axes.accessattempt": "login throttling records are global",
    "axes.accesslog": "login throttling records are global",
    "axes.accessfailurelog": "login throttling records are global",
    "django_tasks_database.dbtaskresult": "background job results are global",
    "core.auditevent": "the audit log is county-wide",
    "core.importbatch": "imports are county work (ImportBatch.scope_q: county users only)",
    "core.importchange": "belongs to an import, county work",
    "core.columnmapping": "column mappings are per data source, county work",
    "core.countyprofile": "the county's own settings (working period), county users only",
    "identification.identificationrun": (
        "a run is county-wide (county code, date, counts); its rows are scoped on their own"
    ),
    "aid.rulebookversion": "a rule book is the county's (every county user reads it)",
    "aid.aidcomputation": "a computation is county-wide (period, rule book, counts)",
    "funds.allocation": "allocations are county money (Allocation.scope_q: county users only)",
    "funds.paymentbatch": "payment batches are county work (PaymentBatch.scope_q: county only)",
    "funds.payment": "payments belong to a batch, county work (Payment.scope_q: county only)",
    "funds.bankreturn": "bank return files belong to a batch, county work",
    "oversight.inspectionplan": "an inspection plan is the county's (it visits both townships)",
    "funds.account": "the fund ledger is the county's books (county users only)",
    "funds.journalentry": "the fund ledger is the county's books (county users only)",
    "funds.journalline": "the fund ledger is the county's books (county users only)",
    "funds.accountday": "the fund ledger is the county's books (county users only)",
    "funds.donor": "donors give to the county's pooled fund (county users only)",
    "funds.pledge": "a donor's pledge to the county (county users only)",
    "funds.receipt": "donations received into the county's pooled fund (county users only)",
    "funds.fundproject": "projects' money is the county's books (county users only)",
    "funds.disbursement": "projects' money is the county's books (county users only)",
    "funds.evaluation": "projects' money is the county's books (county users only)",
    "funds.indicator": "projects' money is the county's books (county users only)",
    "dashboard.ruledraft": "a draft rule book is the county's (county users only)",
}

# URL parameters named the same across the project's own views and API, and their model.
PARAM_MODELS: dict[str, type[models.Model]] = {
    "area_id": Area,
    "household_id": Household,
    "person_id": Person,
    "school_id": School,
    "class_id": SchoolClass,
    "student_id": Student,
    "enrolment_id": Enrolment,
    "batch_id": ImportBatch,
    "import_id": ImportBatch,
    "run_id": IdentificationRun,
    "candidate_id": ReviewCandidate,
    "notice_id": AidNotice,
    # Not "batch_id", which names an import batch above.
    "payment_batch_id": PaymentBatch,
    "case_id": DropoutCase,
    "step_id": CaseStep,
    "assignment_id": Assignment,
    "staff_id": StaffMember,
    "project_id": Project,
    "node_id": ProjectNode,
    "plan_id": InspectionPlan,
    "visit_id": Visit,
    "check_id": SampleCheck,
    "finding_id": Finding,
    "rectification_id": Rectification,
    "entry_id": RectificationEntry,
    "journal_entry_id": apps.get_model("funds", "JournalEntry"),
    "donor_id": apps.get_model("funds", "Donor"),
    "fund_project_id": apps.get_model("funds", "FundProject"),
    "draft_id": apps.get_model("dashboard", "RuleDraft"),
}

# Routes whose `pk` parameter names a model (route prefix -> model).
PK_ROUTES: dict[str, type[models.Model]] = {
    "imports/": ImportBatch,
}

# Capabilities that allow some write; a persona with none of them may change nothing.
WRITE_CAPABILITIES = (
    P.IMPORT_DATA,
    P.EDIT_REGISTRY,
    P.EDIT_SCHOOLS,
    P.MANAGE_USERS,
    P.AID_CLASS_REVIEW,
    P.AID_SCHOOL_REVIEW,
    P.AID_MANAGE,
    P.PAY,
    P.DUTY_ASSIGN,
    P.CASEWORK,
    P.CASE_VERIFY,
    P.INSPECT,
)

# Tables whose rows a forbidden POST must not change, and columns that change on mere use.
SNAPSHOT_APPS = (
    "registry",
    "schools",
    "accounts",
    "core",
    "auth",
    "aid",
    "funds",
    "duty",
    "teachers",
    "projects",
    "oversight",
)
SNAPSHOT_SKIP_MODELS = ("core.auditevent",)  # refusals are logged there, by design
VOLATILE_COLUMNS = {"last_login", "last_used_at"}

# A term that matches both townships' names (张小明, 李小红), for search boxes.
SEARCH_TERM = "小"


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    county: County
    personas: Personas
    tokens: dict[str, str]
    ab: dict[type[models.Model], tuple[models.Model, models.Model]]
    shared: dict[type[models.Model], models.Model | None]
    markers: dict[str, tuple[str, ...]]

    def objects(self, model: type[models.Model]) -> list[tuple[str | None, Any]]:
        """Return [(side, pk)] to put into a URL naming a `model` record."""
        if model in self.ab:
            a, b = self.ab[model]
            return [("A", a.pk), ("B", b.pk)]
        if model in self.shared:
            obj = self.shared[model]
            if obj is not None:
                return [(None, obj.pk)]
            # No record to name: a pk that exists nowhere, of the right form.
            missing = uuid.UUID(int=0) if isinstance(model._meta.pk, models.UUIDField) else 999_999
            return [(None, missing)]
        raise KeyError(model)


@pytest.fixture
def world(county: County, personas: Personas, settings: Any, tmp_path: Any) -> World:
    """Build the county, one token per persona, and the A/B record of every model."""
    tokens = {
        name: api_token_create(actor=None, user=user, name="matrix")[1]
        for name, user in personas.all().items()
    }
    c = county
    today = dt.date(2019, 1, 1)
    status_a = HouseholdStatusChange.objects.create(
        household=c.household_a, status="registered", year=2015, recorded_on=today
    )
    status_b = HouseholdStatusChange.objects.create(
        household=c.household_b, status="registered", year=2016, recorded_on=today
    )
    ImportBatch.objects.create(
        kind="registry",
        file_name="registry.xlsx",
        stored_path="x",
        sha256="0" * 64,
        created_by=personas.county_officer,
        county_code="420101",
    )
    apps.get_model("auth.group").objects.create(name="matrix")
    identification_ab = identification_world(c, today)
    aid_ab = aid_world(c, personas)
    settings.MEDIA_ROOT = str(tmp_path / "media")  # duty evidence files
    duty_ab = duty_world(c, personas)
    teachers_ab = teachers_world(c)
    projects_ab = projects_world(c, personas)
    oversight_ab = oversight_world(c, personas)
    apps.get_model("dashboard.RuleDraft").objects.create(
        county_code="420101", school_year=2018, name="matrix", text="school_year: 2018\n"
    )
    ab: dict[type[models.Model], tuple[models.Model, models.Model]] = {
        Area: (c.village_a, c.village_b),
        Household: (c.household_a, c.household_b),
        HouseholdStatusChange: (status_a, status_b),
        Person: (c.person_a, c.person_b),
        School: (c.school_a, c.school_b),
        SchoolClass: (c.class_a, c.class_b),
        Student: (c.student_a, c.student_b),
        Enrolment: (c.enrolment_a, c.enrolment_b),
        User: (personas.township_a, personas.township_b),
        StaffMember: (personas.township_a.staff_member, personas.township_b.staff_member),
        ApiToken: (
            ApiToken.objects.get(user=personas.township_a),
            ApiToken.objects.get(user=personas.township_b),
        ),
        **identification_ab,
        **aid_ab,
        **duty_ab,
        **teachers_ab,
        **projects_ab,
        **oversight_ab,
    }
    shared: dict[type[models.Model], models.Model | None] = {}
    for label in SHARED_MODELS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        shared[model] = model._default_manager.order_by("pk").first()

    def markers(side: str) -> tuple[str, ...]:
        person = getattr(c, f"person_{side}")
        return (
            person.name,
            # (not the masked ID: it keeps only the area code, which both townships share)
            getattr(c, f"village_{side}").name,
            getattr(c, f"school_{side}").name,
            getattr(c, f"household_{side}").household_no,
            TEACHER_NAMES[side],
        )

    return World(c, personas, tokens, ab, shared, {"A": markers("a"), "B": markers("b")})


def identification_world(
    c: County, today: dt.date
) -> dict[type[models.Model], tuple[models.Model, models.Model]]:
    """Create one run (county-wide) and the A and B row of each identification model.

    Rows are created directly, as a run and a review would leave them: each names the
    child, village and school of its own township only.
    """
    run = IdentificationRun.objects.create(
        county_code="420101",
        as_of=dt.date(2018, 10, 8),
        school_year=2018,
        status="done",
        inputs_hash="0" * 64,
        counts={"children": 2, "in_county": 2},
    )
    rows: dict[str, list[models.Model]] = {}
    for side in ("a", "b"):
        person = getattr(c, f"person_{side}")
        student = getattr(c, f"student_{side}")
        school = getattr(c, f"school_{side}")
        enrolment = getattr(c, f"enrolment_{side}")
        village = getattr(c, f"village_{side}").code
        made = [
            ChildStatus.objects.create(
                run=run,
                person=person,
                category="in_county",
                age=8,
                household_status="registered",
                village_code=village,
                student=student,
                enrolment=enrolment,
                school=school,
                stage=enrolment.stage,
                grade=enrolment.grade,
                link_method="exact",
                known=True,
            ),
            RunChange.objects.create(
                run=run,
                kind="new_poor_student",
                person=person,
                village_code=village,
                school=school,
                after="in_county",
            ),
            Discrepancy.objects.create(
                run=run,
                kind="birth_date",
                student=student,
                person=person,
                school=school,
                village_code=village,
            ),
            ReviewCandidate.objects.create(
                person=person,
                student=student,
                probability=0.9,
                evidence={"name_agrees": True},
                village_code=village,
                school=school,
                run=run,
            ),
            HomeTeaching.objects.create(person=person, teacher_name="赵老师", since=today),
            OutOfCountyProof.objects.create(
                person=person,
                school_year=2018,
                school_name="省城小学",
                place="武汉",
                proof="在读证明",
            ),
        ]
        rows[side] = made
    return {type(a): (a, b) for a, b in zip(rows["a"], rows["b"], strict=True)}


def aid_world(
    c: County, personas: Personas
) -> dict[type[models.Model], tuple[models.Model, models.Model]]:
    """Compute autumn 2018 aid through the services and make the A and B row of each aid model.

    Both schools go through class check, school review and notice, each with an objection;
    school A's notice is then approved and paid in one batch (approved, sent and reconciled),
    so that every county-level funds model has a record too.
    """
    identify()
    aid_services.aid_compute(actor=None, county_code="420101", school_year=2018, semester="autumn")
    staff = {
        "a": (personas.teacher_a, personas.principal_a),
        "b": (
            make_user("teacher_b", Role.CLASS_TEACHER, school_class=c.class_b),
            make_user("principal_b", Role.PRINCIPAL, school=c.school_b),
        ),
    }
    rows: dict[str, list[models.Model]] = {}
    for side, (teacher, principal) in staff.items():
        school = getattr(c, f"school_{side}")
        student = getattr(c, f"student_{side}")
        aid_services.entitlement_class_check(
            actor=teacher,
            school_class_id=getattr(c, f"class_{side}").pk,
            school_year=2018,
            semester="autumn",
        )
        aid_services.entitlement_school_review(
            actor=principal, school_id=school.pk, school_year=2018, semester="autumn"
        )
        notice = aid_services.notice_post(
            actor=principal,
            school_id=school.pk,
            school_year=2018,
            semester="autumn",
            starts_on=dt.date(2018, 9, 17),
        )
        objection = aid_services.objection_record(
            actor=principal, notice_id=notice.pk, student_id=student.pk, text="异议"
        )
        entitlement = Entitlement.objects.filter(student=student).order_by("pk").first()
        assert entitlement is not None
        adjustment = Adjustment.objects.create(
            entitlement=entitlement,
            computation_id=entitlement.computation_id,
            kind="changed",
            old_amount=entitlement.amount + 10,
            new_amount=entitlement.amount,
            old_rule_id=entitlement.rule_id,
            new_rule_id=entitlement.rule_id,
            school=entitlement.school,
            school_class=entitlement.school_class,
            village_code=entitlement.village_code,
        )
        loan = Loan.objects.create(
            student=student,
            person=getattr(c, f"person_{side}"),
            school_year=2018,
            degree="undergraduate",
            bank="国家开发银行",
            amount=Decimal("8000.00"),
            term_years=20,
            rule_book=entitlement.rule_book,
            rule_id="origin_loan_undergraduate",
            recorded_by=personas.aid_officer,
            school=school,
            village_code=getattr(c, f"village_{side}").code,
        )
        rows[side] = [entitlement, notice, objection, adjustment, loan]
    # School A's list approved and paid: a batch, its payment and the bank's return.
    aid = personas.aid_officer
    objection_a = rows["a"][2]
    aid_services.objection_resolve(
        actor=aid, objection_id=objection_a.pk, upheld=False, note="核实"
    )
    aid_services.notice_approve(actor=aid, notice_id=rows["a"][1].pk, today=dt.date(2018, 9, 25))
    funds_services.allocation_record(
        actor=aid,
        channel="county",
        school_year=2018,
        programme="boarding_subsidy",
        amount=Decimal("1000.00"),
    )
    batch = aid_services.aid_batch_create(
        actor=aid, school_year=2018, semester="autumn", idempotency_key="matrix"
    )
    funds_services.payment_batch_approve(actor=aid, batch_id=batch.pk)
    funds_services.bank_file_export(actor=aid, batch_id=batch.pk, fmt="csv")
    reference = batch.payments.get().reference
    funds_services.bank_return_apply(
        actor=aid,
        batch_id=batch.pk,
        data=f"参考号,账号,金额,状态\n{reference},{BANK_A},500.00,成功\n".encode(),
        file_name="return.csv",
    )
    for side in ("a", "b"):
        rows[side][0].refresh_from_db()
    return {type(a): (a, b) for a, b in zip(rows["a"], rows["b"], strict=True)}


def duty_world(
    c: County, personas: Personas
) -> dict[type[models.Model], tuple[models.Model, models.Model]]:
    """Make the A and B dropout case (each with a step carrying a photo) and assignment.

    Cases are created directly, as cases_open_from_identification would leave them; the
    assignments through the service (the county names each township's officer for its
    poor student).
    """
    rows: dict[str, list[models.Model]] = {}
    for side in ("a", "b"):
        officer = getattr(personas, f"township_{side}")
        village = getattr(c, f"village_{side}").code
        school = getattr(c, f"school_{side}")
        school_class = getattr(c, f"class_{side}")
        case = DropoutCase.objects.create(
            person=getattr(c, f"person_{side}"),
            student=getattr(c, f"student_{side}"),
            source="identification",
            reason="辍学",
            opened_on=dt.date(2018, 10, 8),
            village_code=village,
            school=school,
            school_class=school_class,
            assignee=officer.staff_member,
            supervisor=officer.staff_member,
            last_step_on=dt.date(2018, 10, 9),
            return_deadline=dt.date(2018, 10, 22),
        )
        step = CaseStep(
            case=case,
            kind="deadline_notice",
            happened_on=dt.date(2018, 10, 9),
            text="限期复学通知已送达",
            recorded_by=officer,
            village_code=village,
            school=school,
            school_class=school_class,
        )
        step.evidence.save("notice.jpg", ContentFile(b"\xff\xd8\xff photo"), save=False)
        step.save()
        assignment = duty_services.assignment_create(
            actor=personas.county_officer,
            kind="student",
            target_id=getattr(c, f"student_{side}").pk,
            holder_id=officer.staff_member.pk,
            starts_on=dt.date(2018, 9, 1),
        )
        rows[side] = [case, step, assignment]
    return {type(a): (a, b) for a, b in zip(rows["a"], rows["b"], strict=True)}


TEACHER_NAMES = {"a": "甲老师", "b": "乙老师"}
TEACHER_IDS = {"a": TEACHER_ID_A, "b": TEACHER_ID_B}


def teachers_world(c: County) -> dict[type[models.Model], tuple[models.Model, models.Model]]:
    """Make the A and B teacher with a training, a rural service period and an exchange.

    Each township gets a second school that sends its teacher to the township's own school,
    so that an exchange names the schools of one township only.
    """
    rows: dict[str, list[models.Model]] = {}
    for side, code in (("a", "2142010091"), ("b", "2142010092")):
        township = getattr(c, f"township_{side}")
        school = getattr(c, f"school_{side}")
        sender = School.objects.create(
            code=code, name=f"{township.name}第二学校", kind="primary", township=township
        )
        teacher = Teacher.objects.create(
            name=TEACHER_NAMES[side],
            school=sender,
            county_code="420101",
            started_on=dt.date(1995, 9, 1),
            title="senior",
            **seal(TEACHER_IDS[side], prefix="id", purpose="id"),
        )
        rows[side] = [
            teacher,
            Training.objects.create(
                teacher=teacher,
                programme="国培计划",
                level="national",
                started_on=dt.date(2018, 7, 1),
                ended_on=dt.date(2018, 7, 10),
            ),
            ServicePeriod.objects.create(
                teacher=teacher,
                kind="village_school",
                school=school,
                started_on=dt.date(1995, 9, 1),
            ),
            Exchange.objects.create(
                teacher=teacher,
                from_school=sender,
                to_school=school,
                started_on=dt.date(2018, 9, 1),
            ),
        ]
    return {type(a): (a, b) for a, b in zip(rows["a"], rows["b"], strict=True)}


PROJECT_NAMES = {"a": "甲镇改薄工程", "b": "乙乡改薄工程"}


def projects_world(
    c: County, personas: Personas
) -> dict[type[models.Model], tuple[models.Model, models.Model]]:
    """Load the basic standard and set up a renovation at school A and one at school B."""
    projects_services.standard_load_shipped()
    rows: dict[str, list[models.Model]] = {}
    for side in ("a", "b"):
        project = projects_services.project_create(
            actor=personas.county_officer,
            kind="renovation",
            name=PROJECT_NAMES[side],
            plan_year=2018,
            school=getattr(c, f"school_{side}"),
            items=["toilets"],
            budget=[projects_services.Budget("county", Decimal("100000.00"))],
            nodes={
                kind: dt.date(2018, 3, 1) + dt.timedelta(days=30 * n)
                for n, kind in enumerate(ProjectNode.ORDER)
            },
        )
        node = project.nodes.get(kind=ProjectNode.Kind.SETUP)
        node.evidence.save("scan.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=True)
        rows[side] = [project, node]
    return {type(a): (a, b) for a, b in zip(rows["a"], rows["b"], strict=True)}


def oversight_world(
    c: County, personas: Personas
) -> dict[type[models.Model], tuple[models.Model, models.Model]]:
    """Make the inspector's plan of 2018 H2 visiting schools A and B, each visit recorded with
    its sample checked, a finding (with a photo) and its rectification with a progress note."""
    inspector = personas.inspector
    plan = oversight_services.plan_create(
        actor=inspector,
        year=2018,
        half="H2",
        title="督导检查",
        starts_on=dt.date(2018, 10, 8),
        ends_on=dt.date(2018, 12, 20),
        schools=[c.school_a, c.school_b],
    )
    rows: dict[str, list[models.Model]] = {}
    for side in ("a", "b"):
        visit = plan.visits.get(school=getattr(c, f"school_{side}"))
        oversight_services.visit_record(
            actor=inspector,
            visit=visit,
            visited_on=dt.date(2018, 10, 10),
            answers={i: oversight_services.Answer("met") for i in plan.item_ids()},
        )
        (check,) = oversight_services.sample_draw(actor=inspector, visit=visit)
        finding = oversight_services.finding_record(
            actor=inspector,
            visit=visit,
            severity="serious",
            text=f"{side}校资助公示缺失",
            deadline=dt.date(2018, 11, 30),
            student=getattr(c, f"student_{side}"),
        )
        finding.evidence.save("finding.jpg", ContentFile(b"\xff\xd8\xff photo"), save=True)
        officer = getattr(personas, f"township_{side}")
        entry = oversight_services.rectification_note_add(
            actor=officer,
            rectification=finding.rectification,
            text="已整改",
            happened_on=dt.date(2018, 11, 1),
        )
        entry.evidence.save("progress.jpg", ContentFile(b"\xff\xd8\xff photo"), save=True)
        visit.refresh_from_db()
        rows[side] = [
            visit,
            visit.answers.order_by("pk").first(),
            check,
            finding,
            finding.rectification,
            entry,
        ]
    return {type(a): (a, b) for a, b in zip(rows["a"], rows["b"], strict=True)}


def side_of(user: User, c: County) -> str:
    """Return "county", "A", "B" or "none": where a persona may look."""
    scope = user.scope
    if scope.is_empty:
        return "none"
    if scope.level == "county":
        return "county"
    if scope.level == "township":
        township = Area.objects.get(code=scope.area_code)
    elif scope.level == "school":
        township = Area.objects.get(schools__pk=scope.school_id or 0)
    else:
        township = Area.objects.get(schools__classes__pk=scope.class_id or 0)
    return {c.township_a.pk: "A", c.township_b.pk: "B"}[township.pk]


# --------------------------------------------------------------------------- routes


@dataclass(frozen=True)
class Route:
    route: str  # as ResolverMatch.route spells it
    segments: tuple[Any, ...]  # the RoutePattern / RegexPattern of each level
    params: tuple[str, ...]
    pattern: URLPattern

    @property
    def model_admin(self) -> Any:
        """Return the ModelAdmin a route belongs to (admin/<app>/<model>/...), or None."""
        found = getattr(self.pattern.callback, "model_admin", None)
        if found is not None:
            return found
        parts = self.route.split("/")
        if parts[0] != "admin" or len(parts) < 3:
            return None
        for model, model_admin in admin.site._registry.items():
            if (model._meta.app_label, model._meta.model_name) == (parts[1], parts[2]):
                return model_admin
        return None

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")


def _join(route1: str, route2: str) -> str:
    # The same join as django.urls.resolvers.URLResolver._join_route.
    return route2 if not route1 else route1 + route2.removeprefix("^")


def walk(patterns: list[Any], segments: tuple[Any, ...] = (), route: str = "") -> Iterator[Route]:
    """Yield every URL pattern of the project, with its full route and parameter names."""
    for entry in patterns:
        here = _join(route, str(entry.pattern))
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, (*segments, entry.pattern), here)
            continue
        params: list[str] = []
        for segment in (*segments, entry.pattern):
            if isinstance(segment, RoutePattern):
                params += list(segment.converters)
            else:
                params += list(segment.regex.groupindex)
                if segment.regex.groups != len(segment.regex.groupindex):
                    params.append("<unnamed group>")
        yield Route(here, (*segments, entry.pattern), tuple(params), entry)


class CannotBuild(Exception):
    pass


def _regex_to_path(regex: str, values: dict[str, str]) -> str:
    regex = regex.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    out, i = [], 0
    while i < len(regex):
        if regex.startswith("(?P<", i):
            name = regex[i + 4 : regex.index(">", i)]
            depth, j = 0, i
            while True:
                if regex[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(regex[j], 0)
                j += 1
                if depth == 0:
                    break
            out.append(values[name])
            i = j
        elif regex[i] == "\\":
            out.append(regex[i + 1])
            i += 2
        elif regex[i] in "()[]{}*+?|^$.":
            raise CannotBuild(f"regex {regex!r} has {regex[i]!r} outside a named group")
        else:
            out.append(regex[i])
            i += 1
    return "".join(out)


def build_url(route: Route, values: dict[str, str]) -> str:
    """Return the path of `route` with its parameters filled; check it resolves back."""
    parts = []
    for segment in route.segments:
        if isinstance(segment, RoutePattern):
            parts.append(
                re.sub(r"<(?:[^>:]+:)?([^>]+)>", lambda m: values[m.group(1)], str(segment))
            )
        elif isinstance(segment, RegexPattern):
            parts.append(_regex_to_path(segment.regex.pattern, values))
        else:
            raise CannotBuild(f"unknown pattern type {type(segment).__name__}")
    url = "/" + "".join(parts)
    match = resolve(url)
    if match.route != route.route:
        raise CannotBuild(f"{url} resolves to {match.route!r}, not {route.route!r}")
    return url


@dataclass
class Target:
    method: str
    url: str
    route: str
    side: str | None  # the township of the record the request names, if any
    data: dict[str, Any] = field(default_factory=dict)
    bearer: bool = False

    def __str__(self) -> str:
        via = " (bearer)" if self.bearer else ""
        return f"{self.method} {self.url}{via}"


Fill = tuple[dict[str, str], str | None]  # (parameter values, side of the record named)


def fills(route: Route, w: World) -> list[Fill] | str:
    """Return the ways to fill the route's parameters, or why they cannot be filled."""
    params = set(route.params)
    if not params:
        return [({}, None)]
    model_admin = route.model_admin
    if len(params) == 1 and params <= {"object_id", "id", "pk"} and model_admin is not None:
        # A model admin's own page about one record (change, history, password, ...).
        (name,) = params
        try:
            objects = w.objects(model_admin.model)
        except KeyError:
            return (
                f"admin model {model_admin.model._meta.label_lower} is in neither the A/B "
                "mapping (World.ab) nor SHARED_MODELS"
            )
        return [({name: str(pk)}, side) for side, pk in objects]
    if params == {"content_type_id", "object_id"}:  # the admin's view-on-site shortcut
        out: list[Fill] = []
        for model in w.ab:
            ct = ContentType.objects.get_for_model(model)
            out += [
                ({"content_type_id": str(ct.pk), "object_id": str(pk)}, side)
                for side, pk in w.objects(model)
            ]
        return out
    if params == {"app_label"} and route.route.startswith("admin/"):
        labels = sorted({m._meta.app_label for m in admin.site._registry})
        return [({"app_label": label}, None) for label in labels]
    if params == {"url"} and route.route.startswith("admin/"):  # the admin's catch-all
        return [({"url": "no-such-page/"}, None)]
    if params == {"model", "pk", "field"}:  # reveal a whole number
        out = []
        for spec in REVEALABLE.values():
            for side, pk in w.objects(spec.model):
                out.append(
                    (
                        {
                            "model": str(spec.model._meta.model_name),
                            "pk": str(pk),
                            "field": spec.field,
                        },
                        side,
                    )
                )
        return out
    if params == {"indicator"} and route.route.startswith("oversight/assessment/"):
        return [({"indicator": i.id}, None) for i in INDICATORS]
    c = w.county
    if params == {"township_code"}:
        return [
            ({"township_code": t.code}, side)
            for side, t in (("A", c.township_a), ("B", c.township_b))
        ]
    if params == {"village_code"}:
        return [
            ({"village_code": v.code}, side) for side, v in (("A", c.village_a), ("B", c.village_b))
        ]
    if params == {"report_kind"}:
        kinds = ("dropout-monthly", "dropout-quarterly", "aid-semester", "annual")
        return [({"report_kind": kind}, None) for kind in kinds]
    if params == {"kind"} and route.route.startswith("imports/"):
        return [({"kind": kind}, None) for kind in ImportBatch.Kind.values]
    if params == {"pk"}:
        for prefix, model in PK_ROUTES.items():
            if route.route.startswith(prefix):
                return [({"pk": str(pk)}, side) for side, pk in w.objects(model)]
    if params <= set(PARAM_MODELS) and len(params) == 1:
        (name,) = params
        return [({name: str(pk)}, side) for side, pk in w.objects(PARAM_MODELS[name])]
    return f"parameters {sorted(params)} are not in the mapping of tests/test_access_matrix.py"


def query_variants(route: Route, w: World) -> list[str]:
    """Return extra query strings to request a route with (searches, filters, lookups).

    A filtered list is a 200 whatever it finds, so these name no side: what matters is
    that the body shows nothing of the other township.
    """
    c = w.county
    if route.route == "admin/autocomplete/":
        out = []
        for model in admin.site._registry:
            for f in model._meta.get_fields():
                remote = getattr(f, "related_model", None)
                if not (f.is_relation and f.concrete and remote in admin.site._registry):
                    continue
                if not admin.site._registry[remote].search_fields:
                    continue
                out.append(
                    f"app_label={model._meta.app_label}&model_name="
                    f"{model._meta.model_name}&field_name={f.name}&term="
                )
        return out
    if route.route == "admin/search/":
        return [f"s={SEARCH_TERM}"]
    if (
        route.model_admin is not None
        and route.model_admin.search_fields
        and (route.pattern.name or "").endswith("_changelist")
    ):
        return [f"q={SEARCH_TERM}"]
    if route.route == "api/persons":
        # (an ID is searched by POST /api/persons/search: tests/test_api.py)
        return [
            f"name={c.person_a.name}",
            f"name={c.person_b.name}",
            f"village={c.village_a.code}",
            f"village={c.village_b.code}",
        ]
    if route.route == "api/households":
        return [
            f"household_no={c.household_a.household_no}",
            f"household_no={c.household_b.household_no}",
        ]
    if route.route == "api/enrolments":
        return [f"school={c.school_a.code}", f"school={c.school_b.code}"]
    if route.route in ("duty/", "duty/ledger.xlsx"):
        return ["show=all", "show=closed"]
    if route.route.startswith("duty/reports/monthly"):
        return ["month=2018-10"]
    if route.route.startswith("duty/reports/quarterly"):
        return ["quarter=2018-4"]
    if route.route == "duty/assignments/":
        return ["history=1"]
    if route.route == "api/duty/cases":
        return [
            "status=unclosed",
            f"township={c.township_a.code}",
            f"township={c.township_b.code}",
            f"school_id={c.school_a.pk}",
            f"school_id={c.school_b.pk}",
        ]
    return []


# --------------------------------------------------------------------------- POST payloads


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | int | float):
        return str(value)
    return value


def _field_data(bound: Any) -> dict[str, Any]:
    value = bound.value()
    widget = bound.field.widget
    if isinstance(widget, MultiWidget):
        parts = list(value if isinstance(value, list | tuple) else widget.decompress(value) or [])
        suffixes: list[str] = widget.widgets_names  # type: ignore[attr-defined]
        return {
            f"{bound.html_name}{suffix}": _plain(part)
            for suffix, part in zip(suffixes, parts, strict=False)
        }
    if isinstance(widget, CheckboxInput):
        return {bound.html_name: "on"} if value else {}
    if isinstance(value, list | tuple):
        return {bound.html_name: [_plain(v) for v in value]}
    return {bound.html_name: _plain(value)}


def _tamper(data: dict[str, Any], model: type[models.Model], *, new: bool) -> dict[str, Any]:
    """Change one text field (so a write would show) and, for an add, every unique one."""
    text_fields = [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField) and f.name in data and not f.choices
    ]
    for f in text_fields:
        if new and f.unique and data[f.name]:
            data[f.name] = str(data[f.name])[:-3] + "999"
    editable = [f for f in text_fields if not f.unique]
    if editable:
        target = next((f for f in editable if f.name == "name"), editable[0])
        data[target.name] = "篡改"
    return data


class Payloads:
    """Admin form data of each record, as the county administrator's change form holds it.

    The forms are built directly (ModelAdmin.get_form and its inline formsets) rather than
    by rendering each change page: the same data, in a fraction of the time.
    """

    def __init__(self, w: World) -> None:
        self.request = RequestFactory().get("/admin/")
        self.request.user = w.personas.county_officer
        self.cache: dict[tuple[type[models.Model], str], dict[str, Any]] = {}

    def form(self, model_admin: Any, pk: Any, *, new: bool) -> dict[str, Any]:
        model = model_admin.model
        key = (model, str(pk))
        if key not in self.cache:
            self.cache[key] = self._read(model_admin, pk)
        data = dict(self.cache[key])
        return {**_tamper(data, model, new=new), "_save": "Save"}

    def _read(self, model_admin: Any, pk: Any) -> dict[str, Any]:
        obj = model_admin.model._default_manager.filter(pk=pk).first()
        if obj is None:
            return {}
        data: dict[str, Any] = {}
        form_class = model_admin.get_form(self.request, obj, change=True)
        for bound in form_class(instance=obj):
            data.update(_field_data(bound))
        formsets, _inlines = model_admin._create_formsets(self.request, obj, change=True)
        for formset in formsets:
            for bound in formset.management_form:
                data[bound.html_name] = _plain(bound.value())
            for form in formset.forms:
                for bound in form:
                    data.update(_field_data(bound))
        return data


# Admin views that only show (history, the bare redirect to the change page): not POSTed.
READ_ONLY_ADMIN_VIEWS = ("_history", "<path:object_id>/")


def post_targets(route: Route, w: World, fills_: list[Fill], payloads: Payloads) -> list[Target]:
    """Return the POSTs to try against a route, each with the side of the records it names."""
    model_admin = route.model_admin
    name = route.pattern.name or ""
    if model_admin is not None and (name or route.route).endswith(READ_ONLY_ADMIN_VIEWS):
        return []
    out: list[Target] = []
    for values, side in fills_:
        url = build_url(route, values)
        if model_admin is not None and name.endswith("_change") and "object_id" in values:
            out.append(
                Target(
                    "POST",
                    url,
                    route.route,
                    side,
                    payloads.form(model_admin, values["object_id"], new=False),
                )
            )
        elif model_admin is not None and name.endswith("_delete"):
            out.append(Target("POST", url, route.route, side, {"post": "yes"}))
        elif model_admin is not None and name.endswith(("_add", "_changelist")):
            # One POST per township: add a copy of its record, or delete its record in bulk.
            model = model_admin.model
            named = w.objects(model) if model in w.ab else [(None, None)]
            for obj_side, pk in named:
                if pk is None:
                    data: dict[str, Any] = {}
                elif name.endswith("_add"):
                    data = payloads.form(model_admin, pk, new=True)
                else:
                    data = {
                        "action": "delete_selected",
                        "_selected_action": [str(pk)],
                        "index": "0",
                        "select_across": "0",
                        "post": "yes",
                    }
                out.append(Target("POST", url, route.route, obj_side, data))
        else:
            out.append(Target("POST", url, route.route, side, {}))
    return out


# --------------------------------------------------------------------------- checks


def body_text(response: HttpResponseBase) -> str:
    """Return everything a response shows, decoded: JSON and HTML escapes, zipped files."""
    if getattr(response, "streaming", False):
        raw = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    else:
        raw = response.content  # type: ignore[attr-defined]
    texts = [raw.decode("utf-8", "replace")]
    if raw.startswith(b"PK\x03\x04"):  # xlsx, zip
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            texts += [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
    text = "\n".join(texts)
    unescaped = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return "\n".join((text, unescaped, html.unescape(text)))


def json_items(response: HttpResponseBase) -> list[Any] | None:
    if "json" not in response.get("Content-Type", ""):
        return None
    try:
        data = json.loads(response.content)  # type: ignore[attr-defined]
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return data["items"]
    if isinstance(data, dict) and isinstance(data.get("results"), list):  # autocomplete
        return data["results"]
    return None


def snapshot() -> dict[str, tuple[int, str]]:
    """Return (row count, hash of all rows) of every data table."""
    out: dict[str, tuple[int, str]] = {}
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label_lower
        if model._meta.app_label not in SNAPSHOT_APPS or label in SNAPSHOT_SKIP_MODELS:
            continue
        columns = [
            f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE_COLUMNS
        ]
        rows = list(model._default_manager.order_by("pk").values_list(*columns))
        digest = hashlib.sha256(
            repr(
                [
                    tuple(bytes(v).hex() if isinstance(v, bytes | memoryview) else v for v in row)
                    for row in rows
                ]
            ).encode()
        ).hexdigest()
        out[model._meta.db_table] = (len(rows), digest)
    return out


@dataclass
class Report:
    persona: str
    problems: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # markers of each side seen in a 200
    requests: int = 0

    def add(self, target: Target, status: int, what: str) -> None:
        self.problems.append(f"{self.persona}: {target} -> {status}: {what}")


def check(report: Report, target: Target, response: HttpResponseBase, w: World, side: str) -> None:
    """Apply rules (a) to (c) to one response.

    What a POST sent is not a leak when the response shows it back (a form with errors
    repeats the submitted values), so for a POST only what it did not send counts.
    """
    status = response.status_code
    text = body_text(response)
    sent = repr(target.data)
    report.requests += 1
    for secret in SECRETS:
        if secret in text and secret not in sent:
            report.add(target, status, f"(a) body contains the whole number {secret}")
    if status >= 500:
        report.add(target, status, "server error")

    def named(marker_side: str) -> list[str]:
        return [m for m in w.markers[marker_side] if m in text and m not in sent]

    if status == 200 and target.method == "GET":
        report.seen |= {s for s in ("A", "B") if named(s)}
    other = {"A": "B", "B": "A"}.get(side)
    if other is not None:
        if target.method == "GET" and target.side == other and status == 200:
            report.add(target, status, f"(b) 200 on a URL naming a township-{other} record")
        if named(other):
            report.add(target, status, f"(b) body names township-{other} records: {named(other)}")
    if side == "none" and status == 200:
        leaked = named("A") + named("B")
        if leaked:
            report.add(target, status, f"(c) no-jurisdiction user sees records: {leaked}")
        items = json_items(response)
        if items:
            report.add(target, status, f"(c) no-jurisdiction user gets {len(items)} items")


def may_write(user: User) -> bool:
    return any(user.can(capability) for capability in WRITE_CAPABILITIES)


# --------------------------------------------------------------------------- the test

PERSONAS = [f.name for f in dataclasses.fields(Personas)]


def targets_for(w: World) -> tuple[list[Target], list[tuple[Route, list[Fill]]], list[str]]:
    """Return the GETs to make, the routes with their fills (for POSTs), and routes not filled."""
    gets: list[Target] = []
    filled: list[tuple[Route, list[Fill]]] = []
    unfillable: list[str] = []
    for route in walk(get_resolver().url_patterns):
        special = SPECIAL_ROUTES.get(route.route, {})
        how = fills(route, w)
        if isinstance(how, str):
            unfillable.append(f"{route.route}: {how}")
            continue
        try:
            urls = [(build_url(route, values), side) for values, side in how]
        except CannotBuild as exc:
            unfillable.append(f"{route.route}: {exc}")
            continue
        filled.append((route, how))
        if special.get("get", True):
            for url, side in urls:
                gets.append(Target("GET", url, route.route, side))
                if route.is_api:
                    gets.append(Target("GET", url, route.route, side, bearer=True))
            for query in query_variants(route, w):
                for url, side in urls:
                    gets.append(Target("GET", f"{url}?{query}", route.route, side))
                    if route.is_api:
                        gets.append(Target("GET", f"{url}?{query}", route.route, side, bearer=True))
    return gets, filled, unfillable


def test_every_route_can_be_filled(world: World) -> None:
    """A route whose parameters this file cannot fill must be added to the mapping."""
    _gets, filled, unfillable = targets_for(world)
    assert not unfillable, "\n".join(unfillable)
    routes = {route.route for route, _ in filled}
    assert {"api/persons", "api/persons/<int:person_id>", "admin/"} <= routes
    assert {"duty/cases/<int:case_id>/", "m/", "api/duty/cases"} <= routes
    for special in SPECIAL_ROUTES:
        assert special in routes, f"SPECIAL_ROUTES names {special}, which no longer exists"


@pytest.mark.parametrize("persona", PERSONAS)
def test_access_matrix(world: World, persona: str) -> None:
    # given
    user = world.personas.all()[persona]
    side = side_of(user, world.county)
    session = Client(raise_request_exception=False)
    session.force_login(user)
    bearer = Client(
        raise_request_exception=False, headers={"Authorization": f"Bearer {world.tokens[persona]}"}
    )
    gets, filled, _unfillable = targets_for(world)
    report = Report(persona)

    # when / then: every GET
    for target in gets:
        client = bearer if target.bearer else session
        check(report, target, client.get(target.url), world, side)

    # when / then: every forbidden POST changes nothing
    payloads = Payloads(world)
    read_only = not may_write(user)
    other = {"A": "B", "B": "A"}.get(side)
    before = snapshot()
    for route, how in filled:
        if not SPECIAL_ROUTES.get(route.route, {}).get("post", True):
            continue
        posts = [
            t
            for t in post_targets(route, world, how, payloads)
            if read_only or (other is not None and t.side == other)
        ]
        for target in posts:
            check(report, target, session.post(target.url, target.data), world, side)
        if posts:
            # One snapshot per route keeps the walk fast; the report names every POST made.
            after = snapshot()
            if after != before:
                changed = sorted(t for t in after if after[t] != before.get(t))
                for target in posts:
                    report.add(target, 0, f"(d) forbidden POSTs to this route changed {changed}")
                before = after

    # the walk really ran as this persona: it saw its own records somewhere
    expected_seen = {"county": {"A", "B"}, "A": {"A"}, "B": {"B"}, "none": set()}[side]
    assert expected_seen <= report.seen, (
        f"{persona} never saw its own records; is the login or the token broken?"
    )
    assert not report.problems, (
        f"{len(report.problems)} problems in {report.requests} requests:\n"
        + "\n".join(report.problems)
    )


# --------------------------------------------------------------------------- teacher pages

# Every route of the teacher pages (II.3) and who may open it. "read": the roster and the
# figures, for every user of a county, township or school; "record": the forms that write
# through the services, for those who may edit schools. A class teacher (whose jurisdiction
# is their pupils) and a user with no jurisdiction get the 403 page.
TEACHER_ROUTES = {
    "teachers/": "read",
    "teachers/roster.xlsx": "read",
    "teachers/new/": "record",
    "teachers/leave/": "record",
    "teachers/service/new/": "record",
    "teachers/staffing/": "read",
    "teachers/staffing.xlsx": "read",
    "teachers/training/": "read",
    "teachers/training.xlsx": "read",
    "teachers/training/new/": "record",
    "teachers/exchanges/": "read",
    "teachers/exchanges.xlsx": "read",
    "teachers/exchanges/new/": "record",
    "teachers/titles/": "read",
    "teachers/titles.xlsx": "read",
    "teachers/titles/long-service.xlsx": "read",
    "teachers/titles/long-service.pdf": "read",
    "teachers/coverage/": "read",
    "teachers/coverage.xlsx": "read",
    "teachers/allowance/": "read",
    "teachers/allowance.xlsx": "read",
}
TEACHER_EXPECTED = {
    # persona: (status of a "read" route, status of a "record" route)
    "county_officer": (200, 200),
    "aid_officer": (200, 200),
    "bureau_leader": (200, 403),
    "township_a": (200, 403),
    "township_b": (200, 403),
    "principal_a": (200, 200),
    "teacher_a": (403, 403),
    "inspector": (200, 403),
    "nobody": (403, 403),
}


def test_teacher_pages_answer_each_role_as_expected(world: World) -> None:
    # given: every teacher route of the project is in the table above
    routes = {r.route for r in walk(get_resolver().url_patterns) if r.route.startswith("teachers/")}
    assert routes == set(TEACHER_ROUTES)
    assert set(TEACHER_EXPECTED) == set(PERSONAS)
    problems = []
    for persona, (read, record) in TEACHER_EXPECTED.items():
        client = Client(raise_request_exception=False)
        client.force_login(world.personas.all()[persona])
        for route, kind in TEACHER_ROUTES.items():
            # when
            status = client.get(f"/{route}").status_code
            # then
            expected = read if kind == "read" else record
            if status != expected:
                problems.append(f"{persona} GET /{route}: {status}, expected {expected}")
    assert not problems, "\n".join(problems)


def test_teacher_pages_show_each_township_its_own_teacher(world: World) -> None:
    # (the principal of school A sees teacher A only on exchange there: A teaches elsewhere)
    pages = ("teachers/", "teachers/training/?year=2018", "teachers/exchanges/")
    own = {"township_a": ("a", pages), "township_b": ("b", pages), "principal_a": ("a", pages[2:])}
    for persona, (side, routes) in own.items():
        client = Client()
        client.force_login(world.personas.all()[persona])
        other = "b" if side == "a" else "a"
        for route in routes:
            body = client.get(f"/{route}").content.decode()
            assert TEACHER_NAMES[side] in body, (persona, route)
            assert TEACHER_NAMES[other] not in body, (persona, route)


# --------------------------------------------------------------------------- project pages

# Every route of the school-condition pages (II.2, I.2) and who may open it. "read": the task
# book, lists and figures, for every user of a county, township or school; "read_a": a page
# naming township A's project (township B gets a 404); "record": the survey form, for those
# who may edit schools; "record_a": closing a node of A's project; "create": setting up a
# project, for the county's editors. A class teacher and a user with no jurisdiction get 403.
PROJECT_ROUTES = {
    "projects/": "read",
    "projects/list/": "read",
    "projects/list.xlsx": "read",
    "projects/new/": "create",
    "projects/<int:project_id>/": "read_a",
    "projects/nodes/<int:node_id>/close/": "record_a",
    "projects/nodes/<int:node_id>/evidence/": "read_a",
    "projects/schools/": "read",
    "projects/schools/survey/": "record",
    "projects/coverage/": "read",
    "projects/coverage.xlsx": "read",
    "projects/quotas/": "read",
    "projects/quotas.xlsx": "read",
    "projects/quotas/schools/": "create",
}
PROJECT_KINDS = ("read", "read_a", "record", "record_a", "create")
PROJECT_EXPECTED = {
    # persona: status of a route of each kind, in the order of PROJECT_KINDS
    "county_officer": (200, 200, 200, 200, 200),
    "aid_officer": (200, 200, 200, 200, 200),
    "bureau_leader": (200, 200, 403, 403, 403),
    "township_a": (200, 200, 403, 403, 403),
    "township_b": (200, 404, 403, 404, 403),
    "principal_a": (200, 200, 200, 200, 403),
    "teacher_a": (403, 403, 403, 403, 403),
    "inspector": (200, 200, 403, 403, 403),
    "nobody": (403, 403, 403, 403, 403),
}


def _project_url(route: str, w: World) -> str:
    project = w.ab[Project][0]
    node = w.ab[ProjectNode][0]
    return "/" + route.replace("<int:project_id>", str(project.pk)).replace(
        "<int:node_id>", str(node.pk)
    )


def test_project_pages_answer_each_role_as_expected(world: World) -> None:
    # given: every project route of the project is in the table above
    routes = {r.route for r in walk(get_resolver().url_patterns) if r.route.startswith("projects/")}
    assert routes == set(PROJECT_ROUTES)
    assert set(PROJECT_EXPECTED) == set(PERSONAS)
    problems = []
    for persona, statuses in PROJECT_EXPECTED.items():
        expected_of = dict(zip(PROJECT_KINDS, statuses, strict=True))
        client = Client(raise_request_exception=False)
        client.force_login(world.personas.all()[persona])
        for route, kind in PROJECT_ROUTES.items():
            url = _project_url(route, world)
            # when
            status = client.get(url).status_code
            # then
            if status != expected_of[kind]:
                problems.append(f"{persona} GET {url}: {status}, expected {expected_of[kind]}")
    assert not problems, "\n".join(problems)


def test_project_pages_show_each_township_its_own_project(world: World) -> None:
    pages = ("projects/list/", "projects/schools/?on=2026-12-06")
    for persona, side in (("township_a", "a"), ("township_b", "b"), ("principal_a", "a")):
        client = Client()
        client.force_login(world.personas.all()[persona])
        other = "b" if side == "a" else "a"
        for route in pages:
            body = client.get(f"/{route}").content.decode()
            assert PROJECT_NAMES[side] in body, (persona, route)
            assert PROJECT_NAMES[other] not in body, (persona, route)
        export = client.get("/projects/list.xlsx")
        book = openpyxl.load_workbook(io.BytesIO(export.content), read_only=True)
        names = [row[1] for row in book.worksheets[0].iter_rows(min_row=3, values_only=True)]
        assert PROJECT_NAMES[side] in names and PROJECT_NAMES[other] not in names, persona


# --------------------------------------------------------------------------- inspection pages

# Every route of the inspection pages (III.3) and who may open it. "plans": the plans list, a
# plan, a visit and the phone page of its sample, for the county's users (township A's records
# named: the plan is county-wide); "inspect": the forms of the inspection team (a plan, a
# sample, a finding; a close-out of township A's rectification); "findings": the findings
# list and export, for users of a county, township or school; "findings_a": a page naming
# township A's finding or rectification (township B gets a 404); "progress_a": reporting
# progress on township A's rectification (its principal and township officer). A class teacher
# and a user with no jurisdiction get 403. The assessment's and audit's routes are their own.
OVERSIGHT_ROUTES = {
    "oversight/inspections/": "plans",
    "oversight/inspections/new/": "inspect",
    "oversight/inspections/<int:plan_id>/": "plans",
    "oversight/inspections/visits/<int:visit_id>/": "plans",
    "oversight/inspections/visits/<int:visit_id>/sample/": "inspect",
    "oversight/inspections/visits/<int:visit_id>/findings/new/": "inspect",
    "oversight/findings/": "findings",
    "oversight/findings.xlsx": "findings",
    "oversight/findings/<int:finding_id>/evidence/": "findings_a",
    "oversight/rectifications/<int:rectification_id>/": "findings_a",
    "oversight/rectifications/<int:rectification_id>/progress/": "progress_a",
    "oversight/rectifications/<int:rectification_id>/close/": "inspect_a",
    "oversight/rectifications/entries/<int:entry_id>/evidence/": "findings_a",
    "oversight/m/visits/<int:visit_id>/": "plans",
    "oversight/m/checks/<int:check_id>/": "plans",
}
OVERSIGHT_KINDS = ("plans", "inspect", "findings", "findings_a", "progress_a", "inspect_a")
OVERSIGHT_EXPECTED = {
    # persona: status of a route of each kind, in the order of OVERSIGHT_KINDS
    "county_officer": (200, 200, 200, 200, 403, 200),
    "aid_officer": (200, 403, 200, 200, 403, 403),
    "bureau_leader": (200, 403, 200, 200, 403, 403),
    "township_a": (403, 403, 200, 200, 200, 403),
    "township_b": (403, 403, 200, 404, 404, 404),
    "principal_a": (403, 403, 200, 200, 200, 403),
    "teacher_a": (403, 403, 403, 403, 403, 403),
    "inspector": (200, 200, 200, 200, 403, 200),
    "nobody": (403, 403, 403, 403, 403, 403),
}
OVERSIGHT_PARAMS = {
    "<int:plan_id>": InspectionPlan,
    "<int:visit_id>": Visit,
    "<int:check_id>": SampleCheck,
    "<int:finding_id>": Finding,
    "<int:rectification_id>": Rectification,
    "<int:entry_id>": RectificationEntry,
}


def _oversight_url(route: str, w: World) -> str:
    url = "/" + route
    for param, model in OVERSIGHT_PARAMS.items():
        if param in url:
            record = model.objects.get() if model is InspectionPlan else w.ab[model][0]
            url = url.replace(param, str(record.pk))
    return url


def _inspection_route(route: str) -> bool:
    # (the assessment's and the audit's routes are their helpers')
    return route.startswith("oversight/") and not route.startswith(
        ("oversight/assessment", "oversight/audit")
    )


def test_inspection_pages_answer_each_role_as_expected(world: World) -> None:
    # given: every inspection route of the project is in the table above
    routes = {r.route for r in walk(get_resolver().url_patterns) if _inspection_route(r.route)}
    assert routes == set(OVERSIGHT_ROUTES)
    assert set(OVERSIGHT_EXPECTED) == set(PERSONAS)
    problems = []
    for persona, statuses in OVERSIGHT_EXPECTED.items():
        expected_of = dict(zip(OVERSIGHT_KINDS, statuses, strict=True))
        client = Client(raise_request_exception=False)
        client.force_login(world.personas.all()[persona])
        for route, kind in OVERSIGHT_ROUTES.items():
            url = _oversight_url(route, world)
            # when
            status = client.get(url).status_code
            # then
            if status != expected_of[kind]:
                problems.append(f"{persona} GET {url}: {status}, expected {expected_of[kind]}")
    assert not problems, "\n".join(problems)


def test_inspection_findings_show_each_township_its_own(world: World) -> None:
    texts = {"a": "a校资助公示缺失", "b": "b校资助公示缺失"}
    for persona, side in (("township_a", "a"), ("township_b", "b"), ("principal_a", "a")):
        client = Client()
        client.force_login(world.personas.all()[persona])
        other = "b" if side == "a" else "a"
        body = client.get("/oversight/findings/").content.decode()
        assert texts[side] in body and texts[other] not in body, persona
        export = client.get("/oversight/findings.xlsx")
        book = openpyxl.load_workbook(io.BytesIO(export.content), read_only=True)
        found = [row[5] for row in book.worksheets[0].iter_rows(min_row=3, values_only=True)]
        assert found == [texts[side]], persona
