"""Reverse ETL alerts: a failed run alerts in-app, to a Slack-compatible webhook (a
real local HTTP server, through delivery's client and its SSRF guard) and by email
(the in-memory backend); partial success only when asked for; the settings' API
and who may change them; a mapping's 24-hour successful delivery rate alert fires
once below its threshold and again only after the rate recovered."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from connections.reverse_etl import task_names
from connections.reverse_etl.models import RetlAlert, RetlMappingAlert, RetlSync
from connections.reverse_etl.services import alerts, syncs
from switchyard import names
from switchyard.access import Principal
from tests.connections.delivery_support import Reply, Server
from tests.connections.reverse_etl.alert_support import Mapped, hours_ago, make_mapped
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse
from workspace.models import AuditEntry, Membership, Workspace
from workspace.services.grants import do_create_grant

__all__ = ["warehouse"]
pytestmark = pytest.mark.django_db

RETL = "/v1beta/workspaces/acme/reverse-etl"
SETTINGS = f"{RETL}/alert-settings"


@pytest.fixture(autouse=True)
def _local_servers(settings: object) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True  # type: ignore[attr-defined]


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme")


@pytest.fixture
def mapped(alice: User, acme: Workspace, warehouse: WarehouseDb, server: Server) -> Mapped:
    return make_mapped(alice, acme, warehouse, server)


@pytest.fixture
def slack(make_server: Callable[..., Server]) -> Server:
    return make_server()


def patch_settings(api: APIClient, **values: object) -> dict[str, object]:
    body = {
        "reverse_etl_alert_settings": values,
        "update_mask": {"paths": [f"reverse_etl_alert_settings.{k}" for k in values]},
    }
    response = api.patch(SETTINGS, body, format="json")
    assert response.status_code == 200, response.json()
    return dict(response.json())


def failed_run(mapped: Mapped) -> RetlSync:
    """A real run that fails: the model's table is gone when it extracts."""
    mapped.warehouse_drop()
    sync = RetlSync.objects.create(key_id=names.generate_id("rsyn"), mapping=mapped.mapping)
    syncs.run_sync(sync.pk)
    sync.refresh_from_db()
    assert sync.status == "FAILED"
    return sync


def test_a_failed_run_alerts_in_app_on_slack_and_by_email(
    api: APIClient,
    mapped: Mapped,
    slack: Server,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    answer = patch_settings(
        api,
        slack_webhook_url=slack.url + "/services/T0/B0/x",
        slack_channel="#data-alerts",
        emails=["Ops@Example.com"],
    )
    assert answer["emails"] == ["ops@example.com"]
    assert answer["email_available"] is True

    with django_capture_on_commit_callbacks() as queued:
        sync = failed_run(mapped)
    (alert,) = RetlAlert.objects.all()
    assert (alert.kind, alert.sync_id, alert.mapping_id) == (
        "SYNC_FAILED",
        sync.pk,
        mapped.mapping.pk,
    )
    assert (alert.slack, alert.email) == ("PENDING", "PENDING")
    assert len(queued) == 1  # the send_alert task, after commit

    assert alerts.deliver(alert.pk)["slack"] == "SENT"

    (posted,) = slack.requests
    assert posted.path == "/services/T0/B0/x"
    assert posted.json()["channel"] == "#data-alerts"
    assert "Reverse ETL sync failed: Customers to the hook" in posted.json()["text"]
    assert "Switchyard-Delivery" in posted.headers["user-agent"]  # delivery's own client
    (email,) = mail.outbox
    assert email.to == ["ops@example.com"]
    assert email.subject == "[Switchyard] Reverse ETL sync failed: Customers to the hook"
    assert sync.key_id in email.body
    listed = api.get(f"{RETL}/alerts").json()["reverse_etl_alerts"]
    assert [(a["kind"], a["read"], a["slack"], a["email"]) for a in listed] == [
        ("SYNC_FAILED", False, "SENT", "SENT")
    ]
    assert listed[0]["sync"] == sync.resource_name


def test_every_failed_run_alerts_and_partial_success_only_when_asked(
    api: APIClient, mapped: Mapped
) -> None:
    for status, count in (("FAILED", 0), ("FAILED", 0), ("PARTIALLY_SUCCEEDED", 2)):
        sync = mapped.run(finished=timezone.now(), successful=1, failed=count)
        sync.status = status
        alerts.sync_finished(sync)
    assert list(RetlAlert.objects.values_list("kind", flat=True)) == ["SYNC_FAILED"] * 2

    patch_settings(api, sync_partial_success=True, sync_failed=False)
    partial = mapped.run(finished=timezone.now(), successful=3, failed=2)
    failed = mapped.run(finished=timezone.now())
    failed.status = "FAILED"
    alerts.sync_finished(partial)
    alerts.sync_finished(failed)

    newest = RetlAlert.objects.latest("create_time", "id")
    assert RetlAlert.objects.count() == 3
    assert newest.kind == "SYNC_PARTIAL_SUCCESS"
    assert "delivered 3 record(s); 2 failed" in newest.text
    assert (newest.slack, newest.email) == ("NONE", "NONE")  # no channel but in-app


def test_a_slack_error_worth_retrying_raises_for_the_task_and_sends_once(
    api: APIClient, mapped: Mapped, slack: Server
) -> None:
    patch_settings(api, slack_webhook_url=slack.url + "/hook")
    alert = alerts.sync_finished(_failed(mapped))
    assert alert is not None
    slack.reply(Reply(status=503))

    with pytest.raises(alerts.DeliveryFailed, match="HTTP 503"):
        alerts.deliver(alert.pk)
    alert.refresh_from_db()
    assert alert.slack == "PENDING"

    assert alerts.deliver(alert.pk)["slack"] == "SENT"  # the task's retry
    assert alerts.deliver(alert.pk)["slack"] == "SENT"  # a redelivered task sends nothing
    assert len(slack.requests) == 2


def test_a_refused_webhook_is_not_retried_and_the_last_retry_gives_up(
    api: APIClient, mapped: Mapped, slack: Server
) -> None:
    patch_settings(api, slack_webhook_url=slack.url + "/hook")
    refused = alerts.sync_finished(_failed(mapped))
    unreachable = alerts.sync_finished(_failed(mapped))
    assert refused is not None and unreachable is not None
    slack.reply(Reply(status=404, body=b"no_service"))

    assert alerts.deliver(refused.pk)["slack"] == "FAILED"
    refused.refresh_from_db()
    assert "HTTP 404: no_service" in refused.delivery_error

    slack.reply(Reply(status=500))
    with pytest.raises(alerts.DeliveryFailed):
        alerts.deliver(unreachable.pk)
    alerts.give_up(unreachable.pk)
    unreachable.refresh_from_db()
    assert unreachable.slack == "FAILED"


def test_the_ssrf_guard_refuses_a_private_webhook(
    api: APIClient, mapped: Mapped, slack: Server, settings: object
) -> None:
    patch_settings(api, slack_webhook_url=slack.url + "/hook")
    alert = alerts.sync_finished(_failed(mapped))
    assert alert is not None
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = False  # type: ignore[attr-defined]

    assert alerts.deliver(alert.pk)["slack"] == "FAILED"

    alert.refresh_from_db()
    assert "non-public address" in alert.delivery_error
    assert slack.requests == []


def test_email_needs_an_smtp_backend(api: APIClient, acme: Workspace, settings: object) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"  # type: ignore[attr-defined]
    body = {
        "reverse_etl_alert_settings": {"emails": ["ops@example.com"]},
        "update_mask": {"paths": ["reverse_etl_alert_settings.emails"]},
    }

    response = api.patch(SETTINGS, body, format="json")

    assert response.status_code == 400
    assert "email" in response.json()["error"]
    current = api.get(SETTINGS).json()
    assert (current["emails"], current["email_available"]) == ([], False)


def test_settings_refuse_bad_input_and_change_nothing(api: APIClient, acme: Workspace) -> None:
    for field, value, why in (
        ("slack_webhook_url", "ftp://hooks.example.com/x", "slack_webhook_url must be"),
        ("emails", ["not an address"], "invalid email address"),
        ("sync_failed", "yes", "sync_failed"),
    ):
        body = {
            "reverse_etl_alert_settings": {field: value},
            "update_mask": {"paths": [f"reverse_etl_alert_settings.{field}"]},
        }
        response = api.patch(SETTINGS, body, format="json")
        assert response.status_code == 400, field
        assert why in response.json()["error"], response.json()
    current = api.get(SETTINGS).json()
    assert current["slack_webhook_url"] == ""
    assert (current["sync_failed"], current["sync_partial_success"], current["in_app"]) == (
        True,
        False,
        True,
    )
    assert not AuditEntry.objects.filter(action="reverse_etl_alert_settings.updated").exists()


def test_source_read_only_reads_the_settings_and_source_admin_changes_them(
    alice: User,
    bob: User,
    acme: Workspace,
    api: APIClient,
    token_client: Callable[..., APIClient],
) -> None:
    Membership.objects.create(workspace=acme, user=bob)
    member = token_client(bob)
    assert member.get(SETTINGS).status_code == 404
    grant = do_create_grant(
        principal=Principal(alice),
        workspace=acme,
        grantee=bob,
        role="source-read-only",
        scope="all",
    )
    assert member.get(SETTINGS).status_code == 200
    body = {
        "reverse_etl_alert_settings": {"sync_partial_success": True},
        "update_mask": {"paths": ["reverse_etl_alert_settings.sync_partial_success"]},
    }
    assert member.patch(SETTINGS, body, format="json").status_code == 403
    assert api.get(SETTINGS).json()["sync_partial_success"] is False

    grant.delete()
    do_create_grant(
        principal=Principal(alice), workspace=acme, grantee=bob, role="source-admin", scope="all"
    )
    assert member.patch(SETTINGS, body, format="json").status_code == 200
    assert api.get(SETTINGS).json()["sync_partial_success"] is True
    entry = AuditEntry.objects.get(action="reverse_etl_alert_settings.updated")
    assert entry.after == {"sync_partial_success": True}


def test_in_app_alerts_are_listed_newest_first_and_marked_read(
    api: APIClient, mapped: Mapped
) -> None:
    first = alerts.sync_finished(_failed(mapped))
    second = alerts.sync_finished(_failed(mapped))
    assert first is not None and second is not None
    patch_settings(api, in_app=False)
    alerts.sync_finished(_failed(mapped))  # stored, not listed in-app

    listed = api.get(f"{RETL}/alerts").json()["reverse_etl_alerts"]
    assert [a["id"] for a in listed] == [second.key_id, first.key_id]
    one = api.post(f"{RETL}/alerts:markRead", {"alerts": [listed[1]["name"]]}, format="json")
    assert one.json() == {"marked": 1}
    unread = api.get(f"{RETL}/alerts?unread=true").json()["reverse_etl_alerts"]
    assert [a["id"] for a in unread] == [second.key_id]
    assert api.post(f"{RETL}/alerts:markRead", {}, format="json").json() == {"marked": 1}
    assert api.get(f"{RETL}/alerts?unread=true").json()["reverse_etl_alerts"] == []
    assert api.get(f"{RETL}/alerts/{first.key_id}").json()["read"] is True
    bad = api.post(f"{RETL}/alerts:markRead", {"alerts": "all"}, format="json")
    assert bad.status_code == 400


# --- the successful delivery rate alert ---------------------------------------------------


def mapping_alert_url(mapped: Mapped) -> str:
    return f"{RETL}/mappings/{mapped.mapping.key_id}/alert"


def test_the_rate_alert_fires_once_below_the_threshold_and_again_only_after_recovery(
    api: APIClient, mapped: Mapped, slack: Server
) -> None:
    patch_settings(api, slack_webhook_url=slack.url + "/hook")
    body = {
        "reverse_etl_mapping_alert": {"threshold": 99, "enabled": True},
        "update_mask": {
            "paths": ["reverse_etl_mapping_alert.threshold", "reverse_etl_mapping_alert.enabled"]
        },
    }
    assert api.patch(mapping_alert_url(mapped), body, format="json").status_code == 200
    now = timezone.now()
    mapped.run(finished=hours_ago(now, 30), successful=0, failed=100)  # outside the window
    mapped.run(finished=hours_ago(now, 2), successful=99, failed=0)

    assert alerts.check_delivery_rates(now) == {"fired": 0, "cleared": 0}  # 100%

    mapped.run(finished=hours_ago(now, 1), successful=1, failed=2)  # 100 of 102: 98.0%
    assert alerts.check_delivery_rates(now) == {"fired": 1, "cleared": 0}
    assert alerts.check_delivery_rates(now + timedelta(minutes=15))["fired"] == 0  # still low
    (alert,) = RetlAlert.objects.filter(kind="DELIVERY_RATE")
    assert "98.0%" in alert.text and alert.slack == "PENDING"
    state = api.get(mapping_alert_url(mapped)).json()
    assert state["firing"] is True and round(state["last_rate"], 1) == 98.0

    later = now + timedelta(hours=24)  # the failures left the window
    mapped.run(finished=hours_ago(later, 1), successful=10, failed=0)
    assert alerts.check_delivery_rates(later) == {"fired": 0, "cleared": 1}
    mapped.run(finished=hours_ago(later, 0.5), successful=0, failed=5)
    assert alerts.check_delivery_rates(later) == {"fired": 1, "cleared": 0}
    assert RetlAlert.objects.filter(kind="DELIVERY_RATE").count() == 2


def test_a_disabled_rate_alert_or_an_empty_window_alerts_nothing(mapped: Mapped) -> None:
    now = timezone.now()
    RetlMappingAlert.objects.create(mapping=mapped.mapping, threshold=50, enabled=False)
    mapped.run(finished=hours_ago(now, 1), successful=0, failed=10)
    assert alerts.check_delivery_rates(now)["fired"] == 0
    RetlMappingAlert.objects.filter(mapping=mapped.mapping).update(enabled=True)
    assert alerts.check_delivery_rates(now + timedelta(hours=30))["fired"] == 0  # no records
    assert alerts.check_delivery_rates(now)["fired"] == 1


def test_the_mapping_alert_refuses_a_bad_threshold_and_changes_nothing(
    api: APIClient, mapped: Mapped
) -> None:
    for value in (0, 101, "99", 99.5):
        body = {
            "reverse_etl_mapping_alert": {"threshold": value},
            "update_mask": {"paths": ["reverse_etl_mapping_alert.threshold"]},
        }
        response = api.patch(mapping_alert_url(mapped), body, format="json")
        assert response.status_code == 400, value
    current = api.get(mapping_alert_url(mapped)).json()
    assert (current["threshold"], current["enabled"]) == (99, False)
    missing = api.get(f"{RETL}/mappings/rmap_nothere/alert")
    assert missing.status_code == 404


def test_beat_checks_the_rates_every_15_minutes() -> None:
    """The migration's row (transactional tests empty beat's tables, so the
    migration's function is run again here)."""
    migration = importlib.import_module("connections.reverse_etl.migrations.0006_alerts_consent")
    PeriodicTask.objects.filter(task=task_names.CHECK_DELIVERY_RATES).delete()
    migration.schedule(django_apps, None)
    row = PeriodicTask.objects.get(task=task_names.CHECK_DELIVERY_RATES)
    assert (row.interval.every, row.interval.period, row.enabled) == (15, "minutes", True)


# --- helpers ------------------------------------------------------------------------------


def _failed(mapped: Mapped) -> RetlSync:
    sync = mapped.run(finished=timezone.now())
    RetlSync.objects.filter(pk=sync.pk).update(status="FAILED", error="warehouse unreachable")
    sync.refresh_from_db()
    return sync


def test_the_task_retries_a_failing_webhook_and_then_gives_up(
    api: APIClient, mapped: Mapped, slack: Server
) -> None:
    """The task run in-process (``apply``: its retries run at once, no waiting)."""
    from connections.reverse_etl.tasks import send_alert

    patch_settings(api, slack_webhook_url=slack.url + "/hook")
    alert = alerts.sync_finished(_failed(mapped))
    assert alert is not None
    slack.default = Reply(status=502)

    result = send_alert.apply(args=[alert.pk])

    assert result.get() == {"alert": alert.pk, "gave_up": True}
    assert len(slack.requests) == 1 + send_alert.max_retries
    alert.refresh_from_db()
    assert alert.slack == "FAILED" and "HTTP 502" in alert.delivery_error
