"""Profiles CSV upload: the upload form, the template to download, an upload's
progress (polled by htmx while it runs) and the 30-day Update History."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from engage.models import CsvUpload, Space, UploadStatus
from engage.services import csv_upload as service
from engage.views.space_pages import SPACE
from switchyard import access
from switchyard.errors import SwitchyardError
from switchyard.ui import UIRequest, add_service_error, workspace_view
from workspace.models import Workspace

REFUSAL = "Uploading profiles needs Unify and Engage Admin access to this space."
RUNNING = (UploadStatus.VALIDATING, UploadStatus.PROCESSING)


class UploadForm(forms.Form):
    # Empty files reach the service, which says what a file needs.
    file = forms.FileField(
        allow_empty_file=True,
        label="CSV file",
        help_text="A .csv of at most 100 MB, 1,000,000 rows and 299 columns, with an "
        "identifier column.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


@workspace_view(SPACE, post="create", refusal=REFUSAL)
@require_http_methods(["GET", "POST"])
def uploads(request: UIRequest, workspace: Workspace, space: Space) -> HttpResponse:
    form = UploadForm()
    status = 200
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > service.MAX_BYTES:
                form.add_error("file", "The file is larger than 100 MB.")
            else:
                try:
                    created = service.do_upload_profiles_csv(
                        principal=request.principal,
                        space=space,
                        file_name=upload.name,
                        data=upload.read(),
                    )
                except SwitchyardError as exc:
                    add_service_error(form, exc)
                else:
                    messages.success(request, f"Uploaded {created.file_name}; checking its rows.")
                    return redirect("engage:csv-upload", workspace.slug, space.slug, created.key_id)
        status = 400
    context = {
        "workspace": workspace,
        "space": space,
        "nav": "engage-spaces",
        "tab": "csv",
        "form": form,
        "can_upload": access.can(request.principal, "create", space),
        "identifiers": service.identifier_types(space),
        "history": service.recent_uploads(space),
    }
    return render(request, "engage/csv_uploads.html", context, status=status)


@workspace_view(SPACE)
@require_GET
def template(request: UIRequest, workspace: Workspace, space: Space) -> HttpResponse:
    response = HttpResponse(service.template_csv(space), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{space.slug}-profiles.csv"'
    return response


@workspace_view(SPACE)
@require_GET
def upload(request: UIRequest, workspace: Workspace, space: Space, key_id: str) -> HttpResponse:
    found = CsvUpload.objects.filter(space=space, key_id=key_id).defer("content").first()
    if found is None:
        raise Http404("No such upload.")
    context = {
        "workspace": workspace,
        "space": space,
        "nav": "engage-spaces",
        "tab": "csv",
        "upload": found,
        "running": found.status in RUNNING,
        "percent": int(100 * found.processed / found.rows) if found.rows else 0,
    }
    template_name = "engage/_csv_progress.html" if request.htmx else "engage/csv_upload.html"
    return render(request, template_name, context)
