"""Sources made before write keys existed get one, as new sources do."""

import secrets

from django.db import migrations

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _token(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def add_keys(apps, schema_editor):
    Source = apps.get_model("connections", "Source")
    WriteKey = apps.get_model("connections", "WriteKey")
    for source in Source.objects.filter(write_keys__isnull=True):
        WriteKey.objects.create(
            source=source,
            key_id=f"wk_{_token(12)}",
            secret=_token(32),
            description="created with the source",
        )


class Migration(migrations.Migration):
    dependencies = [("connections", "0002_destinations_write_keys")]

    operations = [migrations.RunPython(add_keys, migrations.RunPython.noop)]
