"""Folders of audiences or computed traits (engage.md §5.7): a name unique per space
and kind, and a description. ``Computation.folder`` holds the folder's name (the
Config API's ``folder`` field), so filing an audience under a new name creates the
folder, renaming a folder refiles its audiences, and disbanding one clears it on
them without deleting them."""

from __future__ import annotations

from django.db import models

from engage.models.computations import ComputationKind
from engage.models.spaces import Space


class ComputationFolder(models.Model):
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=ComputationKind.choices)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    create_time = models.DateTimeField(auto_now_add=True)
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("space", "kind", "name"), name="computation_folder_name_once"
            ),
        )

    def __str__(self) -> str:
        return self.name
