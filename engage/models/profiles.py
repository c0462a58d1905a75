"""The identity graph: profiles, the identifier values mapped to them, merges,
the events attached (references to the event store, not copies), account links,
and the Profiles Insights log."""

from __future__ import annotations

from django.db import models

from engage.models.spaces import Space


class Profile(models.Model):
    """A person (collection ``users``) or an account (``accounts``, from group calls).

    ``segment_id`` is persistent; a profile merged into another keeps its row with
    ``canonical`` pointing at the survivor (its identifiers moved there).
    ``traits`` are the custom traits (identify/group ``traits``), last updated
    wins per key: ``trait_times`` holds each key's update time (ISO-8601), which
    also settles conflicts when profiles merge (the newest wins)."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    segment_id = models.CharField(max_length=40, unique=True)  # use_... / acc_...
    collection = models.CharField(max_length=8, default="users")
    canonical = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    traits = models.JSONField(default=dict)
    trait_times = models.JSONField(default=dict)
    merges = models.PositiveIntegerField(default=0)  # system limit: 100
    mappings = models.PositiveIntegerField(default=0)  # system limit: 1,000
    create_time = models.DateTimeField()
    update_time = models.DateTimeField()
    first_message_id = models.CharField(max_length=128, blank=True, default="")
    first_source_id = models.BigIntegerField(null=True, blank=True)
    last_message_id = models.CharField(max_length=128, blank=True, default="")
    last_source_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = (models.Index(fields=("space", "update_time", "id"), name="profile_recent"),)

    def __str__(self) -> str:
        return self.segment_id


class ProfileIdentifier(models.Model):
    """An identifier value of a profile: the graph's lookup key (one profile per
    value in a space and collection)."""

    # Indexed by the unique key (space first) and identifier_of_profile (profile first).
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+", db_index=False)
    collection = models.CharField(max_length=8, default="users")
    type = models.CharField(max_length=64)
    value = models.CharField(max_length=1024)
    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="identifiers", db_index=False
    )
    source_id = models.BigIntegerField(null=True, blank=True)
    first_message_id = models.CharField(max_length=128, blank=True, default="")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("space", "collection", "type", "value"), name="identifier_value_once"
            ),
        )
        indexes = (models.Index(fields=("profile", "type"), name="identifier_of_profile"),)

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


class ProfileEvent(models.Model):
    """An event attached to a profile: the event store row it refers to, once per
    (space, source, messageId): reprocessing the same message changes nothing."""

    # The most written table (a row per event resolved), kept lean: no
    # single-column indexes (the unique key leads with the space, the timeline
    # with the profile) and no foreign-key constraints, whose checks cost each
    # row a lookup at commit. The rows are still deleted with their profile and
    # space (Django's cascade), and the resolver writes them only for profiles it
    # holds locked.
    space = models.ForeignKey(
        Space, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    profile = models.ForeignKey(
        Profile,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    source_id = models.BigIntegerField()
    message_id = models.CharField(max_length=128)
    event_id = models.BigIntegerField()  # connections_event.id
    received_at = models.DateTimeField()  # the event store's partition key
    type = models.CharField(max_length=16)
    event_name = models.CharField(max_length=256, blank=True, default="")
    timestamp = models.DateTimeField()

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("space", "source_id", "message_id"), name="profile_event_once"
            ),
        )
        indexes = (
            models.Index(fields=("profile", "timestamp", "id"), name="profile_event_timeline"),
            # Events of a name by time: the real-time window check's candidates
            # (engage.services.computation_windows) are ranges of it, and so are
            # the compiled queries' event conditions (engage.compute.sql). It
            # carries the owner and the type, so both read it alone (an index-only
            # scan) instead of fetching each event's row from all over the table.
            models.Index(
                fields=("space", "event_name", "timestamp"),
                include=("profile", "type"),
                name="profile_event_name_time",
            ),
        )

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"


class ProfileMerge(models.Model):
    """``merged`` was merged into ``into`` because of the triggering message."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    merged = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="+")
    into = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="merges_in")
    message_id = models.CharField(max_length=128, blank=True, default="")
    source_id = models.BigIntegerField(null=True, blank=True)
    time = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.merged_id} -> {self.into_id}"


class ProfileLink(models.Model):
    """A user profile linked to an account profile (group calls)."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="account_links")
    account = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="user_links")
    source_id = models.BigIntegerField(null=True, blank=True)
    create_time = models.DateTimeField()

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("user", "account"), name="profile_link_once"),
        )

    def __str__(self) -> str:
        return f"{self.user_id} ~ {self.account_id}"


class InsightKind(models.TextChoices):
    ERROR = "ERROR"
    VIOLATION = "VIOLATION"
    SUCCESS = "SUCCESS"


class IdentityLog(models.Model):
    """Profiles Insights: what identity resolution did with a message (errors,
    violations, success logs), searchable for 30 days."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=InsightKind.choices)
    code = models.CharField(max_length=64)  # e.g. identifier_value_limit_exceeded
    message = models.CharField(max_length=500)
    message_id = models.CharField(max_length=128, blank=True, default="")
    source_id = models.BigIntegerField(null=True, blank=True)
    segment_id = models.CharField(max_length=40, blank=True, default="")
    detail = models.JSONField(default=dict)
    time = models.DateTimeField()

    class Meta:
        indexes = (models.Index(fields=("space", "kind", "time"), name="identity_log_recent"),)

    def __str__(self) -> str:
        return f"{self.kind} {self.code}"
