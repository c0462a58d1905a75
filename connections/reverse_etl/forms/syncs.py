"""The sync operations' confirmations."""

from __future__ import annotations

from django import forms

RESET_CONFIRMATION = "I understand what happens when I reset a sync state"


class ResetSyncForm(forms.Form):
    confirm = forms.BooleanField(
        label=RESET_CONFIRMATION,
        help_text="The mapping forgets which records it synced: at the next sync every "
        "record of the model is added again.",
        error_messages={"required": "Tick the box to confirm the reset."},
    )
