from __future__ import annotations

from django.db import models


class Destination(models.Model):
    """An instance of a catalog destination definition connected to one source.

    Disabled on creation, as in Segment: configure and enable mappings first,
    then turn the destination on."""

    key_id = models.CharField(max_length=32, unique=True)
    source = models.ForeignKey(
        "connections.Source", on_delete=models.CASCADE, related_name="destinations"
    )
    definition = models.CharField(max_length=64, help_text="catalog destination slug")
    display_name = models.CharField(max_length=100)
    enabled = models.BooleanField(default=False)
    settings = models.JSONField(default=dict, blank=True)
    create_time = models.DateTimeField(auto_now_add=True)
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = (models.Index(fields=("source", "create_time", "id"), name="destination_keyset"),)

    def __str__(self) -> str:
        return self.display_name

    @property
    def resource_name(self) -> str:
        return f"{self.source.resource_name}/destinations/{self.key_id}"


class Subscription(models.Model):
    """An action mapping: when ``trigger`` (FQL) matches, run ``action`` with
    the fields ``mapping`` resolves. New mappings start disabled (Segment)."""

    key_id = models.CharField(max_length=32, unique=True)
    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="subscriptions"
    )
    name = models.CharField(max_length=100)
    action = models.CharField(max_length=64)
    enabled = models.BooleanField(default=False)
    trigger = models.TextField()
    mapping = models.JSONField(default=dict)
    # Events go downstream in the order the mappings are listed.
    position = models.PositiveIntegerField(default=0)
    create_time = models.DateTimeField(auto_now_add=True)
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = (
            models.Index(fields=("destination", "create_time", "id"), name="subscription_keyset"),
        )
        ordering = ("position", "id")

    def __str__(self) -> str:
        return self.name

    @property
    def resource_name(self) -> str:
        return f"{self.destination.resource_name}/subscriptions/{self.key_id}"


class DestinationFilter(models.Model):
    """A destination filter: when ``condition`` (FQL or "all") matches, apply
    ``actions`` (sample, drop, drop or allow properties); connections.filtering
    evaluates them."""

    key_id = models.CharField(max_length=32, unique=True)
    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="filters")
    title = models.CharField(max_length=64)
    description = models.CharField(max_length=500, blank=True)
    condition = models.TextField()
    actions = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    create_time = models.DateTimeField(auto_now_add=True)
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = (models.Index(fields=("destination", "create_time", "id"), name="filter_keyset"),)
        ordering = ("position", "id")

    def __str__(self) -> str:
        return self.title

    @property
    def resource_name(self) -> str:
        return f"{self.destination.resource_name}/filters/{self.key_id}"
