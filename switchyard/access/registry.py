"""What the apps tell the authorization module, each from its own ``access_rules.py``.

The kernel knows no app. The tenancy app registers a ``Tenancy`` (where a
principal belongs, and its grants); every app registers one rule per model it
wants ``restrict`` to answer for, and a ``ResourceType`` for each kind of
resource that role grants scope (all of them, a list, or a label selector).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from django.db import models

from switchyard.access.roles import Scope

if TYPE_CHECKING:
    from switchyard.access.principal import Principal

Level = Literal["view", "administer"]
# A rule narrows a queryset of its model to what ``principal`` may ``action``.
Rule = Callable[[models.QuerySet[Any], "Principal", str], models.QuerySet[Any]]


class Tenancy(Protocol):
    def workspaces(self) -> models.QuerySet[Any]:
        """Every workspace (the tenant model), for the UI and API kits to look up."""

    def authenticate(self, secret: str) -> Any:
        """The live access token for ``secret`` (see ``Principal.token``), or None."""

    def workspace_ids(self, principal: Principal, level: Level) -> Any:
        """Ids of the workspaces the principal belongs to (``view``) or owns
        (``administer``): a subquery or a list."""

    def grant_sets(self, principal: Principal) -> list[models.QuerySet[Any]]:
        """The principal's role grants (``pk``, ``role``, ``scope``, ``workspace_id``),
        its groups' included, in workspaces it still belongs to: one queryset per
        way of holding a grant (own, through groups), each free of ORs, which
        PostgreSQL misestimates (an OR here made it read every listed-resource row
        of every workspace)."""

    def grant_labels(self, grants: models.QuerySet[Any]) -> Iterable[tuple[Any, Any]]:
        """``(grant id, label id)`` for every label selector of ``grants``."""


@dataclass(frozen=True)
class ResourceType:
    """A kind of resource that roles scope (``Role.resource_type == name``).

    ``grant_model`` stores specific-resource grants in the app that owns the
    resource: one row per (grant, resource), with a ``grant`` foreign key and a
    foreign key named ``grant_field`` to the resource. ``label_model`` holds the
    resource's labels the same way (``label_field`` to the resource, ``label``).
    The resource itself has ``workspace``, ``slug`` and ``resource_name``.
    """

    name: str
    model: type[models.Model]
    collection: str
    grant_model: type[models.Model]
    grant_field: str
    label_model: type[models.Model] | None = None
    label_field: str = ""

    @property
    def _grant_relation(self) -> str:
        """The reverse accessor from a grant to its rows of ``grant_model``."""
        field = self.grant_model._meta.get_field("grant")
        assert isinstance(field, models.ForeignKey)
        return str(field.remote_field.related_name)

    def prefetch(self) -> str:
        """A ``prefetch_related`` lookup for grants whose ``listed`` is read."""
        return f"{self._grant_relation}__{self.grant_field}__workspace"

    def listed(self, grant: models.Model) -> list[Any]:
        """The resources a specific-scope grant lists (prefetched when ``prefetch`` was)."""
        rows = getattr(grant, self._grant_relation).all()
        return [getattr(row, self.grant_field) for row in rows]

    def find(self, workspace_id: Any, slugs: Iterable[str]) -> models.QuerySet[Any]:
        """Resources of a workspace by slug (every resource type has both fields)."""
        return self.model._default_manager.filter(workspace_id=workspace_id, slug__in=slugs)

    def set_listed(self, grant: models.Model, resources: Iterable[models.Model]) -> None:
        manager = self.grant_model._default_manager
        manager.filter(grant=grant).delete()
        manager.bulk_create(
            [self.grant_model(grant=grant, **{self.grant_field: r}) for r in resources]
        )

    def labelled(self, label_id: Any) -> models.QuerySet[Any]:
        """The resources carrying a label (none if this type takes no labels)."""
        if self.label_model is None:
            return self.model._default_manager.none()
        carrying = self.label_model._default_manager.filter(label_id=label_id)
        return self.model._default_manager.filter(pk__in=carrying.values(f"{self.label_field}_id"))

    def reached(
        self, grant: models.Model, scope: str, label_ids: Iterable[Any]
    ) -> models.QuerySet[Any]:
        """The resources of the grant's workspace that a grant of this type reaches
        with ``scope`` (and, for a label scope, the selector's ``label_ids``): what
        the rule built by ``rules.granted`` lets its holder act on, for people to read."""
        found = self.model._default_manager.filter(workspace_id=grant.workspace_id)  # type: ignore[attr-defined]
        if scope == Scope.ALL:
            return found
        if scope == Scope.SPECIFIC:
            listing = self.grant_model._default_manager.filter(grant=grant)
            return found.filter(pk__in=listing.values(f"{self.grant_field}_id"))
        label_ids = list(label_ids)
        if scope != Scope.LABELS or not label_ids or self.label_model is None:
            return found.none()
        for label_id in label_ids:  # a resource needs every label of the selector
            found = found.filter(pk__in=self.labelled(label_id).values("pk"))
        return found


_tenancy: Tenancy | None = None
_rules: dict[type[models.Model], Rule] = {}
_resource_types: dict[str, ResourceType] = {}


def register_tenancy(tenancy: Tenancy) -> None:
    global _tenancy
    _tenancy = tenancy


def tenancy() -> Tenancy:
    if _tenancy is None:
        raise RuntimeError("no tenancy registered: is the workspace app installed?")
    return _tenancy


def register(model: type[models.Model], rule: Rule) -> None:
    if _rules.get(model, rule) is not rule:
        raise RuntimeError(f"{model.__name__} already has an access rule")
    _rules[model] = rule


def rule_for(model: type[models.Model]) -> Rule:
    try:
        return _rules[model]
    except KeyError:
        raise NotImplementedError(f"no access rule for {model.__name__}") from None


def register_resource_type(resource_type: ResourceType, rule: Rule) -> None:
    _resource_types[resource_type.name] = resource_type
    register(resource_type.model, rule)


def resource_type(name: str) -> ResourceType | None:
    return _resource_types.get(name)


def resource_types() -> list[ResourceType]:
    return list(_resource_types.values())
