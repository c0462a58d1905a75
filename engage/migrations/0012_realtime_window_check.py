"""Real-time window checks (engage.services.computation_windows): where each
computation's check resumes, beat's row for engage.check_windows (every minute),
and the index its candidate ranges read (built concurrently: ProfileEvent is the
most written table)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

CHECK = "engage.check_windows"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="Check real-time audience and trait windows",
        defaults={"task": CHECK, "interval": every, "queue": "default"},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=CHECK).delete()


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("engage", "0011_computation_folders_exports"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="computation",
            name="window_check_time",
            field=models.DateTimeField(blank=True, null=True),
        ),
        AddIndexConcurrently(
            model_name="profileevent",
            index=models.Index(
                fields=["space", "event_name", "timestamp"], name="profile_event_name_time"
            ),
        ),
        migrations.RunPython(schedule, unschedule),
    ]
