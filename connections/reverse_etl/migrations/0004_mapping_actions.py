"""Mappings target a destination action with field mappings (the mapping kit)
and a record selection, instead of Track/Identify messages built from columns;
failed records are tracked for their automatic retries (5 syncs / 14 days)."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def _selection(mapping: Any) -> str:
    added, updated, deleted = mapping.send_added, mapping.send_updated, mapping.send_deleted
    if deleted and not (added or updated):
        return "DELETED"
    if added and not updated:
        return "ADDED"
    if updated and not added:
        return "UPDATED"
    return "ADDED_OR_UPDATED"


def to_actions(apps: Any, schema_editor: Any) -> None:
    """Nothing has shipped: each mapping becomes the destination's action of its
    event type (``send_identify`` / ``send_track``), else its first action, with
    the action's default field mappings plus the old mapped columns as
    ``traits`` / ``properties`` when the action has such a field. A mapping whose
    result is not valid for its action is disabled (its owner edits it)."""
    from connections import catalog

    mapping_model = apps.get_model("reverse_etl", "RetlMapping")
    for mapping in mapping_model.objects.select_related("destination"):
        definition = catalog.destination(mapping.destination.definition)
        actions = list(definition.actions) if definition is not None else []
        chosen = next((a for a in actions if a.key == f"send_{mapping.event_type}"), None)
        chosen = chosen or (actions[0] if actions else None)
        fields: dict[str, Any] = chosen.default_mapping() if chosen is not None else {}
        root = "traits" if mapping.event_type == "identify" else "properties"
        if chosen is not None and chosen.field(root) is not None and mapping.columns:
            fields[root] = {
                str(target).split(".", 1)[-1]: {"@path": f"$.properties.{column}"}
                for target, column in mapping.columns.items()
            }
        if chosen is not None and chosen.field("event_name") is not None and mapping.event_name:
            fields["event_name"] = mapping.event_name
        if chosen is not None and chosen.field("user_id") is not None:
            column = mapping.user_id_column or "__record_id"
            fields["user_id"] = {"@path": f"$.properties.{column}"}
            if column == "__record_id":
                fields["user_id"] = {"@path": "$.context.reverse_etl.record_id"}
        mapping.action = chosen.key if chosen is not None else ""
        mapping.field_mappings = fields
        mapping.record_selection = _selection(mapping)
        if chosen is None or chosen.validate_mapping(fields):
            mapping.enabled = False
        mapping.save(update_fields=["action", "field_mappings", "record_selection", "enabled"])


class Migration(migrations.Migration):
    dependencies = [
        ("reverse_etl", "0003_sync_partial_status"),
    ]

    operations = [
        migrations.AddField(
            model_name="retlmapping",
            name="action",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="retlmapping",
            name="field_mappings",
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name="retlmapping",
            name="record_selection",
            field=models.CharField(
                choices=[
                    ("ADDED", "Added records"),
                    ("UPDATED", "Updated records"),
                    ("ADDED_OR_UPDATED", "Added or updated records"),
                    ("DELETED", "Deleted records"),
                ],
                default="ADDED_OR_UPDATED",
                max_length=24,
            ),
        ),
        migrations.RunPython(to_actions, migrations.RunPython.noop),
        migrations.RemoveField(model_name="retlmapping", name="columns"),
        migrations.RemoveField(model_name="retlmapping", name="event_name"),
        migrations.RemoveField(model_name="retlmapping", name="event_type"),
        migrations.RemoveField(model_name="retlmapping", name="send_added"),
        migrations.RemoveField(model_name="retlmapping", name="send_deleted"),
        migrations.RemoveField(model_name="retlmapping", name="send_updated"),
        migrations.RemoveField(model_name="retlmapping", name="user_id_column"),
        migrations.AddField(
            model_name="retlsyncrecord",
            name="given_up",
            field=models.BooleanField(default=False),
        ),
        migrations.CreateModel(
            name="RetlRecordRetry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("record_id", models.TextField()),
                ("first_failure_time", models.DateTimeField()),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("last_reason", models.TextField(blank=True, default="")),
                ("update_time", models.DateTimeField(auto_now=True)),
                (
                    "mapping",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="retries",
                        to="reverse_etl.retlmapping",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("mapping", "record_id"), name="retl_retry_once")
                ],
            },
        ),
    ]
