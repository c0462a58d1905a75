"""Privacy > End User Privacy: deletion requests (create one, the history) and the
suppressed users (suppress one, lift a suppression: an UNSUPPRESS regulation).

Workspace Owners only. Plain forms that redirect on success (the history then
shows the new request) and show the page with the error otherwise.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from privacy.models import Regulation, RegulationType, SuppressedUser
from privacy.services import regulations as service
from switchyard.api.pagination import paginate
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, add_service_error, workspace_view
from workspace.models import Workspace

OWNERS = "Only Workspace Owners can open the Privacy Portal."
NAV = "privacy-end-users"
PAGE_SIZE = 25
TYPES = [
    (RegulationType.SUPPRESS_WITH_DELETE, "Delete and suppress (SUPPRESS_WITH_DELETE)"),
    (RegulationType.DELETE_ONLY, "Delete only (DELETE_ONLY)"),
    (RegulationType.SUPPRESS_ONLY, "Suppress only (SUPPRESS_ONLY)"),
    (RegulationType.UNSUPPRESS, "Stop suppressing (UNSUPPRESS)"),
    (
        RegulationType.SUPPRESS_WITH_DELETE_INTERNAL,
        "Delete and suppress, internal only (SUPPRESS_WITH_DELETE_INTERNAL)",
    ),
    (RegulationType.DELETE_INTERNAL, "Delete, internal only (DELETE_INTERNAL)"),
]


class RegulationForm(forms.Form):
    regulation_type = forms.ChoiceField(choices=TYPES, label="Request")
    subject_ids = forms.CharField(
        label="User IDs",
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        help_text=f"One userId a line, up to {service.SUBJECT_IDS_MAX:,}.",
    )

    def clean_subject_ids(self) -> list[str]:
        text: str = self.cleaned_data["subject_ids"]
        return [line.strip() for line in text.splitlines() if line.strip()]


class SuppressForm(forms.Form):
    user_id = forms.CharField(label="User ID", max_length=service.SUBJECT_ID_MAX)


def _page(request: UIRequest, rows: Any, scope: str, ordering: tuple[str, ...]) -> dict[str, Any]:
    params = {"page_size": str(PAGE_SIZE), "page_token": request.GET.get("page_token", "")}
    try:
        page, token = paginate(rows, params, scope=scope, ordering=ordering)
    except SwitchyardError:  # a stale or edited token: start over
        page, token = paginate(rows, {"page_size": str(PAGE_SIZE)}, scope=scope, ordering=ordering)
    return {"rows": page, "next_token": token, "paged": bool(params["page_token"])}


def _create(
    request: UIRequest, workspace: Workspace, form: forms.Form, kind: str, ids: list[str]
) -> Regulation | None:
    try:
        return service.do_create_regulation(
            principal=request.principal,
            workspace=workspace,
            regulation_type=kind,
            subject_type="USER_ID",
            subject_ids=ids,
        )
    except SwitchyardError as exc:
        one_user = "user_id" in form.fields  # the suppression forms name one id
        add_service_error(form, exc, {"subject_ids": "user_id"} if one_user else None)
        return None


def _notice(regulation: Regulation) -> str:
    count = len(regulation.subject_ids)
    users = "1 user" if count == 1 else f"{count:,} users"
    kind = regulation.regulation_type
    if kind in service.DELETING:
        return f"Requested {kind} for {users}; the deletion runs in the background."
    return f"{kind} for {users}: done."


@workspace_view(action="administer", refusal=OWNERS)
@require_http_methods(["GET", "POST"])
def regulations(request: UIRequest, workspace: Workspace) -> HttpResponse:
    form = RegulationForm(initial={"regulation_type": RegulationType.SUPPRESS_WITH_DELETE})
    status = 200
    if request.method == "POST":
        form = RegulationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            created = _create(
                request, workspace, form, data["regulation_type"], data["subject_ids"]
            )
            if created is not None:
                messages.success(request, _notice(created))
                return redirect("privacy:regulations", slug=workspace.slug)
        status = 400
    rows = Regulation.objects.filter(workspace=workspace).select_related("created_by")
    context = {
        "workspace": workspace,
        "nav": NAV,
        "tab": "requests",
        "form": form,
        "quota": f"{service.QUOTA_USERS:,}",
        "used": f"{service.users_in_window(workspace):,}",
        **_page(request, rows, f"ui-regulations:{workspace.pk}", ("-create_time", "-pk")),
    }
    return render(request, "privacy/regulations.html", context, status=status)


@workspace_view(action="administer", refusal=OWNERS)
@require_http_methods(["GET", "POST"])
def suppressed(request: UIRequest, workspace: Workspace) -> HttpResponse:
    form = SuppressForm()
    status = 200
    if request.method == "POST":
        form = SuppressForm(request.POST)
        if form.is_valid():
            ids = [form.cleaned_data["user_id"]]
            created = _create(request, workspace, form, RegulationType.SUPPRESS_ONLY, ids)
            if created is not None:
                messages.success(request, f"Suppressed {ids[0]}.")
                return redirect("privacy:suppressed-users", slug=workspace.slug)
        status = 400
    rows = SuppressedUser.objects.filter(workspace=workspace).select_related("regulation")
    rows = rows.defer("regulation__subject_ids", "regulation__counts", "regulation__error")
    context = {
        "workspace": workspace,
        "nav": NAV,
        "tab": "suppressed",
        "form": form,
        **_page(request, rows, f"ui-suppressed:{workspace.pk}", ("user_id", "pk")),
    }
    return render(request, "privacy/suppressed_users.html", context, status=status)


@workspace_view(action="administer", refusal=OWNERS)
@require_POST
def unsuppress(request: UIRequest, workspace: Workspace) -> HttpResponse:
    form = SuppressForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Name the user to stop suppressing.")
    else:
        user_id = form.cleaned_data["user_id"]
        if _create(request, workspace, form, RegulationType.UNSUPPRESS, [user_id]) is None:
            errors = [str(e) for field in form.errors.values() for e in field]
            messages.error(request, " ".join(errors))
        else:
            messages.success(request, f"{user_id} is no longer suppressed.")
    return redirect("privacy:suppressed-users", slug=workspace.slug)
