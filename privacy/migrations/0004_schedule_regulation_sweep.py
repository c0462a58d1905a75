"""Schedule the regulations sweep (requeue deletions whose queued message was lost)
as a django-celery-beat row, editable later."""

from django.db import migrations

TASK = "privacy.sweep_regulations"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_5_minutes, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="Privacy: queue again deletion regulations whose message was lost",
        defaults={"task": TASK, "interval": every_5_minutes, "queue": "default"},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0003_green_classification"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
