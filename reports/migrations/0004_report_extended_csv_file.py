"""A report's extended CSV is stored beside its CSV; reports completed before have none and compute it on demand."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0003_plan_attempts'),
    ]

    operations = [
        migrations.AddField(
            model_name='report',
            name='extended_csv_file',
            field=models.FileField(blank=True, help_text='The CSV with the extended columns, stored by a worker once the report is complete.', upload_to='reports/'),
        ),
    ]
