"""Spaces' connection policy (labels a source needs to connect), and the beat row
of the sweep that deletes spaces whose deletion grace period is over."""

from django.db import migrations, models

SWEEP = "engage.sweep_space_deletions"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="Delete spaces whose deletion grace period is over",
        defaults={"task": SWEEP, "interval": every, "queue": "default"},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=SWEEP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("engage", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="space",
            name="required_labels",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(schedule, unschedule),
    ]
