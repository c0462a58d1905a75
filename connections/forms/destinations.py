"""The destination settings form, generated from a catalog definition's settings
schema. It parses input; the services validate."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from connections.catalog import DestinationDefinition, SettingDef
from connections.forms.text import map_text, nonblank_lines

SETTING_PREFIX = "s_"


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
                initial[SETTING_PREFIX + spec.name] = map_text(value)
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
                items = nonblank_lines(value or "")
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
        for line in nonblank_lines(text):
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
