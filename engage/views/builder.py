"""The audience and computed trait builders: create and edit pages, and the live
preview the page asks for as the definition changes.

The page's script (``engage/static/engage/builder.js``) edits the definition as
the JSON the API takes and posts it in the form's ``definition`` field; the
"Text" tab posts the query-language text instead (``editor=text``), parsed here.
Saving goes through ``do_create_computation`` / ``do_update_computation``; their
errors are shown beside the builder with the JSON Pointer of each, and nothing is
written. The preview is ``computations.preview`` (the compiled query's count and
sample), and for a computed trait its most common values.

Those who may write audiences and traits in the space ("change": Engage Users,
Unify and Engage Admins, owners) see the builders; readers get the 403 page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from engage import builder_selectors, definitions
from engage.models import Computation, ComputationKind, Space
from engage.services import computations as service
from switchyard.errors import SwitchyardError
from switchyard.ui import Lookup, UIRequest, refuse, workspace_view
from workspace.models import Workspace

NAV = "engage-spaces"
REFUSAL = (
    "Building audiences and computed traits needs Engage User, Unify and Engage Admin "
    "on the space, or Workspace Owner."
)
TEXT_MAX = 100_000
_DEFINITION_ERROR = re.compile(r"(?:^|; )definition(/[^:]*)?: ")


def _space(workspace: Workspace, space: str) -> QuerySet[Space]:
    return Space.objects.filter(workspace=workspace, slug=space).select_related("workspace")


SPACE = Lookup(arg="space", url_kwargs=("space",), find=_space, refusal=REFUSAL)

AUDIENCE = ComputationKind.AUDIENCE
TRAIT = ComputationKind.TRAIT
PAGES = {
    AUDIENCE: ("engage:audience", "engage/audience_builder.html", "audience"),
    TRAIT: ("engage:computed-trait", "engage/trait_builder.html", "computed trait"),
}


def _blank(kind: str) -> dict[str, Any]:
    if kind == AUDIENCE:
        return {
            "version": 1,
            "type": "users",
            "include_anonymous": False,
            "include_historical": True,
            "root": {"op": "and", "args": []},
        }
    return {
        "version": 1,
        "type": "users",
        "kind": "event_counter",
        "event": "",
        "where": None,
        "window": None,
    }


def definition_errors(exc: SwitchyardError) -> list[dict[str, str]]:
    """A service's refusal of a definition as ``[{path, message}]`` (its message joins
    ``definition<JSON Pointer>: message`` parts); any other error as one item."""
    message = exc.message
    if exc.field != "definition" or not message.startswith("definition"):
        return [{"path": "", "message": message}]
    parts = _DEFINITION_ERROR.split(message)
    # ["", path1, message1, path2, message2, ...]
    return [{"path": parts[i] or "", "message": parts[i + 1]} for i in range(1, len(parts) - 1, 2)]


def _is_audience(space: Space) -> Callable[[str], bool]:
    keys = set(Computation.objects.filter(space=space, kind=AUDIENCE).values_list("key", flat=True))
    return keys.__contains__


def _from_text(
    space: Space, kind: str, text: str, base: dict[str, Any]
) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    """The definition a text says (with the builder's own flags from ``base``)."""
    if len(text) > TEXT_MAX:
        return None, [{"path": "", "message": f"the text is longer than {TEXT_MAX} characters"}]
    try:
        if kind == AUDIENCE:
            parsed = definitions.parse(
                text,
                type=None,
                is_audience=_is_audience(space),
                include_anonymous=bool(base.get("include_anonymous")),
                include_historical=base.get("include_historical", True) is not False,
            )
        else:
            parsed = definitions.parse_trait(text, type=str(base.get("type") or "users"))
    except definitions.QuerySyntaxError as exc:
        return None, [{"path": "", "message": f"text: {exc}"}]
    return parsed, []


def _as_text(kind: str, definition: dict[str, Any]) -> str:
    try:
        if kind == AUDIENCE:
            return definitions.to_text(definition)
        return definitions.trait_to_text(definition)
    except (KeyError, TypeError, ValueError, AttributeError):
        return ""


def _posted_definition(
    request: UIRequest, space: Space, kind: str, base: dict[str, Any]
) -> tuple[object, list[dict[str, str]]]:
    """What the form posted: the builder's JSON, or with ``editor=text`` the text."""
    if request.POST.get("editor") == "text":
        flags = {
            **base,
            "include_anonymous": request.POST.get("include_anonymous") == "on"
            if "include_anonymous" in request.POST
            else base.get("include_anonymous", False),
            "include_historical": request.POST.get("include_historical") == "on",
            "type": request.POST.get("type") or base.get("type"),
        }
        return _from_text(space, kind, request.POST.get("text", ""), flags)
    raw = request.POST.get("definition", "")
    try:
        return json.loads(raw), []
    except ValueError:
        return None, [{"path": "", "message": "the definition is not valid JSON"}]


def _page(
    request: UIRequest,
    workspace: Workspace,
    space: Space,
    kind: str,
    *,
    computation: Computation | None,
    definition: object,
    values: dict[str, str],
    errors: list[dict[str, str]] | None = None,
    field_errors: dict[str, str] | None = None,
    editor: str = "builder",
    text: str | None = None,
    status: int = 200,
) -> HttpResponse:
    is_accounts = isinstance(definition, dict) and definition.get("type") == "accounts"
    catalogue = builder_selectors.catalogue(
        space, exclude_key=computation.key if computation else "", accounts=is_accounts
    )
    if text is None:
        text = _as_text(kind, definition) if isinstance(definition, dict) else ""
    kind_path = "audiences" if kind == AUDIENCE else "computed-traits"
    preview_url = reverse(
        "engage:audience-preview" if kind == AUDIENCE else "engage:computed-trait-preview",
        kwargs={"slug": workspace.slug, "space": space.slug},
    )
    context = {
        "workspace": workspace,
        "space": space,
        "nav": NAV,
        "computation": computation,
        "kind_path": kind_path,
        "noun": PAGES[ComputationKind(kind)][2],
        "values": values,
        "errors": errors or [],
        "field_errors": field_errors or {},
        "editor": editor,
        "text": text,
        "preview_url": preview_url,
        "list_name": "engage:audiences" if kind == AUDIENCE else "engage:computed-traits",
        "list_label": "Audiences" if kind == AUDIENCE else "Computed traits",
        "cancel_url": _cancel_url(workspace, space, kind, computation),
        "definition_json": json.dumps(definition),
        "builder_data": {
            "kind": kind,
            "definition": definition,
            "key": computation.key if computation else "",
            "editing": computation is not None,
            "errors": errors or [],
            "audiences": catalogue.audiences,
            "traits": catalogue.traits,
            "events": catalogue.events,
            "accounts": catalogue.accounts,
            "profile_url": reverse(
                "engage:profile",
                kwargs={"slug": workspace.slug, "space": space.slug, "segment_id": "SEGMENT_ID"},
            ),
        },
    }
    return render(request, PAGES[ComputationKind(kind)][1], context, status=status)


def _cancel_url(
    workspace: Workspace, space: Space, kind: str, computation: Computation | None
) -> str:
    """The overview of what is edited, or the list (empty while those pages are missing)."""
    name, _template, _noun = PAGES[ComputationKind(kind)]
    args: dict[str, str] = {"slug": workspace.slug, "space": space.slug}
    if computation is None:
        name = "engage:audiences" if kind == AUDIENCE else "engage:computed-traits"
    else:
        args["key"] = computation.key
    try:
        return reverse(name, kwargs=args)
    except NoReverseMatch:
        return ""


def _field_error(exc: SwitchyardError) -> dict[str, str] | None:
    if exc.field in ("display_name", "key", "description"):
        return {exc.field: exc.message}
    return None


def _save(
    request: UIRequest,
    workspace: Workspace,
    space: Space,
    kind: str,
    computation: Computation | None,
) -> HttpResponse:
    base = computation.definition if computation else _blank(kind)
    values = {
        "display_name": request.POST.get("display_name", ""),
        "key": computation.key if computation else request.POST.get("key", ""),
        "description": request.POST.get("description", ""),
    }
    editor = "text" if request.POST.get("editor") == "text" else "builder"
    text = request.POST.get("text") if editor == "text" else None
    definition, errors = _posted_definition(request, space, kind, base)

    def again(
        errors: list[dict[str, str]], fields: dict[str, str] | None, status: int
    ) -> HttpResponse:
        shown = definition if definition is not None else base
        return _page(
            request,
            workspace,
            space,
            kind,
            computation=computation,
            definition=shown,
            values=values,
            errors=errors,
            field_errors=fields,
            editor=editor,
            text=text,
            status=status,
        )

    if errors:
        return again(errors, None, 400)
    try:
        if computation is None:
            saved = service.do_create_computation(
                principal=request.principal,
                space=space,
                kind=kind,
                display_name=values["display_name"],
                key=values["key"] or None,
                description=values["description"],
                definition=definition,
            )
        else:
            changes: dict[str, Any] = {
                "display_name": values["display_name"],
                "description": values["description"],
            }
            if definition != computation.definition:
                changes["definition"] = definition
            saved = service.do_update_computation(
                principal=request.principal, computation=computation, changes=changes
            )
    except SwitchyardError as exc:
        refuse(exc)
        fields = _field_error(exc)
        return again([] if fields else definition_errors(exc), fields, exc.http_status)
    noun = PAGES[ComputationKind(kind)][2]
    messages.success(request, f"Saved {noun} {saved.display_name}.")
    return redirect(
        PAGES[ComputationKind(kind)][0], slug=workspace.slug, space=space.slug, key=saved.key
    )


def _computation(space: Space, kind: str, key: str) -> Computation:
    found = Computation.objects.filter(space=space, kind=kind, key=key).first()
    if found is None:
        raise Http404(f"No such {PAGES[ComputationKind(kind)][2]} in this space.")
    return found


def _create(request: UIRequest, workspace: Workspace, space: Space, kind: str) -> HttpResponse:
    if request.method == "POST":
        return _save(request, workspace, space, kind, None)
    values = {"display_name": "", "key": "", "description": ""}
    return _page(
        request, workspace, space, kind, computation=None, definition=_blank(kind), values=values
    )


def _edit(
    request: UIRequest, workspace: Workspace, space: Space, kind: str, key: str
) -> HttpResponse:
    computation = _computation(space, kind, key)
    if request.method == "POST":
        return _save(request, workspace, space, kind, computation)
    values = {
        "display_name": computation.display_name,
        "key": computation.key,
        "description": computation.description,
    }
    return _page(
        request,
        workspace,
        space,
        kind,
        computation=computation,
        definition=computation.definition,
        values=values,
    )


@workspace_view(SPACE, action="change")
@require_http_methods(["GET", "POST"])
def audience_create(request: UIRequest, workspace: Workspace, space: Space) -> HttpResponse:
    return _create(request, workspace, space, AUDIENCE)


@workspace_view(SPACE, action="change")
@require_http_methods(["GET", "POST"])
def audience_edit(request: UIRequest, workspace: Workspace, space: Space, key: str) -> HttpResponse:
    return _edit(request, workspace, space, AUDIENCE, key)


@workspace_view(SPACE, action="change")
@require_http_methods(["GET", "POST"])
def trait_create(request: UIRequest, workspace: Workspace, space: Space) -> HttpResponse:
    return _create(request, workspace, space, TRAIT)


@workspace_view(SPACE, action="change")
@require_http_methods(["GET", "POST"])
def trait_edit(request: UIRequest, workspace: Workspace, space: Space, key: str) -> HttpResponse:
    return _edit(request, workspace, space, TRAIT, key)


def _preview(request: UIRequest, workspace: Workspace, space: Space, kind: str) -> JsonResponse:
    """POST ``{"definition": {...}}`` or ``{"text": "...", "definition": {flags}}``, and
    ``"key"`` when editing. Answers the definition (parsed from the text), its text,
    the size, sample members, compute mode and batch reasons (computed traits: the
    most common values too), or ``errors`` ([{path, message}], status 400)."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return JsonResponse({"errors": [{"path": "", "message": "send a JSON object"}]}, status=400)
    key = body.get("key") if isinstance(body.get("key"), str) and body.get("key") else None
    definition = body.get("definition")
    if isinstance(body.get("text"), str):
        flags = definition if isinstance(definition, dict) else _blank(kind)
        definition, errors = _from_text(space, kind, body["text"], flags)
        if errors:
            return JsonResponse({"errors": errors}, status=400)
    now = timezone.now()
    try:
        result = service.preview(
            principal=request.principal,
            space=space,
            kind=kind,
            definition=definition,
            key=key,
            now=now,
        )
    except SwitchyardError as exc:
        refuse(exc)
        refused: dict[str, Any] = {"errors": definition_errors(exc), "definition": definition}
        if isinstance(definition, dict):  # the Text tab shows what the builder holds
            refused["text"] = _as_text(kind, definition)
        return JsonResponse(refused, status=400)
    assert isinstance(definition, dict)
    sample = [
        {
            "segment_id": segment_id,
            "url": reverse(
                "engage:profile",
                kwargs={"slug": workspace.slug, "space": space.slug, "segment_id": segment_id},
            ),
        }
        for segment_id in result.sample
    ]
    answer: dict[str, Any] = {
        "definition": definition,
        "text": _as_text(kind, definition),
        "size": result.size,
        "sample": sample,
        "compute_mode": result.compute_mode,
        "batch_reasons": result.reasons,
    }
    if kind == TRAIT:
        answer["distribution"] = builder_selectors.value_distribution(space, definition, now)
    return JsonResponse(answer)


@workspace_view(SPACE, action="change")
@require_POST
def audience_preview(request: UIRequest, workspace: Workspace, space: Space) -> JsonResponse:
    return _preview(request, workspace, space, AUDIENCE)


@workspace_view(SPACE, action="change")
@require_POST
def trait_preview(request: UIRequest, workspace: Workspace, space: Space) -> JsonResponse:
    return _preview(request, workspace, space, TRAIT)
