"""Schedules of Reverse ETL mappings (services.schedules: the schedule as the user
chose it here, the firing rows in django-celery-beat) and beat's row for the
sweeper that resumes runs whose worker died (every 5 minutes)."""

import django.db.models.deletion
from django.db import migrations, models

RESUME = "connections.reverse_etl.resume_stale_syncs"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="Resume stale Reverse ETL syncs",
        defaults={"task": RESUME, "interval": every, "queue": "default"},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=RESUME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reverse_etl", "0004_mapping_actions"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="RetlSchedule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("MANUAL", "Manual"),
                            ("INTERVAL", "Interval"),
                            ("DAY_AND_TIME", "Day And Time"),
                            ("CRON", "Cron"),
                        ],
                        default="MANUAL",
                        max_length=16,
                    ),
                ),
                ("interval", models.CharField(blank=True, default="", max_length=8)),
                ("days", models.JSONField(default=list)),
                ("times", models.JSONField(default=list)),
                ("cron", models.CharField(blank=True, default="", max_length=200)),
                ("timezone", models.CharField(default="UTC", max_length=64)),
                ("last_trigger_time", models.DateTimeField(blank=True, null=True)),
                ("last_trigger", models.CharField(blank=True, default="", max_length=200)),
                ("create_time", models.DateTimeField(auto_now_add=True)),
                ("update_time", models.DateTimeField(auto_now=True)),
                (
                    "mapping",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="schedule",
                        to="reverse_etl.retlmapping",
                    ),
                ),
            ],
        ),
        migrations.RunPython(schedule, unschedule),
    ]
