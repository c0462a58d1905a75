"""Config API: Reverse ETL alerts (settings, a mapping's delivery rate alert, the
in-app list) and consent (the workspace's categories, a model's consent columns).

The settings, the mapping alert, the categories and the model's consent are one
per parent: Get and Update only (``update_mask``), no List, Create or Delete
(``singletons``)."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from connections.reverse_etl.api.alert_serializers import (
    ALERT_KEY,
    RetlAlertSerializer,
    RetlAlertSettingsSerializer,
    RetlConsentCategoriesSerializer,
    RetlMappingAlertSerializer,
    RetlModelConsentSerializer,
)
from connections.reverse_etl.api.singletons import (
    MappingSingletonViewSet,
    SingletonViewSet,
    visible_or_404,
)
from connections.reverse_etl.models import (
    RetlAlert,
    RetlAlertSettings,
    RetlConsentCategory,
    RetlMappingAlert,
    RetlModel,
    RetlModelConsent,
)
from connections.reverse_etl.services import alerts as alert_service
from connections.reverse_etl.services import consent as consent_service
from switchyard.access import Principal
from switchyard.api.viewsets import WorkspaceResourceViewSet
from switchyard.errors import InvalidArgument


@extend_schema_view(
    retrieve=extend_schema(
        summary="Get Reverse ETL Alert Settings",
        description="Which sync outcomes alert and the channels every Reverse ETL alert "
        "of the workspace uses. Readable with Source Read-only on all sources.",
    ),
    partial_update=extend_schema(
        summary="Update Reverse ETL Alert Settings",
        description="`update_mask.paths`: `reverse_etl_alert_settings.<field>`. Needs "
        "Source Admin on all sources or Workspace Owner.",
    ),
)
class RetlAlertSettingsViewSet(SingletonViewSet):
    resource_key = "reverse_etl_alert_settings"
    collection_key = "reverse_etl_alert_settings"
    serializer_class = RetlAlertSettingsSerializer

    def base_queryset(self) -> models.QuerySet[RetlAlertSettings]:
        return RetlAlertSettings.objects.filter(workspace=self.workspace)

    def get_object(self) -> RetlAlertSettings:
        alert_service.settings_of(self.workspace)
        found: RetlAlertSettings = visible_or_404(
            self.base_queryset(), self.principal, "reverse_etl_alert_settings"
        )
        found.workspace = self.workspace
        return found

    def update_resource(
        self, principal: Principal, obj: RetlAlertSettings, changes: dict[str, Any]
    ) -> RetlAlertSettings:
        return alert_service.do_update_settings(
            principal=principal, workspace=self.workspace, changes=changes
        )


@extend_schema_view(
    retrieve=extend_schema(
        summary="Get Reverse ETL Mapping Alert",
        description="The mapping's successful delivery rate alert; it notifies through "
        "the workspace's alert channels (alert-settings).",
    ),
    partial_update=extend_schema(
        summary="Update Reverse ETL Mapping Alert",
        description="`update_mask.paths`: `reverse_etl_mapping_alert.threshold` (1-100), "
        "`reverse_etl_mapping_alert.enabled`. Needs edit rights on the mapping.",
    ),
)
class RetlMappingAlertViewSet(MappingSingletonViewSet):
    resource_key = "reverse_etl_mapping_alert"
    collection_key = "reverse_etl_mapping_alerts"
    serializer_class = RetlMappingAlertSerializer

    def base_queryset(self) -> models.QuerySet[RetlMappingAlert]:
        return RetlMappingAlert.objects.filter(mapping=self.mapping)

    def get_object(self) -> RetlMappingAlert:
        return alert_service.mapping_alert_of(self.mapping)

    def update_resource(
        self, principal: Principal, obj: RetlMappingAlert, changes: dict[str, Any]
    ) -> RetlMappingAlert:
        return alert_service.do_update_mapping_alert(
            principal=principal, mapping=obj.mapping, changes=changes
        )


@extend_schema_view(
    list=extend_schema(
        summary="List Reverse ETL Alerts",
        description="The in-app alerts, newest first (`unread=true`: only unread ones).",
    ),
    retrieve=extend_schema(summary="Get Reverse ETL Alert"),
)
class RetlAlertViewSet(WorkspaceResourceViewSet):
    resource_key = "reverse_etl_alert"
    collection_key = "reverse_etl_alerts"
    serializer_class = RetlAlertSerializer
    lookup_field = "retl_alert"
    lookup_value_regex = ALERT_KEY
    list_ordering = ("-create_time", "-id")
    http_method_names = ["get", "head", "options"]

    def base_queryset(self) -> models.QuerySet[RetlAlert]:
        unread = self.request.query_params.get("unread") == "true"
        return alert_service.in_app_alerts(self.workspace, unread=unread).select_related(
            "workspace", "mapping__workspace", "sync__mapping__workspace"
        )

    def list_items(self) -> models.QuerySet[RetlAlert]:
        return self.get_queryset()

    def lookup(self, queryset: models.QuerySet[RetlAlert], key: str) -> RetlAlert | None:
        return queryset.filter(key_id=key).first()

    @extend_schema(
        summary="Mark Reverse ETL Alerts Read",
        description='POST .../reverse-etl/alerts:markRead with `{"alerts": [names]}`, or '
        "`{}` for every unread alert. Answers how many were marked.",
        request=inline_serializer(
            "MarkRetlAlertsRead",
            {"alerts": serializers.ListField(child=serializers.CharField(), required=False)},
        ),
        responses={
            200: inline_serializer("RetlAlertsMarked", {"marked": serializers.IntegerField()})
        },
    )
    def mark_read(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = request.data if isinstance(request.data, dict) else None
        if body is None or set(body) - {"alerts"}:
            raise InvalidArgument('send {"alerts": [names]} or {}')
        keys: list[str] | None = None
        if "alerts" in body:
            names = body["alerts"]
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise InvalidArgument("alerts must be a list of alert names", field="alerts")
            keys = [n.rsplit("/", 1)[-1] for n in names]
        marked = alert_service.do_mark_read(
            principal=self.principal, workspace=self.workspace, keys=keys
        )
        return Response({"marked": marked})


@extend_schema_view(
    retrieve=extend_schema(
        summary="Get Reverse ETL Consent Categories",
        description="The workspace's consent categories and the destinations mapped to "
        "each; everyone in the workspace reads them.",
    ),
    partial_update=extend_schema(
        summary="Update Reverse ETL Consent Categories",
        description="`update_mask.paths`: `reverse_etl_consent_categories.categories` "
        "replaces the list. Workspace Owners only.",
    ),
)
class RetlConsentCategoriesViewSet(SingletonViewSet):
    resource_key = "reverse_etl_consent_categories"
    collection_key = "reverse_etl_consent_categories"
    serializer_class = RetlConsentCategoriesSerializer

    def base_queryset(self) -> models.QuerySet[RetlConsentCategory]:
        return RetlConsentCategory.objects.filter(workspace=self.workspace)

    def get_object(self) -> dict[str, Any]:
        return {
            "workspace": self.workspace,
            "categories": consent_service.categories(self.workspace),
        }

    def update_resource(
        self, principal: Principal, obj: dict[str, Any], changes: dict[str, Any]
    ) -> dict[str, Any]:
        rows = obj["categories"]
        if "categories" in changes:
            rows = consent_service.do_set_categories(
                principal=principal, workspace=self.workspace, value=changes["categories"]
            )
        return {"workspace": self.workspace, "categories": rows}


@extend_schema_view(
    retrieve=extend_schema(
        summary="Get Reverse ETL Model Consent",
        description="Which column of the model holds each consent category (a boolean).",
    ),
    partial_update=extend_schema(
        summary="Update Reverse ETL Model Consent",
        description="`update_mask.paths`: `reverse_etl_model_consent.columns` (or "
        "`.columns.<category_id>`). Each column must be in the model's query result. "
        "Needs edit rights on the model.",
    ),
)
class RetlModelConsentViewSet(SingletonViewSet):
    resource_key = "reverse_etl_model_consent"
    collection_key = "reverse_etl_model_consents"
    serializer_class = RetlModelConsentSerializer

    def model(self) -> RetlModel:
        found: RetlModel = visible_or_404(
            RetlModel.objects.filter(
                workspace=self.workspace, slug=self.kwargs["retl_model"]
            ).select_related("workspace", "source"),
            self.principal,
            f"reverse_etl_model {self.kwargs['retl_model']!r}",
        )
        return found

    def base_queryset(self) -> models.QuerySet[RetlModelConsent]:
        return RetlModelConsent.objects.filter(model=self.model())

    def get_object(self) -> RetlModelConsent:
        return consent_service.model_consent(self.model())

    def update_resource(
        self, principal: Principal, obj: RetlModelConsent, changes: dict[str, Any]
    ) -> RetlModelConsent:
        return consent_service.do_update_model_consent(
            principal=principal, model=obj.model, changes=changes
        )
