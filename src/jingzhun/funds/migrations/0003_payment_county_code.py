"""The county code on payments (the partition key on PostgreSQL), filled for existing rows."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0002_payment_beneficiary"),
        ("schools", "0004_enrolment_county_code"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="payment",
            name="payment_once_per_source",
        ),
        migrations.AddField(
            model_name="payment",
            name="county_code",
            field=models.CharField(
                default="", editable=False, max_length=6, verbose_name="county code"
            ),
        ),
        # Existing rows take their county code, set-wise (core/partitions.py says whose).
        migrations.RunSQL(
            "UPDATE funds_payment SET county_code = b.county_code FROM funds_paymentbatch b WHERE b.id = funds_payment.batch_id",
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="payment",
            name="reference",
            field=models.CharField(max_length=40, verbose_name="reference"),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "failed"), _negated=True),
                fields=("source", "county_code"),
                name="payment_once_per_source",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                fields=("reference", "county_code"), name="payment_reference"
            ),
        ),
    ]
