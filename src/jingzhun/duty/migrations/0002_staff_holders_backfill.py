"""Name people of the staff directory instead of logins: add the new links and fill them.

Every user who holds an assignment or a case, and every user whose post puts them on the
chain (class teachers, principals, township officers), gets a staff directory entry linked
to their login; the new columns point at those entries. The old columns go in 0003.
"""

from django.db import migrations, models
import django.db.models.deletion

POSTS = {
    "class_teacher": "class_teacher",
    "principal": "principal",
    "township_officer": "township_officer",
    "bureau_leader": "county_officer",
    "county_admin": "county_officer",
    "aid_officer": "county_officer",
}
CHAIN_ROLES = ("class_teacher", "principal", "township_officer")


def _staff_for(user, StaffMember, Area, SchoolClass, School):
    found = StaffMember.objects.filter(user_id=user.pk).first()
    if found is not None:
        return found
    school_class = SchoolClass.objects.filter(pk=user.school_class_id).first()
    school_id = user.school_id or (school_class.school_id if school_class else None)
    school = School.objects.filter(pk=school_id).first() if school_id else None
    area = Area.objects.filter(pk=user.area_id).first() if user.area_id else None
    township = None
    if area is not None and area.level == "township":
        township = area
    elif school is not None and school.township_id:
        township = Area.objects.filter(pk=school.township_id).first()
    code = township.code if township else (area.code if area else (user.county_code or ""))
    return StaffMember.objects.create(
        name=(f"{user.last_name}{user.first_name}".strip() or user.username)[:50],
        post=POSTS.get(user.role, "other"),
        school_id=school_id,
        school_class_id=user.school_class_id,
        township=township,
        area_code=code,
        active=user.is_active,
        source="account",
        user_id=user.pk,
    )


def forwards(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    StaffMember = apps.get_model("accounts", "StaffMember")
    Area = apps.get_model("registry", "Area")
    School = apps.get_model("schools", "School")
    SchoolClass = apps.get_model("schools", "SchoolClass")
    Assignment = apps.get_model("duty", "Assignment")
    DropoutCase = apps.get_model("duty", "DropoutCase")
    ids = set(Assignment.objects.values_list("holder_id", flat=True))
    ids |= set(DropoutCase.objects.exclude(assignee_id=None).values_list("assignee_id", flat=True))
    ids |= set(
        DropoutCase.objects.exclude(supervisor_id=None).values_list("supervisor_id", flat=True)
    )
    ids |= set(User.objects.filter(role__in=CHAIN_ROLES).values_list("pk", flat=True))
    staff = {}
    for user in User.objects.filter(pk__in=ids).order_by("pk"):
        staff[user.pk] = _staff_for(user, StaffMember, Area, SchoolClass, School).pk
    for user_id, staff_id in staff.items():
        Assignment.objects.filter(holder_id=user_id).update(holder_staff_id=staff_id)
        DropoutCase.objects.filter(assignee_id=user_id).update(assignee_staff_id=staff_id)
        DropoutCase.objects.filter(supervisor_id=user_id).update(supervisor_staff_id=staff_id)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_staff_member"),
        ("duty", "0001_assignments_cases_steps"),
        ("schools", "0003_national_roll_fields_degree"),
        ("registry", "0003_national_registry_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="assignment",
            name="derived",
            field=models.BooleanField(default=False, verbose_name="derived from the data"),
        ),
        migrations.AddField(
            model_name="assignment",
            name="holder_staff",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.staffmember",
            ),
        ),
        migrations.AddField(
            model_name="dropoutcase",
            name="assignee_staff",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.staffmember",
            ),
        ),
        migrations.AddField(
            model_name="dropoutcase",
            name="supervisor_staff",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.staffmember",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
