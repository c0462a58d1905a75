from __future__ import annotations

from django import forms

from switchyard.api.names import SLUG_RULE


class WorkspaceCreateForm(forms.Form):
    display_name = forms.CharField(label="Workspace name", max_length=100)
    slug = forms.CharField(
        label="Slug",
        max_length=64,
        help_text=f"Used in URLs and the API (workspaces/<slug>); {SLUG_RULE}. It cannot change.",
    )


class WorkspaceRenameForm(forms.Form):
    display_name = forms.CharField(label="Workspace name", max_length=100)


class WorkspaceDeleteForm(forms.Form):
    confirm = forms.CharField(label="Type the workspace slug to confirm")

    def __init__(self, *args: object, slug: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.slug = slug

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != self.slug:
            raise forms.ValidationError(f"Type {self.slug!r} exactly to delete this workspace.")
        return value
