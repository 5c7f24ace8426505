"""Once a day, delete the throttle counters of clients not seen for a day (see operations.throttling)."""

from django.db import migrations

FUNC = "operations.throttling.forget_idle_counters"


def add_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        func=FUNC, defaults={"name": "forget idle throttle counters", "schedule_type": "D", "repeats": -1}
    )


def remove_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("django_q", "Schedule").objects.filter(func=FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [("operations", "0002_throttle_window"), ("django_q", "0018_task_success_index")]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
