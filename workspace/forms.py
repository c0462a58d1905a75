from __future__ import annotations

from typing import Any

from django import forms

from switchyard.access import registry
from switchyard.access.roles import CATALOGUE, OWNER_ROLE
from switchyard.names import SLUG_RULE
from workspace.models import AccessToken, Label, Membership, UserGroup, Workspace
from workspace.services import labels as label_service
from workspace.services import members as member_service


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


class LabelCreateForm(forms.Form):
    key = forms.CharField(
        label="Key",
        max_length=label_service.PART_MAX,
        help_text=f"e.g. environment; {label_service.PART_RULE}",
    )
    value = forms.CharField(
        label="Value", max_length=label_service.PART_MAX, help_text="e.g. staging"
    )
    description = forms.CharField(
        label="Description", max_length=label_service.DESCRIPTION_MAX, required=False
    )


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=member_service.EMAIL_MAX)
    role = forms.ChoiceField(
        choices=Membership.Role.choices,
        initial=Membership.Role.MEMBER,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    group = forms.ModelChoiceField(
        queryset=UserGroup.objects.none(),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = UserGroup.objects.filter(workspace=workspace)  # type: ignore[attr-defined]


class GroupForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=500, required=False)


class TokenForm(forms.Form):
    description = forms.CharField(max_length=200)
    access = forms.ChoiceField(
        choices=AccessToken.Access.choices,
        initial="member",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    scope = forms.ChoiceField(
        choices=AccessToken.Scope.choices,
        initial="workspace",
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class GrantForm(forms.Form):
    """A role grant: role, scope, and the labels or sources the scope needs."""

    role = forms.ChoiceField(widget=forms.Select(attrs={"class": "form-select"}))
    scope = forms.ChoiceField(
        choices=[("all", "All current and future"), ("specific", "Specific"), ("labels", "Labels")],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    labels = forms.ModelMultipleChoiceField(
        queryset=Label.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"class": "form-select"}),
    )
    # Specific sources, when the connections app registered its resource type.
    sources = forms.ModelMultipleChoiceField(
        queryset=Label.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"class": "form-select"}),
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [  # type: ignore[attr-defined]
            (role.slug, role.name)
            for role in CATALOGUE
            if role.resource_type != "workspace" or role.slug == OWNER_ROLE
        ] + [("pii-access", "PII Access")]
        self.fields["labels"].queryset = Label.objects.filter(workspace=workspace)  # type: ignore[attr-defined]
        if (sources := registry.resource_type("source")) is not None:
            self.fields["sources"].queryset = sources.model._default_manager.filter(  # type: ignore[attr-defined]
                workspace=workspace
            )
