from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0006_data_quality_school_township'),
    ]

    operations = [
        migrations.AlterField(
            model_name='countyprofile',
            name='working_year',
            field=models.PositiveSmallIntegerField(blank=True, help_text="Leave empty to follow today's date (a school year starts on 1 September).", null=True, verbose_name='working school year'),
        ),
        migrations.AddField(
            model_name='countyprofile',
            name='working_semester',
            field=models.CharField(blank=True, choices=[('autumn', 'Autumn semester'), ('spring', 'Spring semester')], db_default='', default='', help_text="Leave empty to follow today's date.", max_length=8, verbose_name='working semester'),
        ),
    ]
