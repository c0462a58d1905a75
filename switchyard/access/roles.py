"""The role catalogue: what each role allows, on which resource type, with which scopes.

Names and descriptions follow Segment's roles page (restored in
shared/reference/privacy_iam_api.md, section 1.2). A grant gives one role to a
member, group or token with one scope: all current and future resources of the
type (for admin roles this includes creating new ones), a list of specific
resources, or a label selector. Roles the docs scope to every resource of a
type take no narrower scope; label scopes exist only where the docs allow them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    ALL = "all"
    SPECIFIC = "specific"
    LABELS = "labels"


READ = frozenset({"view"})
ADMIN = frozenset({"view", "create", "change", "delete"})
ALL_ONLY = (Scope.ALL,)
ANY_BUT_LABELS = (Scope.ALL, Scope.SPECIFIC)
ANY = (Scope.ALL, Scope.SPECIFIC, Scope.LABELS)


@dataclass(frozen=True)
class Role:
    slug: str
    name: str
    description: str
    resource_type: str  # what it scopes: workspace, source, space, warehouse, ...
    actions: frozenset[str]
    scopes: tuple[Scope, ...]


CATALOGUE: tuple[Role, ...] = (
    Role(
        "workspace-owner",
        "Workspace Owner",
        "Full read and edit access to everything in the workspace, including sources, "
        "destinations, add-on products and settings, and full edit access to all team "
        "permissions. Always has PII Access.",
        "workspace",
        ADMIN | {"administer"},
        ALL_ONLY,
    ),
    Role(
        "workspace-member",
        "Workspace Member",
        "Inherits the permissions of the individual roles assigned to it.",
        "workspace",
        READ,
        ALL_ONLY,
    ),
    Role(
        "minimal-workspace-access",
        "Minimal Workspace Access",
        "The default for new members: no access to any sources, destinations or other "
        "resources until a role is granted.",
        "workspace",
        frozenset(),
        ALL_ONLY,
    ),
    Role(
        "source-admin",
        "Source Admin",
        "Edit access to assigned sources, their settings, connected streaming destinations, "
        "schema, transformations, live data in the debugger and write keys. With all "
        "sources, can create new sources.",
        "source",
        ADMIN,
        ANY,
    ),
    Role(
        "source-read-only",
        "Source Read-only",
        "Read access to assigned sources, their settings, connected streaming destinations, "
        "schema, transformations and live data in the debugger.",
        "source",
        READ,
        ANY,
    ),
    Role(
        "warehouse-destination-admin",
        "Warehouse Destination Admin",
        "Edit access to all warehouse destinations and their settings.",
        "warehouse",
        ADMIN,
        ALL_ONLY,
    ),
    Role(
        "warehouse-destination-read-only",
        "Warehouse Destination Read-only",
        "Read access to all warehouse destinations and their settings.",
        "warehouse",
        READ,
        ALL_ONLY,
    ),
    Role(
        "tracking-plan-admin",
        "Tracking Plan Admin",
        "Edit access to all Tracking Plans in Protocols.",
        "tracking_plan",
        ADMIN,
        ALL_ONLY,
    ),
    Role(
        "tracking-plan-read-only",
        "Tracking Plan Read-only",
        "Read access to all Tracking Plans in Protocols.",
        "tracking_plan",
        READ,
        ALL_ONLY,
    ),
    Role(
        "unify-and-engage-admin",
        "Unify and Engage Admin",
        "Edit access to Unify settings and Engage audiences, traits, journeys, content "
        "and settings of assigned spaces.",
        "space",
        ADMIN,
        ANY,
    ),
    Role(
        "unify-and-engage-read-only",
        "Unify and Engage Read-only",
        "Read access to Unify settings and Engage audiences, traits, journeys and content "
        "of assigned spaces. Cannot download PII or edit settings.",
        "space",
        READ,
        ANY,
    ),
    Role(
        "unify-read-only-engage-user",
        "Unify Read-only, Engage User",
        "Read access to Unify; edit access to Engage audiences, traits, journeys and content "
        "of assigned spaces. Cannot download PII or edit settings.",
        "space",
        frozenset({"view", "change"}),
        ANY,
    ),
    Role(
        "identity-admin",
        "Identity Admin",
        "Edit access to all Identity Resolution settings in Unify.",
        "identity",
        ADMIN,
        ALL_ONLY,
    ),
    Role(
        "end-user-privacy-admin",
        "End User Privacy Admin",
        "Edit access to End User Privacy settings only: the data privacy agreement and the "
        "user suppression and deletion workflows.",
        "privacy",
        ADMIN,
        ALL_ONLY,
    ),
    Role(
        "entities-admin",
        "Entities Admin",
        "Full edit and view access to all entity models and connection details.",
        "entity",
        ADMIN,
        ALL_ONLY,
    ),
    Role(
        "entities-read-only",
        "Entities Read-only",
        "Read-only access, with the ability to view entity models.",
        "entity",
        READ,
        ALL_ONLY,
    ),
    Role(
        "pii-access",
        "PII Access",
        "Unmasks detected PII, only inside the resources the principal can already see. "
        "Workspace Owners always have it. It does not give Privacy Portal access.",
        "workspace",
        frozenset({"view_pii"}),
        ALL_ONLY,
    ),
)

BY_SLUG: dict[str, Role] = {role.slug: role for role in CATALOGUE}

# Granting it makes the holder a Workspace Owner (a user, a group's members, or a token).
OWNER_ROLE = "workspace-owner"
assert OWNER_ROLE in BY_SLUG
