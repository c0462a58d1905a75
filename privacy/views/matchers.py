"""Privacy > Detection: the default and custom PII matchers and the test panel.

Workspace Owners only, as the Privacy Portal is. htmx posts swap the custom
matchers card or the test result in place; without JavaScript the forms post,
redirect on success and show the page with the error otherwise.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import models
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from connections.forms.sample_event import sample_event_json
from privacy.forms import MatcherForm, SampleEventForm
from privacy.models import PiiMatcher
from privacy.selectors import matchers as selectors
from privacy.services import matchers as service
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, add_service_error, get_object, workspace_view
from workspace.models import Workspace

OWNERS = "Only Workspace Owners can open the Privacy Portal."


def _matcher_in(workspace: Workspace, key_id: str) -> models.QuerySet[PiiMatcher]:
    return PiiMatcher.objects.filter(workspace=workspace, key_id=key_id).select_related("workspace")


def _matcher(request: UIRequest, workspace: Workspace, key_id: str) -> PiiMatcher:
    """The workspace's custom matcher (the page's workspace action was checked first,
    so a member gets the same 403 here as on the list; an unknown id is 404)."""
    return get_object(request.principal, _matcher_in(workspace, key_id), "administer", OWNERS)


def _values(form: MatcherForm) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in service.FIELDS}


def _render(
    request: UIRequest,
    workspace: Workspace,
    *,
    form: MatcherForm | None = None,
    test_form: SampleEventForm | None = None,
    flags: list[selectors.Flag] | None = None,
    partial: str = "",
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    entries = selectors.entries(workspace)
    context = {
        "workspace": workspace,
        "nav": "privacy-detection",
        "defaults": [e for e in entries if e.default],
        "customs": [e for e in entries if not e.default],
        "limit": service.LIMIT,
        "form": form or MatcherForm(initial={"enabled": True}),
        "test_form": test_form or SampleEventForm(initial={"event": sample_event_json()}),
        "flags": flags,
        **extra,
    }
    if request.htmx and partial:  # 200 whatever happened, or htmx would not swap it
        return render(request, partial, context)
    return render(request, "privacy/matchers.html", context, status=status)


@workspace_view(action="administer", refusal=OWNERS)
@require_http_methods(["GET", "POST"])
def matchers(request: UIRequest, workspace: Workspace) -> HttpResponse:
    if request.method != "POST":
        return _render(request, workspace)
    partial = "privacy/_custom_matchers.html"
    form = MatcherForm(request.POST)
    if not form.is_valid():
        return _render(request, workspace, form=form, partial=partial, status=400)
    try:
        matcher = service.do_create_pii_matcher(
            principal=request.principal, workspace=workspace, **_values(form)
        )
    except SwitchyardError as exc:
        add_service_error(form, exc)
        return _render(request, workspace, form=form, partial=partial, status=exc.http_status)
    notice = f"Created matcher {matcher.name}."
    if not request.htmx:
        messages.success(request, notice)
        return redirect("privacy:matchers", slug=workspace.slug)
    return _render(request, workspace, partial=partial, notice=notice)


@workspace_view(action="administer", refusal=OWNERS)
@require_http_methods(["GET", "POST"])
def edit(request: UIRequest, workspace: Workspace, key_id: str) -> HttpResponse:
    matcher = _matcher(request, workspace, key_id)
    form = MatcherForm.for_matcher(matcher)
    status = 200
    if request.method == "POST":
        form = MatcherForm(request.POST)
        if form.is_valid():
            try:
                changes = _values(form)
                service.do_update_pii_matcher(
                    principal=request.principal, matcher=matcher, changes=changes
                )
            except SwitchyardError as exc:
                add_service_error(form, exc)
                status = exc.http_status
            else:
                messages.success(request, f"Saved matcher {changes['name']}.")
                return redirect("privacy:matchers", slug=workspace.slug)
        else:
            status = 400
    context = {
        "workspace": workspace,
        "nav": "privacy-detection",
        "matcher": matcher,
        "entry": selectors.entry_for(workspace, matcher),
        "form": form,
    }
    return render(request, "privacy/matcher_edit.html", context, status=status)


@workspace_view(action="administer", refusal=OWNERS)
@require_POST
def delete(request: UIRequest, workspace: Workspace, key_id: str) -> HttpResponse:
    matcher = _matcher(request, workspace, key_id)
    partial = "privacy/_custom_matchers.html"
    try:
        service.do_delete_pii_matcher(principal=request.principal, matcher=matcher)
    except SwitchyardError as exc:
        return _render(request, workspace, partial=partial, error=exc.message, status=400)
    notice = f"Deleted matcher {matcher.name}."
    if not request.htmx:
        messages.success(request, notice)
        return redirect("privacy:matchers", slug=workspace.slug)
    return _render(request, workspace, partial=partial, notice=notice)


@workspace_view(action="administer", refusal=OWNERS)
@require_POST
def run_test(request: UIRequest, workspace: Workspace) -> HttpResponse:
    """The test panel: what each matcher in effect flags in the pasted event."""
    partial = "privacy/_test_result.html"
    test_form = SampleEventForm(request.POST)
    if not test_form.is_valid():
        return _render(request, workspace, test_form=test_form, partial=partial, status=400)
    flags = selectors.flag_fields(workspace, test_form.cleaned_data["event"])
    return _render(request, workspace, test_form=test_form, flags=flags, partial=partial)
