"""The custom matcher form and the test panel's sample event."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from privacy.matching import PATTERN_MAX
from privacy.services import matchers as service

CLASSIFICATIONS = [("RED", "Red (highly restricted)"), ("YELLOW", "Yellow (moderately restricted)")]
MATCH_ON = [("KEY", "Key (the field's name)"), ("VALUE", "Value (the field's contents)")]
PRECISIONS = [("EXACT", "Exact"), ("SIMILAR", "Similar (fuzzy)")]
EVENT_MAX = 64 * 1024


class MatcherForm(forms.Form):
    name = forms.CharField(max_length=service.NAME_MAX, help_text="Key matchers match it too.")
    classification = forms.ChoiceField(choices=CLASSIFICATIONS)
    match_on = forms.ChoiceField(choices=MATCH_ON, label="Match on")
    precision = forms.ChoiceField(
        choices=PRECISIONS, help_text="For keys: exact names only, or similar ones too."
    )
    pattern = forms.CharField(
        max_length=PATTERN_MAX,
        required=False,
        strip=False,
        help_text="A regular expression in Go's (RE2) syntax, e.g. ^\\d{3}-\\d{3}-\\d{3}$. "
        "Required to match on values; searched in field names when matching on keys.",
    )
    synonyms = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Other key names, one a line (e.g. credit card no, debit card number).",
    )
    enabled = forms.BooleanField(required=False, initial=True)

    def clean_synonyms(self) -> list[str]:
        text: str = self.cleaned_data.get("synonyms") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    @classmethod
    def for_matcher(cls, matcher: Any) -> MatcherForm:
        return cls(
            initial={
                "name": matcher.name,
                "classification": matcher.classification,
                "match_on": matcher.match_on,
                "precision": matcher.precision,
                "pattern": matcher.pattern,
                "synonyms": "\n".join(matcher.synonyms),
                "enabled": matcher.enabled,
            }
        )


class SampleEventForm(forms.Form):
    event = forms.CharField(
        max_length=EVENT_MAX,
        widget=forms.Textarea(attrs={"rows": 14, "class": "font-monospace", "spellcheck": "false"}),
        help_text="Only fields under context, traits and properties are scanned.",
    )

    def clean_event(self) -> dict[str, Any]:
        try:
            event = json.loads(self.cleaned_data["event"])
        except ValueError as exc:
            raise forms.ValidationError(f"not valid JSON: {exc}") from exc
        if not isinstance(event, dict):
            raise forms.ValidationError("the event must be a JSON object")
        return event
