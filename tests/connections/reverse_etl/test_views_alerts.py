"""Reverse ETL alert pages: the workspace's alert settings (which syncs alert, the
channels) with the in-app alerts, and a mapping's successful delivery rate alert."""

from __future__ import annotations

from typing import Any

import pytest

from connections.reverse_etl.models import RetlAlertSettings, RetlMapping, RetlMappingAlert
from connections.reverse_etl.services import alerts as alert_service
from tests.connections.reverse_etl.view_support import (
    UI,
    People,
    make_mapping,
    people,
)
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse

__all__ = ["people", "warehouse"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def mapping(people: People, warehouse: WarehouseDb) -> RetlMapping:
    return make_mapping(people, warehouse)


def settings_form(**extra: str) -> dict[str, str]:
    return {
        "intent": "save",
        "sync_failed": "on",
        "in_app": "on",
        "slack_webhook_url": "",
        "slack_channel": "",
        **extra,
    }


def test_save_the_alert_settings(people: People) -> None:
    owner = people.client(people.owner)
    page = owner.get(f"{UI}/alerts/").content.decode()
    assert 'id="alert-settings"' in page and "Alert when a sync fails" in page
    form = settings_form(
        sync_partial_success="on",
        slack_webhook_url="https://hooks.slack.example/T1",
        slack_channel="#data",
    )
    assert owner.post(f"{UI}/alerts/", form).status_code == 302
    row = RetlAlertSettings.objects.get(workspace=people.workspace)
    assert (row.sync_failed, row.sync_partial_success, row.in_app) == (True, True, True)
    assert (row.slack_webhook_url, row.slack_channel) == ("https://hooks.slack.example/T1", "#data")


def test_a_bad_webhook_url_is_shown_and_changes_nothing(people: People) -> None:
    response = people.client(people.owner).post(
        f"{UI}/alerts/", settings_form(slack_webhook_url="ftp://nope")
    )
    assert response.status_code == 400
    assert "must be an http(s) URL" in response.content.decode()
    assert alert_service.settings_of(people.workspace).slack_webhook_url == ""


def test_emails_need_an_smtp_server(people: People, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    owner = people.client(people.owner)
    page = owner.get(f"{UI}/alerts/").content.decode()
    assert "Email alerts need an SMTP server" in page
    assert 'aria-describedby="id_emails_help" disabled' in page
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    owner.post(f"{UI}/alerts/", settings_form(emails="Ops@Example.com\nops@example.com\n"))
    assert alert_service.settings_of(people.workspace).emails == ["ops@example.com"]


def test_in_app_alerts_are_listed_and_marked_read(people: People, mapping: RetlMapping) -> None:
    alert = alert_service.raise_alert(
        people.workspace,
        "SYNC_FAILED",
        "Sync failed: Customers to the hook",
        "warehouse down",
        mapping=mapping,
    )
    owner = people.client(people.owner)
    page = owner.get(f"{UI}/alerts/").content.decode()
    assert f'data-alert="{alert.key_id}"' in page and "1 unread" in page
    assert "warehouse down" in page
    owner.post(f"{UI}/alerts/", {"intent": "read"})
    alert.refresh_from_db()
    assert alert.read_time is not None
    assert "unread" not in owner.get(f"{UI}/alerts/").content.decode()


def test_the_mapping_delivery_rate_alert(people: People, mapping: RetlMapping) -> None:
    owner = people.client(people.owner)
    url = f"{UI}/mappings/{mapping.key_id}/alerts/"
    page = owner.get(url).content.decode()
    assert "Enable alert" in page and "Not checked yet." in page
    assert owner.post(url, {"enabled": "on", "threshold": "95"}).status_code == 302
    row = RetlMappingAlert.objects.get(mapping=mapping)
    assert (row.enabled, row.threshold) == (True, 95)
    response = owner.post(url, {"enabled": "on", "threshold": "0"})
    assert response.status_code == 400
    assert "greater than or equal to 1" in response.content.decode()
    row.refresh_from_db()
    assert row.threshold == 95


def test_a_reader_sees_alerts_but_cannot_change_them(people: People, mapping: RetlMapping) -> None:
    reader = people.client(people.reader)
    page = reader.get(f"{UI}/alerts/").content.decode()
    assert 'id="read-only-note"' in page and 'id="alert-settings"' not in page
    assert reader.post(f"{UI}/alerts/", settings_form(sync_failed="")).status_code == 403
    assert alert_service.settings_of(people.workspace).sync_failed is True
    url = f"{UI}/mappings/{mapping.key_id}/alerts/"
    assert 'id="mapping-alert"' not in reader.get(url).content.decode()
    assert reader.post(url, {"enabled": "on", "threshold": "50"}).status_code == 403
    assert not RetlMappingAlert.objects.filter(mapping=mapping, enabled=True).exists()


def test_someone_outside_the_workspace_finds_no_alerts(
    people: People, mapping: RetlMapping
) -> None:
    outsider = people.client(people.outsider)
    assert outsider.get(f"{UI}/alerts/").status_code == 404
    assert outsider.get(f"{UI}/mappings/{mapping.key_id}/alerts/").status_code == 404
