"""Subscriptions (action mappings): a trigger, an action of the destination's
definition and a field mapping checked against that action's fields."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from connections.catalog import ActionDef
from connections.choices import AuditAction
from connections.models import Destination, Subscription
from connections.services.destinations import definition_of
from connections.services.expressions import clean_expression
from connections.services.positions import next_position
from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import InvalidArgument
from switchyard.nested_edits import rebase
from switchyard.validation import clean_bool, clean_text
from workspace.services import audit

# "Individual destination instances have support a maximum of 50 mappings."
SUBSCRIPTIONS_PER_DESTINATION_MAX = 50
NAME_MAX = 100
UPDATABLE = {"name", "action", "enabled", "trigger", "mapping"}


def snapshot(subscription: Subscription) -> dict[str, Any]:
    return {
        "name": subscription.name,
        "action": subscription.action,
        "enabled": subscription.enabled,
        "trigger": subscription.trigger,
        "mapping": subscription.mapping,
    }


def clean_action(destination: Destination, value: object) -> ActionDef:
    definition = definition_of(destination)
    action = definition.action(value) if isinstance(value, str) else None
    if action is None:
        offered = ", ".join(a.key for a in definition.actions)
        raise InvalidArgument(
            f"unknown action {value!r} for {definition.name}; it offers: {offered}",
            field="action",
        )
    return action


def clean_mapping(action: ActionDef, value: object) -> dict[str, Any]:
    problems = action.validate_mapping(value)
    if problems:
        raise InvalidArgument(
            f"invalid mapping for action {action.name!r}: " + "; ".join(problems), field="mapping"
        )
    assert isinstance(value, dict)
    return value


def do_create_subscription(
    *,
    principal: Principal,
    destination: Destination,
    action: object,
    name: object = "",
    trigger: object = None,
    mapping: object = None,
    enabled: object = False,
) -> Subscription:
    """A missing trigger or mapping takes the action's defaults; new mappings
    start disabled, as in Segment."""
    access.require(principal, "change", destination)
    chosen = clean_action(destination, action)
    subscription = Subscription(
        destination=destination,
        key_id=names.generate_id("sub", 12),
        name=clean_text(name or chosen.name, field="name", limit=NAME_MAX),
        action=chosen.key,
        trigger=clean_expression(
            chosen.default_trigger if trigger is None else trigger, field="trigger"
        ),
        mapping=clean_mapping(chosen, chosen.default_mapping() if mapping is None else mapping),
        enabled=clean_bool(enabled, field="enabled"),
    )
    with transaction.atomic():
        subscription.position = next_position(
            destination,
            Subscription.objects.filter(destination=destination),
            limit=SUBSCRIPTIONS_PER_DESTINATION_MAX,
            noun="mappings",
        )
        subscription.save()
        audit.record(
            principal,
            AuditAction.SUBSCRIPTION_CREATED,
            workspace=destination.source.workspace,
            resource_name=subscription.resource_name,
            after=snapshot(subscription),
        )
    return subscription


def do_update_subscription(
    *, principal: Principal, subscription: Subscription, changes: dict[str, Any]
) -> Subscription:
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, "change", subscription, related=("destination__source__workspace",)
        )
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise InvalidArgument(f"cannot update subscription field(s) {sorted(unknown)}")
        destination = locked.destination
        action = clean_action(destination, changes.get("action", locked.action))
        values: dict[str, Any] = {"action": action.key}
        if "name" in changes:
            values["name"] = clean_text(changes["name"], field="name", limit=NAME_MAX)
        if "enabled" in changes:
            values["enabled"] = clean_bool(changes["enabled"], field="enabled")
        if "trigger" in changes:
            values["trigger"] = clean_expression(changes["trigger"], field="trigger")
        # A new action re-checks the mapping against that action's fields.
        mapping = rebase(changes.get("mapping", locked.mapping), locked.mapping)
        values["mapping"] = clean_mapping(action, mapping)
        before = snapshot(locked)
        if locking.save_changes(locked, values):
            audit.record_changes(
                principal,
                AuditAction.SUBSCRIPTION_UPDATED,
                workspace=destination.source.workspace,
                resource_name=locked.resource_name,
                before=before,
                after=snapshot(locked),
            )
    return locked


def do_delete_subscription(*, principal: Principal, subscription: Subscription) -> None:
    access.require(principal, "change", subscription)
    with transaction.atomic():
        audit.record(
            principal,
            AuditAction.SUBSCRIPTION_DELETED,
            workspace=subscription.destination.source.workspace,
            resource_name=subscription.resource_name,
            before=snapshot(subscription),
        )
        subscription.delete()
