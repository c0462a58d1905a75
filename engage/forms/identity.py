"""Forms of the identity resolution settings page: an identifier's settings and a
custom identifier. Blocked values are typed one per line, exact values and
patterns apart; the service checks them (RE2 patterns, lengths, counts)."""

from __future__ import annotations

from typing import Any

from django import forms

from engage.identity import defaults
from engage.models import IdentifierSetting, Period
from engage.services import identity_settings as service

PERIODS = [(p.value, p.label.title()) for p in Period]
EXACT_HELP = "One value per line, matched exactly (e.g. null, -1, anonymous)."
PATTERN_HELP = "One RE2 regular expression per line (Go's regexp syntax), e.g. ^[0-]*$."


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class IdentifierForm(forms.Form):
    priority = forms.IntegerField(min_value=1, help_text="1 is the highest priority.")
    limit = forms.IntegerField(
        min_value=1,
        max_value=service.LIMIT_MAX,
        help_text="The most values of this identifier a profile may hold.",
    )
    period = forms.ChoiceField(
        choices=PERIODS, help_text="Ever, or per sliding week, month or year."
    )
    exact = forms.CharField(
        label="Blocked values (exact)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=EXACT_HELP,
    )
    patterns = forms.CharField(
        label="Blocked values (patterns)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=PATTERN_HELP,
    )

    @classmethod
    def initial_for(cls, blocked: list[dict[str, str]], **values: Any) -> dict[str, Any]:
        exact = [b["value"] for b in blocked if b["kind"] == defaults.EXACT]
        patterns = [b["value"] for b in blocked if b["kind"] == defaults.REGEX]
        return {**values, "exact": "\n".join(exact), "patterns": "\n".join(patterns)}

    @classmethod
    def for_setting(cls, setting: IdentifierSetting) -> IdentifierForm:
        return cls(
            initial=cls.initial_for(
                setting.blocked_values,
                priority=setting.priority,
                limit=setting.limit,
                period=setting.period,
            )
        )

    def blocked_values(self) -> list[dict[str, str]]:
        exact = [{"value": v, "kind": defaults.EXACT} for v in _lines(self.cleaned_data["exact"])]
        patterns = _lines(self.cleaned_data["patterns"])
        return exact + [{"value": v, "kind": defaults.REGEX} for v in patterns]

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "priority": data["priority"],
            "limit": data["limit"],
            "period": data["period"],
            "blocked_values": self.blocked_values(),
        }


class CustomIdentifierForm(IdentifierForm):
    type = forms.CharField(
        label="Identifier name",
        max_length=service.NAME_MAX,
        help_text="Lower-case (externalIDs must be lower-case), e.g. phone or shopify_id.",
    )
    field_order = ("type", "limit", "period", "exact", "patterns", "priority")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["priority"].required = False
        self.fields["priority"].help_text = "Leave empty to add it last."

    @classmethod
    def blank(cls) -> CustomIdentifierForm:
        return cls(
            initial=cls.initial_for(
                defaults.suggested_blocked_values(),
                limit=defaults.DEFAULT_LIMIT,
                period=defaults.DEFAULT_PERIOD,
            )
        )


class ImportForm(forms.Form):
    from_space = forms.ChoiceField(label="Import from space")

    def __init__(self, *args: Any, spaces: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["from_space"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = spaces
