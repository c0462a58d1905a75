"""The beat row of the daily pruning of Profiles Insights older than 30 days
(engage.services.insights.prune_insights), and where CSV uploads and replays got
to, so the feed sweep can restart one whose task message was lost or whose
worker died (engage.services.recovery)."""

from django.db import migrations, models

PRUNE = "engage.prune_insights"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="days")
    PeriodicTask.objects.get_or_create(
        name="Prune Profiles Insights older than 30 days",
        defaults={"task": PRUNE, "interval": every, "queue": "default"},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=PRUNE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("engage", "0006_feed_sweep"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="csvupload",
            name="failure",
            field=models.CharField(blank=True, default="", max_length=500),
        ),
        migrations.AddField(
            model_name="csvupload",
            name="progress_time",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="csvupload",
            name="restarts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="spacesource",
            name="replay_after_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="spacesource",
            name="replay_after_time",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="spacesource",
            name="replay_failure",
            field=models.CharField(blank=True, default="", max_length=500),
        ),
        migrations.AddField(
            model_name="spacesource",
            name="replay_progress_time",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="spacesource",
            name="replay_restarts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="spacesource",
            name="replay_since",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="spacesource",
            name="replay_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(schedule, unschedule),
    ]
