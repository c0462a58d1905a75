"""Forms of the Inbox and Inventory pages."""

from __future__ import annotations

from django import forms

from privacy.services import fields as service

CLASSIFICATIONS = [
    ("RED", "Red (highly restricted)"),
    ("YELLOW", "Yellow (moderately restricted)"),
    ("GREEN", "Green (least restricted)"),
]


class ClassifyForm(forms.Form):
    """Add a path to the Inventory (from the Inbox, or typed), or reclassify one."""

    path = forms.CharField(
        max_length=service.PATH_MAX, help_text="A field under context, traits or properties."
    )
    classification = forms.ChoiceField(choices=CLASSIFICATIONS)


class ReclassifyForm(forms.Form):
    classification = forms.ChoiceField(choices=CLASSIFICATIONS)
