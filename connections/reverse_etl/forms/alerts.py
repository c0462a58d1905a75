"""The alert settings forms: the workspace's (which syncs alert, the channels) and
a mapping's successful delivery rate alert."""

from __future__ import annotations

from typing import Any

from django import forms


class AlertSettingsForm(forms.Form):
    sync_failed = forms.BooleanField(required=False, label="Alert when a sync fails")
    sync_partial_success = forms.BooleanField(
        required=False, label="Alert when a sync is partially successful"
    )
    in_app = forms.BooleanField(required=False, label="In-app (listed on this page)")
    slack_webhook_url = forms.CharField(
        required=False,
        max_length=2000,
        label="Slack webhook URL",
        help_text="A Slack incoming webhook (or a compatible one); empty: no Slack alerts.",
    )
    slack_channel = forms.CharField(required=False, max_length=80, label="Slack channel")
    emails = forms.CharField(
        required=False,
        label="Email addresses",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One address a line.",
    )

    def __init__(self, *args: Any, email_configured: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not email_configured:
            self.fields["emails"].disabled = True
            self.fields[
                "emails"
            ].help_text = (
                "Email alerts need an SMTP server: set EMAIL_BACKEND (and EMAIL_HOST) first."
            )

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {
            name: data[name]
            for name in (
                "sync_failed",
                "sync_partial_success",
                "in_app",
                "slack_webhook_url",
                "slack_channel",
            )
        }
        if not self.fields["emails"].disabled:
            values["emails"] = [
                line.strip() for line in data["emails"].splitlines() if line.strip()
            ]
        return values


class MappingAlertForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Enable alert")
    threshold = forms.IntegerField(
        min_value=1,
        max_value=100,
        label="Successful delivery rate threshold (%)",
        help_text="Alert when less than this share of the records the mapping's syncs "
        "loaded in the last 24 hours succeeded.",
    )
