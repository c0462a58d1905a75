"""The source forms: create (type, name, slug, labels), settings, write keys."""

from __future__ import annotations

from typing import Any

from django import forms

from connections import catalog
from switchyard.names import SLUG_RULE

LABELS_HELP = "key:value labels separated by spaces, e.g. environment:prod"


def source_type_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Catalog source types grouped by category, for a <select>."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for source_type in catalog.source_types():
        groups.setdefault(source_type.category.title(), []).append(
            (source_type.slug, source_type.name)
        )
    return sorted(groups.items())


class SourceForm(forms.Form):
    display_name = forms.CharField(max_length=100)
    enabled = forms.BooleanField(
        required=False,
        initial=True,
        help_text="A disabled source accepts events from the libraries but drops them.",
    )
    labels = forms.CharField(required=False, help_text=LABELS_HELP)

    def label_list(self) -> list[str]:
        return self.cleaned_data["labels"].split()


class SourceCreateForm(forms.Form):
    source_type = forms.ChoiceField(
        label="Source type", initial="http-api", widget=forms.Select(attrs={"class": "form-select"})
    )
    display_name = forms.CharField(max_length=100)
    slug = forms.CharField(max_length=64, help_text=f"Used in the API; {SLUG_RULE}")
    labels = forms.CharField(required=False, help_text=LABELS_HELP)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source_type"].choices = source_type_choices()  # type: ignore[attr-defined]

    def label_list(self) -> list[str]:
        return self.cleaned_data["labels"].split()


class WriteKeyForm(forms.Form):
    description = forms.CharField(max_length=200, required=False)
