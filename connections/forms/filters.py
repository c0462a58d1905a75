"""The destination filter editor. It parses input; the services validate."""

from __future__ import annotations

from typing import Any

from django import forms

from connections.forms.conditions import ConditionBuilderForm, builder_initial
from connections.forms.text import nonblank_lines
from connections.rules import DESCRIPTION_MAX, FIELD_OBJECTS, TITLE_MAX, Condition


def fields_from_text(text: str) -> dict[str, list[str]]:
    """One field path per line -> the filter's fields object: ``properties.email``
    goes under "properties" (likewise traits., context.), ``userId`` under ""."""
    out: dict[str, list[str]] = {}
    for line in nonblank_lines(text):
        head, sep, rest = line.partition(".")
        if sep and head in FIELD_OBJECTS and head and rest:
            out.setdefault(head, []).append(rest)
        else:
            out.setdefault("", []).append(line)
    return out


def fields_to_text(fields: Any) -> str:
    lines: list[str] = []
    if isinstance(fields, dict):
        for obj, names in fields.items():
            for name in names or []:
                lines.append(f"{obj}.{name}" if obj else name)
    return "\n".join(lines)


class FilterForm(ConditionBuilderForm):
    """Title, description, enabled, the "If" (condition builder rows or raw FQL,
    as the mapping's trigger) and the actions."""

    title = forms.CharField(label="Title", max_length=TITLE_MAX, required=False)
    description = forms.CharField(
        label="Description",
        max_length=DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # New filters start off, as new mappings do: nothing changes until it is turned on.
    enabled = forms.BooleanField(label="Enabled", required=False, initial=False)
    condition = forms.CharField(
        label="FQL (advanced)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text='When filled, this expression is the filter\'s "If" and the conditions are '
        'ignored: e.g. type = "track" and event = "Order Completed", or "all" for every event.',
    )
    drop = forms.BooleanField(label="Drop event", required=False)
    sample = forms.BooleanField(label="Sample", required=False)
    sample_percent = forms.FloatField(
        label="Percent of matching events to keep", required=False, min_value=0, max_value=100
    )
    sample_path = forms.CharField(
        label="Sample by field (optional)",
        required=False,
        help_text="Keep or drop all events with the same value of this field, e.g. userId.",
    )
    drop_properties = forms.BooleanField(label="Drop properties", required=False)
    drop_fields = forms.CharField(
        label="Fields to drop",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: properties.email, traits.phone, context.ip, or userId.",
    )
    allow_properties = forms.BooleanField(label="Allow properties", required=False)
    allow_fields = forms.CharField(
        label="Fields to keep",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line; every other field of those objects is removed.",
    )

    raw_field = "condition"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        expression = self.condition_expression(cleaned)
        if expression is not None:
            cleaned["if_value"] = expression
        return cleaned

    @classmethod
    def initial_from(cls, row: Any) -> tuple[dict[str, Any], list[Condition]]:
        """The initial values showing ``row``, and its "If" as builder rows when the
        builder can show it (else it is in the raw FQL box)."""
        match, raw, rows = builder_initial(row.condition)
        initial: dict[str, Any] = {
            "title": row.title,
            "description": row.description,
            "enabled": row.enabled,
            "match": match,
            "condition": raw,
        }
        for action in row.actions:
            kind = action.get("type")
            if kind == "DROP":
                initial["drop"] = True
            elif kind == "SAMPLE":
                initial["sample"] = True
                initial["sample_percent"] = round(float(action.get("percent", 0)) * 100, 6)
                initial["sample_path"] = action.get("path") or ""
            elif kind == "DROP_PROPERTIES":
                initial["drop_properties"] = True
                initial["drop_fields"] = fields_to_text(action.get("fields"))
            elif kind == "ALLOW_PROPERTIES":
                initial["allow_properties"] = True
                initial["allow_fields"] = fields_to_text(action.get("fields"))
        return initial, rows

    def actions(self) -> tuple[list[dict[str, Any]], list[str]]:
        """The actions list for the service and, per index, the form field that
        should carry an error about that action."""
        data = self.cleaned_data
        actions: list[dict[str, Any]] = []
        where: list[str] = []
        if data.get("drop"):
            actions.append({"type": "DROP"})
            where.append("drop")
        if data.get("sample"):
            percent = data.get("sample_percent")
            item: dict[str, Any] = {
                "type": "SAMPLE",
                "percent": None if percent is None else percent / 100,
            }
            if (data.get("sample_path") or "").strip():
                item["path"] = data["sample_path"].strip()
            actions.append(item)
            where.append("sample_percent")
        if data.get("drop_properties"):
            actions.append(
                {"type": "DROP_PROPERTIES", "fields": fields_from_text(data["drop_fields"])}
            )
            where.append("drop_fields")
        if data.get("allow_properties"):
            actions.append(
                {"type": "ALLOW_PROPERTIES", "fields": fields_from_text(data["allow_fields"])}
            )
            where.append("allow_fields")
        return actions, where


def filter_error_target(field: str | None, where: list[str]) -> str | None:
    """The FilterForm field for a service error about filter ``field``."""
    if not field:
        return None
    if field in ("title", "description", "enabled"):
        return field
    if field == "if":
        return "condition"
    if field.startswith("actions["):
        index_text = field[len("actions[") :].split("]", 1)[0]
        if index_text.isdigit() and int(index_text) < len(where):
            target = where[int(index_text)]
            if field.endswith(".path"):
                return "sample_path"
            return target
    return "drop" if field == "actions" else None
