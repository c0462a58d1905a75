"""A mapping's forms: which destination and action (the picker), and the settings
form whose field rows fill the action's fields.

Each action field is one row: a *kind* and a value. ``column`` reads a model
column (the mapping kit's ``{"@path": "$.properties.<column>"}``, as the load's
messages carry a row's columns in ``properties``), ``value`` is a literal (text,
or JSON for fields of other types), ``json`` any mapping-kit value or directive
written as JSON, ``none`` leaves the field unmapped. The service validates the
result against the action (``ActionDef.validate_mapping``)."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms

from connections.catalog import ActionDef, FieldDef
from connections.reverse_etl.models import RetlMapping

KINDS = (
    ("column", "Model column"),
    ("value", "Value"),
    ("json", "JSON / directive"),
    ("none", "Not mapped"),
)
COLUMN_PATH = re.compile(r"^\$\.properties\.([^.\[\]]+)$")
TEXT_TYPES = {"STRING", "PASSWORD", "TEXT", "DATETIME"}


def row_of(field: FieldDef, value: Any) -> tuple[str, str]:
    """The (kind, text) a stored value is edited as."""
    if value is None:  # a required field starts as a value to type
        return ("value" if field.required else "none"), ""
    if isinstance(value, dict) and set(value) == {"@path"}:
        found = COLUMN_PATH.match(str(value["@path"]))
        if found:
            return "column", found.group(1)
    if isinstance(value, str) and field.type in TEXT_TYPES and not field.multiple:
        return "value", value
    if isinstance(value, bool | int | float) and not field.multiple:
        return "value", json.dumps(value)
    return "json", json.dumps(value, indent=1)


class MappingForm(forms.Form):
    """The mapping's settings; ``action`` gives the field rows (``f_<key>_kind`` and
    ``f_<key>_value``), ``initial_mappings`` their starting values."""

    display_name = forms.CharField(
        max_length=100, required=False, help_text="Defaults to the action's name."
    )
    record_selection = forms.ChoiceField(
        label="Sync behavior",
        choices=RetlMapping.RecordSelection.choices,
        initial=RetlMapping.RecordSelection.ADDED_OR_UPDATED,
        widget=forms.Select(attrs={"class": "form-select"}),
        help_text="Which changed records this mapping sends.",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Mapping enabled")

    def __init__(
        self,
        *args: Any,
        action: ActionDef,
        initial_mappings: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.action = action
        starting = initial_mappings if initial_mappings is not None else action.default_mapping()
        self.rows: list[dict[str, Any]] = []
        for field in action.fields:
            kind, text = row_of(field, starting.get(field.key))
            kind_name, value_name = f"f_{field.key}_kind", f"f_{field.key}_value"
            self.fields[kind_name] = forms.ChoiceField(
                choices=KINDS, initial=kind, required=False, label=f"{field.label}: how"
            )
            self.fields[value_name] = forms.CharField(
                required=False, initial=text, label=field.label, max_length=65_535, strip=False
            )
            self.rows.append({"field": field, "kind": kind_name, "value": value_name})

    def row_fields(self) -> list[dict[str, Any]]:
        """The rows with their bound fields, for the template."""
        return [
            {"field": r["field"], "kind": self[r["kind"]], "value": self[r["value"]]}
            for r in self.rows
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        mappings: dict[str, Any] = {}
        for row in self.rows:
            field: FieldDef = row["field"]
            kind = cleaned.get(row["kind"]) or "none"
            text = cleaned.get(row["value"]) or ""
            if kind == "none":
                continue
            if kind == "column":
                column = text.strip()
                if not column:
                    self.add_error(row["value"], "Name the model column.")
                    continue
                mappings[field.key] = {"@path": f"$.properties.{column}"}
            elif kind == "value" and field.type in TEXT_TYPES and not field.multiple:
                mappings[field.key] = text
            else:
                try:
                    mappings[field.key] = json.loads(text)
                except ValueError:
                    if kind == "json":
                        self.add_error(row["value"], "Not valid JSON.")
                        continue
                    mappings[field.key] = text
        cleaned["field_mappings"] = mappings
        return cleaned


class MappingTargetForm(forms.Form):
    """The new-mapping picker: a destination of the workspace, then one of its actions."""

    destination = forms.ChoiceField(widget=forms.Select(attrs={"class": "form-select"}))
    action = forms.ChoiceField(required=False, widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(
        self,
        *args: Any,
        destinations: list[tuple[str, str]],
        actions: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["destination"].choices = [("", "Choose a destination"), *destinations]  # type: ignore[attr-defined]
        self.fields["action"].choices = [("", "Choose an action"), *actions]  # type: ignore[attr-defined]
