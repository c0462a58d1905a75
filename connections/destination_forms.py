"""Forms of the destination pages: settings generated from a catalog definition's
schema, the mapping editor (trigger builder + one JSON input per action field)
and the destination filter editor. They parse input; the services validate."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict

from connections.catalog import ActionDef, DestinationDefinition, FieldDef, SettingDef
from connections.rules import filtering, triggers
from switchyard.errors import SwitchyardError

SETTING_PREFIX = "s_"
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

SAMPLE_EVENT = {
    "type": "track",
    "event": "Order Completed",
    "userId": "user-1234",
    "anonymousId": "507f191e810c19729de860ea",
    "messageId": "ajs-next-1e6e9d1c7f4a4e2b",
    "timestamp": "2024-05-14T10:12:31.000Z",
    "properties": {
        "order_id": "50314b8e9bcf000000000000",
        "revenue": 25.0,
        "currency": "USD",
        "email": "jane.doe@example.com",
        "products": [{"product_id": "507f1f77bcf86cd799439011", "name": "Monopoly", "price": 19}],
    },
    "context": {
        "ip": "8.8.8.8",
        "library": {"name": "analytics.js", "version": "next-1.53.0"},
        "page": {"url": "https://example.com/checkout", "path": "/checkout", "title": "Checkout"},
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
    },
}


def sample_event_json() -> str:
    return json.dumps(SAMPLE_EVENT, indent=2)


def add_service_error(form: forms.Form, exc: SwitchyardError, mapping: dict[str, str]) -> None:
    """Put a service error on the form field it names (``mapping`` translates API
    field names, exactly or by prefix), else above the form."""
    name = exc.field or ""
    target = mapping.get(name)
    if target is None:
        for prefix, replacement in mapping.items():
            if prefix.endswith(".") and name.startswith(prefix):
                target = replacement + name[len(prefix) :]
                break
    form.add_error(target if target in form.fields else None, exc.message)


# --- destination settings -----------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _map_text(value: Any) -> str:
    if isinstance(value, dict):
        return "\n".join(f"{k}={v}" for k, v in value.items())
    return ""


class SettingsForm(forms.Form):
    """Display name, enabled and one input per setting of ``definition``.

    Inputs are named ``s_<setting>``; the service's ``settings.<setting>`` errors
    land there. Secrets are password inputs that never render a value: blank
    keeps the stored secret (``stored_secrets``), "clear" removes it."""

    display_name = forms.CharField(label="Display name", max_length=100, required=False)
    enabled = forms.BooleanField(label="Enable destination", required=False)

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        definition: DestinationDefinition,
        values: dict[str, Any] | None = None,
        stored_secrets: frozenset[str] = frozenset(),
        initial: dict[str, Any] | None = None,
    ) -> None:
        initial = dict(initial or {})
        for spec in definition.settings:
            value = (values or {}).get(spec.name, spec.default)
            if spec.is_secret:
                continue
            if spec.type == "array":
                initial[SETTING_PREFIX + spec.name] = "\n".join(value or [])
            elif spec.type in ("map", "text-map"):
                initial[SETTING_PREFIX + spec.name] = _map_text(value)
            elif value is not None:
                initial[SETTING_PREFIX + spec.name] = value
        super().__init__(data, initial=initial)
        self.definition = definition
        self.stored_secrets = stored_secrets
        for spec in definition.settings:
            self.fields[SETTING_PREFIX + spec.name] = self._field(spec)
            if spec.is_secret and spec.name in stored_secrets:
                self.fields[f"clear_{spec.name}"] = forms.BooleanField(required=False)

    def _field(self, spec: SettingDef) -> forms.Field:
        # Required settings are marked, but the service says what is missing.
        common: dict[str, Any] = {
            "label": spec.label,
            "required": False,
            "help_text": spec.description,
        }
        if spec.is_secret:
            return forms.CharField(widget=forms.PasswordInput(render_value=False), **common)
        if spec.type == "boolean":
            return forms.BooleanField(**common)
        if spec.type == "number":
            return forms.FloatField(**common)
        if spec.type == "integer":
            return forms.IntegerField(**common)
        if spec.type == "select":
            choices = [("", "—")] if not spec.required else []
            return forms.ChoiceField(choices=choices + [(c, c) for c in spec.choices], **common)
        if spec.type in ("text", "array", "map", "text-map"):
            return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), strip=False, **common)
        return forms.CharField(**common)

    def rows(self) -> list[dict[str, Any]]:
        """What the template needs per setting: bound field, schema and input kind."""
        out = []
        for spec in self.definition.settings:
            if spec.is_secret:
                kind = "password"
            elif spec.type == "boolean":
                kind = "checkbox"
            elif spec.type == "select":
                kind = "select"
            elif spec.type in ("number", "integer"):
                kind = "number"
            elif spec.type in ("text", "array", "map", "text-map"):
                kind = "textarea"
            else:
                kind = "text"
            hint = {
                "array": "One item per line.",
                "map": "One key=value per line.",
                "text-map": "One key=value per line.",
            }.get(spec.type, "")
            out.append(
                {
                    "field": self[SETTING_PREFIX + spec.name],
                    "spec": spec,
                    "kind": kind,
                    "hint": hint,
                    "is_set": spec.name in self.stored_secrets,
                    "clear": self[f"clear_{spec.name}"]
                    if f"clear_{spec.name}" in self.fields
                    else None,
                }
            )
        return out

    def settings(self) -> dict[str, Any]:
        """The settings object for the service (call after is_valid()). Blank
        optional inputs are left out, so defaults apply and secrets are kept."""
        result: dict[str, Any] = {}
        for spec in self.definition.settings:
            name = SETTING_PREFIX + spec.name
            value = self.cleaned_data.get(name)
            if spec.is_secret:
                if self.cleaned_data.get(f"clear_{spec.name}"):
                    result[spec.name] = None
                elif value:
                    result[spec.name] = value
                continue
            if spec.type == "boolean":
                result[spec.name] = bool(value)
            elif spec.type == "array":
                items = _lines(value or "")
                if items:
                    result[spec.name] = items
            elif spec.type in ("map", "text-map"):
                pairs = self._pairs(spec, value or "")
                if pairs:
                    result[spec.name] = pairs
            elif value not in (None, ""):
                result[spec.name] = value
        return result

    def _pairs(self, spec: SettingDef, text: str) -> dict[str, str]:
        pairs: dict[str, str] = {}
        for line in _lines(text):
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise SettingsInputError(
                    f"{spec.label}: write one key=value per line; {line!r} has no '='",
                    SETTING_PREFIX + spec.name,
                )
            pairs[key.strip()] = value.strip()
        return pairs


class SettingsInputError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


SETTINGS_ERRORS = {"settings.": SETTING_PREFIX, "display_name": "display_name"}


# --- mappings -------------------------------------------------------------------------


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
        label="Match", choices=list(triggers.MATCHES.items()), initial="all", required=False
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
        conditions: list[triggers.Condition] | None = None,
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

    def condition_rows(self) -> list[triggers.Condition]:
        """The builder rows to show: those given, or one blank row."""
        shown = [c for c in self.conditions if not c.blank]
        return shown or [triggers.Condition("type", "is", "")]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        mapping: dict[str, Any] = {}
        for spec in self.action_def.fields:
            name = FIELD_PREFIX + spec.key
            text = (cleaned.get(name) or "").strip()
            if not text:
                continue
            try:
                value = json.loads(text)
            except ValueError as exc:
                self.add_error(
                    name,
                    f"{spec.label}: not valid JSON ({exc}); write strings in double quotes, "
                    'e.g. "POST", or pick a path for {"@path": "$.userId"}',
                )
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
                self.generated_fql = triggers.to_fql(self.conditions, cleaned.get("match") or "all")
            except triggers.TriggerError as exc:
                self.add_error("trigger", exc.message)
            else:
                cleaned["trigger_value"] = self.generated_fql
        return cleaned


def conditions_from_post(data: QueryDict) -> list[triggers.Condition]:
    fields = data.getlist("cond_field")
    ops = data.getlist("cond_op")
    paths = data.getlist("cond_path")
    values = data.getlist("cond_value")
    out = []
    for i, field in enumerate(fields):
        out.append(
            triggers.Condition(
                field=field,
                operator=ops[i] if i < len(ops) else "is",
                value=values[i] if i < len(values) else "",
                path=paths[i] if i < len(paths) else "",
            )
        )
    return out


MAPPING_ERRORS = {"name": "name", "action": "action", "trigger": "trigger", "mapping": "mapping"}


# --- destination filters ---------------------------------------------------------------


def fields_from_text(text: str) -> dict[str, list[str]]:
    """One field path per line -> the filter's fields object: ``properties.email``
    goes under "properties" (likewise traits., context.), ``userId`` under ""."""
    out: dict[str, list[str]] = {}
    for line in _lines(text):
        head, sep, rest = line.partition(".")
        if sep and head in filtering.FIELD_OBJECTS and head and rest:
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


class FilterForm(forms.Form):
    title = forms.CharField(label="Title", max_length=filtering.TITLE_MAX, required=False)
    description = forms.CharField(
        label="Description",
        max_length=filtering.DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)
    condition = forms.CharField(
        label="If",
        required=False,
        initial="all",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text='An FQL expression, such as type = "track" and event = "Order Completed", '
        'or "all" for every event.',
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

    @classmethod
    def initial_from(cls, row: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "title": row.title,
            "description": row.description,
            "enabled": row.enabled,
            "condition": row.condition,
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
        return initial

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
