"""Claims carry a token and are renewed by a heartbeat; a plan's claim has its own time, so ``started_at`` stays the first start."""

from django.db import migrations, models


def plans_claimed_at_their_start(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Before this migration a plan's claim was its report's started_at.
    Report = apps.get_model("reports", "Report")
    Report.objects.filter(started_at__isnull=False).update(plan_renewed_at=models.F("started_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_report_extended_csv_file"),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="plan_renewed_at",
            field=models.DateTimeField(
                blank=True,
                help_text="The latest plan's claim, renewed by its worker's heartbeat while it writes.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="reportshard",
            name="claim_token",
            field=models.CharField(
                blank=True, help_text="The current claim; every later move of the shard must carry it.", max_length=32
            ),
        ),
        migrations.AlterField(
            model_name="report",
            name="started_at",
            field=models.DateTimeField(
                blank=True, help_text="When the first plan started; a re-plan keeps it.", null=True
            ),
        ),
        migrations.AlterField(
            model_name="reportshard",
            name="claimed_at",
            field=models.DateTimeField(
                blank=True, help_text="When the claim was made or last renewed by its worker's heartbeat.", null=True
            ),
        ),
        migrations.RunPython(plans_claimed_at_their_start, migrations.RunPython.noop),
    ]
