# django-guardian was installed but never used (ARCHITECTURE.md, "Why not
# django-guardian"). Its tables held nothing we wrote; its post-migrate hook
# created an "AnonymousUser" account. Remove both from existing databases.

from django.db import migrations


def remove_anonymous_user(apps, schema_editor):
    User = apps.get_model("auth", "User")
    # Only guardian's own row: unusable password, never signed in, in no workspace.
    User.objects.filter(
        username="AnonymousUser", password__startswith="!", last_login__isnull=True
    ).exclude(memberships__isnull=False).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("workspace", "0007_rolegrant"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunSQL(
            "DROP TABLE IF EXISTS guardian_userobjectpermission, "
            "guardian_groupobjectpermission CASCADE",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RunPython(remove_anonymous_user, migrations.RunPython.noop),
    ]
