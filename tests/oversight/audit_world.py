"""A small county for the year-end audit: the hand-made county's school A paid through the real
workflow (the clean case), then one planted anomaly of each kind and a clean twin of each.

The planted rows are written straight to the tables, as a migrated legacy system or a manual
correction would leave them: the services refuse them, which is why the audit looks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.aid.world import approve_school, identify
from tests.imports.helpers import make_id

from jingzhun.aid import services
from jingzhun.aid.models import Entitlement
from jingzhun.core.sensitive import seal
from jingzhun.funds.models import Disbursement, FundProject, Overpayment, Payment, PaymentBatch
from jingzhun.registry.models import Household, HouseholdStatusChange, Person
from jingzhun.schools.models import Enrolment, Student

BANK_A = "6228480012345678901"  # household A's card (tests/conftest.py)
BANK_SHARED = "6228480099998888777"  # planted: two unrelated households give this one card


@dataclass
class World:
    county: Any
    personas: Any
    planted: dict[str, str] = field(default_factory=dict)  # kind -> the child's name
    clean: list[str] = field(default_factory=list)  # names no anomaly may mention
    ids: list[str] = field(default_factory=list)  # whole IDs used (none may leak)
    accounts: list[str] = field(default_factory=list)  # whole account numbers used


class _Planter:
    def __init__(self, world: World, template: Entitlement) -> None:
        self.world = world
        self.template = template
        self.batch = PaymentBatch.objects.create(
            county_code="420101",
            purpose="aid",
            school_year=2018,
            semester="autumn",
            idempotency_key="audit-legacy-2018-autumn",
            reference="420101-2018A-900",
            status=PaymentBatch.Status.RECONCILED,
            created_by=world.personas.aid_officer,
        )
        self.n = 0
        self.seq = 100

    def household(
        self, *, status: str = "registered", bank: str | None = None, village: Any = None
    ) -> Household:
        self.n += 1
        bank = bank or f"62284800{self.n:011d}"
        self.world.accounts.append(bank)
        return Household.objects.create(
            household_no=f"42010100100199{self.n:02d}",
            village=village or self.world.county.village_a,
            registration_year=2015,
            status=status,
            **seal(bank, prefix="bank", purpose="bank"),
        )

    def child(
        self,
        name: str,
        household: Household,
        *,
        born: dt.date = dt.date(2010, 5, 5),
        person: Person | None = None,
        enrolment: dict[str, Any] | None = None,
    ) -> tuple[Person, Student]:
        self.seq += 1
        number = make_id("420101", born.strftime("%Y%m%d"), f"{self.seq:03d}")
        self.world.ids.append(number)
        if person is None:
            person = Person.objects.create(
                household=household,
                name=name,
                sex="M",
                birth_date=born,
                relation="之子",
                **seal(number, prefix="id", purpose="id"),
            )
        student = Student.objects.create(
            county_code="420101",
            **seal("G" + number, prefix="roll", purpose="roll"),
            name=name,
            sex="M",
            birth_date=born,
            id_status="valid",
            poor_flag=True,
            person=person,
            **seal(number, prefix="id", purpose="id"),
        )
        Enrolment.objects.create(
            student=student,
            school=self.world.county.school_a,
            school_class=self.world.county.class_a,
            school_year=2018,
            stage="primary",
            grade=3,
            boarding=True,
            **(enrolment or {}),
        )
        return person, student

    def paid(
        self, person: Person, student: Student, household: Household, **fields: Any
    ) -> Payment:
        """Give the student an approved autumn boarding subsidy and pay it (fields override)."""
        t = self.template
        values: dict[str, Any] = {
            "student": student,
            "person": person,
            "school_year": 2018,
            "semester": "autumn",
            "programme": t.programme,
            "kind": t.kind,
            "amount": t.amount,
            "rule_id": t.rule_id,
            "clause": t.clause,
            "rule_book": t.rule_book,
            "unit": t.unit,
            "grade": 3,
            "boarding": True,
            "location": t.location,
            "household_status": "registered",
            "school": t.school,
            "school_class": t.school_class,
            "village_code": household.village.code,
            "stage": "primary",
            "computation": t.computation,
            "review": Entitlement.Review.APPROVED,
            "reviewed_by": t.reviewed_by,
            "notice": t.notice,
        }
        values.update(fields)
        return self.pay(Entitlement.objects.create(**values), household)

    def pay(self, e: Entitlement, household: Household) -> Payment:
        """Pay an entitlement to the household's card (as a reconciled legacy batch did)."""
        person, student = e.person, e.student
        self.n += 1
        return Payment.objects.create(
            batch=self.batch,
            source=f"aid.entitlement:{e.pk}",
            programme=e.programme,
            amount=e.amount,
            payee_name=person.name,
            beneficiary=student.name,
            bank_name="农业银行",
            account_cipher=bytes(household.bank_cipher or b""),
            account_key=household.bank_key or 0,
            account_index=household.bank_index or "",
            account_masked=household.bank_masked,
            reference=f"{self.batch.reference}-{self.n:06d}",
            school=e.school,
            village_code=e.village_code,
            status=Payment.Status.PAID,
            county_code="420101",
        )


def build(county: Any, personas: Any) -> World:
    """Return the county with school A's autumn aid paid and the planted cases."""
    world = World(county, personas, ids=["420101201001010018", "420101201102020020"])
    world.accounts.append(BANK_A)
    # the clean case, through the real workflow: 张小明 (school A) approved and paid
    identify()
    services.aid_compute(
        actor=personas.aid_officer, county_code="420101", school_year=2018, semester="autumn"
    )
    approve_school(personas, county)
    # Paid as a reconciled batch (not through aid_batch_create: that needs allocations, which
    # the fund ledger now funds from the pooled account; the audit reads the payments only).
    template = Entitlement.objects.get(student=county.student_a, programme="boarding_subsidy")
    p = _Planter(world, template)
    household_a = county.household_a
    p.pay(template, household_a)

    # 1. paid twice: a second roll record of 张小明 (重复学籍), paid again
    _person, second = p.child("张小明", household_a, person=county.person_a)
    p.paid(county.person_a, second, household_a)
    world.planted["duplicate"] = "张小明"
    # clean: a sibling in household A paid to the household's card (one household: no anomaly)
    sibling, sibling_student = p.child("张小华", household_a, born=dt.date(2011, 6, 1))
    p.paid(sibling, sibling_student, household_a)
    world.clean.append("张小华")

    # 2a. not registered poor: removed from the registry before the semester
    gone = p.household(status=Household.Status.REMOVED)
    HouseholdStatusChange.objects.create(
        household=gone, status="removed", recorded_on=dt.date(2018, 6, 1)
    )
    p.paid(*p.child("王退出", gone), gone)
    world.planted["not_poor"] = "王退出"
    # clean: removed only after the autumn semester began
    later = p.household(status=Household.Status.REMOVED)
    HouseholdStatusChange.objects.create(
        household=later, status="removed", recorded_on=dt.date(2019, 1, 10)
    )
    p.paid(*p.child("刘后退", later), later)
    world.clean.append("刘后退")

    # 2b. not enrolled: dropped out before the school year
    out = p.household()
    p.paid(
        *p.child(
            "陈辍学",
            out,
            enrolment={"status": "dropped_out", "status_date": dt.date(2018, 6, 30)},
        ),
        out,
    )
    world.planted["not_enrolled"] = "陈辍学"
    # clean: dropped out in the autumn semester, paid for it
    mid = p.household()
    p.paid(
        *p.child(
            "周学期",
            mid,
            enrolment={"status": "dropped_out", "status_date": dt.date(2018, 11, 15)},
        ),
        mid,
    )
    world.clean.append("周学期")

    # 3. above the age limit: 20 years old at primary school
    old = p.household()
    p.paid(*p.child("赵超龄", old, born=dt.date(1998, 3, 3)), old)
    world.planted["over_age"] = "赵超龄"
    # clean: 15 on 1 September (the limit), still admitted
    fifteen = p.household()
    p.paid(*p.child("孙十五", fifteen, born=dt.date(2003, 9, 1)), fifteen)
    world.clean.append("孙十五")

    # 4. one account for two unrelated households
    f = p.household(bank=BANK_SHARED, village=county.village_b)
    g = p.household(bank=BANK_SHARED)
    world.accounts.append(BANK_SHARED)
    p.paid(*p.child("钱代领", f), f)
    p.paid(*p.child("吴代领", g), g)
    world.planted["shared_account"] = "钱代领"

    # 5. paid without its evidence: confirmed by the school but never on notice or approved
    bare = p.household()
    p.paid(
        *p.child("郑未公示", bare),
        bare,
        review=Entitlement.Review.CONFIRMED,
        notice=None,
    )
    world.planted["no_evidence"] = "郑未公示"

    # 6. a project paid beyond its budget (rows written directly: the service refuses it)
    project = FundProject.objects.create(
        county_code="420101",
        name="甲镇中心小学改薄工程",
        programme="project:audit",
        school_year=2018,
        budget=Decimal("100000.00"),
        set_up_by=personas.aid_officer,
        set_up_on=dt.date(2018, 9, 10),
    )
    Disbursement.objects.create(
        county_code="420101",
        document="县教财〔2018〕9号",
        fund_project=project,
        amount=Decimal("120000.00"),
        paid_on=dt.date(2018, 11, 1),
        node="projects.node:1",
        node_label="完工",
        payee="县建筑公司",
        recorded_by=personas.aid_officer,
    )
    world.planted["over_budget"] = "甲镇中心小学改薄工程"
    # 7. an overpayment recorded with its rule and never settled
    paid = Payment.objects.filter(batch=p.batch).order_by("id").first()
    assert paid is not None
    Overpayment.objects.create(
        county_code="420101",
        payment=paid,
        cause="audit:1",
        amount=Decimal("200.00"),
        rule="recover",
        reason="学生已走读",
        recorded_by=personas.aid_officer,
    )
    world.planted["unsettled_adjustment"] = paid.reference
    return world
