"""Plans are numbered, so a plan whose worker died can be replaced; ``planned_at`` marks a finished plan."""

from django.db import migrations, models


def mark_earlier_plans(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Before this migration a plan wrote its shards and max_poll_id in one transaction.
    Report = apps.get_model("reports", "Report")
    Report.objects.filter(started_at__isnull=False).update(plan_attempts=1)
    Report.objects.filter(max_poll_id__isnull=False).update(planned_at=models.F("started_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_recover_reports_schedule"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="reportshard",
            options={"ordering": ["report", "plan_attempt", "index"]},
        ),
        migrations.RemoveConstraint(
            model_name="reportshard",
            name="report_shard_index_unique",
        ),
        migrations.AddField(
            model_name="report",
            name="plan_attempts",
            field=models.PositiveSmallIntegerField(
                default=0, help_text="Times a plan claimed the report; only the latest plan's shards count."
            ),
        ),
        migrations.AddField(
            model_name="report",
            name="planned_at",
            field=models.DateTimeField(blank=True, help_text="When the plan had written every shard.", null=True),
        ),
        migrations.AddField(
            model_name="reportshard",
            name="plan_attempt",
            field=models.PositiveSmallIntegerField(default=1, help_text="The report's plan that wrote this shard."),
        ),
        migrations.AlterField(
            model_name="reportshard",
            name="inputs",
            field=models.JSONField(help_text="[[store_id, timezone, [[day, start, end], ...]], ...] at planning time"),
        ),
        migrations.AddConstraint(
            model_name="reportshard",
            constraint=models.UniqueConstraint(
                fields=("report", "plan_attempt", "index"), name="report_shard_index_unique"
            ),
        ),
        migrations.RunPython(mark_earlier_plans, migrations.RunPython.noop),
    ]
