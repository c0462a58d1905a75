"""The mapping editor: the trigger builder's rows (or raw FQL) and one JSON input
per action field. It parses input; the services validate."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict

from connections.catalog import ActionDef, DestinationDefinition, FieldDef
from connections.rules import MATCHES, Condition, TriggerError, to_fql
from switchyard.errors import InvalidArgument
from switchyard.validation import load_json

FIELD_PREFIX = "f_"

# The path picker of the field mapping: common places in a Segment event.
COMMON_PATHS = (
    "$.",
    "$.userId",
    "$.anonymousId",
    "$.event",
    "$.type",
    "$.name",
    "$.timestamp",
    "$.messageId",
    "$.properties",
    "$.properties.revenue",
    "$.properties.currency",
    "$.properties.order_id",
    "$.traits",
    "$.traits.email",
    "$.traits.name",
    "$.traits.first_name",
    "$.traits.last_name",
    "$.context.traits.email",
    "$.context.ip",
    "$.context.userAgent",
    "$.context.locale",
    "$.context.page.url",
    "$.context.page.path",
    "$.context.page.referrer",
    "$.context.page.title",
    "$.context.campaign",
    "$.context.device.type",
    "$.context.os.name",
    "$.groupId",
)


@dataclass
class FieldRow:
    spec: FieldDef
    name: str
    value: str
    errors: list[str]


def field_value_text(value: Any) -> str:
    return "" if value is None else json.dumps(value)


class MappingForm(forms.Form):
    """Name, action, enabled, the trigger (builder rows or raw FQL) and one JSON
    input per field of the action (``f_<key>``)."""

    name = forms.CharField(label="Name", max_length=100, required=False)
    action = forms.ChoiceField(label="Action")
    enabled = forms.BooleanField(label="Enabled", required=False)
    match = forms.ChoiceField(
        label="Match", choices=list(MATCHES.items()), initial="all", required=False
    )
    trigger = forms.CharField(
        label="FQL (advanced)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="When filled, this expression is the trigger and the conditions are ignored.",
    )
    mapping = forms.CharField(required=False)  # only a home for mapping-wide errors

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        definition: DestinationDefinition,
        action: ActionDef,
        initial: dict[str, Any] | None = None,
        mapping: dict[str, Any] | None = None,
        conditions: list[Condition] | None = None,
    ) -> None:
        super().__init__(data, initial=initial)
        self.definition = definition
        self.action_def = action
        self.fields["action"].choices = [(a.key, a.name) for a in definition.actions]  # type: ignore[attr-defined]
        for spec in action.fields:
            self.fields[FIELD_PREFIX + spec.key] = forms.CharField(
                label=spec.label, required=False, strip=True
            )
        self.initial_mapping = action.default_mapping() if mapping is None else mapping
        if data is not None:
            self.conditions = conditions_from_post(data)
        else:
            self.conditions = list(conditions or [])
        self.generated_fql = ""

    def field_rows(self) -> list[FieldRow]:
        rows = []
        for spec in self.action_def.fields:
            name = FIELD_PREFIX + spec.key
            if self.is_bound:
                value = self.data.get(name, "")
            else:
                value = field_value_text(self.initial_mapping.get(spec.key))
            errors = [str(e) for e in self.errors[name]] if name in self.errors else []
            rows.append(FieldRow(spec, name, value, errors))
        return rows

    def condition_rows(self) -> list[Condition]:
        """The builder rows to show: those given, or one blank row."""
        shown = [c for c in self.conditions if not c.blank]
        return shown or [Condition("type", "is", "")]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        mapping: dict[str, Any] = {}
        for spec in self.action_def.fields:
            name = FIELD_PREFIX + spec.key
            text = (cleaned.get(name) or "").strip()
            if not text:
                continue
            try:
                value = load_json(text)
            except InvalidArgument as exc:
                hint = (
                    '; write strings in double quotes, e.g. "POST", '
                    'or pick a path for {"@path": "$.userId"}'
                    if exc.message.startswith("not valid JSON (")
                    else ""
                )
                self.add_error(name, f"{spec.label}: {exc.message}{hint}")
                continue
            problems = spec.value_problems(value)
            if problems:
                self.add_error(name, "; ".join(problems))
                continue
            mapping[spec.key] = value
        cleaned["mapping_value"] = mapping
        raw = (cleaned.get("trigger") or "").strip()
        if raw:
            cleaned["trigger_value"] = raw
        else:
            try:
                self.generated_fql = to_fql(self.conditions, cleaned.get("match") or "all")
            except TriggerError as exc:
                self.add_error("trigger", exc.message)
            else:
                cleaned["trigger_value"] = self.generated_fql
        return cleaned


def conditions_from_post(data: QueryDict) -> list[Condition]:
    fields = data.getlist("cond_field")
    ops = data.getlist("cond_op")
    paths = data.getlist("cond_path")
    values = data.getlist("cond_value")
    out = []
    for i, field in enumerate(fields):
        out.append(
            Condition(
                field=field,
                operator=ops[i] if i < len(ops) else "is",
                value=values[i] if i < len(values) else "",
                path=paths[i] if i < len(paths) else "",
            )
        )
    return out


MAPPING_ERRORS = {"name": "name", "action": "action", "trigger": "trigger", "mapping": "mapping"}
