"""A warehouse source's connection form (PostgreSQL: host, port, database, user,
password or a DSN, SSL mode) and the delete confirmation."""

from __future__ import annotations

from typing import Any

from django import forms

from connections.reverse_etl.models import RetlSource
from switchyard.names import SLUG_RULE

KEEP_STORED = "Leave empty to keep the stored one."


class PostgresSourceForm(forms.Form):
    """Create (``creating=True``: asks for the slug) or edit a PostgreSQL source.

    Secrets are never shown again: on edit an empty password or DSN keeps the
    stored one, and ``clear_password``/``clear_dsn`` remove it."""

    display_name = forms.CharField(max_length=100)
    slug = forms.CharField(max_length=64, help_text=f"Used in the API; {SLUG_RULE}")
    host = forms.CharField(max_length=255, required=False)
    port = forms.IntegerField(min_value=1, max_value=65535, initial=5432)
    database = forms.CharField(max_length=255, required=False)
    username = forms.CharField(label="User", max_length=255, required=False)
    password = forms.CharField(
        max_length=4096,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    dsn = forms.CharField(
        label="DSN",
        max_length=4096,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Instead of host, database and user: a libpq connection string "
        "(host=... dbname=...) or a postgresql:// URI. Stored encrypted.",
    )
    ssl_mode = forms.ChoiceField(
        label="SSL mode",
        choices=RetlSource.SslMode.choices,
        initial=RetlSource.SslMode.PREFER,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    clear_password = forms.BooleanField(label="Remove the stored password", required=False)
    clear_dsn = forms.BooleanField(label="Remove the stored DSN", required=False)

    def __init__(self, *args: Any, source: RetlSource | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source = source
        if source is None:
            del self.fields["clear_password"]
            del self.fields["clear_dsn"]
            return
        del self.fields["slug"]
        if source.password_set:
            self.fields["password"].help_text = f"A password is stored. {KEEP_STORED}"
        else:
            del self.fields["clear_password"]
        if source.dsn_set:
            self.fields["dsn"].help_text = f"A DSN is stored. {KEEP_STORED}"
        else:
            del self.fields["clear_dsn"]

    def service_values(self) -> dict[str, Any]:
        """What the service's create (or update) takes, from the cleaned data."""
        data = self.cleaned_data
        values: dict[str, Any] = {
            name: data[name]
            for name in ("display_name", "host", "port", "database", "username", "ssl_mode")
        }
        if self.source is None:
            values["password"] = data["password"]
            values["dsn"] = data["dsn"]
            return values
        if data.get("clear_password"):
            values["password"] = ""
        elif data["password"]:
            values["password"] = data["password"]
        if data.get("clear_dsn"):
            values["dsn"] = ""
        elif data["dsn"]:
            values["dsn"] = data["dsn"]
        return values
