"""Drop the old links to logins and give the staff directory links their names."""

from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    dependencies = [("duty", "0002_staff_holders_backfill")]

    operations = [
        migrations.RemoveField(model_name="assignment", name="holder"),
        migrations.RemoveField(model_name="dropoutcase", name="assignee"),
        migrations.RemoveField(model_name="dropoutcase", name="supervisor"),
        migrations.RenameField(model_name="assignment", old_name="holder_staff", new_name="holder"),
        migrations.RenameField(
            model_name="dropoutcase", old_name="assignee_staff", new_name="assignee"
        ),
        migrations.RenameField(
            model_name="dropoutcase", old_name="supervisor_staff", new_name="supervisor"
        ),
        migrations.AlterField(
            model_name="assignment",
            name="holder",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="duty_assignments",
                to="accounts.staffmember",
                verbose_name="responsible person",
            ),
        ),
        migrations.AlterField(
            model_name="dropoutcase",
            name="assignee",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="duty_cases",
                to="accounts.staffmember",
                verbose_name="responsible person",
            ),
        ),
        migrations.AlterField(
            model_name="dropoutcase",
            name="supervisor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.staffmember",
                verbose_name="supervisor",
            ),
        ),
    ]
