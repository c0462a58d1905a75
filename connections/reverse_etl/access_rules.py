"""How the Reverse ETL app's models are reached; registered from ``ReverseEtlConfig.ready``.

Segment lists Reverse ETL sources among the workspace's sources (Connections >
Sources > Reverse ETL), so they are permissioned as sources are: Workspace
Owners do everything; Source Admin manages them and Source Read-only reads them.
Those roles reach them through grants on *all* sources only: specific-source and
label grants name event-stream sources (``SourceGrant``/``SourceLabel``), and a
warehouse source carries no labels yet. A model belongs to its source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q

from connections.reverse_etl.models import (
    RetlAlert,
    RetlAlertSettings,
    RetlConsentCategory,
    RetlMapping,
    RetlMappingAlert,
    RetlModel,
    RetlModelConsent,
    RetlSource,
    RetlSync,
)
from switchyard.access import registry, rules
from switchyard.access.registry import tenancy
from switchyard.access.roles import Scope

if TYPE_CHECKING:
    from switchyard.access.principal import Principal

# The resource type whose roles (Source Admin, Source Read-only) govern Reverse ETL.
ROLE_RESOURCE_TYPE = "source"


def _all_sources_rule(
    qs: models.QuerySet[Any], principal: Principal, action: str
) -> models.QuerySet[Any]:
    t = tenancy()
    allowed = Q(workspace_id__in=t.workspace_ids(principal, "administer"))
    roles = rules.roles_allowing(ROLE_RESOURCE_TYPE, action)
    for held in t.grant_sets(principal) if roles else ():
        every = held.filter(role__in=roles, scope=Scope.ALL).values("workspace_id")
        allowed |= Q(workspace_id__in=every)
    return qs.filter(allowed)


def register() -> None:
    registry.register(RetlSource, _all_sources_rule)
    registry.register(RetlModel, rules.belongs_to("source", RetlSource))
    # A mapping belongs to its model (and so its source), a sync run to its mapping.
    registry.register(RetlMapping, rules.belongs_to("model", RetlModel))
    registry.register(RetlSync, rules.belongs_to("mapping", RetlMapping))
    # Alerts: the workspace's settings and alerts as its sources; a mapping's alert
    # and a model's consent columns as the mapping and the model. Consent categories
    # are Workspace Owners' (Segment); everyone in the workspace reads them.
    registry.register(RetlAlertSettings, _all_sources_rule)
    registry.register(RetlAlert, _all_sources_rule)
    registry.register(RetlMappingAlert, rules.belongs_to("mapping", RetlMapping))
    registry.register(RetlModelConsent, rules.belongs_to("model", RetlModel))
    registry.register(RetlConsentCategory, rules.members_read_owners_write())
