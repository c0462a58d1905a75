from django.db import migrations, models
from django.db.models import F, Func, Value


def fill_resource_type(apps, schema_editor):
    AuditEntry = apps.get_model("workspace", "AuditEntry")
    AuditEntry.objects.update(
        resource_type=Func(F("action"), Value("."), Value(1), function="split_part")
    )


class Migration(migrations.Migration):
    dependencies = [("workspace", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="resource_type",
            field=models.CharField(db_index=True, default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(fill_resource_type, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(db_index=True, max_length=64),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["workspace", "-time", "-id"], name="audit_workspace_recent"),
        ),
    ]
