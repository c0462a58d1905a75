"""Forms of the Engage > Spaces pages."""

from __future__ import annotations

from typing import Any

from django import forms

from engage.services.spaces import DISPLAY_NAME_MAX
from switchyard.names import SLUG_RULE
from workspace.models import Workspace


def label_choices(workspace: Workspace) -> list[tuple[str, str]]:
    return [(str(label), str(label)) for label in workspace.labels.order_by("key", "value")]


class SpaceSettingsForm(forms.Form):
    display_name = forms.CharField(label="Name", max_length=DISPLAY_NAME_MAX)
    labels = forms.MultipleChoiceField(
        required=False,
        help_text="Space roles can be granted on the spaces carrying a label.",
    )
    required_labels = forms.MultipleChoiceField(
        label="Connection policy",
        required=False,
        help_text="Only sources carrying every one of these labels can connect to this space.",
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = label_choices(workspace)
        for name in ("labels", "required_labels"):
            field = self.fields[name]
            assert isinstance(field, forms.MultipleChoiceField)
            field.choices = choices


class SpaceCreateForm(SpaceSettingsForm):
    slug = forms.CharField(
        label="Slug",
        max_length=64,
        help_text=f"The space's URL; it can never change ({SLUG_RULE}).",
    )
    field_order = ("display_name", "slug", "labels", "required_labels")


class ConnectSourceForm(forms.Form):
    source = forms.ChoiceField(label="Source")

    def __init__(self, *args: Any, sources: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["source"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = sources


class TokenForm(forms.Form):
    description = forms.CharField(max_length=200, required=False)


class DeleteSpaceForm(forms.Form):
    confirm_name = forms.CharField(label="Type the space's name to confirm", max_length=100)
