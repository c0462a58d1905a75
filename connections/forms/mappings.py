"""The mapping editor: the trigger (the shared condition builder, or raw FQL) and
one input per action field, typed, a path or raw JSON (field_inputs). It parses
input; the services validate."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from connections.catalog import ActionDef, DestinationDefinition
from connections.forms.conditions import ConditionBuilderForm
from connections.forms.field_inputs import (
    MODES,
    FieldInput,
    FieldInputError,
    chosen_and_drawn,
    input_for,
    parse,
    posted_input,
)
from connections.rules import Condition

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


class MappingForm(ConditionBuilderForm):
    """Name, action, enabled, the trigger (builder rows or raw FQL) and one input
    per field of the action, in the mode the user picked (see field_inputs)."""

    name = forms.CharField(label="Name", max_length=100, required=False)
    action = forms.ChoiceField(label="Action")
    enabled = forms.BooleanField(label="Enabled", required=False)
    trigger = forms.CharField(
        label="FQL (advanced)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="When filled, this expression is the trigger and the conditions are ignored.",
    )
    mapping = forms.CharField(required=False)  # only a home for mapping-wide errors
    raw_field = "trigger"

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
        super().__init__(data, initial=initial, conditions=conditions)
        self.definition = definition
        self.action_def = action
        self.fields["action"].choices = [(a.key, a.name) for a in definition.actions]  # type: ignore[attr-defined]
        for spec in action.fields:
            self.fields[FIELD_PREFIX + spec.key] = forms.CharField(
                label=spec.label, required=False, strip=True
            )
        self.initial_mapping = action.default_mapping() if mapping is None else mapping
        # Rows whose mode was changed without JS: drawn again in the new mode.
        self.switched: dict[str, FieldInput] = {}

    def field_rows(self) -> list[FieldInput]:
        rows = []
        for spec in self.action_def.fields:
            name = FIELD_PREFIX + spec.key
            if not self.is_bound:
                row = input_for(spec, self.initial_mapping.get(spec.key))
            else:
                row = self.switched.get(spec.key) or posted_input(spec, self.posted)
            row.errors = [str(e) for e in self.errors[name]] if name in self.errors else []
            rows.append(row)
        return rows

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        mapping: dict[str, Any] = {}
        for spec in self.action_def.fields:
            name = FIELD_PREFIX + spec.key
            chosen, drawn = chosen_and_drawn(spec, self.posted)
            try:
                value = parse(spec, self.posted, drawn)
            except FieldInputError as exc:
                self.add_error(name, f"{spec.label}: {exc.message}")
                continue
            if chosen != drawn:
                # The mode changed without JS to redraw the row: show it in the new
                # mode, holding what was typed, rather than save the old input.
                self.switched[spec.key] = input_for(spec, value, chosen)
                self.add_error(
                    name, f"{spec.label}: now in {MODES[chosen]} mode; check it and save."
                )
                continue
            if value is None:
                continue
            problems = spec.value_problems(value)
            if problems:
                self.add_error(name, "; ".join(problems))
                continue
            mapping[spec.key] = value
        cleaned["mapping_value"] = mapping
        trigger = self.condition_expression(cleaned)
        if trigger is not None:
            cleaned["trigger_value"] = trigger
        return cleaned


MAPPING_ERRORS = {"name": "name", "action": "action", "trigger": "trigger", "mapping": "mapping"}
