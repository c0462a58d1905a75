"""Reverse ETL alerts.

- **Settings** (one per workspace, Source Admin / Owners edit, Source Read-only
  reads): alert on failed syncs (on by default: the FAQ's "every failed sync"),
  on partially successful syncs (off by default), and the channels every alert of
  the workspace uses (Segment: one channel selection applies to all alerts):
  in-app, a Slack-compatible webhook URL (+ channel), email addresses (only when
  an SMTP server is configured: ``email_configured``).
- **Mapping alert** (one per mapping): the successful delivery rate of the last 24
  hours, successful / (successful + failed) records of the mapping's runs that
  finished in that window, below ``threshold`` percent alerts *once*
  (``firing``); the rate must recover to the threshold before it alerts again.
  ``check_delivery_rates`` runs from beat every 15 minutes.
- **Raising** (``sync_finished``, called by ``services.syncs`` when a run ends):
  an ``RetlAlert`` row (the in-app list when in-app is on); Slack and email are
  sent after commit by a task (``deliver``; retried on transient failures).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from connections.reverse_etl import task_names
from connections.reverse_etl.alert_choices import AlertAuditAction
from connections.reverse_etl.models import (
    RetlAlert,
    RetlAlertSettings,
    RetlMapping,
    RetlMappingAlert,
    RetlSync,
)
from connections.reverse_etl.models.alerts import EMAILS_MAX, SLACK_CHANNEL_MAX, SLACK_URL_MAX
from connections.services.notifications import post_json
from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import InvalidArgument
from switchyard.validation import clean_bool, clean_text
from workspace.models import Workspace
from workspace.services import audit

logger = logging.getLogger("switchyard.reverse_etl")

WINDOW = timedelta(hours=24)
SETTINGS_FIELDS = (
    "sync_failed",
    "sync_partial_success",
    "in_app",
    "slack_webhook_url",
    "slack_channel",
    "emails",
)
MAPPING_ALERT_FIELDS = ("threshold", "enabled")
NOT_SMTP = (
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
)
Delivery = RetlAlert.Delivery
Kind = RetlAlert.Kind


class DeliveryFailed(ConnectionError):
    """A channel failed in a way worth retrying (the task's autoretry catches it)."""


def email_configured() -> bool:
    """Email alerts need a mail server: any backend but the console, file or dummy
    ones (tests use the in-memory one)."""
    return settings.EMAIL_BACKEND not in NOT_SMTP


# --- settings -----------------------------------------------------------------------------


def settings_of(workspace: Workspace) -> RetlAlertSettings:
    """The workspace's settings row (created with the defaults on first use)."""
    row, _ = RetlAlertSettings.objects.get_or_create(workspace=workspace)
    row.workspace = workspace
    return row


def settings_snapshot(row: RetlAlertSettings) -> dict[str, Any]:
    return {f: getattr(row, f) for f in SETTINGS_FIELDS}


def _clean_url(value: object) -> str:
    url = clean_text(value, field="slack_webhook_url", limit=SLACK_URL_MAX, required=False)
    if url and not url.lower().startswith(("https://", "http://")):
        raise InvalidArgument(
            "slack_webhook_url must be an http(s) URL (Slack's incoming webhook)",
            field="slack_webhook_url",
        )
    return url


def _clean_emails(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument("emails must be a list of email addresses", field="emails")
    if len(value) > EMAILS_MAX:
        raise InvalidArgument(f"at most {EMAILS_MAX} email addresses", field="emails")
    cleaned: list[str] = []
    for raw in value:
        address = raw.strip().lower()
        try:
            validate_email(address)
        except ValidationError as exc:
            raise InvalidArgument(f"invalid email address {raw!r}", field="emails") from exc
        if address not in cleaned:
            cleaned.append(address)
    if cleaned and not email_configured():
        raise InvalidArgument(
            "email alerts need an SMTP server: set EMAIL_BACKEND (and EMAIL_HOST) first",
            field="emails",
        )
    return cleaned


def _clean_settings(changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise InvalidArgument(f"cannot update alert settings field(s) {sorted(unknown)}")
    values: dict[str, Any] = {}
    for field, value in changes.items():
        if field in ("sync_failed", "sync_partial_success", "in_app"):
            values[field] = clean_bool(value, field=field)
        elif field == "slack_webhook_url":
            values[field] = _clean_url(value)
        elif field == "slack_channel":
            values[field] = clean_text(value, field=field, limit=SLACK_CHANNEL_MAX, required=False)
        else:
            values[field] = _clean_emails(value)
    return values


def do_update_settings(
    *, principal: Principal, workspace: Workspace, changes: Mapping[str, Any]
) -> RetlAlertSettings:
    values = _clean_settings(changes)
    with transaction.atomic():  # a refused principal rolls back the row's creation
        row, _ = RetlAlertSettings.objects.get_or_create(workspace=workspace)
        locked = locking.lock_for_update(principal, "change", row, write=True)
        before = settings_snapshot(locked)
        if locking.save_changes(locked, values):
            audit.record_changes(
                principal,
                AlertAuditAction.RETL_ALERT_SETTINGS_UPDATED,
                workspace=workspace,
                resource_name=f"workspaces/{workspace.slug}/reverse-etl/alert-settings",
                before=before,
                after=settings_snapshot(locked),
            )
    locked.workspace = workspace
    return locked


# --- a mapping's delivery rate alert ------------------------------------------------------


def mapping_alert_of(mapping: RetlMapping) -> RetlMappingAlert:
    row, _ = RetlMappingAlert.objects.get_or_create(mapping=mapping)
    row.mapping = mapping
    return row


def _clean_mapping_alert(changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(MAPPING_ALERT_FIELDS)
    if unknown:
        raise InvalidArgument(f"cannot update mapping alert field(s) {sorted(unknown)}")
    values: dict[str, Any] = {}
    if "enabled" in changes:
        values["enabled"] = clean_bool(changes["enabled"], field="enabled")
    if "threshold" in changes:
        threshold = changes["threshold"]
        if isinstance(threshold, bool) or not isinstance(threshold, int):
            raise InvalidArgument("threshold must be a whole percentage", field="threshold")
        if not 1 <= threshold <= 100:
            raise InvalidArgument("threshold must be 1-100 (percent)", field="threshold")
        values["threshold"] = threshold
    return values


def do_update_mapping_alert(
    *, principal: Principal, mapping: RetlMapping, changes: Mapping[str, Any]
) -> RetlMappingAlert:
    values = _clean_mapping_alert(changes)
    with transaction.atomic():
        row, _ = RetlMappingAlert.objects.get_or_create(mapping=mapping)
        locked = locking.lock_for_update(principal, "change", row, write=True)
        before = {f: getattr(locked, f) for f in MAPPING_ALERT_FIELDS}
        if values.get("enabled") is False or "threshold" in values:
            values["firing"] = False  # judged afresh against the new settings
        if locking.save_changes(locked, values):
            audit.record_changes(
                principal,
                AlertAuditAction.RETL_MAPPING_ALERT_UPDATED,
                workspace=mapping.workspace,
                resource_name=f"{mapping.resource_name}/alert",
                before=before,
                after={f: getattr(locked, f) for f in MAPPING_ALERT_FIELDS},
            )
    locked.mapping = mapping
    return locked


# --- raising and delivering ---------------------------------------------------------------


def raise_alert(
    workspace: Workspace,
    kind: str,
    title: str,
    text: str,
    *,
    mapping: RetlMapping | None = None,
    sync: RetlSync | None = None,
) -> RetlAlert:
    """Store the alert with the workspace's channels of this moment; Slack and email
    go out after commit (the ``send_alert`` task)."""
    config = settings_of(workspace)
    emails = list(config.emails) if email_configured() else []
    alert = RetlAlert.objects.create(
        key_id=names.generate_id("ralt"),
        workspace=workspace,
        kind=kind,
        mapping=mapping,
        sync=sync,
        title=title[:200],
        text=text,
        in_app=config.in_app,
        slack_webhook_url=config.slack_webhook_url,
        slack_channel=config.slack_channel,
        slack=Delivery.PENDING if config.slack_webhook_url else Delivery.NONE,
        emails=emails,
        email=Delivery.PENDING if emails else Delivery.NONE,
    )
    if alert.slack == Delivery.PENDING or alert.email == Delivery.PENDING:
        transaction.on_commit(lambda: enqueue(alert.pk))
    return alert


def enqueue(alert_id: int) -> None:
    from switchyard.celery import app

    app.send_task(task_names.SEND_ALERT, args=[alert_id], queue="default")


def _link(alert: RetlAlert) -> str:
    where = alert.mapping.resource_name if alert.mapping is not None else ""
    return f"{settings.SITE_URL} {where}".strip()


def deliver(alert_id: int) -> dict[str, str]:
    """Send the alert's pending channels (the task's body). A channel that fails
    transiently (no answer, 408, 429 or 5xx) raises ``DeliveryFailed`` so the task retries;
    a channel sent is not sent again by a retry."""
    alert = RetlAlert.objects.select_related("mapping__workspace").get(pk=alert_id)
    retry: list[str] = []
    if alert.slack == Delivery.PENDING:
        payload: dict[str, Any] = {"text": f"*{alert.title}*\n{alert.text}\n{_link(alert)}"}
        if alert.slack_channel:
            payload["channel"] = alert.slack_channel
        posted = post_json(alert.slack_webhook_url, payload)
        if posted.ok:
            _mark(alert, slack=Delivery.SENT)
        elif posted.retryable:
            _mark(alert, delivery_error=f"slack: {posted.error}"[:1000])
            retry.append(f"slack: {posted.error}")
        else:  # refused (by the webhook or the SSRF guard): sending again will not help
            _mark(alert, slack=Delivery.FAILED, delivery_error=f"slack: {posted.error}"[:1000])
    if alert.email == Delivery.PENDING:
        try:
            send_mail(
                f"[Switchyard] {alert.title}",
                f"{alert.text}\n\n{_link(alert)}",
                None,
                list(alert.emails),
            )
        except OSError as exc:
            _mark(alert, delivery_error=f"email: {exc}"[:1000])
            retry.append(f"email: {exc}")
        else:
            _mark(alert, email=Delivery.SENT)
    if retry:
        raise DeliveryFailed("; ".join(retry))
    return {"alert": alert.key_id, "slack": alert.slack, "email": alert.email}


def give_up(alert_id: int) -> None:
    """After the last retry: the pending channels are marked FAILED."""
    RetlAlert.objects.filter(pk=alert_id, slack=Delivery.PENDING).update(slack=Delivery.FAILED)
    RetlAlert.objects.filter(pk=alert_id, email=Delivery.PENDING).update(email=Delivery.FAILED)


def _mark(alert: RetlAlert, **values: Any) -> None:
    for key, value in values.items():
        setattr(alert, key, value)
    RetlAlert.objects.filter(pk=alert.pk).update(**values)


def sync_finished(sync: RetlSync) -> RetlAlert | None:
    """Called when a run ends: alert on FAILED (when the workspace's setting is on)
    and PARTIALLY_SUCCEEDED (when asked for). Never raises: an alerting problem
    must not change how the run ended."""
    try:
        return _sync_finished(sync)
    except Exception:
        logger.exception("reverse etl alert for sync %s failed", sync.key_id)
        return None


def _sync_finished(sync: RetlSync) -> RetlAlert | None:
    mapping = RetlMapping.objects.select_related("workspace", "model").get(pk=sync.mapping_id)
    config = settings_of(mapping.workspace)
    where = f'mapping "{mapping.display_name}" (model "{mapping.model.display_name}")'
    if sync.status == RetlSync.Status.FAILED and config.sync_failed:
        return raise_alert(
            mapping.workspace,
            Kind.SYNC_FAILED,
            f"Reverse ETL sync failed: {mapping.display_name}",
            f"The sync {sync.key_id} of {where} failed: {sync.error or 'no reason given'}",
            mapping=mapping,
            sync=sync,
        )
    if sync.status == RetlSync.Status.PARTIALLY_SUCCEEDED and config.sync_partial_success:
        return raise_alert(
            mapping.workspace,
            Kind.SYNC_PARTIAL_SUCCESS,
            f"Reverse ETL sync partial success: {mapping.display_name}",
            f"The sync {sync.key_id} of {where} delivered {sync.successful} record(s); "
            f"{sync.failed} failed and are sent again at the next sync.",
            mapping=mapping,
            sync=sync,
        )
    return None


def delivery_rate(mapping: RetlMapping, now: datetime) -> tuple[float | None, int, int]:
    """(percent or None without records, successful, failed) over the runs of the
    last 24 hours."""
    totals = RetlSync.objects.filter(
        mapping=mapping, finish_time__gt=now - WINDOW, finish_time__lte=now
    ).aggregate(ok=Sum("successful"), bad=Sum("failed"))
    ok, bad = int(totals["ok"] or 0), int(totals["bad"] or 0)
    if ok + bad == 0:
        return None, ok, bad
    return 100.0 * ok / (ok + bad), ok, bad


def check_delivery_rates(now: datetime | None = None) -> dict[str, int]:
    """Beat's pass over the enabled mapping alerts: alert once when the rate falls
    below the threshold, clear when it is back at or above it. A window without
    records changes nothing."""
    now = now or timezone.now()
    fired = cleared = 0
    enabled = RetlMappingAlert.objects.filter(enabled=True, mapping__enabled=True)
    for alert_id in enabled.values_list("pk", flat=True):
        with transaction.atomic():
            row = (
                RetlMappingAlert.objects.select_for_update(of=("self",))
                .select_related("mapping__workspace", "mapping__model")
                .filter(pk=alert_id, enabled=True)
                .first()
            )
            if row is None:
                continue
            rate, ok, bad = delivery_rate(row.mapping, now)
            row.last_check_time = now
            row.last_rate = rate
            if rate is not None and rate < row.threshold and not row.firing:
                row.firing = True
                fired += 1
                mapping = row.mapping
                raise_alert(
                    mapping.workspace,
                    Kind.DELIVERY_RATE,
                    f"Reverse ETL successful delivery rate below {row.threshold}%: "
                    f"{mapping.display_name}",
                    f'Mapping "{mapping.display_name}" delivered {rate:.1f}% of its records '
                    f"in the last 24 hours ({ok} successful, {bad} failed); the alert's "
                    f"threshold is {row.threshold}%.",
                    mapping=mapping,
                )
            elif row.firing and rate is not None and rate >= row.threshold:
                row.firing = False
                cleared += 1
            row.save(update_fields=["last_check_time", "last_rate", "firing", "update_time"])
    return {"fired": fired, "cleared": cleared}


# --- the in-app list ----------------------------------------------------------------------


def in_app_alerts(workspace: Workspace, *, unread: bool = False) -> Any:
    alerts = RetlAlert.objects.filter(workspace=workspace, in_app=True)
    return alerts.filter(read_time__isnull=True) if unread else alerts


def do_mark_read(*, principal: Principal, workspace: Workspace, keys: list[str] | None) -> int:
    """Mark in-app alerts read (all unread ones when ``keys`` is None); answers how
    many changed. Whoever sees the alerts may dismiss them (not a read-only token)."""
    access.require(principal, "view", workspace, write=True)
    visible = access.restrict(in_app_alerts(workspace, unread=True), principal, "view")
    if keys is not None:
        visible = visible.filter(Q(key_id__in=keys))
    return visible.update(read_time=timezone.now())
