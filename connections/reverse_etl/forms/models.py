"""A model's form: name, the SQL editor and its unique identifier column."""

from __future__ import annotations

from typing import Any

from django import forms

from connections.reverse_etl.models.queries import IDENTIFIER_MAX, QUERY_MAX
from switchyard.names import SLUG_RULE


class ModelForm(forms.Form):
    display_name = forms.CharField(max_length=100)
    slug = forms.CharField(max_length=64, help_text=f"Used in the API; {SLUG_RULE}")
    description = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    query = forms.CharField(
        label="SQL query",
        max_length=QUERY_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12, "class": "font-monospace", "spellcheck": "false"}),
        help_text="One SELECT statement; it runs read-only in the warehouse.",
    )
    identifier_column = forms.CharField(
        label="Unique identifier column",
        max_length=IDENTIFIER_MAX,
        help_text="A column whose value is unique and not null in every row: "
        "changes are detected by it.",
    )
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, creating: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["slug"]
