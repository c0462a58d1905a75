"""Give existing workspaces the default labels new ones get (environment:dev, environment:prod).

The values are copied from workspace.services.labels.DEFAULT_LABELS as they were
when this migration was written: a migration must not change with later code.
"""

from django.db import migrations

DEFAULT_LABELS = (
    ("environment", "dev", "Development"),
    ("environment", "prod", "Production"),
)


def create_default_labels(apps, schema_editor):
    Workspace = apps.get_model("workspace", "Workspace")
    Label = apps.get_model("workspace", "Label")
    for workspace_id in Workspace.objects.values_list("pk", flat=True).iterator():
        Label.objects.bulk_create(
            [
                Label(workspace_id=workspace_id, key=key, value=value, description=description)
                for key, value, description in DEFAULT_LABELS
            ],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("workspace", "0005_teams_invitations_labels"),
    ]

    # Going back leaves the labels: by then they may be in use or described.
    operations = [migrations.RunPython(create_default_labels, migrations.RunPython.noop)]
