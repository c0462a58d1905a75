"""What the Audiences and Computed Traits pages share: each kind's words and URL
names, the lookups of a computation and a folder, and running a service write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet

from engage.models import Computation, ComputationKind
from engage.models.computation_folders import ComputationFolder
from switchyard.errors import SwitchyardError
from switchyard.ui import Lookup, UIRequest, refuse
from workspace.models import Workspace

NAV = "engage-spaces"
REFUSAL = (
    "Changing audiences and computed traits needs Engage User, Unify and Engage Admin or "
    "Workspace Owner access to this space."
)
ACTIONS = (
    "overview",
    "members",
    "refresh",
    "enabled",
    "delete",
    "clone",
    "exports",
    "export-download",
    "folder",
    "create",
    "edit",
)


@dataclass(frozen=True)
class Kind:
    kind: str
    noun: str  # "audience"
    plural: str  # "audiences"
    title: str  # "Audiences"
    prefix: str  # URL names: engage:<prefix>, engage:<prefix>-refresh, ...
    collection: str  # URL name of the list
    names: dict[str, str] = field(default_factory=dict)

    def name(self, action: str) -> str:
        return self.names[action]


def _kind(kind: str, noun: str, plural: str, title: str, prefix: str, collection: str) -> Kind:
    names = {"list": f"engage:{collection}", "overview": f"engage:{prefix}"}
    names.update({a.replace("-", "_"): f"engage:{prefix}-{a}" for a in ACTIONS if a != "overview"})
    return Kind(kind, noun, plural, title, prefix, collection, names)


KINDS = {
    ComputationKind.AUDIENCE: _kind(
        ComputationKind.AUDIENCE, "audience", "audiences", "Audiences", "audience", "audiences"
    ),
    ComputationKind.TRAIT: _kind(
        ComputationKind.TRAIT,
        "computed trait",
        "computed traits",
        "Computed Traits",
        "computed-trait",
        "computed-traits",
    ),
}
MODES = {"realtime": "Real-time", "batch": "Batch"}


def _computation(workspace: Workspace, space: str, key: str, kind: str) -> QuerySet[Computation]:
    return Computation.objects.filter(
        space__workspace=workspace, space__slug=space, key=key, kind=kind
    ).select_related("space__workspace")


def _folder(
    workspace: Workspace, space: str, folder: int, kind: str
) -> QuerySet[ComputationFolder]:
    return ComputationFolder.objects.filter(
        space__workspace=workspace, space__slug=space, pk=folder, kind=kind
    ).select_related("space__workspace")


COMPUTATION = Lookup(
    arg="computation", url_kwargs=("space", "key", "kind"), find=_computation, refusal=REFUSAL
)
FOLDER = Lookup(arg="folder", url_kwargs=("space", "folder", "kind"), find=_folder, refusal=REFUSAL)


def attempt(request: UIRequest, write: Callable[[], Any], done: str | Callable[[Any], str]) -> bool:
    """Run a service write: a refusal is the 403/404 page, other errors a message."""
    try:
        result = write()
    except SwitchyardError as exc:
        refuse(exc)
        messages.error(request, exc.message)
        return False
    messages.success(request, done(result) if callable(done) else done)
    return True
