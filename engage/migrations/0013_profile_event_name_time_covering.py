"""profile_event_name_time carries profile_id and type (INCLUDE), so the window
check's ranges and the compiled queries' event conditions are index-only scans.
Built concurrently, as 0012 built it (ProfileEvent is the most written table)."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("engage", "0012_realtime_window_check")]

    operations = [
        RemoveIndexConcurrently(model_name="profileevent", name="profile_event_name_time"),
        AddIndexConcurrently(
            model_name="profileevent",
            index=models.Index(
                fields=["space", "event_name", "timestamp"],
                include=["profile", "type"],
                name="profile_event_name_time",
            ),
        ),
    ]
